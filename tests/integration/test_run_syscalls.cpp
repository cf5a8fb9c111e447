// The seccomp filter in the real sandbox: each call fails inside with the
// errno of the design. tests/unit/test_seccomp_filter.cpp checks each rule
// on its own; this checks that bwrap really installs the filter.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "sandbox_runner.h"

namespace airlock::test {
namespace {

std::map<std::string, std::string> try_inside(const std::vector<std::string>& names, Scratch& scratch) {
  std::vector<std::string> args = {"run", "--", env_or_die("AIRLOCK_TRY_SYSCALL_BIN")};
  args.insert(args.end(), names.begin(), names.end());
  Result result = airlock(args, scratch.options());
  EXPECT_EQ(result.status, 0) << result.err;
  std::map<std::string, std::string> errnos;
  std::istringstream lines(result.out);
  std::string name, value;
  while (lines >> name >> value) errnos[name] = value;
  return errnos;
}

class SyscallsInside : public ::testing::Test {
 protected:
  void SetUp() override { SKIP_IF_ROOT(); }
  Scratch scratch_;
};

TEST_F(SyscallsInside, DeniedCallsFailWithTheDesignedErrno) {
  auto errnos = try_inside({"ptrace", "mount", "unshare-user", "clone-newuser", "open_tree", "move_mount", "fsopen",
                            "io_uring_setup", "keyctl", "bpf", "tiocsti", "tiocsti-high", "socket-packet", "clone3"},
                           scratch_);
  EXPECT_EQ(errnos["ptrace"], "EPERM");
  EXPECT_EQ(errnos["mount"], "EPERM");
  EXPECT_EQ(errnos["unshare-user"], "EPERM");
  EXPECT_EQ(errnos["clone-newuser"], "EPERM");
  EXPECT_EQ(errnos["open_tree"], "ENOSYS");   // CVE-2021-41133
  EXPECT_EQ(errnos["move_mount"], "ENOSYS");
  EXPECT_EQ(errnos["fsopen"], "ENOSYS");
  EXPECT_EQ(errnos["io_uring_setup"], "EPERM");
  EXPECT_EQ(errnos["keyctl"], "EPERM");
  EXPECT_EQ(errnos["bpf"], "EPERM");
  EXPECT_EQ(errnos["tiocsti"], "EPERM");       // CVE-2017-5226
  EXPECT_EQ(errnos["tiocsti-high"], "EPERM");  // CVE-2019-10063
  EXPECT_EQ(errnos["socket-packet"], "EAFNOSUPPORT");
  EXPECT_EQ(errnos["clone3"], "ENOSYS");
}

TEST_F(SyscallsInside, OrdinaryCallsStillWork) {
  auto errnos = try_inside({"socket-unix", "socket-inet", "landlock", "chdir-tmp", "personality-query"}, scratch_);
  EXPECT_EQ(errnos["socket-unix"], "0");
  EXPECT_EQ(errnos["socket-inet"], "0");
  EXPECT_EQ(errnos["landlock"], "0") << "tools must be able to restrict themselves further";
  EXPECT_EQ(errnos["chdir-tmp"], "0");
  EXPECT_EQ(errnos["personality-query"], "0");
}

TEST_F(SyscallsInside, PtraceIsAllowedOnlyWhenTheProfileAsks) {
  std::string profile = scratch_.path("debugger.profile");
  Scratch::write_file(profile, "[Profile]\nDescription=debugging\n[Sandbox]\nPtrace=true\n");
  Result result = airlock({"run", "--profile", profile, "--", env_or_die("AIRLOCK_TRY_SYSCALL_BIN"), "ptrace"},
                          scratch_.options());
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out.find("ptrace EPERM"), std::string::npos) << result.out;
}

TEST_F(SyscallsInside, LandlockIsInForce) {
  // Outside the writable areas the sandbox root is a tmpfs the agent owns;
  // only Landlock keeps it from writing there.
  Result result = airlock({"run", "--verbose", "--", "/bin/sh", "-c", "mkdir /etc/planted && echo WROTE"},
                          scratch_.options());
  EXPECT_EQ(result.out.find("WROTE"), std::string::npos);
  EXPECT_NE(result.err.find("Landlock ABI"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace airlock::test
