// The control socket between the grant makers (the launcher at start, the
// portal at run time) and a session's supervisor: one SOCK_SEQPACKET
// message per request, the O_PATH descriptor of a grant passed with
// SCM_RIGHTS. The supervisor never resolves a path it was not also handed
// a descriptor for.
#pragma once

#include <linux/limits.h>

#include <cstdint>
#include <optional>
#include <string>

#include "unique_fd.h"

namespace airlock {

enum class ControlOp : uint32_t {
  kGrant = 1,   // fd + canonical path: mount it into the sandbox
  kRevoke = 2,  // canonical path: detach the grant mounted there
  kStart = 3,   // initial grants are in place: start bwrap
  // From a portal that restarted: detach every grant the portal's socket
  // made, which that portal alone knew the scope of.
  kRevokeAll = 4,
  // From the portal: fd, a memfd holding the session's certificate
  // authority (PEM). The sandbox's TLS clients are to trust it beside the
  // system's roots (kCaBundleInside), for the hosts whose requests the
  // proxy puts a secret into.
  kTrust = 5,
};

enum ControlFlags : uint32_t {
  kGrantReadOnly = 1u << 0,
};

struct ControlRequest {
  ControlOp op = ControlOp::kStart;
  uint32_t flags = 0;
  uint32_t seq = 0;  // echoed in the reply
  char path[PATH_MAX] = {};
};

// The supervisor's answer to a request, and its one unasked message: "ready"
// (seq 0) on the launcher's socket once the root and the portal socket exist.
struct ControlReply {
  int32_t error = 0;  // 0, or an errno value
  uint32_t seq = 0;   // the request's, so that a grant maker that restarted
                      // can tell a stale reply from its own
  char message[512] = {};
};

// Each returns false with errno set when the socket fails.
bool send_control_request(int sock, ControlOp op, uint32_t flags, const std::string& path, int fd,
                          uint32_t seq = 0);
// Returns nullopt at end of stream or on a malformed message (errno says which).
std::optional<ControlRequest> receive_control_request(int sock, UniqueFd* passed_fd);
bool send_control_reply(int sock, int error, const std::string& message, uint32_t seq = 0);
std::optional<ControlReply> receive_control_reply(int sock);

}  // namespace airlock
