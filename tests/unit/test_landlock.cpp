// Landlock: ABI negotiation, the rights each kind of rule grants per ABI, and
// the ruleset applied for real, in a forked child so the test process itself
// stays unrestricted.

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "error.h"
#include "landlock.h"
#include "landlock_compat.h"
#include "unique_fd.h"

namespace airlock {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kFileOnlyRights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                          LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
                                          LANDLOCK_ACCESS_FS_IOCTL_DEV;

int kernel_abi_or_errno() {
  const long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return abi >= 0 ? static_cast<int>(abi) : -errno;
}

// "ok", or the errno's name: what an operation did, for readable reports.
std::string outcome(int result) {
  const int saved_errno = errno;
  if (result >= 0) return "ok";
  const char* name = strerrorname_np(saved_errno);
  return name != nullptr ? name : "errno " + std::to_string(saved_errno);
}

std::string try_open(const fs::path& path, int flags) {
  const int fd = open(path.c_str(), flags | O_CLOEXEC, 0644);
  const std::string result = outcome(fd);
  if (fd >= 0) close(fd);
  return result;
}

// Runs the probe in a forked child and returns what it reported.
std::string run_in_child(const std::function<std::string()>& probe) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return "pipe failed";
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);
  const pid_t child = fork();
  if (child < 0) return "fork failed";
  if (child == 0) {
    const std::string report = probe();
    const char* data = report.data();
    std::size_t left = report.size();
    while (left > 0) {
      const ssize_t n = write(write_end.get(), data, left);
      if (n <= 0) _exit(1);
      data += n;
      left -= static_cast<std::size_t>(n);
    }
    _exit(0);
  }
  write_end.reset();
  std::string report;
  char buffer[512];
  ssize_t n;
  while ((n = read(read_end.get(), buffer, sizeof buffer)) > 0) report.append(buffer, static_cast<std::size_t>(n));
  int status = 0;
  waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) report += " (child failed)";
  return report;
}

// Applies the rules in a forked child, then runs the probe there.
std::string run_restricted(const LandlockRules& rules,
                           const std::function<std::string(const LandlockResult&)>& probe) {
  return run_in_child([&]() -> std::string {
    try {
      return probe(apply_landlock(rules));
    } catch (const Error& e) {
      return std::string("apply failed: ") + e.what();
    }
  });
}

std::string run_restricted(const LandlockRules& rules, const std::function<std::string()>& probe) {
  return run_restricted(rules, [&](const LandlockResult&) { return probe(); });
}

class ScratchDir {
 public:
  ScratchDir() {
    std::string templ = (fs::temp_directory_path() / "airlock-landlock-XXXXXX").string();
    if (mkdtemp(templ.data()) == nullptr) throw Error(errno_message("mkdtemp"));
    path_ = templ;
  }
  ~ScratchDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write_file(const fs::path& path, const std::string& content) { std::ofstream(path) << content; }

class LandlockApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    abi_ = landlock_abi();
    if (abi_ == 0) GTEST_SKIP() << "Landlock is not available in this kernel";
    fs::create_directories(root() / "ro");
    fs::create_directories(root() / "rw");
    fs::create_directories(root() / "outside");
    write_file(root() / "ro" / "file", "ro\n");
    write_file(root() / "rw" / "single", "single\n");
    write_file(root() / "outside" / "existing", "outside\n");
  }
  const fs::path& root() const { return scratch_.path(); }

  int abi_ = 0;
  ScratchDir scratch_;
};

TEST(LandlockAbi, MatchesWhatTheKernelReports) {
  const int kernel = kernel_abi_or_errno();
  const int abi = landlock_abi();
  if (kernel < 0) {
    EXPECT_TRUE(kernel == -ENOSYS || kernel == -EOPNOTSUPP) << "unexpected errno " << -kernel;
    EXPECT_EQ(abi, 0);
  } else {
    EXPECT_EQ(abi, kernel);
    EXPECT_GE(abi, 1);
  }
  EXPECT_EQ(landlock_abi(), abi);
}

