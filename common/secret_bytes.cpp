#include "secret_bytes.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <new>
#include <utility>

namespace airlock {

SecretBytes::SecretBytes(size_t size) {
  long page = sysconf(_SC_PAGESIZE);
  size_t page_size = page > 0 ? static_cast<size_t>(page) : 4096;
  size_t mapped = (size + page_size) / page_size * page_size;  // one spare byte at least
  void* p = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  madvise(p, mapped, MADV_DONTDUMP);
  madvise(p, mapped, MADV_WIPEONFORK);  // a forked child starts with zeros, not the value
  (void)mlock(p, mapped);               // best effort: RLIMIT_MEMLOCK may refuse
  data_ = static_cast<char*>(p);
  size_ = size;
  mapped_ = mapped;
}

SecretBytes SecretBytes::copy_of(std::string_view bytes) {
  SecretBytes s(bytes.size());
  if (!bytes.empty()) memcpy(s.data_, bytes.data(), bytes.size());
  return s;
}

SecretBytes::~SecretBytes() { release(); }

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      mapped_(std::exchange(other.mapped_, 0)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    mapped_ = std::exchange(other.mapped_, 0);
  }
  return *this;
}

void SecretBytes::release() {
  if (data_ == nullptr) return;
  explicit_bzero(data_, mapped_);
  munlock(data_, mapped_);
  munmap(data_, mapped_);
  data_ = nullptr;
  size_ = mapped_ = 0;
}

void SecretBytes::shrink(size_t size) {
  if (size >= size_) return;
  explicit_bzero(data_ + size, size_ - size);
  size_ = size;
}

bool SecretBytes::read_fd(int fd, size_t max, SecretBytes* out, int timeout_ms) {
  SecretBytes value(max + 1);
  size_t used = 0;
  // Milliseconds, monotonic (not GLib's clock: airlock-session-ca links no GLib).
  const auto now_ms = [] {
    struct timespec now {};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
  };
  const int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : 0;
  for (;;) {
    if (timeout_ms >= 0) {
      const int64_t left = deadline - now_ms();
      struct pollfd ready = {fd, POLLIN, 0};
      const int polled = left > 0 ? poll(&ready, 1, static_cast<int>(left)) : 0;
      if (polled < 0 && errno == EINTR) continue;
      if (polled < 0) return false;
      if (polled == 0) {
        errno = ETIMEDOUT;
        return false;
      }
    }
    ssize_t n = read(fd, value.data_ + used, value.size_ - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) break;
    used += static_cast<size_t>(n);
    if (used > max) {
      errno = EFBIG;
      return false;
    }
  }
  value.shrink(used);
  *out = std::move(value);
  return true;
}

int SecretBytes::to_sealed_memfd() const {
  int fd = memfd_create("airlock-secret", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return -1;
  size_t done = 0;
  while (done < size_) {
    ssize_t n = write(fd, data_ + done, size_ - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int saved = n < 0 ? errno : EIO;
      close(fd);
      errno = saved;
      return -1;
    }
    done += static_cast<size_t>(n);
  }
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0 ||
      lseek(fd, 0, SEEK_SET) < 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

}  // namespace airlock
