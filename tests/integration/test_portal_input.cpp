// Nothing an agent sends is trusted (DESIGN.md, invariant 3): each bad
// request gets a clear error and grants nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>

#include "portal_fixture.h"

namespace airlock::test {
namespace {

class PortalInput : public PortalTest {
 protected:
  // raw-request MODE ARGS inside a sandbox (its installation is granted
  // read-only).
  Result raw(const std::string& arguments) {
    std::string helper = env_or_die("AIRLOCK_RAW_REQUEST_BIN");
    return run_agent({"--ro", helper}, helper + " " + arguments);
  }
  void expect_nothing_granted() { EXPECT_TRUE(manager_list("ListGrants", g_variant_new("(s)", "")).empty()); }
};

TEST_F(PortalInput, DotDotIsRefused) {
  hold_prompts();
  Result result = run_agent({}, "airlock-request folder " + project_ + "/../project");
  EXPECT_EQ(result.status, 2) << result.err;
  EXPECT_NE(result.err.find("'..'"), std::string::npos) << result.err;
  EXPECT_EQ(wait_for_prompt(std::chrono::milliseconds(100)), "");
  expect_nothing_granted();
}

TEST_F(PortalInput, SymlinkOutOfTheRequestedTreeIsRefused) {
  ASSERT_EQ(symlink(scratch_.home().c_str(), (project_ + "/home-link").c_str()), 0);
  hold_prompts();
  Result result = run_agent({}, "airlock-request folder " + project_ + "/home-link; ls " + scratch_.home());
  EXPECT_NE(result.err.find("symbolic link"), std::string::npos) << result.err;
  EXPECT_EQ(result.out.find("notes.txt"), std::string::npos);
  EXPECT_EQ(wait_for_prompt(std::chrono::milliseconds(100)), "");
  expect_nothing_granted();
}

// The person approved a folder; before the grant, it was swapped for a
// symlink to the person's keys. What was approved is not what is there, so
// nothing is granted.
TEST_F(PortalInput, SymlinkSwappedInWhileTheRequestWaitsIsRefused) {
  std::string asked = scratch_.path("swap");
  ASSERT_EQ(mkdir(asked.c_str(), 0755), 0);
  hold_prompts();
  auto agent = start_agent({}, "airlock-request folder " + asked + "; echo rc=$?; ls " + asked + "; true");
  std::string id = wait_for_prompt();
  ASSERT_FALSE(id.empty()) << agent->err();
  ASSERT_EQ(rename(asked.c_str(), (asked + ".orig").c_str()), 0);
  ASSERT_EQ(symlink((scratch_.home() + "/.ssh").c_str(), asked.c_str()), 0);
  ASSERT_TRUE(answer(id, true, "once"));
  EXPECT_EQ(agent->wait(), 0);
  EXPECT_NE(agent->out().find("rc=2"), std::string::npos) << agent->out() << agent->err();
  EXPECT_EQ(agent->out().find("id_ed25519"), std::string::npos) << agent->out();
  expect_nothing_granted();
}

TEST_F(PortalInput, MissingPathIsRefused) {
  Result result = run_agent({}, "airlock-request folder " + scratch_.path("nowhere"));
  EXPECT_EQ(result.status, 2);
  EXPECT_NE(result.err.find("does not exist"), std::string::npos) << result.err;
}

TEST_F(PortalInput, InvalidUtf8IsRefused) {
  Result result = raw("invalid-utf8");
  EXPECT_NE(result.out.find("InvalidArgs: the path is not valid UTF-8"), std::string::npos) << result.out << result.err;
  expect_nothing_granted();
}

TEST_F(PortalInput, NulInsideThePathIsRefused) {
  Result result = raw("nul");
  EXPECT_NE(result.out.find("InvalidArgs: the path contains a NUL byte"), std::string::npos) << result.out << result.err;
}

TEST_F(PortalInput, OneMebibytePathIsRefused) {
  Result result = raw("long 1048576");
  EXPECT_NE(result.out.find("InvalidArgs: the path is 1048577 bytes long"), std::string::npos) << result.out << result.err;
  expect_nothing_granted();
}

TEST_F(PortalInput, OptionsOfTheWrongTypeAreRefused) {
  Result wrong = raw("wrong-type");
  EXPECT_NE(wrong.out.find("InvalidArgs: the option 'writable' must be a boolean (b)"), std::string::npos) << wrong.out;
  Result unknown = raw("unknown-option");
  EXPECT_NE(unknown.out.find("InvalidArgs: unknown option 'colour'"), std::string::npos) << unknown.out;
  expect_nothing_granted();
}

// Ten thousand requests at once: throttled and flagged, nothing granted,
// and the portal still answers.
TEST_F(PortalInput, TenThousandRequestsInASecondAreThrottled) {
  hold_prompts();
  Result flood = raw("flood 10000 " + project_);
  unsigned handles = 0, throttled = 0, errors = 0;
  ASSERT_EQ(sscanf(flood.out.c_str(), "handles=%u throttled=%u errors=%u", &handles, &throttled, &errors), 3)
      << flood.out << flood.err;
  EXPECT_GT(throttled, 0u) << flood.out;
  EXPECT_EQ(handles + throttled + errors, 10000u);
  expect_nothing_granted();
  Result log = airlock({"log", "--json"}, options());
  EXPECT_NE(log.out.find("\"outcome\":\"throttled\""), std::string::npos);
  // Another session is served as before.
  write_policy("[Rule project]\nKind=folder\nMatch=" + project_ + ";\nDecision=allow\n");
  Result after = run_agent({"--prompt=none"}, "airlock-request folder " + project_);
  EXPECT_EQ(after.status, 0) << after.err;
}

}  // namespace
}  // namespace airlock::test
