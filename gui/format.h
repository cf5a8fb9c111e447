// Words and dates for the person, in their locale.
#pragma once

#include <QString>
#include <QVariantMap>

namespace airlock::gui {

// Microseconds since the epoch, as the portal counts, in the locale's short form.
QString format_time(qlonglong microseconds);
QString kind_name(const QString& kind);
QString access_name(const QString& access);
QString scope_name(const QString& scope);
// When a grant ends: its "expires" (x, microseconds), else what its scope says.
QString expiry_text(const QVariantMap& grant);

}  // namespace airlock::gui
