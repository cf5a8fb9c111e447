// The session manager: running and recent sessions; for the selected one
// its grants (with Revoke), its waiting requests and its audit trail; the
// always-grants on a page of their own; "New Session…".
#pragma once

#include <QHash>
#include <QMainWindow>

#include "manager_client.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTabWidget;
class QTreeWidget;

namespace airlock::gui {

class AlwaysGrantsPage;

class SessionWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit SessionWindow(ManagerClient* manager, QWidget* parent = nullptr);

  // Reads everything again from the portal.
  void refresh();
  // Selects session ID in the list; false when it is not there.
  bool select_session(const QString& id);
  QString selected_session() const;
  // Revokes the selected grant (the Revoke button does this).
  void revoke_selected();

  QTreeWidget* sessions() const { return sessions_; }
  QTreeWidget* grants() const { return grants_; }
  QTreeWidget* pending() const { return pending_; }
  QTreeWidget* audit() const { return audit_; }
  QTabWidget* pages() const { return pages_; }
  AlwaysGrantsPage* always_page() const { return always_; }

 Q_SIGNALS:
  void new_session_requested();

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void refresh_sessions();
  void refresh_details();
  void apply_audit_filter();
  void show_error(const QString& what, const QString& error);
  void apply_style();

  ManagerClient* manager_;
  QHash<QString, QVariantMap> ended_;  // sessions seen running that have ended since
  QTabWidget* pages_ = nullptr;
  QTreeWidget* sessions_ = nullptr;
  QTabWidget* details_ = nullptr;
  QTreeWidget* grants_ = nullptr;
  QPushButton* revoke_ = nullptr;
  QTreeWidget* pending_ = nullptr;
  QTreeWidget* audit_ = nullptr;
  QLineEdit* audit_search_ = nullptr;
  QComboBox* audit_event_ = nullptr;
  QComboBox* audit_outcome_ = nullptr;
  QLabel* empty_ = nullptr;
  AlwaysGrantsPage* always_ = nullptr;
  bool styling_ = false;
};

}  // namespace airlock::gui
