// SecretBytes: a secret's value in memory (DESIGN.md, invariant 5). The bytes
// live in their own pages, kept out of core dumps (MADV_DONTDUMP) and out of
// swap where the limit allows (mlock), and are wiped before the pages go back.
// Move-only; never converted to std::string, which would copy the value into
// memory nobody wipes.
#pragma once

#include <cstddef>
#include <string_view>

namespace airlock {

class SecretBytes {
 public:
  SecretBytes() = default;
  // Room for SIZE bytes, zeroed; size() is SIZE. Throws std::bad_alloc.
  explicit SecretBytes(size_t size);
  static SecretBytes copy_of(std::string_view bytes);
  ~SecretBytes();
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;

  char* data() { return data_; }
  const char* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::string_view view() const { return {data_, size_}; }
  // Shortens to SIZE (<= size()); the bytes cut off are wiped.
  void shrink(size_t size);

  // Reads all of FD (a memfd, a pipe, a file) from its current offset, at
  // most MAX bytes; false with errno set (EFBIG when longer than MAX).
  // TIMEOUT_MS >= 0: the end must come within that many milliseconds
  // (ETIMEDOUT), for a pipe whose writer might never close it.
  static bool read_fd(int fd, size_t max, SecretBytes* out, int timeout_ms = -1);
  // A sealed memfd (no write, grow, shrink or new seals) holding the bytes,
  // its offset at 0: the one way a value leaves a process (DESIGN.md,
  // "Secrets"). -1 with errno set.
  int to_sealed_memfd() const;

 private:
  void release();
  char* data_ = nullptr;
  size_t size_ = 0;
  size_t mapped_ = 0;
};

// The largest value Airlock handles: tokens and keys, not files.
inline constexpr size_t kMaxSecretBytes = 64 * 1024;

}  // namespace airlock
