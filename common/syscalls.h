// Thin wrappers for the system calls glibc 2.36 (Debian 12) does not wrap,
// and the constants its kernel headers predate.
#pragma once

#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace airlock {

inline int sys_openat2(int dirfd, const char* path, int flags, unsigned long long resolve,
                       unsigned long long mode = 0) {
  struct open_how how = {};
  how.flags = static_cast<unsigned long long>(flags);
  how.mode = mode;
  how.resolve = resolve;
  return static_cast<int>(syscall(SYS_openat2, dirfd, path, &how, sizeof how));
}

}  // namespace airlock
