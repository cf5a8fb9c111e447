// The always-grants the person gave, with Forget.
#pragma once

#include <QWidget>

#include "manager_client.h"

class QPushButton;
class QTreeWidget;

namespace airlock::gui {

class AlwaysGrantsPage : public QWidget {
  Q_OBJECT

 public:
  explicit AlwaysGrantsPage(ManagerClient* manager, QWidget* parent = nullptr);
  void refresh();
  void forget_selected();
  QTreeWidget* list() const { return list_; }

 private:
  ManagerClient* manager_;
  QTreeWidget* list_ = nullptr;
  QPushButton* forget_ = nullptr;
};

}  // namespace airlock::gui
