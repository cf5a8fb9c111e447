// Invariant 1 of DESIGN.md: nothing of the host is visible in a new sandbox
// but the runtime paths.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "sandbox_runner.h"

namespace airlock::test {
namespace {

class Isolation : public ::testing::Test {
 protected:
  void SetUp() override { SKIP_IF_ROOT(); }
  Result sh(const std::string& script, Options options) {
    return airlock({"run", "--", "/bin/sh", "-c", script}, options);
  }
  Scratch scratch_;
};

TEST_F(Isolation, HostHomeAndPlantedSshKeyAreInvisible) {
  Options options = scratch_.options();
  Result result = sh("ls -A \"$HOME\"; test -e \"$HOME/.ssh/id_ed25519\" && echo SSH-VISIBLE;"
                     "test -e \"$HOME/notes.txt\" && echo NOTES-VISIBLE; echo HOME=$HOME",
                     options);
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out.find("SSH-VISIBLE"), std::string::npos);
  EXPECT_EQ(result.out.find("NOTES-VISIBLE"), std::string::npos);
  EXPECT_NE(result.out.find("HOME=" + scratch_.home()), std::string::npos) << "the agent keeps its $HOME path";
}

TEST_F(Isolation, RealHomeDirectoryIsInvisible) {
  struct passwd* pw = getpwuid(getuid());
  ASSERT_NE(pw, nullptr);
  std::string real_home = pw->pw_dir;
  Options options = scratch_.options();
  Result result = sh("ls -A '" + real_home + "' 2>/dev/null | wc -l", options);
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, "0\n") << "the real home " << real_home << " shows entries inside";
}

TEST_F(Isolation, RuntimeDirAndSessionBusAreInvisible) {
  Options options = scratch_.options();
  std::string runtime = options.env["XDG_RUNTIME_DIR"];
  std::string bus = runtime + "/bus";
  // A real session bus on the host, as a desktop has.
  Result daemon = run({"/usr/bin/dbus-daemon", "--session", "--address=unix:path=" + bus, "--fork", "--print-pid"});
  ASSERT_EQ(daemon.status, 0) << daemon.err;
  pid_t daemon_pid = std::stoi(daemon.out);
  options.env["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=" + bus;
  Result result = sh("test -e '" + runtime + "' && echo RUNTIME-VISIBLE; test -S '" + bus +
                         "' && echo BUS-VISIBLE; echo ADDR=${DBUS_SESSION_BUS_ADDRESS:-unset};"
                         "test -e /run/user && echo RUN-USER-VISIBLE; true",
                     options);
  kill(daemon_pid, SIGTERM);
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out.find("RUNTIME-VISIBLE"), std::string::npos);
  EXPECT_EQ(result.out.find("BUS-VISIBLE"), std::string::npos);
  EXPECT_NE(result.out.find("ADDR=unset"), std::string::npos);
  EXPECT_EQ(result.out.find("RUN-USER-VISIBLE"), std::string::npos);
}

TEST_F(Isolation, HostEnvironmentDoesNotReachTheAgent) {
  Options options = scratch_.options();
  options.env["AIRLOCK_TEST_HOST_SECRET"] = "host-only-value-4711";
  options.env["SSH_AUTH_SOCK"] = "/tmp/ssh-agent.sock";
  options.env["DISPLAY"] = ":0";
  options.env["WAYLAND_DISPLAY"] = "wayland-0";
  Result result = sh("env", options);
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out.find("host-only-value-4711"), std::string::npos);
  EXPECT_EQ(result.out.find("SSH_AUTH_SOCK"), std::string::npos);
  EXPECT_EQ(result.out.find("DISPLAY"), std::string::npos);
}

TEST_F(Isolation, EnvOptionPassesOnlyWhatIsNamed) {
  Options options = scratch_.options();
  options.env["AIRLOCK_TEST_PASSED"] = "passed-value";
  Result result = airlock({"run", "--env", "AIRLOCK_TEST_PASSED", "--env", "SET_HERE=set-value", "--", "/usr/bin/env"},
                          options);
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.out.find("AIRLOCK_TEST_PASSED=passed-value"), std::string::npos);
  EXPECT_NE(result.out.find("SET_HERE=set-value"), std::string::npos);
}

TEST_F(Isolation, OtherProcessesAreInvisible) {
  Options options = scratch_.options();
  Result result = sh("ls /proc | grep -c '^[0-9]'", options);
  ASSERT_EQ(result.status, 0) << result.err;
  // airlock-init, sh, ls and grep at most.
  EXPECT_LE(std::stoi(result.out), 4) << result.out;
}

TEST_F(Isolation, NoDescriptorBeyondStdioReachesTheAgent) {
  // The supervisor's control socket in particular: with it the agent could
  // ask for grants.
  Options options = scratch_.options();
  // A child inherits exactly what the agent holds; listing its descriptors
  // opens none in it. Wait until it is sleep: before its exec the shell
  // briefly holds /dev/null on a spare descriptor for the child's stdin.
  Result result = sh("sleep 5 & until [ \"$(cat /proc/$!/comm)\" = sleep ]; do :; done;"
                     "ls /proc/$!/fd | tr '\\n' ' '; kill $!",
                     options);
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, "0 1 2 ");
}

TEST_F(Isolation, SharedMemoryAndDevicesWork) {
  Options options = scratch_.options();
  Result result = sh("echo x > /dev/shm/segment && cat /dev/shm/segment && echo discard > /dev/null && echo OK", options);
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, "x\nOK\n");
}

TEST_F(Isolation, NoCapabilitiesInside) {
  Options options = scratch_.options();
  Result result = sh("grep -E '^Cap(Eff|Prm|Bnd)' /proc/self/status", options);
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.out.find("CapEff:\t0000000000000000"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("CapBnd:\t0000000000000000"), std::string::npos) << result.out;
}

// A server on the host's loopback, counting connections.
class LoopbackServer {
 public:
  LoopbackServer() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in addr {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(fd_, 16);
    thread_ = std::thread([this] {
      for (;;) {
        int client = accept(fd_, nullptr, nullptr);
        if (client < 0) return;
        ++accepted_;
        close(client);
      }
    });
  }
  ~LoopbackServer() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  int accepted() const { return accepted_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

TEST_F(Isolation, HostLoopbackIsUnreachable) {
  LoopbackServer server;
  Options options = scratch_.options();
  std::string connect = "exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(server.port()) + " && echo CONNECTED";
  Result result = airlock({"run", "--", "/bin/bash", "-c", connect}, options);
  EXPECT_NE(result.status, 0);
  EXPECT_EQ(result.out.find("CONNECTED"), std::string::npos);
  EXPECT_EQ(server.accepted(), 0);

  // The same connection with the host's network proves the test can tell.
  Result shared = airlock({"run", "--share-net", "--", "/bin/bash", "-c", connect}, options);
  EXPECT_EQ(shared.status, 0) << shared.err;
  EXPECT_NE(shared.err.find("warning: --share-net"), std::string::npos);
}

}  // namespace
}  // namespace airlock::test
