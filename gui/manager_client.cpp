#include "manager_client.h"

#include <QDBusMetaType>

#include "dbus_names.h"
#include "manager_proxy.h"

namespace airlock::gui {

namespace {

template <typename Reply>
bool check(Reply& reply, QString* error) {
  reply.waitForFinished();
  if (reply.isError()) {
    if (error) *error = reply.error().message();
    return false;
  }
  return true;
}

}  // namespace

ManagerClient::ManagerClient(const QDBusConnection& bus, QObject* parent)
    : QObject(parent),
      proxy_(std::make_unique<ManagerProxy>(QLatin1String(kPortalBusName), QLatin1String(kManagerPath), bus)) {
  qDBusRegisterMetaType<QList<QVariantMap>>();
  proxy_->setTimeout(10000);
  connect(proxy_.get(), &ManagerProxy::SessionAdded, this, [this] { Q_EMIT sessions_changed(); });
  connect(proxy_.get(), &ManagerProxy::SessionRemoved, this, [this] { Q_EMIT sessions_changed(); });
  connect(proxy_.get(), &ManagerProxy::GrantAdded, this, [this](const QString& session) { Q_EMIT grants_changed(session); });
  connect(proxy_.get(), &ManagerProxy::GrantRemoved, this, [this](const QString& session) { Q_EMIT grants_changed(session); });
  connect(proxy_.get(), &ManagerProxy::RequestAdded, this, [this](const QString& id, const QVariantMap& details) {
    Q_EMIT request_added(id, details);
    Q_EMIT requests_changed();
  });
  connect(proxy_.get(), &ManagerProxy::RequestRemoved, this, [this] { Q_EMIT requests_changed(); });
}

ManagerClient::~ManagerClient() = default;

Rows ManagerClient::list_sessions(QString* error) {
  auto reply = proxy_->ListSessions();
  return check(reply, error) ? reply.value() : Rows();
}

Rows ManagerClient::list_grants(const QString& session, QString* error) {
  auto reply = proxy_->ListGrants(session);
  return check(reply, error) ? reply.value() : Rows();
}

Rows ManagerClient::list_always(QString* error) {
  auto reply = proxy_->ListAlways();
  return check(reply, error) ? reply.value() : Rows();
}

Rows ManagerClient::list_pending(QString* error) {
  auto reply = proxy_->ListPending();
  return check(reply, error) ? reply.value() : Rows();
}

Rows ManagerClient::audit_log(const QVariantMap& filter, QString* error) {
  auto reply = proxy_->AuditLog(filter);
  return check(reply, error) ? reply.value() : Rows();
}

bool ManagerClient::revoke(const QString& session, const QString& grant, QString* error) {
  auto reply = proxy_->Revoke(session, grant);
  return check(reply, error);
}

bool ManagerClient::forget(qlonglong id, QString* error) {
  auto reply = proxy_->Forget(id);
  return check(reply, error);
}

}  // namespace airlock::gui
