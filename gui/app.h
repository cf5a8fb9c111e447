// airlock-gui's parts wired together on one bus: the prompter service
// feeds the prompt window, the tray counts, the session window shows what
// the portal knows. The tests build it on their private bus.
#pragma once

#include <QDBusConnection>
#include <QObject>
#include <memory>

namespace airlock::gui {

class ManagerClient;
class PrompterService;
class PromptWindow;
class SessionWindow;
class Tray;

class App : public QObject {
  Q_OBJECT
  Q_CLASSINFO("D-Bus Interface", "org.airlock.Gui")

 public:
  explicit App(const QDBusConnection& bus, QObject* parent = nullptr);
  ~App() override;

  // Serves the prompter (owning org.airlock.Prompter when OWN_NAME).
  bool start(bool own_name, QString* error);
  SessionWindow* session_window();  // made on first use
  PromptWindow* prompt_window() const { return prompt_.get(); }
  PrompterService* prompter() const { return prompter_.get(); }
  ManagerClient* manager() const { return manager_.get(); }
  Tray* tray() const { return tray_; }

 public Q_SLOTS:
  // Another airlock-gui started while this one runs asks it to show itself.
  Q_SCRIPTABLE void ShowSessions();

 private:
  QDBusConnection bus_;
  std::unique_ptr<ManagerClient> manager_;
  std::unique_ptr<PrompterService> prompter_;
  std::unique_ptr<PromptWindow> prompt_;
  std::unique_ptr<SessionWindow> sessions_;
  Tray* tray_ = nullptr;
};

inline constexpr const char* kGuiPath = "/org/airlock/Gui";

}  // namespace airlock::gui
