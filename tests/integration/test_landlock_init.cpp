// airlock-init run for real, outside bwrap, on a scratch tree: Landlock alone
// confines writes, the agent's exit status passes through, exec failures
// have their own statuses, signals reach the agent, nothing leaks to it.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

void write_file(const fs::path& path, const std::string& content) { std::ofstream(path) << content; }

// Single quotes for sh.
std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

bool wait_for_file(const fs::path& path) {
  for (int i = 0; i < 200; ++i) {
    if (fs::exists(path)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

struct InitOptions {
  bool ignore_sigint = false;  // as the supervisor leaves it for init
  bool leak_fds = false;       // open fds 5 and 42 without close-on-exec
};

struct InitResult {
  int status = -1;  // exit code, or 128 + signal
  std::string out;
  std::string err;
};

class LandlockInitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* bin = std::getenv("AIRLOCK_INIT_BIN");
    ASSERT_NE(bin, nullptr) << "AIRLOCK_INIT_BIN is not set";
    init_bin_ = bin;
    std::string templ = (fs::temp_directory_path() / "airlock-init-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr) << std::strerror(errno);
    scratch_ = templ;
    fs::create_directories(scratch_ / "rw");
    fs::create_directories(scratch_ / "ro");
    fs::create_directories(scratch_ / "outside");
    write_file(scratch_ / "ro" / "file", "ro\n");
  }
  void TearDown() override {
    std::error_code ignored;
    if (!scratch_.empty()) fs::remove_all(scratch_, ignored);
  }

  fs::path path(const std::string& relative) const { return scratch_ / relative; }

  // The runtime read-only, SCRATCH/ro read-only, SCRATCH/rw writable, /dev.
  std::vector<std::string> init_args(const std::vector<std::string>& extra_options = {}) const {
    std::vector<std::string> args = {init_bin_};
    for (const char* ro : {"/usr", "/bin", "/lib", "/lib64", "/etc", "/proc"}) {
      args.insert(args.end(), {"--ro", ro});
    }
    args.insert(args.end(), {"--ro", path("ro").string(), "--rw", path("rw").string(), "--dev", "/dev"});
    args.insert(args.end(), extra_options.begin(), extra_options.end());
    return args;
  }

  std::vector<std::string> sh(const std::string& script, const std::vector<std::string>& extra_options = {}) const {
    std::vector<std::string> args = init_args(extra_options);
    args.insert(args.end(), {"--", "/bin/sh", "-c", script});
    return args;
  }

  // Starts init with stdout and stderr in files of the scratch root (opened
  // before Landlock, so they stay writable).
  pid_t start(const std::vector<std::string>& args, const InitOptions& options = {}) const {
    const int out = open(path("stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int err = open(path("stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    std::vector<char*> argv;
    for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    char path_env[] = "PATH=/usr/bin:/bin";
    char* envp[] = {path_env, nullptr};
    const pid_t pid = fork();
    if (pid == 0) {
      dup2(out, STDOUT_FILENO);
      dup2(err, STDERR_FILENO);
      const int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
      dup2(null, STDIN_FILENO);
      if (options.leak_fds) {
        dup2(null, 5);
        dup2(null, 42);
      }
      if (options.ignore_sigint) signal(SIGINT, SIG_IGN);
      setpgid(0, 0);  // one group to kill if init hangs
      execve(argv[0], argv.data(), envp);
      _exit(99);
    }
    close(out);
    close(err);
    return pid;
  }

  // Waits for init; after 20 s kills its process group (init and the agent)
  // and reports status -1, so a broken init fails the test instead of hanging.
  InitResult finish(pid_t pid) const {
    InitResult result;
    int status = 0;
    pid_t done = 0;
    for (int i = 0; i < 400 && (done = waitpid(pid, &status, WNOHANG)) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (done == pid) {
      result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    } else {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
    }
    result.out = read_file(path("stdout"));
    result.err = read_file(path("stderr"));
    return result;
  }

  InitResult run(const std::vector<std::string>& args, const InitOptions& options = {}) const {
    return finish(start(args, options));
  }

  std::string init_bin_;
  fs::path scratch_;
};

TEST_F(LandlockInitTest, LandlockAloneStopsAWriteOutsideTheAllowedArea) {
  const InitResult outside = run(sh("echo x > " + quote(path("outside/f").string())));
  EXPECT_NE(outside.status, 0);
  EXPECT_FALSE(fs::exists(path("outside/f")));

  const InitResult inside =
      run(sh("echo x > " + quote(path("rw/f").string()) + " && cat " + quote(path("ro/file").string())));
  EXPECT_EQ(inside.status, 0) << inside.err;
  EXPECT_EQ(read_file(path("rw/f")), "x\n");
  EXPECT_EQ(inside.out, "ro\n");

  const InitResult read_only = run(sh("echo y > " + quote(path("ro/file").string())));
  EXPECT_NE(read_only.status, 0);
  EXPECT_EQ(read_file(path("ro/file")), "ro\n");
}

TEST_F(LandlockInitTest, VerboseSaysWhichAbiWasApplied) {
  const InitResult result = run(sh("true", {"--verbose"}));
  EXPECT_EQ(result.status, 0);
  EXPECT_TRUE(result.err.starts_with("airlock: Landlock ABI ") ||
              result.err == "airlock: Landlock is not available in this kernel; the sandbox runs without it\n")
      << result.err;
}

TEST_F(LandlockInitTest, ExitStatusPassesThrough) {
  EXPECT_EQ(run(sh("exit 7")).status, 7);
  EXPECT_EQ(run(sh("exit 0")).status, 0);
  EXPECT_EQ(run(sh("kill -TERM $$")).status, 128 + SIGTERM);
}

TEST_F(LandlockInitTest, CommandNotFoundIs127) {
  std::vector<std::string> args = init_args();
  args.insert(args.end(), {"--", "airlock-no-such-command"});
  const InitResult result = run(args);
  EXPECT_EQ(result.status, 127);
  EXPECT_EQ(result.err, "airlock: airlock-no-such-command: command not found in the sandbox\n");
}

TEST_F(LandlockInitTest, CommandNotExecutableIs126) {
  write_file(path("rw/script"), "#!/bin/sh\necho hi\n");
  std::vector<std::string> args = init_args();
  args.insert(args.end(), {"--", path("rw/script").string()});
  const InitResult result = run(args);
  EXPECT_EQ(result.status, 126);
  EXPECT_EQ(result.err, "airlock: cannot run " + path("rw/script").string() + ": Permission denied\n");
}

TEST_F(LandlockInitTest, BadArgumentsAre125) {
  const InitResult bogus = run({init_bin_, "--bogus", "--", "/bin/true"});
  EXPECT_EQ(bogus.status, 125);
  EXPECT_TRUE(bogus.err.starts_with("airlock: ")) << bogus.err;
  const InitResult no_command = run(init_args());
  EXPECT_EQ(no_command.status, 125);
  EXPECT_TRUE(no_command.err.starts_with("airlock: ")) << no_command.err;
}

TEST_F(LandlockInitTest, ArgumentsAfterTheCommandAreTheCommands) {
  std::vector<std::string> args = init_args();
  args.insert(args.end(), {"--", "/bin/sh", "-c", "echo \"$@\"", "sh", "--ro", "--", "x"});
  const InitResult result = run(args);
  EXPECT_EQ(result.status, 0);
  EXPECT_EQ(result.out, "--ro -- x\n");
}

TEST_F(LandlockInitTest, SigtermIsForwardedToTheAgent) {
  const std::string ready = path("rw/ready").string();
  const std::string marker = path("rw/got-term").string();
  const pid_t init = start(sh("trap 'echo term > " + quote(marker) + "; exit 42' TERM; : > " + quote(ready) +
                              "; while :; do sleep 0.05; done"));
  EXPECT_TRUE(wait_for_file(ready));
  kill(init, SIGTERM);
  const InitResult result = finish(init);
  EXPECT_EQ(result.status, 42) << result.err;
  EXPECT_EQ(read_file(marker), "term\n");
}

// Without a terminal init forwards SIGINT; with --tty the terminal delivers
// it to the agent itself, so init ignores it rather than doubling it.
TEST_F(LandlockInitTest, SigintIsForwardedOnlyWithoutTty) {
  for (bool tty : {false, true}) {
    SCOPED_TRACE(tty ? "--tty" : "no --tty");
    const std::string ready = path("rw/ready").string();
    const std::string marker = path("rw/got-int").string();
    fs::remove(ready);
    fs::remove(marker);
    const std::vector<std::string> options = tty ? std::vector<std::string>{"--tty"} : std::vector<std::string>{};
    const pid_t init = start(sh("trap 'echo int > " + quote(marker) + "' INT; trap 'exit 42' TERM; : > " +
                                    quote(ready) + "; while :; do sleep 0.05; done",
                                options));
    EXPECT_TRUE(wait_for_file(ready));
    kill(init, SIGINT);
    if (!tty) EXPECT_TRUE(wait_for_file(marker));
    else std::this_thread::sleep_for(std::chrono::milliseconds(300));
    kill(init, SIGTERM);
    const InitResult result = finish(init);
    EXPECT_EQ(result.status, 42) << result.err;
    EXPECT_EQ(fs::exists(marker), !tty);
  }
}

TEST_F(LandlockInitTest, InheritedFdsAreClosed) {
  InitOptions options;
  options.leak_fds = true;
  const InitResult result = run(sh("ls -1 /proc/$$/fd"), options);
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, "0\n1\n2\n");
}

TEST_F(LandlockInitTest, AgentGetsDefaultSignalsEvenWhenInitInheritedIgnored) {
  InitOptions options;
  options.ignore_sigint = true;
  for (const char* tty : {"--verbose", "--tty"}) {
    SCOPED_TRACE(tty);
    // Read by sh itself: a forked grep would catch sh blocking signals around vfork.
    const InitResult masks = run(
        sh("while read -r line; do case $line in SigBlk*|SigIgn*) echo \"$line\";; esac; done < /proc/$$/status",
           {tty}),
        options);
    EXPECT_EQ(masks.out, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
    const InitResult killed = run(sh("kill -INT $$; echo survived", {tty}), options);
    EXPECT_EQ(killed.status, 128 + SIGINT);
    EXPECT_EQ(killed.out, "");
  }
}

}  // namespace
