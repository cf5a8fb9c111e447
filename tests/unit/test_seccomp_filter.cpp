// The seccomp filter, syscall by syscall: the try-syscall helper runs under
// the filter (and, for comparison, without it) and each test asserts the
// exact errno of one protection, so that removing any one rule fails the
// test named after what it protects.
#include "seccomp_filter.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace airlock {
namespace {

// What the filter should answer, by try-syscall name; 0 means allowed, i.e.
// the same answer as without the filter.
struct Expectation {
  const char* name;
  int error;
};

constexpr Expectation kExpectations[] = {
    {"syslog", EPERM},
    {"uselib", EPERM},
    {"acct", EPERM},
    {"quotactl", EPERM},
    {"add_key", EPERM},
    {"keyctl", EPERM},
    {"request_key", EPERM},
    {"move_pages", EPERM},
    {"mbind", EPERM},
    {"get_mempolicy", EPERM},
    {"set_mempolicy", EPERM},
    {"migrate_pages", EPERM},
    {"unshare-user", EPERM},
    {"unshare-mount", EPERM},
    {"setns", EPERM},
    {"mount", EPERM},
    {"umount", EPERM},
    {"umount2", EPERM},
    {"pivot_root", EPERM},
    {"chroot", EPERM},
    {"clone-newuser", EPERM},
    {"clone-newns", EPERM},
    {"clone-newpid", EPERM},
    {"clone-newnet", EPERM},
    {"clone-newuts", EPERM},
    {"clone-newipc", EPERM},
    {"clone-newcgroup", EPERM},
    {"tiocsti", EPERM},
    {"tiocsti-high", EPERM},
    {"tioclinux", EPERM},
    {"modify_ldt", EPERM},
    {"perf_event_open", EPERM},
    {"ptrace", EPERM},
    {"process_vm_readv", EPERM},
    {"process_vm_writev", EPERM},
    {"personality-unsafe", EPERM},
    {"personality-unsafe-high", EPERM},
    {"bpf", EPERM},
    {"userfaultfd", EPERM},
    {"kexec_load", EPERM},
    {"kexec_file_load", EPERM},
    {"init_module", EPERM},
    {"finit_module", EPERM},
    {"delete_module", EPERM},
    {"io_uring_setup", EPERM},
    {"io_uring_enter", EPERM},
    {"io_uring_register", EPERM},
    {"lookup_dcookie", EPERM},
    {"vm86", EPERM},
    {"vm86old", EPERM},
    {"nfsservctl", EPERM},
    {"clone3", ENOSYS},
    {"open_tree", ENOSYS},
    {"move_mount", ENOSYS},
    {"fsopen", ENOSYS},
    {"fsconfig", ENOSYS},
    {"fsmount", ENOSYS},
    {"fspick", ENOSYS},
    {"mount_setattr", ENOSYS},
    {"socket-packet", EAFNOSUPPORT},
    {"socket-bluetooth", EAFNOSUPPORT},
    {"socket-alg", EAFNOSUPPORT},
    {"socket-key", EAFNOSUPPORT},
    // libseccomp cannot read socketcall's arguments, so 32-bit socket()
    // through socketcall is refused whatever the family (closed, as Flatpak).
    {"socketcall-unix", EAFNOSUPPORT},
    {"socketcall-inet", EAFNOSUPPORT},
    {"chdir-tmp", 0},
    {"clone-plain", 0},
    {"ioctl-tcgets", 0},
    {"personality-query", 0},
    {"personality-linux", 0},
    {"personality-linux32", 0},
    {"socket-unix", 0},
    {"socket-inet", 0},
    {"socket-inet6", 0},
    {"socket-netlink", 0},
    {"landlock", 0},
    {"landlock_add_rule", 0},
    {"landlock_restrict_self", 0},
};

std::string errno_name(int error) {
  const char* name = strerrorname_np(error);
  return name ? name : std::to_string(error);
}

std::vector<std::string> all_names() {
  std::vector<std::string> names;
  for (const Expectation& e : kExpectations) names.emplace_back(e.name);
  return names;
}

// What one run of try-syscall printed: name -> "0", "EPERM", "unavailable"...
struct HelperRun {
  int status = -1;  // as waitpid reports it
  std::string output;
  std::map<std::string, std::string> answers;
};

std::vector<sock_filter> read_program(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) throw std::runtime_error("fstat on the filter memfd failed");
  std::vector<sock_filter> program(static_cast<size_t>(st.st_size) / sizeof(sock_filter));
  ssize_t n = pread(fd, program.data(), program.size() * sizeof(sock_filter), 0);
  if (n != static_cast<ssize_t>(program.size() * sizeof(sock_filter)))
    throw std::runtime_error("short read of the filter memfd");
  return program;
}

