// The launcher's side of the portal: register the session with
// airlock-portal on the session bus, handing it the supervisor's portal
// control socket and the listening socket bound in the sandbox.
#pragma once

#include <gio/gio.h>
#include <sys/types.h>

#include <string>

#include "unique_fd.h"

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
  // always-grants; from then on, registers it again with a portal that
  // restarts, as long as this lives (and the main loop runs). False, with
  // *WHY set for a warning, when there is no session bus or no portal: the
  // sandbox then runs without run-time grants. Keeps its own copies of
  // both sockets.
  // PROXY_FD is the proxy's listening socket, -1 when the session's
  // network is not proxied.
  bool register_session(int control_fd, int listener_fd, const SessionDescription& description, std::string* why,
                        int proxy_fd = -1);

  const std::string& id() const { return id_; }
  GDBusConnection* bus() const { return bus_; }

 private:
  GVariant* registration(GUnixFDList** fds, GError** error) const;
  static void on_vanished(GDBusConnection* bus, const char* name, gpointer data);
  static gboolean reregister(gpointer data);

  GDBusConnection* bus_ = nullptr;
  std::string id_;
  SessionDescription description_;
  UniqueFd control_, listener_, proxy_;
  guint watch_ = 0;
  guint retry_ = 0;
  int attempts_ = 0;
};

}  // namespace airlock
