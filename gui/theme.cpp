#include "theme.h"

#include <QApplication>
#include <QPalette>
#include <QStyleFactory>

namespace airlock::gui {

bool apply_palette(const QString& name) {
  if (name == QLatin1String("system")) return true;
  if (name != QLatin1String("light") && name != QLatin1String("dark")) return false;
  QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
  QPalette p;
  if (name == QLatin1String("light")) {
    p.setColor(QPalette::Window, QColor(0xf6, 0xf5, 0xf4));
    p.setColor(QPalette::WindowText, QColor(0x24, 0x1f, 0x31));
    p.setColor(QPalette::Base, Qt::white);
    p.setColor(QPalette::AlternateBase, QColor(0xf3, 0xf2, 0xf1));
    p.setColor(QPalette::Text, QColor(0x24, 0x1f, 0x31));
    p.setColor(QPalette::Button, QColor(0xed, 0xec, 0xeb));
    p.setColor(QPalette::ButtonText, QColor(0x24, 0x1f, 0x31));
    p.setColor(QPalette::Highlight, QColor(0x35, 0x84, 0xe4));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::ToolTipBase, QColor(0x24, 0x1f, 0x31));
    p.setColor(QPalette::ToolTipText, Qt::white);
    p.setColor(QPalette::PlaceholderText, QColor(0x77, 0x76, 0x7b));
    p.setColor(QPalette::Disabled, QPalette::Text, QColor(0x9a, 0x99, 0x96));
    p.setColor(QPalette::Disabled, QPalette::WindowText, QColor(0x9a, 0x99, 0x96));
    p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(0x9a, 0x99, 0x96));
  } else {
    p.setColor(QPalette::Window, QColor(0x24, 0x24, 0x24));
    p.setColor(QPalette::WindowText, QColor(0xee, 0xee, 0xee));
    p.setColor(QPalette::Base, QColor(0x1e, 0x1e, 0x1e));
    p.setColor(QPalette::AlternateBase, QColor(0x2a, 0x2a, 0x2a));
    p.setColor(QPalette::Text, QColor(0xee, 0xee, 0xee));
    p.setColor(QPalette::Button, QColor(0x36, 0x36, 0x36));
    p.setColor(QPalette::ButtonText, QColor(0xee, 0xee, 0xee));
    p.setColor(QPalette::Highlight, QColor(0x35, 0x84, 0xe4));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::ToolTipBase, QColor(0x36, 0x36, 0x36));
    p.setColor(QPalette::ToolTipText, QColor(0xee, 0xee, 0xee));
    p.setColor(QPalette::PlaceholderText, QColor(0x90, 0x90, 0x90));
    p.setColor(QPalette::Light, QColor(0x48, 0x48, 0x48));
    p.setColor(QPalette::Midlight, QColor(0x3c, 0x3c, 0x3c));
    p.setColor(QPalette::Mid, QColor(0x30, 0x30, 0x30));
    p.setColor(QPalette::Dark, QColor(0x18, 0x18, 0x18));
    p.setColor(QPalette::Shadow, QColor(0x0a, 0x0a, 0x0a));
    p.setColor(QPalette::Disabled, QPalette::Text, QColor(0x80, 0x80, 0x80));
    p.setColor(QPalette::Disabled, QPalette::WindowText, QColor(0x80, 0x80, 0x80));
    p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(0x80, 0x80, 0x80));
  }
  QApplication::setPalette(p);
  return true;
}

QIcon app_icon() {
  return QIcon::fromTheme(QStringLiteral("org.airlock.Prompter"), QIcon(QStringLiteral(":/airlock/org.airlock.Prompter.png")));
}

}  // namespace airlock::gui
