#include "format.h"

#include <QDateTime>
#include <QLocale>

#include "i18n.h"

namespace airlock::gui {

QString format_time(qlonglong microseconds) {
  if (microseconds <= 0) return QString();
  QDateTime when = QDateTime::fromMSecsSinceEpoch(microseconds / 1000);
  QLocale locale;
  if (when.date() == QDate::currentDate()) return locale.toString(when.time(), QLocale::ShortFormat);
  return locale.toString(when, QLocale::ShortFormat);
}

QString kind_name(const QString& kind) {
  if (kind == QLatin1String("folder")) return _("Folder");
  if (kind == QLatin1String("file")) return _("File");
  if (kind == QLatin1String("host")) return _("Host");
  if (kind == QLatin1String("secret")) return _("Secret");
  return kind;
}

QString access_name(const QString& access) {
  if (access == QLatin1String("read")) return _("Read only");
  if (access == QLatin1String("write")) return _("Read and write");
  if (access == QLatin1String("connect")) return _("Connect");
  return access;
}

QString scope_name(const QString& scope) {
  if (scope == QLatin1String("once")) return _("Once");
  if (scope == QLatin1String("task")) return _("This task");
  if (scope == QLatin1String("always")) return _("Always");
  if (scope == QLatin1String("cli")) return _("At start");
  return scope;
}

QString expiry_text(const QVariantMap& grant) {
  qlonglong expires = grant.value(QStringLiteral("expires")).toLongLong();
  if (expires > 0) return format_time(expires);
  QString scope = grant.value(QStringLiteral("scope")).toString();
  if (scope == QLatin1String("once")) return _("After one use");
  return _("When the task ends");
}

}  // namespace airlock::gui
