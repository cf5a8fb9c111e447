// Light and dark palettes for desktops whose platform theme gives none
// (and for the screenshots); otherwise the desktop's own look is kept.
#pragma once

#include <QIcon>
#include <QString>

namespace airlock::gui {

// "light", "dark" or "system" (leave the desktop's). False for anything else.
bool apply_palette(const QString& name);

// The application icon: the installed theme's, else the built-in copy.
QIcon app_icon();

}  // namespace airlock::gui
