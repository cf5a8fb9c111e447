// Where one of airlock's helper programs is, for the program that runs it
// (airlock: airlock-init, airlock-request, airlock-secret; airlock-portal:
// airlock-session-ca).
#pragma once

#include <string>

namespace airlock {

// The helper NAME next to the running program when there is one (a build
// tree; installed, the helpers sit together in libexecdir), else
// libexecdir's path for it, which may be missing: running it says so.
std::string helper_program(const char* name);

}  // namespace airlock
