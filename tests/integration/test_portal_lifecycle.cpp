// Failure closes: a portal killed while a request waits grants nothing and
// the agent hears of it; what was decided survives kill -9.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <thread>

#include "portal_fixture.h"

namespace airlock::test {
namespace {

using PortalLifecycle = PortalTest;

TEST_F(PortalLifecycle, KillingThePortalWhileARequestWaitsGrantsNothing) {
  hold_prompts();
  auto agent = start_agent({}, "airlock-request folder " + project_ + "; echo rc=$?; sleep 0.5; ls " + project_);
  std::string id = wait_for_prompt();
  ASSERT_FALSE(id.empty()) << agent->err();
  pid_t portal = portal_pid();
  ASSERT_GT(portal, 0);
  ASSERT_EQ(kill(portal, SIGKILL), 0);
  EXPECT_EQ(agent->wait(), 2) << agent->out() << agent->err();
  EXPECT_NE(agent->out().find("rc=2"), std::string::npos);
  EXPECT_NE(agent->err().find("went away"), std::string::npos) << agent->err();
  EXPECT_EQ(agent->out().find("README"), std::string::npos);
  EXPECT_NE(agent->err().find("No such file"), std::string::npos);
}

// Unanswered prompts time out (the fixture's portal waits 3 s): denied.
TEST_F(PortalLifecycle, AnUnansweredPromptTimesOutDenied) {
  hold_prompts();
  Result result = run_agent({}, "airlock-request folder " + project_ + "; echo rc=$?; ls " + project_ + "; true");
  EXPECT_NE(result.out.find("rc=1"), std::string::npos) << result.out << result.err;
  EXPECT_NE(result.err.find("nobody answered within 3 seconds"), std::string::npos) << result.err;
  EXPECT_EQ(result.out.find("README"), std::string::npos);
}

// An agent that stops waiting (Close, here by airlock-request's own
// timeout) withdraws its prompt: nothing stays on the person's screen, and
// nothing is granted.
TEST_F(PortalLifecycle, AWithdrawnRequestLeavesNoPrompt) {
  hold_prompts();
  auto agent = start_agent({}, "airlock-request folder --timeout 1 " + project_ + "; echo rc=$?");
  std::string id = wait_for_prompt();
  ASSERT_FALSE(id.empty()) << agent->err();
  EXPECT_EQ(agent->wait(), 0);
  EXPECT_NE(agent->out().find("rc=2"), std::string::npos) << agent->out() << agent->err();
  std::vector<Row> pending = {{}};
  for (int i = 0; i < 100 && !pending.empty(); ++i) {
    pending = manager_list("ListPending");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(pending.empty()) << "the withdrawn request still waits for a person";
  EXPECT_TRUE(manager_list("ListGrants", g_variant_new("(s)", "")).empty());
}

// Two agents of one session asking for the same thing at once: one prompt,
// one answer for both.
TEST_F(PortalLifecycle, DuplicatePendingRequestsMerge) {
  hold_prompts();
  auto agent = start_agent({}, "airlock-request folder " + project_ + " & airlock-request folder " + project_ +
                                   " & wait; ls " + project_);
  std::string id = wait_for_prompt();
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(wait_for_prompt(std::chrono::milliseconds(500)), "") << "the same request was asked twice";
  ASSERT_TRUE(answer(id, true, "task"));
  EXPECT_EQ(agent->wait(), 0) << agent->err();
  EXPECT_NE(agent->out().find("README"), std::string::npos) << agent->out();
}

// The session registers again with the portal that replaces a dead one:
// what the dead portal granted is revoked (nobody knows its scope any
// more), and the agent can ask again.
TEST_F(PortalLifecycle, ARestartedPortalFindsTheSessionAgain) {
  write_policy("[Rule project]\nKind=folder\nMatch=" + project_ + ";\nDecision=allow\n");
  const std::string e = exchange_;
  auto agent = start_agent({}, "airlock-request folder " + project_ + " > /dev/null && echo > " + e + "/granted;"
                               "while [ ! -e " + e + "/go ]; do sleep 0.05; done;"
                               "ls " + project_ + " > " + e + "/after-restart 2>&1;"
                               "airlock-request folder " + project_ + " && cat " + project_ + "/README");
  ASSERT_TRUE(wait_for_file(e + "/granted")) << agent->err();
  auto before = manager_list("ListSessions");
  ASSERT_EQ(before.size(), 1u);
  pid_t portal = portal_pid();
  ASSERT_EQ(kill(portal, SIGKILL), 0);
  std::vector<Row> after;
  for (int i = 0; i < 250 && after.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    pid_t now = portal_pid();
    if (now > 0 && now != portal) after = manager_list("ListSessions");
  }
  ASSERT_EQ(after.size(), 1u) << "the session did not register again";
  EXPECT_EQ(after[0]["id"], before[0]["id"]);
  EXPECT_TRUE(manager_list("ListGrants", g_variant_new("(s)", "")).empty());
  Scratch::write_file(e + "/go", "");
  EXPECT_EQ(agent->wait(), 0) << agent->err();
  EXPECT_EQ(Scratch::read_file(e + "/after-restart").find("README"), std::string::npos);
  EXPECT_NE(agent->out().find("project readme"), std::string::npos) << agent->out() << agent->err();
}

// The Manager announces what the GUI shows: sessions, requests, grants.
TEST_F(PortalLifecycle, TheManagerSignalsSessionsRequestsAndGrants) {
  std::vector<std::string> seen;
  guint subscription = g_dbus_connection_signal_subscribe(
      connection(), "org.airlock.Portal", "org.airlock.Manager", nullptr, "/org/airlock/Manager", nullptr,
      G_DBUS_SIGNAL_FLAGS_NONE,
      +[](GDBusConnection*, const char*, const char*, const char*, const char* signal, GVariant*, gpointer data) {
        static_cast<std::vector<std::string>*>(data)->emplace_back(signal);
      },
      &seen, nullptr);
  hold_prompts();
  auto agent = start_agent({}, "airlock-request folder " + project_);
  std::string id = wait_for_prompt();
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(answer(id, true, "once"));
  EXPECT_EQ(agent->wait(), 0) << agent->err();
  for (int i = 0; i < 100 && std::find(seen.begin(), seen.end(), "SessionRemoved") == seen.end(); ++i) {
    g_main_context_iteration(nullptr, FALSE);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  g_dbus_connection_signal_unsubscribe(connection(), subscription);
  std::vector<std::string> expected = {"SessionAdded", "RequestAdded", "RequestRemoved", "GrantAdded", "SessionRemoved"};
  EXPECT_EQ(seen, expected);
}

TEST_F(PortalLifecycle, AuditLogAndAlwaysGrantsSurviveKill9) {
  auto prompt = prompter({"--answer=allow", "--scope=always", "--count=1"});
  ASSERT_EQ(run_agent({}, "airlock-request folder " + project_).status, 0);
  pid_t portal = portal_pid();
  ASSERT_GT(portal, 0);
  ASSERT_EQ(kill(portal, SIGKILL), 0);
  for (int i = 0; i < 100 && portal_pid() == portal; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  // A new portal, started by the next call, finds both.
  Result verify = airlock({"log", "--verify"}, options());
  EXPECT_EQ(verify.status, 0) << verify.out << verify.err;
  Result log = airlock({"log", "--json"}, options());
  EXPECT_NE(log.out.find("\"event\":\"grant\""), std::string::npos) << log.out;
  auto always = manager_list("ListAlways");
  ASSERT_EQ(always.size(), 1u);
  EXPECT_EQ(always[0]["resource"], project_);
}

}  // namespace
}  // namespace airlock::test
