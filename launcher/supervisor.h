// The supervisor: one per session, a child that `airlock run` forks (and
// never execs). It enters its own user and mount namespace, mounts the
// shared tmpfs that becomes the sandbox's root, starts bwrap on it, and then
// mounts and unmounts grants there when the control socket asks. Keeping
// the same process for the whole session keeps its capabilities over the
// root; it never resolves a path it was not also handed a descriptor for.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace airlock {

struct SupervisorConfig {
  int control_fd = -1;         // the launcher's: launch grants, start
  int portal_control_fd = -1;  // the portal's: grants and revokes at run time
  // An unbound stream socket the launcher shares: bound at kPortalSocketInside
  // in the root and listening before "ready" is sent, so the portal can serve
  // the sandbox on it.
  int portal_socket_fd = -1;
  // The same for the network proxy's socket, at kProxySocketInside; -1 when
  // the sandbox's network is not proxied.
  int proxy_socket_fd = -1;
  pid_t launcher = 0;   // dies with it
  std::string root;     // empty directory to mount the root on
  std::vector<std::string> dirs;         // skeleton, mode 0755
  std::vector<std::string> sticky_dirs;  // skeleton, mode 1777
  std::string home;                      // skeleton, mode 0700
  std::vector<std::string> bwrap_argv;
  std::vector<std::string> environment;  // bwrap's, and so the agent's
  bool verbose = false;                  // report peak memory at the end
};

// Runs the session; returns bwrap's exit status (128 + N for signal N), or
// 125 after saying on stderr what failed. Call only in a fresh child.
[[noreturn]] void run_supervisor(const SupervisorConfig& config);

}  // namespace airlock
