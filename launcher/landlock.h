// Landlock for airlock-init: a ruleset that allows reading (and executing)
// beneath the runtime paths and writing beneath the writable ones, nothing
// else, negotiated against the ABI the running kernel offers (1 to 7).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace airlock {

struct LandlockRules {
  std::vector<std::string> read_only;   // read and execute beneath
  std::vector<std::string> read_write;  // everything beneath
  std::vector<std::string> devices;     // read, write and ioctl on device files beneath (/dev)
  bool scope_signals_and_abstract_sockets = true;  // ABI 6
  bool deny_tcp = false;  // no TCP bind or connect at all (ABI 4), for tools run with --no-net
};

struct LandlockResult {
  int abi = 0;             // the ABI applied; 0 when the kernel has none
  std::string description; // one line for --verbose and session info
};

// The ABI the kernel offers, 0 when Landlock is unavailable or disabled.
int landlock_abi();

// Restricts the calling process and every later child. A path that does not
// exist is skipped; any other failure throws Error. With no Landlock in the
// kernel it returns abi 0 and changes nothing.
LandlockResult apply_landlock(const LandlockRules& rules);

// What a rule grants, exposed for the tests.
enum class LandlockAccess { kReadOnly, kReadWrite, kDevices };

// The filesystem rights an ABI can deny (0 for ABI 0).
std::uint64_t landlock_handled_fs(int abi);

// The rights a rule of this kind grants at this ABI. A rule on a regular file
// (is_dir false) holds only the rights that apply to files; the kernel rejects
// directory rights on it with EINVAL.
std::uint64_t landlock_fs_rights_for(int abi, LandlockAccess kind, bool is_dir);

}  // namespace airlock
