// Every message the person reads goes through gettext, in the catalogue
// airlock-gui shares (domain "airlock", po/). Messages are whole sentences
// with printf conversions, never pieces glued together, so that a
// translation can order its words as its language needs.
#pragma once

#include <glib.h>

#include <string>

namespace airlock {

// Takes the locale from the environment and binds the domain to the
// installed catalogue (AIRLOCK_LOCALEDIR in the environment overrides it, for
// the uninstalled build and the tests). Every program's main() calls it first.
void init_i18n();

// format_arg: the compiler checks a translated format's arguments against
// the English original; `msgfmt --check` (po/check-complete.sh) checks that
// each translation keeps the original's conversions.
const char* translate(const char* text) __attribute__((format_arg(1)));
const char* translate_plural(const char* singular, const char* plural, unsigned long count)
    __attribute__((format_arg(1))) __attribute__((format_arg(2)));

// Adds ENTRIES to CONTEXT and has GLib translate them, the parameter
// string, the summary and the description in airlock's domain when it
// prints --help. Both are needed: the context's domain covers only its own
// texts, and the entries are translated in the domain given with them.
void add_translated_entries(GOptionContext* context, const GOptionEntry* entries);

// printf into a std::string.
std::string format(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace airlock

// The usual gettext spellings, which xgettext finds (po/meson.build):
// _() translates, N_() marks a string that is translated later (GOption
// entries: GOptionContext translates them in the "airlock" domain),
// n_() picks the plural form for COUNT.
#define _(text) ::airlock::translate(text)
#define N_(text) text
#define n_(singular, plural, count) ::airlock::translate_plural(singular, plural, count)
