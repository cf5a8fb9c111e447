// A session can neither see nor revoke another session's grants, nor
// answer its own prompts: the sandbox has no route to the session bus, and
// its private socket serves only its own session (DESIGN.md, invariant 2).
#include <gtest/gtest.h>

#include "portal_fixture.h"

namespace airlock::test {
namespace {

using PortalIsolation = PortalTest;

TEST_F(PortalIsolation, ASessionSeesOnlyItsOwnGrants) {
  write_policy("[Rule project]\nKind=folder\nMatch=" + project_ + ";\nDecision=allow\n");
  const std::string e = exchange_;
  auto first = start_agent({}, "airlock-request folder " + project_ + " && echo > " + e + "/granted;"
                               "while [ ! -e " + e + "/go ]; do sleep 0.05; done");
  ASSERT_TRUE(wait_for_file(e + "/granted")) << first->err();
  Result second = run_agent({}, "airlock-request grants; ls " + project_);
  EXPECT_NE(second.out.find("holds no grants"), std::string::npos) << second.out;
  EXPECT_NE(second.err.find("No such file"), std::string::npos) << second.err;
  Scratch::write_file(e + "/go", "");
  EXPECT_EQ(first->wait(), 0);
}

// The person's side: airlock ps and airlock grants show the running
// session and what it holds.
TEST_F(PortalIsolation, PsAndGrantsShowTheSessionAndItsGrants) {
  write_policy("[Rule project]\nKind=folder\nMatch=" + project_ + ";\nDecision=allow\n");
  const std::string e = exchange_;
  auto agent = start_agent({"--task", "list me"}, "airlock-request folder " + project_ + " && echo > " + e +
                                                      "/granted; while [ ! -e " + e + "/go ]; do sleep 0.05; done");
  ASSERT_TRUE(wait_for_file(e + "/granted")) << agent->err();
  Result ps = airlock({"ps"}, options());
  EXPECT_EQ(ps.status, 0) << ps.err;
  EXPECT_NE(ps.out.find("list me"), std::string::npos) << ps.out;
  Result grants = airlock({"grants"}, options());
  EXPECT_EQ(grants.status, 0) << grants.err;
  EXPECT_NE(grants.out.find(project_), std::string::npos) << grants.out;
  EXPECT_NE(grants.out.find("policy"), std::string::npos) << grants.out;
  Scratch::write_file(e + "/go", "");
  EXPECT_EQ(agent->wait(), 0);
  Result none = airlock({"ps"}, options());
  EXPECT_NE(none.out.find("no running sessions"), std::string::npos) << none.out;
}

TEST_F(PortalIsolation, TheSandboxHasNoRouteToTheSessionBus) {
  const char* address = getenv("DBUS_SESSION_BUS_ADDRESS");
  ASSERT_NE(address, nullptr);
  std::string raw_request = env_or_die("AIRLOCK_RAW_REQUEST_BIN");
  Result result = run_agent({"--ro", raw_request, "--env", std::string("DBUS_SESSION_BUS_ADDRESS=") + address},
                            raw_request + " bus \"$DBUS_SESSION_BUS_ADDRESS\"; " + raw_request + " manager");
  EXPECT_NE(result.out.find("no bus:"), std::string::npos) << result.out << result.err;
  // The private socket serves the portal's in-sandbox API and nothing of
  // the Manager's: no listing other sessions, no answering prompts.
  EXPECT_NE(result.out.find("ListGrants: org.freedesktop.DBus.Error.Unknown"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("Answer: org.freedesktop.DBus.Error.Unknown"), std::string::npos) << result.out;
}

}  // namespace
}  // namespace airlock::test
