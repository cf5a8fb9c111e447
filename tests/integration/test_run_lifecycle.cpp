// The sandbox lives and dies with the launcher; the agent's exit status,
// signals and terminal come through as if it ran outside.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "sandbox_runner.h"
#include "terminal.h"

namespace airlock::test {
namespace {

using namespace std::chrono_literals;

// Whether any process's command line holds MARKER (and ALSO, when given).
bool process_with_argument_exists(const std::string& marker, const std::string& also = "sleep") {
  DIR* proc = opendir("/proc");
  bool found = false;
  while (struct dirent* entry = readdir(proc)) {
    std::string cmdline = Scratch::read_file(std::string("/proc/") + entry->d_name + "/cmdline");
    if (cmdline.find(marker) != std::string::npos && cmdline.find(also) != std::string::npos) found = true;
  }
  closedir(proc);
  return found;
}

// Starts airlock in the background with stdout on a pipe.
struct Background {
  pid_t pid = -1;
  int out = -1;
  Background(const std::vector<std::string>& args, const Options& options) {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe");
    pid = fork();
    if (pid == 0) {
      dup2(fds[1], 1);
      int null = open("/dev/null", O_RDONLY);
      dup2(null, 0);
      if (!options.cwd.empty() && chdir(options.cwd.c_str()) != 0) _exit(121);
      for (const auto& [name, value] : options.env) setenv(name.c_str(), value.c_str(), 1);
      std::vector<std::string> argv = {airlock_binary()};
      argv.insert(argv.end(), args.begin(), args.end());
      std::vector<char*> raw;
      for (auto& arg : argv) raw.push_back(arg.data());
      raw.push_back(nullptr);
      execv(raw[0], raw.data());
      _exit(122);
    }
    close(fds[1]);
    out = fds[0];
  }
  // Reads until TEXT appears or the time runs out.
  bool wait_for(const std::string& text, std::chrono::milliseconds timeout = 20s) {
    std::string seen;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      struct pollfd p = {out, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buffer[256];
      ssize_t n = read(out, buffer, sizeof buffer);
      if (n <= 0) return false;
      seen.append(buffer, static_cast<size_t>(n));
      if (seen.find(text) != std::string::npos) return true;
    }
    return false;
  }
  int wait_status() {
    int status = 0;
    waitpid(pid, &status, 0);
    close(out);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
};

class Lifecycle : public ::testing::Test {
 protected:
  void SetUp() override { SKIP_IF_ROOT(); }
  Scratch scratch_;
};

TEST_F(Lifecycle, KillingTheLauncherKillsTheAgent) {
  std::string marker = "airlock-marker-" + std::to_string(getpid());
  Background launcher({"run", "--", "/bin/sh", "-c", "echo ready; sleep 3600; : " + marker}, scratch_.options());
  ASSERT_TRUE(launcher.wait_for("ready"));
  ASSERT_TRUE(process_with_argument_exists(marker));
  kill(launcher.pid, SIGKILL);
  launcher.wait_status();
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (process_with_argument_exists(marker) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(process_with_argument_exists(marker)) << "the agent outlived the launcher";
}

TEST_F(Lifecycle, InitReapsOrphansAsPidOne) {
  // A grandchild orphaned by its parent is reparented to the sandbox's pid
  // 1, airlock-init; when it exits, only init can reap it.
  Result result = airlock({"run", "--", "/bin/sh", "-c",
                           "echo init=$(cat /proc/1/comm); ( (exit 0) & ); sleep 0.5;"
                           "grep -l '^State:.*Z' /proc/[0-9]*/status || echo no-zombies"},
                          scratch_.options());
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.out.find("init=init"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("no-zombies"), std::string::npos) << result.out;
}

TEST_F(Lifecycle, TheAgentStartsWithNoSignalIgnoredOrBlocked) {
  // The supervisor and bwrap ignore ^C and ^\, and glibc's posix_spawn
  // leaves its own signals ignored; none of that may reach the agent.
  Result result = airlock({"run", "--", "/bin/grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"}, scratch_.options());
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
}

TEST_F(Lifecycle, PassedValuesNeverAppearOnACommandLine) {
  // Invariant 5: a token passed with --env NAME travels in environments
  // only, never in the argv of the launcher, the supervisor, bwrap or
  // airlock-init: /proc/PID/cmdline is readable by every user.
  const std::string token = "tok-7f3a9c51-" + std::to_string(getpid());
  Options options = scratch_.options();
  options.env["AIRLOCK_TEST_TOKEN"] = token;
  Background launcher({"run", "--env", "AIRLOCK_TEST_TOKEN", "--", "/bin/sh", "-c",
                       "echo \"got:$AIRLOCK_TEST_TOKEN\"; sleep 30"},
                      options);
  ASSERT_TRUE(launcher.wait_for("got:" + token)) << "the token did not reach the agent";
  EXPECT_FALSE(process_with_argument_exists(token, "")) << "a command line holds the token";
  kill(launcher.pid, SIGTERM);
  launcher.wait_status();
}

TEST_F(Lifecycle, ExitStatusComesThrough) {
  EXPECT_EQ(airlock({"run", "--", "/bin/sh", "-c", "exit 7"}, scratch_.options()).status, 7);
  EXPECT_EQ(airlock({"run", "--", "/bin/true"}, scratch_.options()).status, 0);
}

TEST_F(Lifecycle, DeathBySignalComesThroughAs128PlusSignal) {
  EXPECT_EQ(airlock({"run", "--", "/bin/sh", "-c", "kill -TERM $$"}, scratch_.options()).status, 128 + SIGTERM);
  EXPECT_EQ(airlock({"run", "--", "/bin/sh", "-c", "kill -KILL $$"}, scratch_.options()).status, 128 + SIGKILL);
}

TEST_F(Lifecycle, SignalsToTheLauncherReachTheAgent) {
  for (int signo : {SIGTERM, SIGHUP, SIGINT, SIGUSR1}) {
    std::string name = signo == SIGTERM ? "TERM" : signo == SIGHUP ? "HUP" : signo == SIGINT ? "INT" : "USR1";
    Background launcher({"run", "--", "/bin/sh", "-c",
                         "trap 'exit 42' " + name + "; echo ready; while :; do sleep 0.05; done"},
                        scratch_.options());
    ASSERT_TRUE(launcher.wait_for("ready")) << name;
    std::this_thread::sleep_for(100ms);
    kill(launcher.pid, signo);
    EXPECT_EQ(launcher.wait_status(), 42) << "SIG" << name << " did not reach the agent";
  }
}

TEST_F(Lifecycle, InteractiveProgramWorksOnAPseudoTerminal) {
  Terminal terminal({"run", "--", "/bin/bash", "-c",
                     "test -t 0 && echo IS-A-TTY; stty size; trap 'stty size' WINCH;"
                     "trap 'echo caught-ctrl-c' INT;"
                     // bash runs traps between commands, so read in short slices.
                     "while :; do read -r -t 0.2 line || continue; echo \"got:$line\"; [ \"$line\" = quit ] && break;"
                     "done"},
                    scratch_.options(), 30, 100);
  ASSERT_TRUE(terminal.expect("IS-A-TTY")) << terminal.screen();
  ASSERT_TRUE(terminal.expect("30 100")) << terminal.screen();
  terminal.type("hello\n");
  ASSERT_TRUE(terminal.expect("got:hello")) << terminal.screen();
  // ^C reaches the agent, which handles it, and the sandbox lives on.
  terminal.type("\x03");
  ASSERT_TRUE(terminal.expect("caught-ctrl-c")) << terminal.screen();
  terminal.resize(40, 120);
  ASSERT_TRUE(terminal.expect("40 120")) << terminal.screen();
  terminal.type("quit\n");
  ASSERT_TRUE(terminal.expect("got:quit")) << terminal.screen();
  EXPECT_EQ(terminal.wait_status(), 0);
}

}  // namespace
}  // namespace airlock::test