// Runs between fork and exec: no allocation.
bool write_file(const char* path, const char* text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  size_t size = std::strlen(text);
  bool ok = write(fd, text, size) == static_cast<ssize_t>(size);
  close(fd);
  return ok;
}

// Runs BINARY with NAMES in a child, under PROGRAM when it is not null.
// Everything but the filter is the same in both cases: no_new_privs (which
// bwrap sets too), stdin from /dev/null, and, when not root, a user and
// mount namespace of its own where it is possible, so that the kernel's
// own permission checks do not answer EPERM before the filter is tested.
HelperRun run_helper(const std::string& binary, const std::vector<std::string>& names,
               const std::vector<sock_filter>* program) {
  std::vector<std::string> args{binary};
  args.insert(args.end(), names.begin(), names.end());
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  sock_fprog fprog{};
  if (program) {
    fprog.len = static_cast<unsigned short>(program->size());
    fprog.filter = const_cast<sock_filter*>(program->data());
  }
  bool root = geteuid() == 0;
  // Root in the namespace, so that the capabilities survive the exec.
  std::string uid_map = "0 " + std::to_string(geteuid()) + " 1\n";
  std::string gid_map = "0 " + std::to_string(getegid()) + " 1\n";

  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // Only async-signal-safe calls from here on.
    if (dup2(pipe_fds[1], STDOUT_FILENO) < 0) _exit(120);
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0) _exit(121);
    if (!root && unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0) {
      if (!write_file("/proc/self/setgroups", "deny") || !write_file("/proc/self/uid_map", uid_map.c_str()) ||
          !write_file("/proc/self/gid_map", gid_map.c_str()))
        _exit(122);
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(123);
    if (program && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) != 0) _exit(124);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  HelperRun run;
  char buf[4096];
  for (;;) {
    ssize_t n = read(pipe_fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    run.output.append(buf, static_cast<size_t>(n));
  }
  close(pipe_fds[0]);
  while (waitpid(pid, &run.status, 0) < 0 && errno == EINTR) {
  }
  std::istringstream lines(run.output);
  std::string name, answer;
  while (lines >> name >> answer) run.answers[name] = answer;
  return run;
}

std::string helper_path() {
  const char* path = std::getenv("AIRLOCK_TRY_SYSCALL_BIN");
  return path ? path : "";
}

HelperRun checked_run(const std::vector<sock_filter>* program) {
  std::string binary = helper_path();
  if (binary.empty()) throw std::runtime_error("AIRLOCK_TRY_SYSCALL_BIN is not set (run through meson test)");
  HelperRun run = run_helper(binary, all_names(), program);
  if (!WIFEXITED(run.status) || WEXITSTATUS(run.status) != 0)
    throw std::runtime_error("try-syscall failed (wait status " + std::to_string(run.status) + "):\n" + run.output);
  return run;
}

std::vector<sock_filter> program_for(const SeccompOptions& options) {
  UniqueFd fd = build_seccomp_bpf(options);
  return read_program(fd.get());
}

// One run each, shared by all the tests.
const HelperRun& unfiltered() {
  static const HelperRun run = checked_run(nullptr);
  return run;
}

const HelperRun& filtered() {
  static const std::vector<sock_filter> program = program_for(SeccompOptions{});
  static const HelperRun run = checked_run(&program);
  return run;
}

const HelperRun& filtered_allowing_ptrace() {
  static const std::vector<sock_filter> program = program_for(SeccompOptions{.allow_ptrace = true});
  static const HelperRun run = checked_run(&program);
  return run;
}

std::string answer(const HelperRun& run, const std::string& name) {
  auto it = run.answers.find(name);
  return it == run.answers.end() ? "(no answer)" : it->second;
}

