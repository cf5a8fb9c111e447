#include "error.h"

#include <cerrno>
#include <cstring>

namespace airlock {

std::string errno_message(const std::string& what, int saved_errno) {
  return what + ": " + std::strerror(saved_errno);
}

std::string errno_message(const std::string& what) { return errno_message(what, errno); }

}  // namespace airlock
