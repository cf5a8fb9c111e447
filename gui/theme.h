// Light and dark palettes for desktops whose platform theme gives none
// (and for the screenshots); otherwise the desktop's own look is kept.
#pragma once

#include <QString>

namespace airlock::gui {

// "light", "dark" or "system" (leave the desktop's). False for anything else.
bool apply_palette(const QString& name);

}  // namespace airlock::gui
