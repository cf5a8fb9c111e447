#include "i18n.h"

#include <libintl.h>

#include <QByteArray>
#include <clocale>
#include <cstdlib>

namespace airlock::gui {

void init_i18n(const char* localedir) {
  setlocale(LC_ALL, "");
  const char* override_dir = getenv("AIRLOCK_LOCALEDIR");
  bindtextdomain("airlock", override_dir && *override_dir ? override_dir : localedir);
  bind_textdomain_codeset("airlock", "UTF-8");
  textdomain("airlock");
}

QString translate(const char* text) { return QString::fromUtf8(dgettext("airlock", text)); }

QString translate_plural(const char* singular, const char* plural, unsigned long count) {
  return QString::fromUtf8(dngettext("airlock", singular, plural, count));
}

}  // namespace airlock::gui
