#include "translate.h"

#include <glib.h>
#include <libintl.h>

#include <clocale>
#include <cstdarg>
#include <cstdlib>

#include "config.h"

namespace airlock {

void init_i18n() {
  setlocale(LC_ALL, "");
  const char* override_dir = getenv("AIRLOCK_LOCALEDIR");
  bindtextdomain(GETTEXT_PACKAGE, override_dir && *override_dir ? override_dir : AIRLOCK_LOCALEDIR);
  bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
}

const char* translate(const char* text) { return dgettext(GETTEXT_PACKAGE, text); }

const char* translate_plural(const char* singular, const char* plural, unsigned long count) {
  return dngettext(GETTEXT_PACKAGE, singular, plural, count);
}

void add_translated_entries(GOptionContext* context, const GOptionEntry* entries) {
  g_option_context_set_translation_domain(context, GETTEXT_PACKAGE);
  g_option_context_add_main_entries(context, entries, GETTEXT_PACKAGE);
}

std::string format(const char* format, ...) {
  va_list args;
  va_start(args, format);
  g_autofree char* text = g_strdup_vprintf(format, args);
  va_end(args);
  return text;
}

}  // namespace airlock
