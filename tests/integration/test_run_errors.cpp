// Bad input: each gets a clear error on stderr, exit status 125 (126, 127
// for commands), and nothing starts.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "sandbox_runner.h"

namespace airlock::test {
namespace {

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_IF_ROOT();
    marker_dir_ = scratch_.path("out");
    ASSERT_EQ(mkdir(marker_dir_.c_str(), 0755), 0);
  }
  // Runs with a command that would leave a marker on the host if it ran.
  Result run_with(std::vector<std::string> options) {
    std::vector<std::string> args = {"run", "--rw", marker_dir_};
    args.insert(args.end(), options.begin(), options.end());
    args.insert(args.end(), {"--", "/bin/sh", "-c", "touch '" + marker_dir_ + "/started'"});
    return airlock(args, scratch_.options());
  }
  void expect_refused(const Result& result, const std::string& message, int status = 125) {
    EXPECT_EQ(result.status, status) << result.err;
    EXPECT_EQ(result.err.rfind("airlock: ", 0), 0u) << result.err;
    EXPECT_NE(result.err.find(message), std::string::npos) << result.err;
    EXPECT_FALSE(Scratch::exists(marker_dir_ + "/started")) << "the command ran";
  }
  Scratch scratch_;
  std::string marker_dir_;
};

TEST_F(BadInput, MissingPath) {
  expect_refused(run_with({"--ro", scratch_.path("no-such-folder")}), "does not exist");
}

TEST_F(BadInput, PathInTheDenyList) {
  expect_refused(run_with({"--ro", scratch_.home() + "/.ssh"}), "cannot grant ~/.ssh");
  expect_refused(run_with({"--rw", scratch_.home() + "/.aws/credentials"}), "~/.aws");
}

TEST_F(BadInput, WholeHomeOrRootAtOnce) {
  expect_refused(run_with({"--ro", scratch_.home()}), "it contains");
  expect_refused(run_with({"--ro", "/"}), "cannot grant /");
}

TEST_F(BadInput, RuntimeCannotBeGranted) {
  expect_refused(run_with({"--rw", "/usr/bin"}), "which the sandbox is built from");
  expect_refused(run_with({"--rw", "/proc"}), "which the sandbox is built from");
}

TEST_F(BadInput, UnknownProfileListsTheAvailableOnes) {
  Result result = run_with({"--profile", "no-such-agent"});
  expect_refused(result, "unknown profile 'no-such-agent'");
  EXPECT_NE(result.err.find("claude"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("shell"), std::string::npos) << result.err;
}

TEST_F(BadInput, MalformedProfileFile) {
  std::string broken = scratch_.path("broken.profile");
  Scratch::write_file(broken, "[Profile\nCommand=x\n");
  expect_refused(run_with({"--profile", broken}), "is malformed");
  std::string unknown_key = scratch_.path("typo.profile");
  Scratch::write_file(unknown_key, "[Profile]\nComand=x\n");
  expect_refused(run_with({"--profile", unknown_key}), "[Profile] Comand: unknown key");
  std::string bad_state = scratch_.path("state.profile");
  Scratch::write_file(bad_state, "[Profile]\n[Filesystem]\nState=~/.ssh/;\n");
  expect_refused(run_with({"--profile", bad_state}), "cannot grant ~/.ssh");
}

TEST_F(BadInput, EmptyCommand) {
  Result none = airlock({"run"}, scratch_.options());
  EXPECT_EQ(none.status, 125);
  EXPECT_NE(none.err.find("no command given"), std::string::npos) << none.err;
  Result empty = airlock({"run", "--", ""}, scratch_.options());
  EXPECT_EQ(empty.status, 125);
  EXPECT_NE(empty.err.find("command is empty"), std::string::npos) << empty.err;
}

TEST_F(BadInput, CommandNotFoundIs127AndNotExecutableIs126) {
  Result missing = airlock({"run", "--", "no-such-command-xyz"}, scratch_.options());
  EXPECT_EQ(missing.status, 127);
  EXPECT_NE(missing.err.find("command not found"), std::string::npos) << missing.err;
  std::string plain = scratch_.path("plain-file");
  Scratch::write_file(plain, "#!/bin/sh\n");
  Result not_executable = airlock({"run", "--", plain}, scratch_.options());
  EXPECT_EQ(not_executable.status, 126);
  EXPECT_NE(not_executable.err.find("not executable"), std::string::npos) << not_executable.err;
}

TEST_F(BadInput, UnknownOptionAndBadEnv) {
  expect_refused(run_with({"--frobnicate"}), "Unknown option --frobnicate");
  expect_refused(run_with({"--env", "1BAD=x"}), "is not a variable name");
  expect_refused(run_with({"--env", "AIRLOCK_SURELY_UNSET_VARIABLE"}), "is not set on the host");
}

TEST_F(BadInput, BothReadOnlyAndReadWrite) {
  expect_refused(run_with({"--ro", marker_dir_}), "both with --ro and --rw");
}

TEST_F(BadInput, DryRunStartsNothing) {
  Result result = run_with({"--dry-run"});
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.out.find("bwrap: "), std::string::npos);
  EXPECT_NE(result.out.find("--unshare-all"), std::string::npos);
  EXPECT_FALSE(Scratch::exists(marker_dir_ + "/started"));
}


TEST_F(BadInput, BubblewrapMissingSaysWhatToInstall) {
  Options options = scratch_.options();
  options.env["PATH"] = scratch_.path("empty-path");
  Result result = airlock({"run", "--", "/bin/true"}, options);
  EXPECT_EQ(result.status, 125);
  EXPECT_NE(result.err.find("apt install bubblewrap"), std::string::npos) << result.err;
}

TEST_F(BadInput, UserNamespacesDisabledSaysWhichSysctl) {
  // bwrap --disable-userns leaves a namespace in which no further user
  // namespace can be made, as on a machine where they are switched off.
  Options options = scratch_.options();
  options.timeout = std::chrono::seconds(30);
  Result result = run({"/usr/bin/bwrap", "--unshare-user", "--disable-userns", "--dev-bind", "/", "/", "--",
                       airlock_binary(), "run", "--rw", marker_dir_, "--", "/bin/sh", "-c",
                       "touch '" + marker_dir_ + "/started'"},
                      options);
  EXPECT_FALSE(result.timed_out) << "airlock hung after its supervisor failed";
  expect_refused(result, "sysctl");
  EXPECT_NE(result.err.find("user namespace"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace airlock::test
