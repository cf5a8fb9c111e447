// Finding the agent's command on the host, and what of its installation
// must be visible (read-only) for it to run inside the sandbox.
#pragma once

#include <string>

#include "host_path.h"
#include <vector>

namespace airlock {

struct ResolvedCommand {
  std::string path;                       // what airlock-init executes
  std::vector<std::string> installation;  // host paths outside the runtime to show read-only
  std::vector<std::string> path_dirs;     // directories to put on the sandbox's PATH
};

// Resolves COMMAND like execvp() on the host's PATH (SEARCH_PATH). Throws
// Error 127 when it is not found, 126 when it cannot be executed. The
// installation of a command outside the runtime is the narrowest thing that
// runs: its npm package, its Python virtual environment, or the file itself;
// the interpreter of a script (#!) is resolved the same way.
ResolvedCommand resolve_command(const std::string& command, const std::string& search_path);

}  // namespace airlock
