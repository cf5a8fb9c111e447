// `airlock run`: resolve what the person asked for, start the supervisor,
// hand it the launch grants, and wait for the agent.
#pragma once

namespace airlock {

int run_command(int argc, char** argv);

}  // namespace airlock
