// The Landlock UAPI beyond ABI 2, which Debian 12's <linux/landlock.h> stops
// at. Values are the kernel's (include/uapi/linux/landlock.h); each macro is
// defined only when the system header lacks it, so newer headers win. Structs
// and enumerators get project names, since the system header may already
// declare the kernel's under the same names with fewer fields.
#pragma once

#include <linux/landlock.h>

#include <cstddef>
#include <cstdint>

// ABI 1 and 2 (present in Debian 12's header; repeated for older ones).
#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif

// ABI 3 (Linux 6.2): truncate(2), ftruncate(2), open(2) with O_TRUNC.
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif

// ABI 4 (Linux 6.7): TCP bind and connect, in handled_access_net.
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#endif
#ifndef LANDLOCK_ACCESS_NET_CONNECT_TCP
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif

// ABI 5 (Linux 6.10): ioctl(2) on character and block devices.
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif

// ABI 6 (Linux 6.12): IPC scoping, in `scoped`.
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

// ABI 7 (Linux 6.15): audit logging flags of landlock_restrict_self().
#ifndef LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF
#define LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF (1U << 0)
#endif
#ifndef LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON
#define LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON (1U << 1)
#endif
#ifndef LANDLOCK_RESTRICT_SELF_LOG_SUBDOMAINS_OFF
#define LANDLOCK_RESTRICT_SELF_LOG_SUBDOMAINS_OFF (1U << 2)
#endif

namespace airlock {

// The newest ABI whose rights this file knows. A newer kernel is used at this
// level: its extra rights stay unhandled (allowed), as the kernel promises.
inline constexpr int kLandlockMaxKnownAbi = 7;

// enum landlock_rule_type: an enumerator in the kernel header, so not a macro.
inline constexpr int kLandlockRulePathBeneath = 1;  // LANDLOCK_RULE_PATH_BENEATH
inline constexpr int kLandlockRuleNetPort = 2;      // LANDLOCK_RULE_NET_PORT, ABI 4

// struct landlock_ruleset_attr with every field up to ABI 7. The kernel takes
// a prefix of it; landlock_ruleset_attr_size() says how long.
struct LandlockRulesetAttr {
  std::uint64_t handled_access_fs = 0;
  std::uint64_t handled_access_net = 0;  // ABI 4
  std::uint64_t scoped = 0;              // ABI 6
};
static_assert(sizeof(LandlockRulesetAttr) == 24);

// struct landlock_path_beneath_attr (packed in the kernel: 12 bytes).
struct __attribute__((packed)) LandlockPathBeneathAttr {
  std::uint64_t allowed_access = 0;
  std::int32_t parent_fd = -1;
};
static_assert(sizeof(LandlockPathBeneathAttr) == 12);

// struct landlock_net_port_attr, ABI 4; port in host byte order.
struct LandlockNetPortAttr {
  std::uint64_t allowed_access = 0;
  std::uint64_t port = 0;
};
static_assert(sizeof(LandlockNetPortAttr) == 16);

// The size of the ruleset attribute an ABI knows. An older kernel rejects a
// longer one unless the extra bytes are zero, so pass exactly this much.
constexpr std::size_t landlock_ruleset_attr_size(int abi) {
  if (abi >= 6) return offsetof(LandlockRulesetAttr, scoped) + sizeof(std::uint64_t);
  if (abi >= 4) return offsetof(LandlockRulesetAttr, handled_access_net) + sizeof(std::uint64_t);
  return offsetof(LandlockRulesetAttr, handled_access_fs) + sizeof(std::uint64_t);
}

}  // namespace airlock
