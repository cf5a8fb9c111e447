// Error: a failure that reaches the person running airlock, with the exit
// status it ends in. Messages say what failed, on what, and what to do.
#pragma once

#include <stdexcept>
#include <string>

namespace airlock {

// Exit statuses of `airlock run`, as env(1), podman run and docker run use them.
enum ExitStatus : int {
  kExitAirlockFailed = 125,
  kExitCannotRun = 126,
  kExitNotFound = 127,
};

// A waitpid() status as a shell reports it: the exit code, or 128 + N for
// death by signal N (125 for anything else).
int exit_status_from_wait(int status);

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, int exit_status = kExitAirlockFailed)
      : std::runtime_error(message), exit_status_(exit_status) {}
  int exit_status() const { return exit_status_; }

 private:
  int exit_status_;
};

// "what: strerror(errno)"; errno is read at the call.
std::string errno_message(const std::string& what);
std::string errno_message(const std::string& what, int saved_errno);

}  // namespace airlock
