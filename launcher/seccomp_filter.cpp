#include "seccomp_filter.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "error.h"
#include "translate.h"

namespace airlock {

namespace {

// Which comparisons a rule makes on the call's arguments.
enum class Match {
  kAlways,         // every call
  kFlagSet,        // arg & value == value
  kLow32Equals,    // arg & 0xffffffff == value
  kLow32NotIn,     // the low 32 bits of arg are none of values
};

struct Rule {
  std::string_view syscall;
  int error;
  std::string_view condition = {};  // what --verbose says about the arguments, translated there
  Match match = Match::kAlways;
  unsigned arg = 0;
  std::vector<std::uint64_t> values = {};
  bool is_ptrace = false;  // lifted when the profile allows ptrace
};

// Architectures with CONFIG_CLONE_BACKWARDS2 take the stack first and the
// flags second.
#if defined(__s390__) || defined(__s390x__) || defined(__CRIS__)
constexpr unsigned kCloneFlagsArg = 1;
#else
constexpr unsigned kCloneFlagsArg = 0;
#endif

// The kernel reads these arguments as 32-bit ints; comparing only the low
// half means garbage in the upper half of a 64-bit register cannot smuggle
// a denied value past the filter (CVE-2019-10063).
constexpr std::uint64_t kLow32 = 0xffffffffu;

// Flatpak's setup_seccomp is the baseline; the additions are marked.
// landlock_* is deliberately absent: tools may restrict themselves further.
const std::vector<Rule>& rules() {
  static const std::vector<Rule> table = {
      // dmesg leaks kernel addresses and other sessions' messages.
      {"syslog", EPERM},
      {"uselib", EPERM},
      {"acct", EPERM},
      {"quotactl", EPERM},
      // The kernel keyring is shared with the host user: no secrets through it.
      {"add_key", EPERM},
      {"keyctl", EPERM},
      {"request_key", EPERM},
      // NUMA and page migration: a history of memory-corruption bugs.
      {"move_pages", EPERM},
      {"mbind", EPERM},
      {"get_mempolicy", EPERM},
      {"set_mempolicy", EPERM},
      {"migrate_pages", EPERM},
      // No nested namespaces or mounts: the agent must not rearrange its
      // view of the filesystem, nor gain capabilities in a new user namespace.
      {"unshare", EPERM},
      {"setns", EPERM},
      {"mount", EPERM},
      {"umount", EPERM},
      {"umount2", EPERM},
      {"pivot_root", EPERM},
      {"chroot", EPERM},
      // CLONE_NEWTIME is absent: for clone() its bit is part of the exit
      // signal, so only unshare and clone3 could ask for it, and both are
      // denied whole.
      {"clone", EPERM, "CLONE_NEWUSER", Match::kFlagSet, kCloneFlagsArg, {CLONE_NEWUSER}},
      {"clone", EPERM, "CLONE_NEWNS", Match::kFlagSet, kCloneFlagsArg, {CLONE_NEWNS}},
      {"clone", EPERM, "CLONE_NEWPID", Match::kFlagSet, kCloneFlagsArg, {CLONE_NEWPID}},
      {"clone", EPERM, "CLONE_NEWNET", Match::kFlagSet, kCloneFlagsArg, {CLONE_NEWNET}},
      {"clone", EPERM, "CLONE_NEWUTS", Match::kFlagSet, kCloneFlagsArg, {CLONE_NEWUTS}},
      {"clone", EPERM, "CLONE_NEWIPC", Match::kFlagSet, kCloneFlagsArg, {CLONE_NEWIPC}},
      {"clone", EPERM, "CLONE_NEWCGROUP", Match::kFlagSet, kCloneFlagsArg, {CLONE_NEWCGROUP}},
      // Faking input to the terminal the sandbox shares with the host
      // (CVE-2017-5226), and the Linux console's copy and paste, which does
      // the same (CVE-2023-28100).
      {"ioctl", EPERM, "TIOCSTI", Match::kLow32Equals, 1, {TIOCSTI}},
      {"ioctl", EPERM, "TIOCLINUX", Match::kLow32Equals, 1, {TIOCLINUX}},
      // Historic source of information leaks; 16-bit code has no place here.
      {"modify_ldt", EPERM},
      // perf is a steady source of kernel CVEs; profile from outside.
      {"perf_event_open", EPERM},
      {"ptrace", EPERM, {}, Match::kAlways, 0, {}, true},
      // The same access to another process's memory as ptrace, without it.
      {"process_vm_readv", EPERM, {}, Match::kAlways, 0, {}, true},
      {"process_vm_writev", EPERM, {}, Match::kAlways, 0, {}, true},
      // Other personalities switch on emulation or turn off ASLR
      // (ADDR_NO_RANDOMIZE) and NX (READ_IMPLIES_EXEC).
      // TRANSLATORS: the arguments of personality(2) the seccomp filter
      // denies (airlock run --verbose); keep the names and the number.
      {"personality", EPERM, N_("not PER_LINUX, PER_LINUX32 or the 0xffffffff query"), Match::kLow32NotIn, 0,
       {PER_LINUX, PER_LINUX32, 0xffffffffu}},
      // Beyond Flatpak: eBPF, userfaultfd (the classic way to win kernel
      // races), kexec and modules, all kernel attack surface an agent never
      // needs.
      {"bpf", EPERM},
      {"userfaultfd", EPERM},
      {"kexec_load", EPERM},
      {"kexec_file_load", EPERM},
      {"init_module", EPERM},
      {"finit_module", EPERM},
      {"delete_module", EPERM},
      // io_uring's operations never pass through seccomp.
      {"io_uring_setup", EPERM},
      {"io_uring_enter", EPERM},
      {"io_uring_register", EPERM},
      // Obsolete or 32-bit-only attack surface, as Docker's default profile.
      {"lookup_dcookie", EPERM},
      {"vm86", EPERM},
      {"vm86old", EPERM},
      {"nfsservctl", EPERM},
      // clone3's flags sit behind a pointer seccomp cannot read. ENOSYS makes
      // glibc fall back to clone(), whose flags the rules above check.
      {"clone3", ENOSYS},
      // The new mount API changes the filesystem view as mount(2) does
      // (CVE-2021-41133). ENOSYS, as for a kernel that predates it.
      {"open_tree", ENOSYS},
      {"move_mount", ENOSYS},
      {"fsopen", ENOSYS},
      {"fsconfig", ENOSYS},
      {"fsmount", ENOSYS},
      {"fspick", ENOSYS},
      {"mount_setattr", ENOSYS},
      // Only the families a program needs; raw packets, Bluetooth, AF_ALG and
      // the rest are kernel attack surface. On 32-bit x86 libseccomp cannot
      // see socketcall's arguments (they sit behind a pointer), so it denies
      // socketcall(SYS_SOCKET) whole: closed, as in Flatpak. The direct
      // socket syscall (Linux 4.3 and later) is filtered by family.
      // TRANSLATORS: the address families for which the seccomp filter
      // denies socket(2) (airlock run --verbose); keep unix/inet/inet6/netlink.
      {"socket", EAFNOSUPPORT, N_("family not unix/inet/inet6/netlink"), Match::kLow32NotIn, 0,
       {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK}},
  };
  return table;
}

bool applies(const Rule& rule, const SeccompOptions& options) {
  return !(rule.is_ptrace && options.allow_ptrace);
}

using Comparisons = std::vector<scmp_arg_cmp>;  // ANDed within one libseccomp rule

scmp_arg_cmp compare(unsigned arg, scmp_compare op, std::uint64_t a, std::uint64_t b = 0) {
  return scmp_arg_cmp{arg, op, a, b};
}

// libseccomp 2.5 allows one comparison per argument in a rule, so "none of
// these values" becomes one rule per aligned block of the values between
// them (a masked compare each), and one "greater or equal" for the last gap,
// which also catches any value with high bits set. Masks and data stay below
// 2^32: libseccomp truncates larger ones on 32-bit architectures, which
// would turn a comparison into "always".
std::vector<Comparisons> low32_not_in(unsigned arg, std::vector<std::uint64_t> allowed) {
  std::sort(allowed.begin(), allowed.end());
  std::vector<Comparisons> result;
  std::uint64_t low = 0;
  auto deny_range = [&](std::uint64_t first, std::uint64_t last) {
    while (first <= last) {
      std::uint64_t size = 1;
      while (first % (size * 2) == 0 && first + size * 2 - 1 <= last) size *= 2;
      result.push_back({compare(arg, SCMP_CMP_MASKED_EQ, kLow32 & ~(size - 1), first)});
      first += size;
    }
  };
  for (std::uint64_t value : allowed) {
    if (value > low) deny_range(low, value - 1);
    low = value + 1;
  }
  if (low <= kLow32) result.push_back({compare(arg, SCMP_CMP_GE, low)});
  return result;
}

// The libseccomp rules that make up one Rule; an empty list of comparisons
// denies every call.
std::vector<Comparisons> comparisons(const Rule& rule) {
  switch (rule.match) {
    case Match::kAlways:
      return {Comparisons{}};
    case Match::kFlagSet:
      return {{compare(rule.arg, SCMP_CMP_MASKED_EQ, rule.values.at(0), rule.values.at(0))}};
    case Match::kLow32Equals:
      return {{compare(rule.arg, SCMP_CMP_MASKED_EQ, kLow32, rule.values.at(0))}};
    case Match::kLow32NotIn:
      return low32_not_in(rule.arg, rule.values);
    default:
      break;
  }
  throw Error(format(_("seccomp rule for %s has an unknown kind of match"), std::string(rule.syscall).c_str()));
}

std::string errno_name(int error) {
  const char* name = strerrorname_np(error);
  return name ? name : std::to_string(error);
}

std::string seccomp_message(const std::string& what, int negative_errno) {
  // TRANSLATORS: %s says what failed and why.
  return format(_("cannot build the seccomp filter: %s (is libseccomp 2.5 or later installed?)"),
                errno_message(what, -negative_errno).c_str());
}

// The compat ABIs a 64-bit kernel also runs. libseccomp kills a process of
// an ABI missing from the filter; listed, 32-bit code gets the same rules.
std::vector<std::uint32_t> compat_arches(std::uint32_t native) {
  switch (native) {
    case SCMP_ARCH_X86_64:
      return {SCMP_ARCH_X86, SCMP_ARCH_X32};
    case SCMP_ARCH_AARCH64:
      return {SCMP_ARCH_ARM};
    case SCMP_ARCH_S390X:
      return {SCMP_ARCH_S390};
    case SCMP_ARCH_PPC64:
      return {SCMP_ARCH_PPC};
    default:
      return {};
  }
}

struct FilterRelease {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Filter = std::unique_ptr<void, FilterRelease>;

void add_rule(void* ctx, const Rule& rule) {
  int number = seccomp_syscall_resolve_name(std::string(rule.syscall).c_str());
  // A name this libseccomp does not know cannot be filtered by it; the unit
  // tests notice if that ever happens on a supported system.
  if (number == __NR_SCMP_ERROR) return;
  for (const Comparisons& cmp : comparisons(rule)) {
    int r = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(static_cast<std::uint32_t>(rule.error)), number,
                                   static_cast<unsigned>(cmp.size()), cmp.empty() ? nullptr : cmp.data());
    // EFAULT and EDOM: libseccomp cannot map the call onto one of the compat
    // ABIs (it does not exist there); Flatpak skips these too.
    if (r == -EFAULT || r == -EDOM) continue;
    if (r < 0)
      // TRANSLATORS: %s is the name of a system call.
      throw Error(seccomp_message(format(_("cannot add the rule for %s"), std::string(rule.syscall).c_str()), r));
  }
}

}  // namespace

UniqueFd build_seccomp_bpf(const SeccompOptions& options) {
  Filter ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) throw Error(_("cannot build the seccomp filter: seccomp_init failed (out of memory?)"));

