// The supervisor's grant mounts, in a child with its own user and mount
// namespace and a tmpfs root, as the supervisor has them: a grant appears
// at its path with the access asked for; a swapped object or a planted
// symlink is refused; a revoke takes it away.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "grant_mount.h"
#include "unique_fd.h"

namespace airlock {
namespace {

class GrantMount : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/airlock-grant-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    data_ = dir_ + "/host/data";
    other_ = dir_ + "/host/other";
    root_ = dir_ + "/root";
    ASSERT_EQ(system(("mkdir -p '" + data_ + "' '" + other_ + "' '" + root_ + "'").c_str()), 0);
    std::ofstream(data_ + "/file") << "granted\n";
  }
  void TearDown() override { ASSERT_EQ(system(("rm -rf '" + dir_ + "'").c_str()), 0); }

  // Runs BODY in a child that has entered a user and mount namespace with
  // a tmpfs on root_, as the supervisor does; returns what BODY returns.
  std::string in_supervisor(const std::function<std::string(int root_fd)>& body) {
    int out[2];
    EXPECT_EQ(pipe(out), 0);
    uid_t uid = getuid();
    gid_t gid = getgid();
    pid_t child = fork();
    if (child == 0) {
      close(out[0]);
      auto write_file = [](const char* path, const std::string& text) {
        int fd = open(path, O_WRONLY);
        if (fd < 0 || write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) _exit(3);
        close(fd);
      };
      if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) _exit(2);
      write_file("/proc/self/setgroups", "deny");
      write_file("/proc/self/uid_map", std::to_string(uid) + " " + std::to_string(uid) + " 1");
      write_file("/proc/self/gid_map", std::to_string(gid) + " " + std::to_string(gid) + " 1");
      if (mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0 ||
          mount("tmpfs", root_.c_str(), "tmpfs", 0, nullptr) != 0)
        _exit(4);
      UniqueFd root(open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
      std::string result = body(root.get());
      if (write(out[1], result.data(), result.size()) < 0) _exit(5);
      _exit(0);
    }
    close(out[1]);
    std::string result;
    char buffer[1024];
    ssize_t n;
    while ((n = read(out[0], buffer, sizeof buffer)) > 0) result.append(buffer, static_cast<size_t>(n));
    close(out[0]);
    int status = 0;
    waitpid(child, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
    return result;
  }

  static std::string outcome(int error) { return error == 0 ? "ok" : strerrorname_np(error); }

  std::string dir_, data_, other_, root_;
};

TEST_F(GrantMount, AppearsAtItsHostPathReadOnlyWhenAsked) {
  std::string result = in_supervisor([&](int root_fd) {
    UniqueFd sender(open(data_.c_str(), O_PATH | O_CLOEXEC));
    std::string message;
    std::ostringstream out;
    out << outcome(mount_grant(root_fd, data_, sender.get(), true, &message)) << " ";
    std::ifstream in(root_ + data_ + "/file");
    std::string line;
    std::getline(in, line);
    out << line << " ";
    int fd = open((root_ + data_ + "/new").c_str(), O_WRONLY | O_CREAT, 0600);
    out << (fd < 0 ? strerrorname_np(errno) : "WROTE");
    return out.str();
  });
  EXPECT_EQ(result, "ok granted EROFS");
}

TEST_F(GrantMount, ReadWriteIsWritable) {
  std::string result = in_supervisor([&](int root_fd) {
    UniqueFd sender(open(data_.c_str(), O_PATH | O_CLOEXEC));
    std::string message;
    int error = mount_grant(root_fd, data_, sender.get(), false, &message);
    int fd = open((root_ + data_ + "/new").c_str(), O_WRONLY | O_CREAT, 0600);
    return outcome(error) + " " + (fd < 0 ? strerrorname_np(errno) : "wrote");
  });
  EXPECT_EQ(result, "ok wrote");
}

TEST_F(GrantMount, AnObjectSwappedSinceTheCheckIsRefused) {
  // The sender checked OTHER; by the time the supervisor looks, the path
  // names DATA. Nothing is mounted.
  std::string result = in_supervisor([&](int root_fd) {
    UniqueFd sender(open(other_.c_str(), O_PATH | O_CLOEXEC));
    std::string message;
    int error = mount_grant(root_fd, data_, sender.get(), true, &message);
    struct stat st {};
    bool visible = stat((root_ + data_ + "/file").c_str(), &st) == 0;
    return outcome(error) + (visible ? " MOUNTED" : " nothing") + " " + message;
  });
  EXPECT_EQ(result.rfind("ESTALE nothing", 0), 0u) << result;
  EXPECT_NE(result.find("changed on the host"), std::string::npos) << result;
}

TEST_F(GrantMount, ASymlinkPlantedInTheRootIsNotFollowed) {
  // The agent can write to parts of the root; a link where a mount point
  // will be made must not lead the mount elsewhere.
  std::string result = in_supervisor([&](int root_fd) {
    std::string parent = root_ + dir_ + "/host";
    if (system(("mkdir -p '" + root_ + dir_ + "'").c_str()) != 0) return std::string("setup");
    if (symlink((root_ + "/elsewhere").c_str(), parent.c_str()) != 0) return std::string("symlink");
    UniqueFd sender(open(data_.c_str(), O_PATH | O_CLOEXEC));
    std::string message;
    int error = mount_grant(root_fd, data_, sender.get(), true, &message);
    struct stat st {};
    bool elsewhere = stat((root_ + "/elsewhere").c_str(), &st) == 0;
    return outcome(error) + (elsewhere ? " FOLLOWED" : " not-followed");
  });
  EXPECT_NE(result.rfind("ok", 0), 0u) << result;
  EXPECT_NE(result.find("not-followed"), std::string::npos) << result;
}

TEST_F(GrantMount, RevokeTakesItAway) {
  std::string result = in_supervisor([&](int root_fd) {
    UniqueFd sender(open(data_.c_str(), O_PATH | O_CLOEXEC));
    std::string message;
    int granted = mount_grant(root_fd, data_, sender.get(), true, &message);
    int revoked = unmount_grant(root_fd, data_, &message);
    struct stat st {};
    bool visible = stat((root_ + data_ + "/file").c_str(), &st) == 0;
    int again = unmount_grant(root_fd, data_, &message);
    return outcome(granted) + " " + outcome(revoked) + (visible ? " STILL-THERE" : " gone") + " " + outcome(again);
  });
  EXPECT_EQ(result, "ok ok gone EINVAL");
}

TEST_F(GrantMount, OnlyAbsolutePathsBelowTheRoot) {
  std::string result = in_supervisor([&](int root_fd) {
    UniqueFd sender(open(data_.c_str(), O_PATH | O_CLOEXEC));
    std::string message;
    return outcome(mount_grant(root_fd, "relative/path", sender.get(), true, &message)) + " " +
           outcome(mount_grant(root_fd, "/", sender.get(), true, &message)) + " " +
           outcome(unmount_grant(root_fd, "/", &message));
  });
  EXPECT_EQ(result, "EINVAL EINVAL EINVAL");
}

}  // namespace
}  // namespace airlock
