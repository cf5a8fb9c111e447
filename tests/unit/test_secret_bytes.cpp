// SecretBytes: the value's only container; it leaves a process as a sealed
// memfd and nothing else.
#include "secret_bytes.h"

#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <string>

namespace airlock {
namespace {

TEST(SecretBytes, SealedMemfdHoldsTheValueAndRefusesChanges) {
  SecretBytes value = SecretBytes::copy_of("s3cret-token");
  int fd = value.to_sealed_memfd();
  ASSERT_GE(fd, 0);
  int seals = fcntl(fd, F_GET_SEALS);
  EXPECT_EQ(seals & (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL),
            F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
  EXPECT_LT(write(fd, "x", 1), 0);
  EXPECT_EQ(errno, EPERM);
  EXPECT_LT(ftruncate(fd, 0), 0);
  SecretBytes back;
  ASSERT_TRUE(SecretBytes::read_fd(fd, kMaxSecretBytes, &back));
  EXPECT_EQ(back.view(), "s3cret-token");
  close(fd);
}

TEST(SecretBytes, ReadFdRefusesMoreThanTheLimit) {
  SecretBytes big = SecretBytes::copy_of(std::string(100, 'a'));
  int fd = big.to_sealed_memfd();
  ASSERT_GE(fd, 0);
  SecretBytes out;
  EXPECT_FALSE(SecretBytes::read_fd(fd, 99, &out));
  EXPECT_EQ(errno, EFBIG);
  EXPECT_TRUE(out.empty());
  close(fd);
}

// With a deadline, a pipe whose writer never closes it does not hold the
// reader forever; one that closes in time is read whole.
TEST(SecretBytes, ReadFdWithATimeoutStopsWaiting) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  ASSERT_EQ(write(fds[1], "part", 4), 4);
  SecretBytes out;
  struct timespec start {}, end {};
  clock_gettime(CLOCK_MONOTONIC, &start);
  EXPECT_FALSE(SecretBytes::read_fd(fds[0], 64, &out, 200));
  EXPECT_EQ(errno, ETIMEDOUT);
  clock_gettime(CLOCK_MONOTONIC, &end);
  const double waited =
      static_cast<double>(end.tv_sec - start.tv_sec) + static_cast<double>(end.tv_nsec - start.tv_nsec) / 1e9;
  EXPECT_GE(waited, 0.19);
  EXPECT_LT(waited, 5.0);
  EXPECT_TRUE(out.empty());
  close(fds[1]);
  EXPECT_TRUE(SecretBytes::read_fd(fds[0], 64, &out, 200));
  EXPECT_EQ(out.view(), "");  // "part" went with the failed read
  close(fds[0]);

  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  ASSERT_EQ(write(fds[1], "whole", 5), 5);
  close(fds[1]);
  EXPECT_TRUE(SecretBytes::read_fd(fds[0], 64, &out, 200));
  EXPECT_EQ(out.view(), "whole");
  close(fds[0]);
}

TEST(SecretBytes, ShrinkWipesTheTailAndMoveEmptiesTheSource) {
  SecretBytes value = SecretBytes::copy_of("abcdef");
  value.shrink(3);
  EXPECT_EQ(value.view(), "abc");
  EXPECT_EQ(value.data()[3], '\0');
  SecretBytes moved = std::move(value);
  EXPECT_EQ(moved.view(), "abc");
  EXPECT_TRUE(value.empty());  // NOLINT(bugprone-use-after-move): the point of the test
}

TEST(SecretBytes, AForkedChildSeesZeros) {
  SecretBytes value = SecretBytes::copy_of("fork-me-not");
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    char c = value.data()[0];
    _exit(write(pipefd[1], &c, 1) == 1 ? 0 : 1);
  }
  char c = 'x';
  ASSERT_EQ(read(pipefd[0], &c, 1), 1);
  EXPECT_EQ(c, '\0');
  close(pipefd[0]);
  close(pipefd[1]);
  int status = 0;
  waitpid(pid, &status, 0);
}

}  // namespace
}  // namespace airlock
