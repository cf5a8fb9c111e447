// Where the desktop has a tray: an icon with the number of waiting
// requests. Desktop notifications announce each new request.
#pragma once

#include <QDBusConnection>
#include <QObject>

#include "prompt_request.h"

class QSystemTrayIcon;

namespace airlock::gui {

class Tray : public QObject {
  Q_OBJECT

 public:
  explicit Tray(const QDBusConnection& bus, QObject* parent = nullptr);
  void set_pending(int count);
  void notify(const PromptRequest& request);
  int pending() const { return pending_; }

 Q_SIGNALS:
  void show_prompt();
  void show_manager();

 private:
  QDBusConnection bus_;
  QSystemTrayIcon* icon_ = nullptr;
  int pending_ = 0;
};

}  // namespace airlock::gui
