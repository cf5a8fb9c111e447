// airlock-gui-screenshots: renders the prompt and the session manager, in
// the light and the dark palette, at a normal and a small size, into a
// folder, for the README. gui/screenshots.sh runs it on a private bus with
// the real portal and real agents asking (not installed).
#include <QApplication>
#include <QDBusConnection>
#include <QDir>
#include <QLayout>
#include <QPushButton>
#include <QTabWidget>
#include <QTimer>
#include <QTreeWidget>
#include <cstdio>
#include <functional>

#include "app.h"
#include "config.h"
#include "i18n.h"
#include "prompt_window.h"
#include "session_window.h"
#include "theme.h"

namespace {

using airlock::gui::App;

bool save(QWidget* widget, const QString& dir, const QString& name) {
  QCoreApplication::processEvents();
  QPixmap shot = widget->grab();
  bool ok = shot.save(QDir(dir).filePath(name + QStringLiteral(".png")));
  std::fprintf(stderr, "airlock-gui-screenshots: %s %s (%dx%d)\n", ok ? "wrote" : "cannot write", qPrintable(name),
               shot.width(), shot.height());
  return ok;
}

void when(const std::function<bool()>& ready, const std::function<void()>& then) {
  auto* timer = new QTimer;
  QObject::connect(timer, &QTimer::timeout, [timer, ready, then] {
    if (!ready()) return;
    timer->stop();
    timer->deleteLater();
    then();
  });
  timer->start(100);
}

}  // namespace

int main(int argc, char** argv) {
  airlock::gui::init_i18n(AIRLOCK_LOCALEDIR);
  QApplication application(argc, argv);
  QApplication::setWindowIcon(airlock::gui::app_icon());
  if (argc < 2) {
    std::fprintf(stderr, "usage: airlock-gui-screenshots FOLDER\n");
    return 2;
  }
  QString dir = QString::fromLocal8Bit(argv[1]);
  QDir().mkpath(dir);
  airlock::gui::apply_palette(QStringLiteral("light"));
  App app(QDBusConnection::sessionBus());
  QString error;
  if (!app.start(true, &error)) {
    std::fprintf(stderr, "airlock-gui-screenshots: %s\n", qPrintable(error));
    return 1;
  }
  airlock::gui::PromptWindow* prompt = app.prompt_window();
  QTimer::singleShot(90000, [] {
    std::fprintf(stderr, "airlock-gui-screenshots: no agent asked within 90 s\n");
    QCoreApplication::exit(1);
  });
  std::printf("ready\n");
  std::fflush(stdout);

  auto both = [&](QWidget* widget, const QString& name) {
    airlock::gui::apply_palette(QStringLiteral("light"));
    save(widget, dir, name + QStringLiteral("-light"));
    airlock::gui::apply_palette(QStringLiteral("dark"));
    save(widget, dir, name + QStringLiteral("-dark"));
    airlock::gui::apply_palette(QStringLiteral("light"));
  };
  // Two agents ask: the first a folder, the second a deny-listed file.
  when([&] { return prompt->queue().size() >= 2; }, [&] {
    QTimer::singleShot(500, [&] {
      auto fit = [prompt](int width) { prompt->resize(width, prompt->layout()->totalHeightForWidth(width)); };
      fit(600);
      both(prompt, QStringLiteral("prompt"));
      fit(prompt->minimumWidth());
      both(prompt, QStringLiteral("prompt-small"));
      // Always takes two steps: the second is worth a picture too.
      fit(600);
      prompt->findChild<QPushButton*>(QStringLiteral("always"))->click();
      both(prompt, QStringLiteral("prompt-always"));
      prompt->findChild<QPushButton*>(QStringLiteral("confirm-always"))->click();
      QTimer::singleShot(300, [&] {
        prompt->resize(600, prompt->layout()->totalHeightForWidth(600));
        both(prompt, QStringLiteral("prompt-dangerous"));
        airlock::gui::SessionWindow* window = app.session_window();
        window->refresh();
        window->show();
        QTimer::singleShot(800, [&, window] {
          window->refresh();
          for (int i = 0; i < window->sessions()->topLevelItemCount(); ++i)
            if (window->sessions()->topLevelItem(i)->text(0) == QStringLiteral("claude"))
              window->sessions()->setCurrentItem(window->sessions()->topLevelItem(i));
          window->resize(1000, 640);
          both(window, QStringLiteral("manager"));
          window->resize(640, 480);
          both(window, QStringLiteral("manager-small"));
          window->pages()->setCurrentIndex(1);
          window->resize(1000, 640);
          both(window, QStringLiteral("always"));
          prompt->close();  // denies what still waits
          QTimer::singleShot(300, [] { QCoreApplication::quit(); });
        });
      });
    });
  });
  return QApplication::exec();
}