int expected_error(const std::string& name) {
  for (const Expectation& e : kExpectations)
    if (name == e.name) return e.error;
  ADD_FAILURE() << name << " is not in kExpectations";
  return 0;
}

void expect_denied(const std::string& name) {
  std::string expected = errno_name(expected_error(name));
  std::string without = answer(unfiltered(), name);
  EXPECT_EQ(answer(filtered(), name), expected) << name << " (without the filter: " << without << ")";
  // Not a failure: the filter still works, this run just cannot prove it.
  if (without == expected)
    std::cout << "[   NOTE   ] " << name << " answers " << expected
              << " without the filter too on this machine (missing privilege or kernel feature),"
                 " so this run does not tell the rule apart\n";
}

void expect_allowed(const std::string& name) {
  ASSERT_EQ(expected_error(name), 0);
  EXPECT_EQ(answer(filtered(), name), answer(unfiltered(), name)) << name << " must not be filtered";
}

// --- The deny list, one protection per test --------------------------------

TEST(Seccomp, DeniesSyslog_KernelLogLeak) { expect_denied("syslog"); }
TEST(Seccomp, DeniesUselib) { expect_denied("uselib"); }
TEST(Seccomp, DeniesAcct) { expect_denied("acct"); }
TEST(Seccomp, DeniesQuotactl) { expect_denied("quotactl"); }
TEST(Seccomp, DeniesAddKey_HostKeyring) { expect_denied("add_key"); }
TEST(Seccomp, DeniesKeyctl_HostKeyring) { expect_denied("keyctl"); }
TEST(Seccomp, DeniesRequestKey_HostKeyring) { expect_denied("request_key"); }
TEST(Seccomp, DeniesMovePages) { expect_denied("move_pages"); }
TEST(Seccomp, DeniesMbind) { expect_denied("mbind"); }
TEST(Seccomp, DeniesGetMempolicy) { expect_denied("get_mempolicy"); }
TEST(Seccomp, DeniesSetMempolicy) { expect_denied("set_mempolicy"); }
TEST(Seccomp, DeniesMigratePages) { expect_denied("migrate_pages"); }

TEST(Seccomp, DeniesUnshareOfUserNamespace) { expect_denied("unshare-user"); }
TEST(Seccomp, DeniesUnshareOfMountNamespace) { expect_denied("unshare-mount"); }
TEST(Seccomp, DeniesSetns) { expect_denied("setns"); }
TEST(Seccomp, DeniesMount) { expect_denied("mount"); }
TEST(Seccomp, DeniesUmount2) { expect_denied("umount2"); }
TEST(Seccomp, DeniesPivotRoot) { expect_denied("pivot_root"); }
TEST(Seccomp, DeniesChroot) { expect_denied("chroot"); }

TEST(Seccomp, DeniesCloneNewUser) { expect_denied("clone-newuser"); }
TEST(Seccomp, DeniesCloneNewNs) { expect_denied("clone-newns"); }
TEST(Seccomp, DeniesCloneNewPid) { expect_denied("clone-newpid"); }
TEST(Seccomp, DeniesCloneNewNet) { expect_denied("clone-newnet"); }
TEST(Seccomp, DeniesCloneNewUts) { expect_denied("clone-newuts"); }
TEST(Seccomp, DeniesCloneNewIpc) { expect_denied("clone-newipc"); }
TEST(Seccomp, DeniesCloneNewCgroup) { expect_denied("clone-newcgroup"); }

TEST(Seccomp, AvoidsCve2017_5226_Tiocsti) { expect_denied("tiocsti"); }
TEST(Seccomp, AvoidsCve2019_10063_TiocstiWithHighBits) { expect_denied("tiocsti-high"); }
TEST(Seccomp, AvoidsCve2023_28100_Tioclinux) { expect_denied("tioclinux"); }

TEST(Seccomp, DeniesModifyLdt) { expect_denied("modify_ldt"); }
TEST(Seccomp, DeniesPerfEventOpen) { expect_denied("perf_event_open"); }
TEST(Seccomp, DeniesPtrace) { expect_denied("ptrace"); }
TEST(Seccomp, DeniesProcessVmReadv) { expect_denied("process_vm_readv"); }
TEST(Seccomp, DeniesProcessVmWritev) { expect_denied("process_vm_writev"); }
TEST(Seccomp, DeniesUnsafePersonality) { expect_denied("personality-unsafe"); }
TEST(Seccomp, DeniesUnsafePersonalityWithHighBits) { expect_denied("personality-unsafe-high"); }