TEST(LandlockRights, HandledRightsGrowWithTheAbi) {
  EXPECT_EQ(landlock_handled_fs(0), 0U);
  EXPECT_EQ(landlock_handled_fs(1), 0x1fffU);  // EXECUTE .. MAKE_SYM
  EXPECT_EQ(landlock_handled_fs(2), 0x1fffU | LANDLOCK_ACCESS_FS_REFER);
  EXPECT_EQ(landlock_handled_fs(3), landlock_handled_fs(2) | LANDLOCK_ACCESS_FS_TRUNCATE);
  EXPECT_EQ(landlock_handled_fs(4), landlock_handled_fs(3));  // ABI 4 added network rights only
  EXPECT_EQ(landlock_handled_fs(5), landlock_handled_fs(4) | LANDLOCK_ACCESS_FS_IOCTL_DEV);
  EXPECT_EQ(landlock_handled_fs(6), landlock_handled_fs(5));
  EXPECT_EQ(landlock_handled_fs(7), landlock_handled_fs(5));
}

TEST(LandlockRights, ReadOnlyIsReadAndExecute) {
  for (int abi = 1; abi <= kLandlockMaxKnownAbi; ++abi) {
    SCOPED_TRACE(abi);
    EXPECT_EQ(landlock_fs_rights_for(abi, LandlockAccess::kReadOnly, true),
              LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR);
    EXPECT_EQ(landlock_fs_rights_for(abi, LandlockAccess::kReadOnly, false),
              LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE);
  }
}

TEST(LandlockRights, ReadWriteIsEverythingTheAbiHandles) {
  for (int abi = 1; abi <= kLandlockMaxKnownAbi; ++abi) {
    SCOPED_TRACE(abi);
    EXPECT_EQ(landlock_fs_rights_for(abi, LandlockAccess::kReadWrite, true), landlock_handled_fs(abi));
    EXPECT_EQ(landlock_fs_rights_for(abi, LandlockAccess::kReadWrite, false),
              landlock_handled_fs(abi) & kFileOnlyRights);
  }
  EXPECT_FALSE(landlock_fs_rights_for(1, LandlockAccess::kReadWrite, true) & LANDLOCK_ACCESS_FS_REFER);
  EXPECT_FALSE(landlock_fs_rights_for(2, LandlockAccess::kReadWrite, false) & LANDLOCK_ACCESS_FS_TRUNCATE);
  EXPECT_TRUE(landlock_fs_rights_for(3, LandlockAccess::kReadWrite, false) & LANDLOCK_ACCESS_FS_TRUNCATE);
}

TEST(LandlockRights, DevicesGetIoctlFromAbi5) {
  const std::uint64_t rw = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE;
  for (int abi = 1; abi <= 4; ++abi) {
    SCOPED_TRACE(abi);
    EXPECT_EQ(landlock_fs_rights_for(abi, LandlockAccess::kDevices, true), rw | LANDLOCK_ACCESS_FS_READ_DIR);
    EXPECT_EQ(landlock_fs_rights_for(abi, LandlockAccess::kDevices, false), rw);
  }
  for (int abi = 5; abi <= kLandlockMaxKnownAbi; ++abi) {
    SCOPED_TRACE(abi);
    EXPECT_EQ(landlock_fs_rights_for(abi, LandlockAccess::kDevices, true),
              rw | LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_IOCTL_DEV);
    EXPECT_EQ(landlock_fs_rights_for(abi, LandlockAccess::kDevices, false), rw | LANDLOCK_ACCESS_FS_IOCTL_DEV);
  }
}

TEST(LandlockRulesetAttr, SizeFollowsTheAbi) {
  EXPECT_EQ(landlock_ruleset_attr_size(1), 8U);
  EXPECT_EQ(landlock_ruleset_attr_size(3), 8U);
  EXPECT_EQ(landlock_ruleset_attr_size(4), 16U);
  EXPECT_EQ(landlock_ruleset_attr_size(5), 16U);
  EXPECT_EQ(landlock_ruleset_attr_size(6), 24U);
  EXPECT_EQ(landlock_ruleset_attr_size(7), 24U);
}

