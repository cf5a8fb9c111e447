// The sandbox's seccomp filter: Flatpak's deny list and more (DESIGN.md,
// "Sandbox construction"), built with libseccomp for the native and the
// 32-bit compat ABIs, and exported as BPF for `bwrap --seccomp FD`.
#pragma once

#include <string>

#include "unique_fd.h"

namespace airlock {

struct SeccompOptions {
  bool allow_ptrace = false;  // a profile may ask for it (debuggers)
};

// A sealed memfd holding the BPF program, positioned at 0. Throws Error.
UniqueFd build_seccomp_bpf(const SeccompOptions& options);

// One line per rule, for `airlock run --verbose`.
std::string describe_seccomp_rules(const SeccompOptions& options);

}  // namespace airlock
