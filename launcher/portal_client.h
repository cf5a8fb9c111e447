// The launcher's side of the portal: register the session with
// airlock-portal on the session bus, handing it the supervisor's portal
// control socket and the listening socket bound in the sandbox.
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

#include <string>

namespace airlock {

struct SessionDescription {
  std::string profile;       // its name
  std::string profile_file;  // where it was read from, "" when built in
  std::string task;
  std::string workspace;     // canonical, or ""
  std::string command;
  std::string prompt;        // auto | tty | none
};

class PortalLink {
 public:
  PortalLink() = default;
  ~PortalLink();
  PortalLink(const PortalLink&) = delete;
  PortalLink& operator=(const PortalLink&) = delete;

  // Registers the session (activating the portal when it is not running)
  // and returns true once the portal has applied the session's
  // always-grants. False, with *WHY set for a warning, when there is no
  // session bus or no portal: the sandbox then runs without run-time grants.
  bool register_session(int control_fd, int listener_fd, const SessionDescription& description, std::string* why);

  const std::string& id() const { return id_; }
  GDBusConnection* bus() const { return bus_; }

 private:
  GDBusConnection* bus_ = nullptr;
  std::string id_;
};

}  // namespace airlock
