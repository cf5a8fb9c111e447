#include "tray.h"

#include <QApplication>
#include <QDBusMessage>
#include <QMenu>
#include <QPainter>
#include <QSystemTrayIcon>

#include "i18n.h"
#include "theme.h"

namespace airlock::gui {

namespace {

QIcon badge_icon(int count) {
  QIcon base = app_icon();
  QPixmap pixmap = base.pixmap(64, 64);
  if (pixmap.isNull()) {
    pixmap = QPixmap(64, 64);
    pixmap.fill(Qt::transparent);
  }
  if (count <= 0) return QIcon(pixmap);
  QPainter painter(&pixmap);
  painter.setRenderHint(QPainter::Antialiasing);
  painter.setBrush(QColor(0xc0, 0x1c, 0x28));
  painter.setPen(Qt::NoPen);
  painter.drawEllipse(QRectF(30, 0, 34, 34));
  QFont font = painter.font();
  font.setPixelSize(22);
  font.setBold(true);
  painter.setFont(font);
  painter.setPen(Qt::white);
  painter.drawText(QRectF(30, 0, 34, 34), Qt::AlignCenter, count > 9 ? QStringLiteral("9+") : QString::number(count));
  return QIcon(pixmap);
}

}  // namespace

Tray::Tray(const QDBusConnection& bus, QObject* parent) : QObject(parent), bus_(bus) {
  if (!QSystemTrayIcon::isSystemTrayAvailable()) return;
  icon_ = new QSystemTrayIcon(badge_icon(0), this);
  auto* menu = new QMenu;
  menu->addAction(_("Show Waiting Requests"), this, &Tray::show_prompt);
  menu->addAction(_("Show Sessions"), this, &Tray::show_manager);
  menu->addSeparator();
  menu->addAction(_("Quit"), qApp, &QApplication::quit);
  icon_->setContextMenu(menu);
  connect(icon_, &QSystemTrayIcon::activated, this, [this](QSystemTrayIcon::ActivationReason reason) {
    if (reason == QSystemTrayIcon::Trigger) Q_EMIT(pending_ > 0 ? show_prompt() : show_manager());
  });
  set_pending(0);
  icon_->show();
}

void Tray::set_pending(int count) {
  pending_ = count;
  if (!icon_) return;
  icon_->setIcon(badge_icon(count));
  icon_->setToolTip(count == 0 ? _("Airlock: nothing is waiting")
                               : n_("Airlock: %1 request is waiting", "Airlock: %1 requests are waiting",
                                    static_cast<unsigned long>(count))
                                     .arg(count));
}

void Tray::notify(const PromptRequest& request) {
  QString summary = QString(_("%1 asks for access")).arg(request.profile.isEmpty() ? _("An agent") : request.profile);
  // The agent's words stay out of the notification: only what the portal vouches for.
  QString body = request.resource;
  QDBusMessage call = QDBusMessage::createMethodCall(QStringLiteral("org.freedesktop.Notifications"),
                                                     QStringLiteral("/org/freedesktop/Notifications"),
                                                     QStringLiteral("org.freedesktop.Notifications"), QStringLiteral("Notify"));
  QVariantMap hints;
  hints.insert(QStringLiteral("desktop-entry"), QStringLiteral("org.airlock.Prompter"));
  hints.insert(QStringLiteral("urgency"), QVariant::fromValue(static_cast<uchar>(1)));
  call << QStringLiteral("Airlock") << 0u << QStringLiteral("org.airlock.Prompter") << summary << body.toHtmlEscaped()
       << QStringList() << hints << -1;
  // No reply needed; a desktop without a notification server just has none.
  bus_.call(call, QDBus::NoBlock);
}

}  // namespace airlock::gui
