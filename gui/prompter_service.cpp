#include "prompter_service.h"

#include <QDBusConnectionInterface>

#include "dbus_names.h"
#include "prompter_adaptor.h"

namespace airlock::gui {

PrompterService::PrompterService(const QDBusConnection& bus, QObject* parent) : QObject(parent), bus_(bus) {
  new PrompterAdaptor(this);  // owned by this object, as QtDBus wants
}

PrompterService::~PrompterService() {
  // Nobody can answer any more: what still waits is dismissed, not denied.
  for (auto it = waiting_.begin(); it != waiting_.end(); ++it)
    bus_.send(it.value().createReply({QVariant::fromValue(static_cast<uint>(Response::kDismissed)), QVariantMap()}));
  bus_.unregisterObject(QLatin1String(kPrompterPath));
  if (owns_name_) bus_.unregisterService(QLatin1String(kPrompterBusName));
}

bool PrompterService::start(bool own_name, QString* error) {
  if (!bus_.registerObject(QLatin1String(kPrompterPath), this)) {
    *error = bus_.lastError().message();
    return false;
  }
  if (own_name) {
    auto reply = bus_.interface()->registerService(QLatin1String(kPrompterBusName),
                                                   QDBusConnectionInterface::DontQueueService,
                                                   QDBusConnectionInterface::DontAllowReplacement);
    if (!reply.isValid() || reply.value() != QDBusConnectionInterface::ServiceRegistered) {
      *error = reply.isValid() ? QStringLiteral("the name is taken") : reply.error().message();
      bus_.unregisterObject(QLatin1String(kPrompterPath));
      return false;
    }
    owns_name_ = true;
  }
  return true;
}

uint PrompterService::Prompt(const QString& id, const QVariantMap& details, QVariantMap& results) {
  Q_UNUSED(results);
  // Only the portal asks. On the session bus anyone could call; a caller
  // that is not the portal's owner gets an error, not a window.
  QString portal = bus_.interface()->serviceOwner(QLatin1String(kPortalBusName));
  if (portal.isEmpty() || message().service() != portal) {
    sendErrorReply(QDBusError::AccessDenied, QStringLiteral("only org.airlock.Portal may ask"));
    return 0;
  }
  setDelayedReply(true);
  if (waiting_.contains(id)) {
    // The same id again: the old call is dismissed, the new one waits.
    bus_.send(waiting_.take(id).createReply({QVariant::fromValue(static_cast<uint>(Response::kDismissed)), QVariantMap()}));
    Q_EMIT request_closed(id);
  }
  waiting_.insert(id, message());
  Q_EMIT request_added(PromptRequest::from_details(id, details));
  return 0;
}

void PrompterService::Close(const QString& id) {
  QString portal = bus_.interface()->serviceOwner(QLatin1String(kPortalBusName));
  if (portal.isEmpty() || message().service() != portal) {
    sendErrorReply(QDBusError::AccessDenied, QStringLiteral("only org.airlock.Portal may close a request"));
    return;
  }
  if (!waiting_.contains(id)) return;
  bus_.send(waiting_.take(id).createReply({QVariant::fromValue(static_cast<uint>(Response::kDismissed)), QVariantMap()}));
  Q_EMIT request_closed(id);
}

void PrompterService::answer(const QString& id, const PromptAnswer& answer) {
  auto it = waiting_.find(id);
  if (it == waiting_.end()) return;
  QDBusMessage call = it.value();
  waiting_.erase(it);
  bus_.send(call.createReply({QVariant::fromValue(static_cast<uint>(answer.response)), answer.results()}));
}

}  // namespace airlock::gui
