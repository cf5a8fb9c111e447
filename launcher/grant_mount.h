// Grant mounts, as the supervisor makes them in its own mount namespace:
// clone the host object, restrict the detached tree, attach it beneath the
// shared sandbox root, from where it propagates into the running sandbox.
#pragma once

#include <string>

namespace airlock {

// Mounts CANONICAL (absolute host path) at ROOT_FD + CANONICAL. SENDER_FD is
// the O_PATH descriptor the grant maker opened; the grant is refused unless
// the supervisor's own lookup of CANONICAL finds the same object. Returns 0
// or an errno value, with a sentence for the person in *MESSAGE.
int mount_grant(int root_fd, const std::string& canonical, int sender_fd, bool read_only,
                std::string* message);

// Detaches the grant mounted at ROOT_FD + CANONICAL; the unmount propagates.
int unmount_grant(int root_fd, const std::string& canonical, std::string* message);

}  // namespace airlock
