#include "error.h"

#include <sys/wait.h>

#include <cerrno>
#include <cstring>

#include "translate.h"

namespace airlock {

std::string errno_message(const std::string& what, int saved_errno) {
  // TRANSLATORS: the first %s says what failed ("cannot open FILE"), the
  // second is the system's reason ("Permission denied").
  return format(_("%s: %s"), what.c_str(), std::strerror(saved_errno));
}

std::string errno_message(const std::string& what) { return errno_message(what, errno); }

int exit_status_from_wait(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return kExitAirlockFailed;
}

}  // namespace airlock