TEST(Seccomp, DeniesBpf) { expect_denied("bpf"); }
TEST(Seccomp, DeniesUserfaultfd) { expect_denied("userfaultfd"); }
TEST(Seccomp, DeniesKexecLoad) { expect_denied("kexec_load"); }
TEST(Seccomp, DeniesKexecFileLoad) { expect_denied("kexec_file_load"); }
TEST(Seccomp, DeniesInitModule) { expect_denied("init_module"); }
TEST(Seccomp, DeniesFinitModule) { expect_denied("finit_module"); }
TEST(Seccomp, DeniesDeleteModule) { expect_denied("delete_module"); }
TEST(Seccomp, DeniesIoUringSetup_BypassesSeccomp) { expect_denied("io_uring_setup"); }
TEST(Seccomp, DeniesIoUringEnter_BypassesSeccomp) { expect_denied("io_uring_enter"); }
TEST(Seccomp, DeniesIoUringRegister_BypassesSeccomp) { expect_denied("io_uring_register"); }
TEST(Seccomp, DeniesLookupDcookie) { expect_denied("lookup_dcookie"); }
TEST(Seccomp, DeniesNfsservctl) { expect_denied("nfsservctl"); }

TEST(Seccomp, AvoidsCve2021_41133_Clone3) { expect_denied("clone3"); }
TEST(Seccomp, AvoidsCve2021_41133_OpenTree) { expect_denied("open_tree"); }
TEST(Seccomp, AvoidsCve2021_41133_MoveMount) { expect_denied("move_mount"); }
TEST(Seccomp, AvoidsCve2021_41133_Fsopen) { expect_denied("fsopen"); }
TEST(Seccomp, AvoidsCve2021_41133_Fsconfig) { expect_denied("fsconfig"); }
TEST(Seccomp, AvoidsCve2021_41133_Fsmount) { expect_denied("fsmount"); }
TEST(Seccomp, AvoidsCve2021_41133_Fspick) { expect_denied("fspick"); }
TEST(Seccomp, AvoidsCve2021_41133_MountSetattr) { expect_denied("mount_setattr"); }

TEST(Seccomp, DeniesPacketSockets) { expect_denied("socket-packet"); }
TEST(Seccomp, DeniesBluetoothSockets) { expect_denied("socket-bluetooth"); }
TEST(Seccomp, DeniesAlgSockets) { expect_denied("socket-alg"); }
TEST(Seccomp, DeniesKeySockets) { expect_denied("socket-key"); }

// --- What must keep working --------------------------------------------------

TEST(Seccomp, AllowsOrdinaryCalls) {
  EXPECT_EQ(answer(filtered(), "chdir-tmp"), "0");
  EXPECT_EQ(answer(filtered(), "clone-plain"), "0");  // fork and threads
  expect_allowed("ioctl-tcgets");
}

TEST(Seccomp, AllowsUnixInetAndNetlinkSockets) {
  EXPECT_EQ(answer(filtered(), "socket-unix"), "0");
  EXPECT_EQ(answer(filtered(), "socket-inet"), "0");
  expect_allowed("socket-inet6");  // EAFNOSUPPORT on a kernel without IPv6
  expect_allowed("socket-netlink");
}

TEST(Seccomp, AllowsTheSafePersonalities) {
  EXPECT_EQ(answer(filtered(), "personality-query"), "0");
  EXPECT_EQ(answer(filtered(), "personality-linux"), "0");
  EXPECT_EQ(answer(filtered(), "personality-linux32"), "0");
}

// Tools may restrict themselves further (DESIGN.md).
TEST(Seccomp, AllowsLandlock) {
  expect_allowed("landlock");
  expect_allowed("landlock_add_rule");
  expect_allowed("landlock_restrict_self");
}

