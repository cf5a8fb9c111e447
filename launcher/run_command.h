// `airlock run`: resolve what the person asked for, start the supervisor,
// hand it the launch grants, and wait for the agent.
#pragma once

#include <string>

namespace airlock {

int run_command(int argc, char** argv);

// Where the helper program NAME (airlock-init, airlock-request,
// airlock-secret) is (helper_program()); an Error when it is not there.
std::string helper_path(const char* name);

}  // namespace airlock
