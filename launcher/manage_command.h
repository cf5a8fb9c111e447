// `airlock ps`, `grants`, `revoke`, `forget` and `log`: what the portal
// knows, through org.airlock.Manager on the session bus.
#pragma once

namespace airlock {

// ARGV[0] is the command's name (ps, grants, revoke, forget, log).
int manage_command(int argc, char** argv);

}  // namespace airlock
