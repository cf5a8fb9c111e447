// Running one session once its plan exists: fork the supervisor, hand it
// the launch grants, start the sandbox, pass signals on, and wait for the
// agent's exit status.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "host_path.h"
#include "portal_client.h"
#include "sandbox_plan.h"
#include "unique_fd.h"

namespace airlock {

struct ResolvedGrant {
  HostPath host;  // the descriptor the supervisor checks the grant against
  Grant grant;
};

// Runs the session with its root mounted on ROOT_DIR and returns the
// agent's exit status (128 + N for signal N). The session is registered
// with the portal as DESCRIPTION says before the agent starts. Throws Error
// when a launch grant fails; the supervisor's own failures are its exit
// status.
int run_session(const SandboxPlan& plan, const std::vector<ResolvedGrant>& grants, UniqueFd seccomp_bpf,
                const std::string& root_dir, const SessionDescription& description, bool verbose);

}  // namespace airlock
