// The portal's org.airlock.Manager, as the session manager uses it: the
// generated proxy (from data/org.airlock.Manager.xml), with errors made
// into text and its signals passed on.
#pragma once

#include <QDBusConnection>
#include <QList>
#include <QObject>
#include <QVariantMap>
#include <memory>

class ManagerProxy;

namespace airlock::gui {

using Rows = QList<QVariantMap>;

class ManagerClient : public QObject {
  Q_OBJECT

 public:
  explicit ManagerClient(const QDBusConnection& bus, QObject* parent = nullptr);
  ~ManagerClient() override;

  // Each returns false (or an empty list) with *ERROR set when the call fails.
  Rows list_sessions(QString* error = nullptr);
  Rows list_grants(const QString& session, QString* error = nullptr);
  Rows list_always(QString* error = nullptr);
  Rows list_pending(QString* error = nullptr);
  Rows audit_log(const QVariantMap& filter, QString* error = nullptr);
  bool revoke(const QString& session, const QString& grant, QString* error = nullptr);
  bool forget(qlonglong id, QString* error = nullptr);

 Q_SIGNALS:
  void sessions_changed();
  void grants_changed(const QString& session);
  void requests_changed();
  void request_added(const QString& id, const QVariantMap& details);

 private:
  std::unique_ptr<ManagerProxy> proxy_;
};

}  // namespace airlock::gui
