// What the person sees and may answer: the terminal prompt names who asks,
// what exactly and why (the agent's words, quoted, unable to paint on the
// terminal), and a deny-list override is never offered "always".
#include <gtest/gtest.h>

#include "portal_fixture.h"
#include "terminal.h"

namespace airlock::test {
namespace {

using PortalPrompt = PortalTest;

TEST_F(PortalPrompt, TheTerminalPromptShowsTheRequestAndTakesTheAnswer) {
  Terminal terminal({"prompt"}, options(), 40, 120);
  ASSERT_TRUE(terminal.expect("waiting for requests")) << terminal.tail();
  auto agent = start_agent({"--task", "fix issue 42"},
                           "airlock-request folder " + project_ +
                               " --reason \"$(printf 'read the docs\\033]0;pwned\\007 please')\" && cat " + project_ +
                               "/README");
  ASSERT_TRUE(terminal.expect("wants read-only access to the folder")) << terminal.tail();
  EXPECT_TRUE(terminal.expect(project_)) << terminal.tail();
  EXPECT_TRUE(terminal.expect("profile default")) << terminal.tail();
  EXPECT_TRUE(terminal.expect("task fix issue 42")) << terminal.tail();
  EXPECT_TRUE(terminal.expect("the agent says (its own words, unverified)")) << terminal.tail();
  EXPECT_TRUE(terminal.expect("read the docs\\x1b]0;pwned\\x07 please")) << terminal.tail();
  // The agent's escape sequence reached the screen as text, never as a command.
  EXPECT_EQ(terminal.screen().find("\x1b]0;pwned"), std::string::npos);
  ASSERT_TRUE(terminal.expect("allow?")) << terminal.tail();
  terminal.type("t\n");
  EXPECT_EQ(agent->wait(), 0) << agent->err();
  EXPECT_NE(agent->out().find("project readme"), std::string::npos);
  auto grants = manager_list("ListGrants", g_variant_new("(s)", ""));
  EXPECT_TRUE(grants.empty()) << "the session's grants end with it";
}

TEST_F(PortalPrompt, EnterDenies) {
  Terminal terminal({"prompt"}, options(), 40, 120);
  ASSERT_TRUE(terminal.expect("waiting for requests")) << terminal.tail();
  auto agent = start_agent({}, "airlock-request folder " + project_ + "; echo rc=$?");
  ASSERT_TRUE(terminal.expect("allow?")) << terminal.tail();
  terminal.type("\n");
  EXPECT_EQ(agent->wait(), 0);
  EXPECT_NE(agent->out().find("rc=1"), std::string::npos) << agent->out() << agent->err();
  EXPECT_NE(agent->err().find("denied"), std::string::npos);
}

TEST_F(PortalPrompt, ADenyListOverrideIsNeverOfferedAlways) {
  Scratch::write_file(scratch_.home() + "/.ssh/known_hosts", "github.com ssh-ed25519 AAAA\n");
  write_policy("[Rule known-hosts]\nKind=file\nMatch=~/.ssh/known_hosts;\nDecision=ask\nOverride=deny-list\n");
  hold_prompts();
  auto agent = start_agent({}, "airlock-request file ~/.ssh/known_hosts && cat ~/.ssh/known_hosts; ls ~/.ssh");
  std::string id = wait_for_prompt();
  ASSERT_FALSE(id.empty()) << agent->err();
  g_autoptr(GError) error = nullptr;
  g_autoptr(GVariant) always = manager_call("Answer", g_variant_new("(sus@a{sv})", id.c_str(), 0u, "always", g_variant_new("a{sv}", nullptr)), &error);
  ASSERT_EQ(always, nullptr) << "a deny-list override was granted always";
  EXPECT_NE(std::string(error->message).find("not offered"), std::string::npos) << error->message;
  ASSERT_TRUE(answer(id, true, "once"));
  EXPECT_EQ(agent->wait(), 0) << agent->err();
  EXPECT_NE(agent->out().find("github.com"), std::string::npos);
  // The file came alone: the key beside it stays out of reach.
  EXPECT_EQ(agent->out().find("id_ed25519"), std::string::npos) << agent->out();
  EXPECT_TRUE(manager_list("ListAlways").empty());
}

}  // namespace
}  // namespace airlock::test
