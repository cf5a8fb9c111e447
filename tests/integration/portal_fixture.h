// The portal's integration tests: a private session bus (GTestDBus) on
// which the built airlock-portal is D-Bus activated, with its store, audit
// log and policy in a scratch folder; the real launcher, prompter and
// airlock-request around it.
#pragma once

#include <gio/gio.h>
#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sandbox_runner.h"

namespace airlock::test {

// A child process running in the background, its output collected.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const Options& options);
  ~Child();  // kills it if it still runs
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Waits until TEXT appears in its stdout; false after TIMEOUT.
  bool wait_for_output(const std::string& text, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Waits for it to end: its exit status, or -1 after TIMEOUT.
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  void kill(int signo);
  pid_t pid() const { return pid_; }
  const std::string& out();
  const std::string& err();

 private:
  void drain(int timeout_ms);
  pid_t pid_ = -1;
  int out_fd_ = -1, err_fd_ = -1;
  std::string out_, err_;
  int status_ = -1;
};

using Row = std::map<std::string, std::string>;

class PortalTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // The scratch's options: HOME, XDG_* and the private bus.
  Options options() const;
  // `airlock run ARGS -- /bin/sh -c SCRIPT` in the background.
  std::unique_ptr<Child> start_agent(const std::vector<std::string>& run_args, const std::string& script,
                                     const std::string& shell = "/bin/sh");
  // `airlock run ARGS -- /bin/sh -c SCRIPT`, waited for.
  Result run_agent(const std::vector<std::string>& run_args, const std::string& script,
                   const std::string& shell = "/bin/sh");
  // `airlock prompt ARGS`, once it said it is ready.
  std::unique_ptr<Child> prompter(const std::vector<std::string>& args);
  // Where the portal's standard error goes.
  std::string portal_log() const { return scratch_.path("portal.log"); }
  // Writes the person's own policy file.
  void write_policy(const std::string& text);
  // Waits until PATH exists.
  static bool wait_for_file(const std::string& path, std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // Manager calls over a connection of the test's own.
  std::vector<Row> manager_list(const char* method, GVariant* args = nullptr);
  GVariant* manager_call(const char* method, GVariant* args, GError** error);
  pid_t portal_pid();
  // The test's own connection to the private bus.
  GDBusConnection* connection() const { return connection_; }

  // Makes this test a prompter that never answers by itself: requests
  // wait until the test answers them through Manager.Answer.
  void hold_prompts();
  // The id of the next request that reached the held prompter; "" after TIMEOUT.
  std::string wait_for_prompt(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // RESULTS: a floating a{sv} of the prompter's other results, or nullptr.
  bool answer(const std::string& id, bool allow, const std::string& scope, GVariant* results = nullptr);

  Scratch scratch_;
  std::string exchange_;  // granted read-write to every agent, for its reports
  std::string project_;   // what the agents ask for: a folder with a file
 private:
  GTestDBus* bus_ = nullptr;
  GDBusConnection* connection_ = nullptr;
  std::map<std::string, std::string> saved_env_;
  guint prompter_registration_ = 0;
  std::vector<std::string> prompts_;
  std::vector<GDBusMethodInvocation*> held_;
};

}  // namespace airlock::test
