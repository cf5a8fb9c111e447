// airlock-request secret NAME: see request_secret_command.cpp.
#pragma once

namespace airlock {

int request_secret_command(int argc, char** argv);

}  // namespace airlock
