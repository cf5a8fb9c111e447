// Every string the person reads goes through gettext, in the catalogue the
// CLI shares (domain "airlock", po/).
#pragma once

#include <QString>

namespace airlock::gui {

// Binds the domain to LOCALEDIR (AIRLOCK_LOCALEDIR overrides it, for the
// uninstalled build and the tests) and takes the locale from the
// environment.
void init_i18n(const char* localedir);

QString translate(const char* text);
QString translate_plural(const char* singular, const char* plural, unsigned long count);

}  // namespace airlock::gui

// The usual gettext spellings, which xgettext finds (po/meson.build).
#define _(text) ::airlock::gui::translate(text)
#define n_(singular, plural, count) ::airlock::gui::translate_plural(singular, plural, count)
#define N_(text) text
