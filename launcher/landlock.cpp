#include "landlock.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "error.h"
#include "landlock_compat.h"
#include "translate.h"
#include "unique_fd.h"

namespace airlock {

namespace {

constexpr std::uint64_t kReadOnlyRights =
    LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
constexpr std::uint64_t kDeviceRights = LANDLOCK_ACCESS_FS_READ_FILE |
                                        LANDLOCK_ACCESS_FS_WRITE_FILE |
                                        LANDLOCK_ACCESS_FS_IOCTL_DEV | LANDLOCK_ACCESS_FS_READ_DIR;
// The rights that apply to a file itself; the rest only to a directory's content.
constexpr std::uint64_t kFileRights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                      LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
                                      LANDLOCK_ACCESS_FS_IOCTL_DEV;
// ABI 1: EXECUTE (bit 0) to MAKE_SYM (bit 12).
constexpr std::uint64_t kAbi1Rights = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;

int sys_landlock_create_ruleset(const LandlockRulesetAttr* attr, std::size_t size,
                                std::uint32_t flags) {
  return static_cast<int>(syscall(SYS_landlock_create_ruleset, attr, size, flags));
}

int sys_landlock_add_rule(int ruleset_fd, int rule_type, const void* rule_attr) {
  return static_cast<int>(syscall(SYS_landlock_add_rule, ruleset_fd, rule_type, rule_attr, 0U));
}

int sys_landlock_restrict_self(int ruleset_fd) {
  return static_cast<int>(syscall(SYS_landlock_restrict_self, ruleset_fd, 0U));
}

std::string count_paths(std::size_t n) {
  // TRANSLATORS: how many paths a kind of Landlock rule covers, in
  // "filesystem rules (read-only 3 paths, ...)".
  return format(n_("%zu path", "%zu paths", n), n);
}

// Adds one path-beneath rule per existing path; returns how many it added.
std::size_t add_path_rules(int ruleset_fd, int abi, LandlockAccess kind,
                           const std::vector<std::string>& paths) {
  std::size_t added = 0;
  for (const std::string& path : paths) {
    // Following symlinks is deliberate: /bin -> usr/bin must name usr/bin.
    UniqueFd fd(open(path.c_str(), O_PATH | O_CLOEXEC));
    if (!fd) {
      if (errno == ENOENT || errno == ENOTDIR) continue;
      throw Error(errno_message(format(_("cannot open %s for a Landlock rule"), path.c_str())));
    }
    struct stat st = {};
    if (fstat(fd.get(), &st) != 0) throw Error(errno_message(format(_("cannot stat %s"), path.c_str())));
    LandlockPathBeneathAttr rule;
    rule.allowed_access = landlock_fs_rights_for(abi, kind, S_ISDIR(st.st_mode));
    rule.parent_fd = fd.get();
    if (sys_landlock_add_rule(ruleset_fd, kLandlockRulePathBeneath, &rule) != 0)
      throw Error(errno_message(format(_("cannot add a Landlock rule for %s"), path.c_str())));
    ++added;
  }
  return added;
}

}  // namespace

std::uint64_t landlock_handled_fs(int abi) {
  std::uint64_t rights = 0;
  if (abi >= 1) rights |= kAbi1Rights;
  if (abi >= 2) rights |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) rights |= LANDLOCK_ACCESS_FS_TRUNCATE;
  if (abi >= 5) rights |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
  return rights;
}

std::uint64_t landlock_fs_rights_for(int abi, LandlockAccess kind, bool is_dir) {
  std::uint64_t rights = 0;
  switch (kind) {
    case LandlockAccess::kReadOnly:
      rights = kReadOnlyRights;
      break;
    case LandlockAccess::kReadWrite:
      rights = ~std::uint64_t{0};
      break;
    case LandlockAccess::kDevices:
      rights = kDeviceRights;
      break;
    default:
      break;
  }
  rights &= landlock_handled_fs(abi);
  return is_dir ? rights : rights & kFileRights;
}

int landlock_abi() {
  int abi = sys_landlock_create_ruleset(nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi >= 0) return abi;
  // ENOSYS: not built in; EOPNOTSUPP: built in but not enabled at boot.
  if (errno == ENOSYS || errno == EOPNOTSUPP) return 0;
  throw Error(errno_message(_("cannot query the Landlock ABI")));
}

LandlockResult apply_landlock(const LandlockRules& rules) {
  LandlockResult result;
  const int kernel_abi = landlock_abi();
  if (kernel_abi == 0) {
    result.description = _("Landlock is not available in this kernel; running without it");
    return result;
  }
  const int abi = std::min(kernel_abi, kLandlockMaxKnownAbi);
  const bool scope = rules.scope_signals_and_abstract_sockets && abi >= 6;
  const bool deny_tcp = rules.deny_tcp && abi >= 4;

  LandlockRulesetAttr attr;
  attr.handled_access_fs = landlock_handled_fs(abi);
  if (deny_tcp) attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
  if (scope) attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
  UniqueFd ruleset(sys_landlock_create_ruleset(&attr, landlock_ruleset_attr_size(abi), 0));
  if (!ruleset) throw Error(errno_message(_("cannot create a Landlock ruleset")));

  const std::size_t ro = add_path_rules(ruleset.get(), abi, LandlockAccess::kReadOnly, rules.read_only);
  const std::size_t rw = add_path_rules(ruleset.get(), abi, LandlockAccess::kReadWrite, rules.read_write);
  const std::size_t dev = add_path_rules(ruleset.get(), abi, LandlockAccess::kDevices, rules.devices);

  // Without it an unprivileged process may not restrict itself; with it no
  // setuid program can regain what the ruleset takes away.
  // TRANSLATORS: no_new_privs is the name of a kernel flag.
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw Error(errno_message(_("cannot set no_new_privs")));
  if (sys_landlock_restrict_self(ruleset.get()) != 0)
    throw Error(errno_message(_("cannot enforce the Landlock ruleset")));

  result.abi = abi;
  // TRANSLATORS: what airlock-init --verbose says; %d is a version number,
  // each %s a number of paths ("3 paths").
  result.description = format(_("Landlock ABI %d: filesystem rules (read-only %s, read-write %s, devices %s)"), abi,
                              count_paths(ro).c_str(), count_paths(rw).c_str(), count_paths(dev).c_str());
  if (rules.deny_tcp)
    // TRANSLATORS: this and the next are appended to "Landlock ABI %d:
    // filesystem rules (...)"; keep the leading comma and space.
    result.description += deny_tcp ? _(", TCP bind and connect denied") : _(", TCP not restricted (needs ABI 4)");
  if (rules.scope_signals_and_abstract_sockets)
    // TRANSLATORS: this and the next are appended to "Landlock ABI %d:
    // filesystem rules (...)"; keep the leading comma and space.
    result.description += scope ? _(", abstract unix sockets and signals scoped") : _(", no IPC scoping (needs ABI 6)");
  return result;
}

}  // namespace airlock
