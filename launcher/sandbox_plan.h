// The argument builder: from a profile, the resolved grants and a few facts
// about the host, everything the supervisor and bwrap need to build one
// sandbox. Pure, so that every flag can be tested without running anything.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "command_resolve.h"
#include "profile.h"

namespace airlock {

// Descriptor numbers the launcher hands to the supervisor, and it to bwrap
// (all but the control sockets and the portal's, which bwrap never gets).
enum PlanFd : int {
  kControlFd = 3,
  kSeccompFd = 4,
  kInfoFd = 5,
  kPasswdFd = 6,
  kGroupFd = 7,
  kPortalControlFd = 8,
  kPortalSocketFd = 9,
  kProxySocketFd = 10,  // the network proxy's listening socket, like the portal's
};

// Where airlock-init and airlock-request are bound inside the sandbox.
inline constexpr const char* kInitInside = "/run/airlock/init";
inline constexpr const char* kBinInside = "/run/airlock/bin";

// The network proxy (served by the portal) listens on a unix socket the
// supervisor binds here; airlock-init bridges 127.0.0.1:kProxyPort (and
// [::1]:kProxyPort) inside the sandbox's own network namespace to it.
inline constexpr const char* kProxySocketInside = "/run/airlock/proxy.sock";
inline constexpr int kProxyPort = 3128;

// What network the sandbox has.
enum class NetworkMode {
  kProxied,  // loopback only, plus the portal's proxy through airlock-init's bridge (the default)
  kNone,     // loopback only (--no-net)
  kHost,     // the host's network, unfiltered (--share-net)
};

struct Grant {
  std::string canonical;
  bool read_only = true;
  std::string origin;  // "--ro", "--rw", "profile state", "command"
};

struct HostFacts {
  std::string home;  // canonical
  std::string user;
  std::string group;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string shell;
  std::string cwd;
  std::vector<std::string> top_level_dirs;                        // real directories in /, e.g. "/home"
  std::vector<std::pair<std::string, std::string>> root_symlinks; // "/bin" -> "usr/bin"
  bool stdin_is_tty = false;
  std::vector<std::pair<std::string, std::string>> environment;
};

struct PlanRequest {
  Profile profile;
  std::string task;
  std::vector<Grant> grants;
  std::vector<std::string> env_options;  // --env NAME or NAME=VALUE
  NetworkMode network = NetworkMode::kProxied;
  bool verbose = false;
  ResolvedCommand command;
  std::vector<std::string> args;  // after the command
  std::string root_dir;           // the supervisor's mount point for the root
  std::string init_binary;        // airlock-init on the host
  std::string request_binary;     // airlock-request on the host
  std::string bwrap;              // bwrap on the host
};

struct SandboxPlan {
  std::vector<std::string> bwrap_argv;  // bwrap ... -- airlock-init ... -- command ...
  std::vector<std::string> skeleton_dirs;
  std::vector<std::string> sticky_dirs;
  std::string home;
  std::vector<std::string> environment;  // NAME=VALUE; never on a command line
  std::string passwd;
  std::string group;
  std::string cwd;
  // The supervisor binds the proxy's socket at kProxySocketInside (and the
  // launcher hands it to the portal): only when the network is proxied.
  bool proxy_socket = false;
};

// Throws Error for a malformed --env.
SandboxPlan build_sandbox_plan(const PlanRequest& request, const HostFacts& host);

// Top-level host directories that grants may land in (all but the runtime
// and the kernel's): the directories the sandbox root is given empty.
std::vector<std::string> grant_area(const HostFacts& host);

// Reads the facts from this process and the host.
HostFacts gather_host_facts();

}  // namespace airlock
