// `airlock policy check KIND RESOURCE`: what the policy answers a request,
// and which rule decides, without asking anyone.
#pragma once

namespace airlock {

int policy_command(int argc, char** argv);

}  // namespace airlock