// What the kernel accepts, for every ABI up to its own: the handled rights,
// the attribute size, and each kind of rule on a directory and on a file.
TEST(LandlockRulesetAttr, KernelAcceptsEachAbiUpToItsOwn) {
  const int kernel = landlock_abi();
  if (kernel == 0) GTEST_SKIP() << "Landlock is not available in this kernel";
  UniqueFd dir(open("/", O_PATH | O_CLOEXEC));
  UniqueFd file(open("/proc/self/exe", O_PATH | O_CLOEXEC));
  ASSERT_TRUE(dir && file);
  for (int abi = 1; abi <= std::min(kernel, kLandlockMaxKnownAbi); ++abi) {
    SCOPED_TRACE(abi);
    LandlockRulesetAttr attr;
    attr.handled_access_fs = landlock_handled_fs(abi);
    if (abi >= 4) attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
    if (abi >= 6) attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
    UniqueFd ruleset(static_cast<int>(
        syscall(SYS_landlock_create_ruleset, &attr, landlock_ruleset_attr_size(abi), 0U)));
    ASSERT_TRUE(ruleset) << std::strerror(errno);
    for (LandlockAccess kind : {LandlockAccess::kReadOnly, LandlockAccess::kReadWrite, LandlockAccess::kDevices}) {
      for (bool is_dir : {true, false}) {
        LandlockPathBeneathAttr rule;
        rule.allowed_access = landlock_fs_rights_for(abi, kind, is_dir);
        rule.parent_fd = is_dir ? dir.get() : file.get();
        EXPECT_EQ(syscall(SYS_landlock_add_rule, ruleset.get(), kLandlockRulePathBeneath, &rule, 0U), 0)
            << "kind " << static_cast<int>(kind) << ", dir " << is_dir << ": " << std::strerror(errno);
      }
    }
  }
}

TEST_F(LandlockApplyTest, WritesOnlyBeneathTheWritablePaths) {
  LandlockRules rules;
  rules.read_only = {(root() / "ro").string()};
  rules.read_write = {(root() / "rw").string()};
  const std::string report = run_restricted(rules, [&] {
    return "create outside: " + try_open(root() / "outside" / "f", O_WRONLY | O_CREAT) +
           "\nread outside: " + try_open(root() / "outside" / "existing", O_RDONLY) +
           "\nmkdir outside: " + outcome(mkdir((root() / "outside" / "d").c_str(), 0755)) +
           "\ncreate rw: " + try_open(root() / "rw" / "f", O_WRONLY | O_CREAT) +
           "\nmkdir rw: " + outcome(mkdir((root() / "rw" / "d").c_str(), 0755)) +
           "\nread ro: " + try_open(root() / "ro" / "file", O_RDONLY) +
           "\nwrite ro: " + try_open(root() / "ro" / "file", O_WRONLY) +
           "\ncreate ro: " + try_open(root() / "ro" / "new", O_WRONLY | O_CREAT) +
           "\nunlink ro: " + outcome(unlink((root() / "ro" / "file").c_str()));
  });
  EXPECT_EQ(report,
            "create outside: EACCES\nread outside: EACCES\nmkdir outside: EACCES\n"
            "create rw: ok\nmkdir rw: ok\n"
            "read ro: ok\nwrite ro: EACCES\ncreate ro: EACCES\nunlink ro: EACCES");
  EXPECT_FALSE(fs::exists(root() / "outside" / "f"));
  EXPECT_TRUE(fs::exists(root() / "rw" / "f"));
  // The test process itself was never restricted.
  EXPECT_EQ(try_open(root() / "outside" / "f", O_WRONLY | O_CREAT), "ok");
}

TEST_F(LandlockApplyTest, RuleOnAFileCoversThatFileOnly) {
  LandlockRules rules;
  rules.read_write = {(root() / "rw" / "single").string()};
  const std::string report = run_restricted(rules, [&] {
    return "write file: " + try_open(root() / "rw" / "single", O_WRONLY) +
           "\ncreate sibling: " + try_open(root() / "rw" / "sibling", O_WRONLY | O_CREAT);
  });
  EXPECT_EQ(report, "write file: ok\ncreate sibling: EACCES");
  if (abi_ >= 3) {
    EXPECT_EQ(run_restricted(rules, [&] { return try_open(root() / "rw" / "single", O_WRONLY | O_TRUNC); }), "ok");
  }
}

TEST_F(LandlockApplyTest, MissingPathsAreSkipped) {
  LandlockRules rules;
  rules.read_only = {(root() / "missing").string(), (root() / "ro" / "file" / "below-a-file").string(),
                     (root() / "ro").string()};
  const std::string report = run_restricted(rules, [&] {
    return try_open(root() / "ro" / "file", O_RDONLY);
  });
  EXPECT_EQ(report, "ok");
}

