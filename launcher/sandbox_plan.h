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
};

// Where airlock-init and airlock-request are bound inside the sandbox.
inline constexpr const char* kInitInside = "/run/airlock/init";
inline constexpr const char* kBinInside = "/run/airlock/bin";

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
  bool share_net = false;
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
};

// Throws Error for a malformed --env.
SandboxPlan build_sandbox_plan(const PlanRequest& request, const HostFacts& host);

// Top-level host directories that grants may land in (all but the runtime
// and the kernel's): the directories the sandbox root is given empty.
std::vector<std::string> grant_area(const HostFacts& host);

// Reads the facts from this process and the host.
HostFacts gather_host_facts();

}  // namespace airlock