  for (std::uint32_t arch : compat_arches(seccomp_arch_native())) {
    int r = seccomp_arch_add(ctx.get(), arch);
    if (r < 0 && r != -EEXIST) throw Error(seccomp_message(_("cannot add a compat architecture"), r));
  }
  for (const Rule& rule : rules())
    if (applies(rule, options)) add_rule(ctx.get(), rule);

  UniqueFd fd(memfd_create("airlock-seccomp", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd) throw Error(errno_message(_("cannot create a memfd for the seccomp filter")));
  int r = seccomp_export_bpf(ctx.get(), fd.get());
  if (r < 0) throw Error(seccomp_message(_("cannot export the filter as BPF"), r));
  // bwrap reads the program from this fd; sealed, nothing that holds a copy
  // of it can change what the sandbox gets.
  if (fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
    throw Error(errno_message(_("cannot seal the seccomp filter memfd")));
  if (lseek(fd.get(), 0, SEEK_SET) != 0) throw Error(errno_message(_("cannot rewind the seccomp filter memfd")));
  return fd;
}

std::string describe_seccomp_rules(const SeccompOptions& options) {
  std::string text;
  for (const Rule& rule : rules()) {
    if (!applies(rule, options)) continue;
    text += rule.syscall;
    if (!rule.condition.empty()) {
      text += '(';
      text += _(std::string(rule.condition).c_str());
      text += ')';
    }
    text += ": " + errno_name(rule.error) + '\n';
  }
  return text;
}

}  // namespace airlock