TEST_F(LandlockApplyTest, ResultSaysTheAbiAndCounts) {
  LandlockRules rules;
  rules.read_only = {(root() / "ro").string(), (root() / "missing").string()};
  rules.read_write = {(root() / "rw").string(), (root() / "outside").string()};
  rules.devices = {"/dev"};
  const int expected_abi = std::min(abi_, kLandlockMaxKnownAbi);
  std::string expected = std::to_string(expected_abi) + "|Landlock ABI " + std::to_string(expected_abi) +
                         ": filesystem rules (read-only 1 path, read-write 2 paths, devices 1 path)";
  expected += expected_abi >= 6 ? ", abstract unix sockets and signals scoped" : ", no IPC scoping (needs ABI 6)";
  const std::string report = run_restricted(
      rules, [](const LandlockResult& result) { return std::to_string(result.abi) + "|" + result.description; });
  EXPECT_EQ(report, expected);

  rules.deny_tcp = true;
  rules.scope_signals_and_abstract_sockets = false;
  const std::string tcp = run_restricted(rules, [](const LandlockResult& result) { return result.description; });
  EXPECT_NE(tcp.find(expected_abi >= 4 ? ", TCP bind and connect denied" : ", TCP not restricted (needs ABI 4)"),
            std::string::npos)
      << tcp;
  EXPECT_EQ(tcp.find("scop"), std::string::npos) << tcp;
}

TEST_F(LandlockApplyTest, DevicesKeepTerminalIoctls) {
  if (access("/dev/ptmx", F_OK) != 0) GTEST_SKIP() << "/dev/ptmx is not available here";
  // A pseudo-terminal master answers TIOCGWINSZ as a terminal does.
  auto probe = [](int flags) {
    return [flags] {
      const int fd = open("/dev/ptmx", flags | O_NOCTTY | O_CLOEXEC);
      if (fd < 0) return "open: " + outcome(fd);
      struct winsize size = {};
      const std::string result = "ioctl: " + outcome(ioctl(fd, TIOCGWINSZ, &size));
      close(fd);
      return result + ", /dev/null: " + try_open("/dev/null", O_WRONLY | O_TRUNC);
    };
  };
  if (run_in_child(probe(O_RDWR)) != "ioctl: ok, /dev/null: ok") GTEST_SKIP() << "a usable /dev/ptmx is not available here";
  LandlockRules devices;
  devices.devices = {"/dev"};
  EXPECT_EQ(run_restricted(devices, probe(O_RDWR)), "ioctl: ok, /dev/null: ok");

  // Control: read-only on /dev has no IOCTL_DEV, which ABI 5 enforces.
  LandlockRules read_only;
  read_only.read_only = {"/dev"};
  EXPECT_EQ(run_restricted(read_only, probe(O_RDONLY)),
            std::string(abi_ >= 5 ? "ioctl: EACCES" : "ioctl: ok") + ", /dev/null: EACCES");
}

TEST_F(LandlockApplyTest, ScopesSignalsFromAbi6) {
  if (abi_ < 6) GTEST_SKIP() << "signal scoping needs Landlock ABI 6";
  const pid_t outsider = fork();
  ASSERT_GE(outsider, 0);
  if (outsider == 0) {
    pause();
    _exit(0);
  }
  LandlockRules scoped;
  LandlockRules unscoped;
  unscoped.scope_signals_and_abstract_sockets = false;
  auto probe = [outsider] { return outcome(kill(outsider, SIGCONT)); };
  EXPECT_EQ(run_restricted(scoped, probe), "EPERM");
  EXPECT_EQ(run_restricted(unscoped, probe), "ok");
  kill(outsider, SIGKILL);
  waitpid(outsider, nullptr, 0);
}

TEST_F(LandlockApplyTest, DeniesTcpWhenAskedFromAbi4) {
  if (abi_ < 4) GTEST_SKIP() << "TCP rules are not available before Landlock ABI 4";
  auto probe = [] {
    UniqueFd sock(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!sock) return "socket: " + outcome(-1);
    sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(1);
    const std::string connected =
        outcome(connect(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr));
    return "connect: " + connected;
  };
  if (run_in_child(probe).starts_with("socket:")) GTEST_SKIP() << "TCP sockets are not available here";
  LandlockRules deny;
  deny.deny_tcp = true;
  EXPECT_EQ(run_restricted(deny, probe), "connect: EACCES");
  // Without the option, TCP is not Landlock's business (whatever the network says).
  EXPECT_NE(run_restricted(LandlockRules{}, probe), "connect: EACCES");
}

}  // namespace
}  // namespace airlock
