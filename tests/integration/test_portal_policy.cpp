// The policy answers before any person: allow needs no prompt, deny never
// prompts, and the built-in deny list wins over an allow rule.
#include <gtest/gtest.h>

#include "portal_fixture.h"

namespace airlock::test {
namespace {

using PortalPolicy = PortalTest;

TEST_F(PortalPolicy, AllowNeedsNoPrompt) {
  write_policy("[Rule project]\nKind=folder\nMatch=" + project_ + ";" + project_ + "/**;\nDecision=allow\n");
  // Nobody could answer: no prompter, and --prompt=none.
  Result result = run_agent({"--prompt=none"}, "airlock-request folder " + project_ + " && cat " + project_ + "/README");
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.out.find("project readme"), std::string::npos);
  Result log = airlock({"log", "--json"}, options());
  EXPECT_NE(log.out.find("\"decided-by\":\"policy\""), std::string::npos) << log.out;
}

TEST_F(PortalPolicy, DenyNeverPrompts) {
  write_policy("[Rule project]\nKind=folder\nMatch=" + project_ + ";" + project_ + "/**;\nDecision=deny\n");
  hold_prompts();
  Result result = run_agent({}, "airlock-request folder " + project_);
  EXPECT_EQ(result.status, 1) << result.err;
  EXPECT_NE(result.err.find("denied by the policy"), std::string::npos) << result.err;
  EXPECT_EQ(wait_for_prompt(std::chrono::milliseconds(200)), "") << "a denied request reached a person";
}

TEST_F(PortalPolicy, DenyListWinsOverAnAllowRule) {
  write_policy("[Rule keys]\nKind=folder\nMatch=~/.ssh;~/.ssh/**;\nDecision=allow\n");
  hold_prompts();
  Result result = run_agent({}, "airlock-request folder " + scratch_.home() + "/.ssh; ls " + scratch_.home() + "/.ssh");
  EXPECT_NE(result.err.find("deny list"), std::string::npos) << result.err;
  EXPECT_EQ(result.out.find("id_ed25519"), std::string::npos);
  EXPECT_EQ(wait_for_prompt(std::chrono::milliseconds(200)), "");
}

}  // namespace
}  // namespace airlock::test
