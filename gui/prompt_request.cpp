#include "prompt_request.h"

namespace airlock::gui {

PromptRequest PromptRequest::from_details(const QString& id, const QVariantMap& details) {
  PromptRequest request;
  request.id = id;
  request.session = details.value(QStringLiteral("session")).toString();
  request.profile = details.value(QStringLiteral("profile")).toString();
  request.task = details.value(QStringLiteral("task")).toString();
  request.kind = details.value(QStringLiteral("kind")).toString();
  request.resource = details.value(QStringLiteral("resource")).toString();
  request.access = details.value(QStringLiteral("access")).toString();
  request.reason = details.value(QStringLiteral("reason")).toString();
  request.host = details.value(QStringLiteral("host")).toString();
  request.header = details.value(QStringLiteral("header")).toString();
  request.pid = details.value(QStringLiteral("pid")).toUInt();
  request.dangerous = details.value(QStringLiteral("dangerous")).toBool();
  request.scopes = details.value(QStringLiteral("scopes")).toStringList();
  // A deny-list override is never offered "always", whatever the portal sent.
  if (request.dangerous) request.scopes.removeAll(QStringLiteral("always"));
  return request;
}

QVariantMap PromptAnswer::results() const {
  QVariantMap results;
  if (response != Response::kAllow) return results;
  results.insert(QStringLiteral("scope"), scope.isEmpty() ? QStringLiteral("once") : scope);
  if (!path.isEmpty()) results.insert(QStringLiteral("path"), path);
  // "always" only ever leaves the window after its confirmation step.
  if (scope == QLatin1String("always")) results.insert(QStringLiteral("confirm-always"), true);
  if (has_ttl) results.insert(QStringLiteral("ttl"), QVariant::fromValue(ttl));
  return results;
}

bool path_is_within(const QString& chosen, const QString& requested) {
  if (chosen == requested) return true;
  QString prefix = requested.endsWith(QLatin1Char('/')) ? requested : requested + QLatin1Char('/');
  return chosen.startsWith(prefix);
}

}  // namespace airlock::gui