TEST(Seccomp, AllowsPtraceWhenTheProfileAsks) {
  EXPECT_EQ(answer(filtered_allowing_ptrace(), "ptrace"), answer(unfiltered(), "ptrace"));
  EXPECT_EQ(answer(filtered_allowing_ptrace(), "ptrace"), "0");
  // Only ptrace: the rest of the filter stays.
  EXPECT_EQ(answer(filtered_allowing_ptrace(), "tiocsti"), "EPERM");
  EXPECT_EQ(answer(filtered_allowing_ptrace(), "clone3"), "ENOSYS");
}

// --- The memfd handed to bwrap -------------------------------------------------

TEST(Seccomp, BpfIsInASealedMemfdAtOffsetZero) {
  UniqueFd fd = build_seccomp_bpf(SeccompOptions{});
  ASSERT_TRUE(fd.valid());
  EXPECT_EQ(fcntl(fd.get(), F_GET_SEALS), F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
  EXPECT_EQ(lseek(fd.get(), 0, SEEK_CUR), 0);
  EXPECT_TRUE(fcntl(fd.get(), F_GETFD) & FD_CLOEXEC);

  struct stat st {};
  ASSERT_EQ(fstat(fd.get(), &st), 0);
  EXPECT_GT(st.st_size, 0);
  EXPECT_EQ(st.st_size % static_cast<off_t>(sizeof(sock_filter)), 0);
  // The kernel's limit for one program.
  EXPECT_LE(st.st_size / static_cast<off_t>(sizeof(sock_filter)), BPF_MAXINSNS);

  char byte = 0;
  EXPECT_EQ(pwrite(fd.get(), &byte, 1, 0), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_NE(ftruncate(fd.get(), 0), 0);
  EXPECT_NE(fcntl(fd.get(), F_ADD_SEALS, F_SEAL_FUTURE_WRITE), 0);
}

// --- What `airlock run --verbose` says ---------------------------------------

const char* const kDescribedRules[] = {
    "syslog: EPERM",
    "uselib: EPERM",
    "acct: EPERM",
    "quotactl: EPERM",
    "add_key: EPERM",
    "keyctl: EPERM",
    "request_key: EPERM",
    "move_pages: EPERM",
    "mbind: EPERM",
    "get_mempolicy: EPERM",
    "set_mempolicy: EPERM",
    "migrate_pages: EPERM",
    "unshare: EPERM",
    "setns: EPERM",
    "mount: EPERM",
    "umount: EPERM",
    "umount2: EPERM",
    "pivot_root: EPERM",
    "chroot: EPERM",
    "clone(CLONE_NEWUSER): EPERM",
    "clone(CLONE_NEWNS): EPERM",
    "clone(CLONE_NEWPID): EPERM",
    "clone(CLONE_NEWNET): EPERM",
    "clone(CLONE_NEWUTS): EPERM",
    "clone(CLONE_NEWIPC): EPERM",
    "clone(CLONE_NEWCGROUP): EPERM",
    "ioctl(TIOCSTI): EPERM",
    "ioctl(TIOCLINUX): EPERM",
    "modify_ldt: EPERM",
    "perf_event_open: EPERM",
    "ptrace: EPERM",
    "process_vm_readv: EPERM",
    "process_vm_writev: EPERM",
    "personality(not PER_LINUX, PER_LINUX32 or the 0xffffffff query): EPERM",
    "bpf: EPERM",
    "userfaultfd: EPERM",
    "kexec_load: EPERM",
    "kexec_file_load: EPERM",
    "init_module: EPERM",
    "finit_module: EPERM",
    "delete_module: EPERM",
    "io_uring_setup: EPERM",
    "io_uring_enter: EPERM",
    "io_uring_register: EPERM",
    "lookup_dcookie: EPERM",
    "vm86: EPERM",
    "vm86old: EPERM",
    "nfsservctl: EPERM",
    "clone3: ENOSYS",
    "open_tree: ENOSYS",
    "move_mount: ENOSYS",
    "fsopen: ENOSYS",
    "fsconfig: ENOSYS",
    "fsmount: ENOSYS",
    "fspick: ENOSYS",
    "mount_setattr: ENOSYS",
    "socket(family not unix/inet/inet6/netlink): EAFNOSUPPORT",
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Every rule is described, one line each, and a new rule cannot slip in
// without a line here (and, by the same list, a test above).
TEST(Seccomp, DescriptionNamesEveryRule) {
  std::vector<std::string> lines = lines_of(describe_seccomp_rules(SeccompOptions{}));
  std::vector<std::string> expected(std::begin(kDescribedRules), std::end(kDescribedRules));
  EXPECT_EQ(lines, expected);
  for (const std::string& line : lines) EXPECT_EQ(line.find("landlock"), std::string::npos) << line;
}

TEST(Seccomp, DescriptionLeavesOutPtraceWhenAllowed) {
  std::vector<std::string> lines = lines_of(describe_seccomp_rules(SeccompOptions{.allow_ptrace = true}));
  // ptrace and the process_vm_* calls that give the same access.
  EXPECT_EQ(lines.size(), std::size(kDescribedRules) - 3);
  for (const std::string& line : lines) {
    EXPECT_NE(line.rfind("ptrace", 0), 0U) << line;
    EXPECT_NE(line.rfind("process_vm_", 0), 0U) << line;
  }
}

// --- The 32-bit compat ABIs ------------------------------------------------------
//
// The machines we test on may not run 32-bit code at all, so the program is
// also run here, in a small interpreter of classic BPF, on the seccomp_data
// the kernel would build for an i386 or x32 call.

#if defined(__x86_64__)

constexpr std::uint32_t kRetAllow = SECCOMP_RET_ALLOW;
constexpr std::uint32_t kRetKill = SECCOMP_RET_KILL_THREAD;
constexpr std::uint32_t ret_errno(int error) { return SECCOMP_RET_ERRNO | static_cast<std::uint32_t>(error); }

std::uint32_t load_word(const seccomp_data& data, std::uint32_t offset) {
  std::uint32_t word = 0;
  if (offset % 4 != 0 || offset + 4 > sizeof data) throw std::runtime_error("BPF load outside seccomp_data");
  std::memcpy(&word, reinterpret_cast<const char*>(&data) + offset, 4);
  return word;
}

// The subset of classic BPF that libseccomp emits; anything else fails.
std::uint32_t run_bpf(const std::vector<sock_filter>& program, const seccomp_data& data) {
  std::uint32_t a = 0;
  std::uint32_t x = 0;
  std::uint32_t mem[BPF_MEMWORDS] = {};
  for (size_t pc = 0; pc < program.size(); ++pc) {
    const sock_filter& insn = program[pc];
    switch (insn.code) {
      case BPF_LD | BPF_W | BPF_ABS: a = load_word(data, insn.k); break;
      case BPF_LD | BPF_MEM: a = mem[insn.k % BPF_MEMWORDS]; break;
      case BPF_LDX | BPF_MEM: x = mem[insn.k % BPF_MEMWORDS]; break;
      case BPF_ST: mem[insn.k % BPF_MEMWORDS] = a; break;
      case BPF_STX: mem[insn.k % BPF_MEMWORDS] = x; break;
      case BPF_ALU | BPF_AND | BPF_K: a &= insn.k; break;
      case BPF_ALU | BPF_OR | BPF_K: a |= insn.k; break;
      case BPF_MISC | BPF_TAX: x = a; break;
      case BPF_MISC | BPF_TXA: a = x; break;
      case BPF_JMP | BPF_JA: pc += insn.k; break;
      case BPF_JMP | BPF_JEQ | BPF_K: pc += a == insn.k ? insn.jt : insn.jf; break;
      case BPF_JMP | BPF_JGT | BPF_K: pc += a > insn.k ? insn.jt : insn.jf; break;
      case BPF_JMP | BPF_JGE | BPF_K: pc += a >= insn.k ? insn.jt : insn.jf; break;
      case BPF_JMP | BPF_JSET | BPF_K: pc += (a & insn.k) != 0 ? insn.jt : insn.jf; break;
      case BPF_RET | BPF_K: return insn.k;
      case BPF_RET | BPF_A: return a;
      default:
        throw std::runtime_error("BPF opcode " + std::to_string(insn.code) + " is not in the test interpreter");
    }
  }
  throw std::runtime_error("BPF program ran off its end");
}

// Syscall numbers of the i386 ABI (arch/x86/entry/syscalls/syscall_32.tbl).
enum I386 : int {
  kI386Getpid = 20,
  kI386Mount = 21,
  kI386Umount = 22,
  kI386Ptrace = 26,
  kI386Ioctl = 54,
  kI386Socketcall = 102,
  kI386Vm86old = 113,
  kI386Clone = 120,
  kI386Personality = 136,
  kI386Vm86 = 166,
  kI386Unshare = 310,
  kI386Socket = 359,
  kI386IoUringSetup = 425,
  kI386OpenTree = 428,
  kI386Clone3 = 435,
  kI386LandlockCreateRuleset = 444,
};

// x32 numbers: the x86_64 table with bit 30 set, and its own entries from 512.
constexpr int kX32Bit = 0x40000000;
enum X32 : int {
  kX32Socket = kX32Bit | 41,
  kX32Getpid = kX32Bit | 39,
  kX32Unshare = kX32Bit | 272,
  kX32Clone3 = kX32Bit | 435,
  kX32Ioctl = kX32Bit | 514,
  kX32Ptrace = kX32Bit | 521,
};

struct CompatCall {
  const char* what;
  std::uint32_t arch;
  int nr;
  std::uint64_t a0;
  std::uint64_t a1;
  std::uint32_t expected;
};

const std::vector<sock_filter>& default_program() {
  static const std::vector<sock_filter> program = program_for(SeccompOptions{});
  return program;
}

void expect_compat(const CompatCall& call) {
  seccomp_data data{};
  data.nr = call.nr;
  data.arch = call.arch;
  data.args[0] = call.a0;
  data.args[1] = call.a1;
  EXPECT_EQ(run_bpf(default_program(), data), call.expected) << call.what;
}

TEST(SeccompCompat, I386GetsTheSameDenyList) {
  const CompatCall calls[] = {
      {"getpid", AUDIT_ARCH_I386, kI386Getpid, 0, 0, kRetAllow},
      {"ptrace", AUDIT_ARCH_I386, kI386Ptrace, 0, 0, ret_errno(EPERM)},
      {"mount", AUDIT_ARCH_I386, kI386Mount, 0, 0, ret_errno(EPERM)},
      {"unshare", AUDIT_ARCH_I386, kI386Unshare, CLONE_NEWUSER, 0, ret_errno(EPERM)},
      {"clone(CLONE_NEWUSER)", AUDIT_ARCH_I386, kI386Clone, CLONE_NEWUSER | SIGCHLD, 0, ret_errno(EPERM)},
      {"clone(SIGCHLD)", AUDIT_ARCH_I386, kI386Clone, SIGCHLD, 0, kRetAllow},
      {"clone3", AUDIT_ARCH_I386, kI386Clone3, 0, 0, ret_errno(ENOSYS)},
      {"open_tree", AUDIT_ARCH_I386, kI386OpenTree, 0, 0, ret_errno(ENOSYS)},
      {"ioctl(TIOCSTI)", AUDIT_ARCH_I386, kI386Ioctl, 0, TIOCSTI, ret_errno(EPERM)},
      {"ioctl(TIOCLINUX)", AUDIT_ARCH_I386, kI386Ioctl, 0, TIOCLINUX, ret_errno(EPERM)},
      {"ioctl(TCGETS)", AUDIT_ARCH_I386, kI386Ioctl, 0, TCGETS, kRetAllow},
      {"personality(ADDR_NO_RANDOMIZE)", AUDIT_ARCH_I386, kI386Personality, ADDR_NO_RANDOMIZE, 0, ret_errno(EPERM)},
      {"personality(PER_LINUX32)", AUDIT_ARCH_I386, kI386Personality, PER_LINUX32, 0, kRetAllow},
      {"personality(0xffffffff)", AUDIT_ARCH_I386, kI386Personality, 0xffffffffu, 0, kRetAllow},
      {"io_uring_setup", AUDIT_ARCH_I386, kI386IoUringSetup, 0, 0, ret_errno(EPERM)},
      {"socket(AF_PACKET)", AUDIT_ARCH_I386, kI386Socket, AF_PACKET, 0, ret_errno(EAFNOSUPPORT)},
      {"socket(AF_UNIX)", AUDIT_ARCH_I386, kI386Socket, AF_UNIX, 0, kRetAllow},
      {"socket(AF_INET6)", AUDIT_ARCH_I386, kI386Socket, AF_INET6, 0, kRetAllow},
      {"landlock_create_ruleset", AUDIT_ARCH_I386, kI386LandlockCreateRuleset, 0, 0, kRetAllow},
  };
  for (const CompatCall& call : calls) expect_compat(call);
}

// 32-bit glibc's socket() goes through socketcall, whose arguments seccomp
// cannot read: socketcall(SYS_SOCKET) is refused whole, the other socket
// operations pass.
TEST(SeccompCompat, I386SocketcallCannotCreateSockets) {
  expect_compat({"socketcall(SYS_SOCKET)", AUDIT_ARCH_I386, kI386Socketcall, 1, 0, ret_errno(EAFNOSUPPORT)});
  expect_compat({"socketcall(SYS_CONNECT)", AUDIT_ARCH_I386, kI386Socketcall, 3, 0, kRetAllow});
}

TEST(SeccompCompat, I386OnlyCallsAreDenied) {
  expect_compat({"umount", AUDIT_ARCH_I386, kI386Umount, 0, 0, ret_errno(EPERM)});
  expect_compat({"vm86", AUDIT_ARCH_I386, kI386Vm86, 0, 0, ret_errno(EPERM)});
  expect_compat({"vm86old", AUDIT_ARCH_I386, kI386Vm86old, 0, 0, ret_errno(EPERM)});
}

TEST(SeccompCompat, X32GetsTheSameDenyList) {
  const CompatCall calls[] = {
      {"getpid", AUDIT_ARCH_X86_64, kX32Getpid, 0, 0, kRetAllow},
      {"ptrace", AUDIT_ARCH_X86_64, kX32Ptrace, 0, 0, ret_errno(EPERM)},
      {"unshare", AUDIT_ARCH_X86_64, kX32Unshare, CLONE_NEWUSER, 0, ret_errno(EPERM)},
      {"clone3", AUDIT_ARCH_X86_64, kX32Clone3, 0, 0, ret_errno(ENOSYS)},
      {"ioctl(TIOCSTI)", AUDIT_ARCH_X86_64, kX32Ioctl, 0, TIOCSTI, ret_errno(EPERM)},
      {"socket(AF_PACKET)", AUDIT_ARCH_X86_64, kX32Socket, AF_PACKET, 0, ret_errno(EAFNOSUPPORT)},
      {"socket(AF_UNIX)", AUDIT_ARCH_X86_64, kX32Socket, AF_UNIX, 0, kRetAllow},
  };
  for (const CompatCall& call : calls) expect_compat(call);
}

TEST(SeccompCompat, OtherArchitecturesAreKilled) {
  expect_compat({"getpid on arm", AUDIT_ARCH_ARM, 20, 0, 0, kRetKill});
}

// A real 32-bit try-syscall under the filter, where the build has one
// (gcc-multilib) and the kernel runs 32-bit code.
TEST(SeccompCompat, I386BinaryIsFiltered) {
  const char* binary = std::getenv("AIRLOCK_TRY_SYSCALL_32_BIN");
  if (!binary) GTEST_SKIP() << "a 32-bit try-syscall is not available in this build (it needs gcc-multilib)";
  std::vector<std::string> names = all_names();
  HelperRun without = run_helper(binary, names, nullptr);
  if (!WIFEXITED(without.status) || WEXITSTATUS(without.status) != 0)
    GTEST_SKIP() << "32-bit binaries are not available on this kernel (wait status " << without.status << ")";
  HelperRun with = run_helper(binary, names, &default_program());
  ASSERT_TRUE(WIFEXITED(with.status) && WEXITSTATUS(with.status) == 0) << with.output;
  for (const Expectation& e : kExpectations) {
    std::string unfiltered_answer = answer(without, e.name);
    if (unfiltered_answer == "unavailable") continue;
    if (e.error == 0)
      EXPECT_EQ(answer(with, e.name), unfiltered_answer) << e.name << " (32-bit) must not be filtered";
    else
      EXPECT_EQ(answer(with, e.name), errno_name(e.error)) << e.name << " (32-bit)";
  }
}

#endif  // __x86_64__

}  // namespace
}  // namespace airlock
