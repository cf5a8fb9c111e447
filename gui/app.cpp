#include "app.h"

#include <QCoreApplication>
#include <QDir>
#include <QStandardPaths>

#include "manager_client.h"
#include "new_session_dialog.h"
#include "prompt_window.h"
#include "prompter_service.h"
#include "session_window.h"
#include "tray.h"

namespace airlock::gui {

App::App(const QDBusConnection& bus, QObject* parent)
    : QObject(parent),
      bus_(bus),
      manager_(std::make_unique<ManagerClient>(bus)),
      prompter_(std::make_unique<PrompterService>(bus)),
      prompt_(std::make_unique<PromptWindow>()) {
  tray_ = new Tray(bus, this);
  connect(prompter_.get(), &PrompterService::request_added, this, [this](const PromptRequest& request) {
    prompt_->add(request);
    tray_->notify(request);
  });
  connect(prompter_.get(), &PrompterService::request_closed, prompt_.get(), &PromptWindow::remove);
  connect(prompt_.get(), &PromptWindow::answered, prompter_.get(), &PrompterService::answer);
  connect(prompt_.get(), &PromptWindow::queue_changed, tray_, &Tray::set_pending);
  connect(tray_, &Tray::show_prompt, this, [this] {
    if (!prompt_->queue().isEmpty()) {
      prompt_->show();
      prompt_->raise();
      prompt_->activateWindow();
    }
  });
  connect(tray_, &Tray::show_manager, this, &App::ShowSessions);
}

App::~App() = default;

bool App::start(bool own_name, QString* error) {
  if (!prompter_->start(own_name, error)) return false;
  bus_.registerObject(QLatin1String(kGuiPath), this, QDBusConnection::ExportScriptableSlots);
  return true;
}

SessionWindow* App::session_window() {
  if (!sessions_) {
    sessions_ = std::make_unique<SessionWindow>(manager_.get());
    connect(sessions_.get(), &SessionWindow::new_session_requested, this, [this] {
      QString airlock = QStandardPaths::findExecutable(QStringLiteral("airlock"));
      QString beside = QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("airlock"));
      if (QFileInfo::exists(beside)) airlock = beside;
      NewSessionDialog dialog(airlock.isEmpty() ? QStringLiteral("airlock") : airlock, sessions_.get());
      dialog.exec();
    });
  }
  return sessions_.get();
}

void App::ShowSessions() {
  SessionWindow* window = session_window();
  window->refresh();
  window->show();
  window->raise();
  window->activateWindow();
}

}  // namespace airlock::gui
