// Running the real airlock as a person would, for the integration tests:
// a child process with its own environment, output captured, a time limit.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace airlock::test {

struct Result {
  int status = -1;  // exit status, or 128 + signal
  std::string out;
  std::string err;
  bool timed_out = false;
};

struct Options {
  std::map<std::string, std::string> env;  // added to (or replacing) the test's environment
  std::vector<std::string> unset_env;
  std::string input;                       // written to stdin, then closed
  std::string cwd;
  std::chrono::milliseconds timeout{60000};
};

// Runs ARGV (argv[0] a path) and waits for it.
Result run(const std::vector<std::string>& argv, const Options& options = {});

// Runs `airlock ARGS...` (the binary under test).
Result airlock(const std::vector<std::string>& args, const Options& options = {});

std::string airlock_binary();
std::string env_or_die(const char* name);

// A scratch tree under $TMPDIR with a fake $HOME that holds the kind of
// thing an agent must never see: ~/.ssh/id_ed25519, ~/.aws/credentials.
class Scratch {
 public:
  Scratch();
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  const std::string& dir() const { return dir_; }
  const std::string& home() const { return home_; }
  std::string path(const std::string& relative) const { return dir_ + "/" + relative; }
  // HOME set to the fake home; XDG_RUNTIME_DIR to a scratch one.
  Options options() const;

  static void write_file(const std::string& path, const std::string& content);
  static std::string read_file(const std::string& path);
  static bool exists(const std::string& path);

 private:
  std::string dir_;
  std::string home_;
};

// Integration tests run the launcher as the unprivileged person who would.
bool running_as_root();

}  // namespace airlock::test

#define SKIP_IF_ROOT()                                                                            \
  do {                                                                                            \
    if (airlock::test::running_as_root())                                                        \
      GTEST_FAIL() << "integration tests run the launcher as an unprivileged user, as people do; " \
                      "run them through './setup.sh test', which creates one when needed";       \
  } while (0)
