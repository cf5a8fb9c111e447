// airlock-gui: the desktop's prompt for agents' requests, and the session
// manager. Started from the menu, or by D-Bus when the portal first asks
// (--prompter: no window until there is something to answer).
#include <QApplication>
#include <QCommandLineParser>
#include <QDBusConnection>
#include <QDBusMessage>
#include <QIcon>
#include <cstdio>

#include "app.h"
#include "config.h"
#include "dbus_names.h"
#include "i18n.h"
#include "theme.h"

int main(int argc, char** argv) {
  airlock::gui::init_i18n(AIRLOCK_LOCALEDIR);
  QApplication application(argc, argv);
  QApplication::setApplicationName(QStringLiteral("airlock-gui"));
  QApplication::setApplicationVersion(QStringLiteral(AIRLOCK_VERSION));
  QApplication::setDesktopFileName(QStringLiteral("org.airlock.Prompter"));
  QApplication::setWindowIcon(airlock::gui::app_icon());
  QApplication::setQuitOnLastWindowClosed(false);

  QCommandLineParser parser;
  parser.setApplicationDescription(_("Answer AI agents' requests for files, hosts and secrets, and manage their sessions."));
  parser.addHelpOption();
  parser.addVersionOption();
  QCommandLineOption prompter_only(QStringLiteral("prompter"),
                                   _("Only answer requests: show no window until an agent asks (as D-Bus starts it)."));
  QCommandLineOption palette(QStringLiteral("palette"), _("Colours: system, light or dark."), QStringLiteral("name"),
                             QStringLiteral("system"));
  parser.addOption(prompter_only);
  parser.addOption(palette);
  parser.process(application);
  if (!airlock::gui::apply_palette(parser.value(palette))) {
    std::fprintf(stderr, "airlock-gui: --palette=%s: say system, light or dark\n", qPrintable(parser.value(palette)));
    return 2;
  }

  QDBusConnection bus = QDBusConnection::sessionBus();
  if (!bus.isConnected()) {
    std::fprintf(stderr, "airlock-gui: cannot reach the session bus: %s\n", qPrintable(bus.lastError().message()));
    return 1;
  }
  // Without its bus there is nobody to answer: the prompter ends with it.
  bus.connect(QString(), QStringLiteral("/org/freedesktop/DBus/Local"), QStringLiteral("org.freedesktop.DBus.Local"),
              QStringLiteral("Disconnected"), &application, SLOT(quit()));
  airlock::gui::App app(bus);
  QString error;
  if (!app.start(true, &error)) {
    // Already running: that one shows its window instead.
    QDBusMessage call = QDBusMessage::createMethodCall(QLatin1String(airlock::kPrompterBusName),
                                                       QLatin1String(airlock::gui::kGuiPath),
                                                       QStringLiteral("org.airlock.Gui"), QStringLiteral("ShowSessions"));
    QDBusMessage reply = bus.call(call, QDBus::Block, 5000);
    if (reply.type() == QDBusMessage::ReplyMessage) return 0;
    std::fprintf(stderr, "airlock-gui: cannot serve %s: %s\n", airlock::kPrompterBusName, qPrintable(error));
    return 1;
  }
  if (!parser.isSet(prompter_only)) app.ShowSessions();
  return QApplication::exec();
}
