// org.airlock.impl.Prompter at /org/airlock/Prompter: the portal's
// questions come in here and wait, each a delayed D-Bus reply, until the
// person answers in the prompt window or the portal calls Close.
#pragma once

#include <QDBusConnection>
#include <QDBusContext>
#include <QDBusMessage>
#include <QHash>
#include <QObject>

#include "prompt_request.h"

namespace airlock::gui {

class PrompterService : public QObject, protected QDBusContext {
  Q_OBJECT

 public:
  explicit PrompterService(const QDBusConnection& bus, QObject* parent = nullptr);
  ~PrompterService() override;

  // Exports the object; with OWN_NAME also takes org.airlock.Prompter, the
  // name the portal D-Bus activates. False with *ERROR set when it cannot.
  bool start(bool own_name, QString* error);
  // Answers the request ID, if it still waits.
  void answer(const QString& id, const PromptAnswer& answer);
  int pending() const { return static_cast<int>(waiting_.size()); }

 public Q_SLOTS:
  // Called by the generated adaptor, named as the D-Bus methods.
  uint Prompt(const QString& id, const QVariantMap& details, QVariantMap& results);
  void Close(const QString& id);

 Q_SIGNALS:
  void request_added(const airlock::gui::PromptRequest& request);
  void request_closed(const QString& id);

 private:
  QDBusConnection bus_;
  QHash<QString, QDBusMessage> waiting_;
  bool owns_name_ = false;
};

}  // namespace airlock::gui
