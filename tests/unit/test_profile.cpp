#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "error.h"
#include "profile.h"

namespace airlock {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

Profile parse(const std::string& text) { return parse_profile(text, "test.profile", "test", "/home/alice"); }

std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const Error& error) {
    return error.what();
  }
  return "no error";
}

TEST(Profile, ParsesEveryKey) {
  Profile profile = parse(
      "[Profile]\nDescription=An agent\nCommand=agent\n"
      "[Environment]\nPass=API_KEY;TERM_PROGRAM;\nSet=AGENT_HOME=~/.agent;MODE=quiet\n"
      "[Filesystem]\nState=~/.agent/;~/.agent.json\nRuntime=/etc/agent;/opt/agent\n"
      "[Sandbox]\nPtrace=true\n");
  EXPECT_EQ(profile.name, "test");
  EXPECT_EQ(profile.description, "An agent");
  EXPECT_EQ(profile.command, "agent");
  EXPECT_THAT(profile.pass_env, ElementsAre("API_KEY", "TERM_PROGRAM"));
  EXPECT_THAT(profile.set_env, ElementsAre(Pair("AGENT_HOME", "/home/alice/.agent"), Pair("MODE", "quiet")));
  ASSERT_EQ(profile.state.size(), 2u);
  EXPECT_EQ(profile.state[0].path, "/home/alice/.agent");
  EXPECT_TRUE(profile.state[0].directory);
  EXPECT_EQ(profile.state[1].path, "/home/alice/.agent.json");
  EXPECT_FALSE(profile.state[1].directory);
  EXPECT_THAT(profile.runtime, ElementsAre("/etc/agent", "/opt/agent"));
  EXPECT_TRUE(profile.allow_ptrace);
}

TEST(Profile, DefaultsAreEmpty) {
  Profile profile = parse("[Profile]\n");
  EXPECT_TRUE(profile.command.empty());
  EXPECT_TRUE(profile.state.empty());
  EXPECT_FALSE(profile.allow_ptrace);
}

TEST(Profile, RejectsMistakesWithTheirPlace) {
  EXPECT_THAT(error_of("[Profile\n"), HasSubstr("is malformed"));
  EXPECT_THAT(error_of("[Environment]\nPass=X\n"), HasSubstr("no [Profile] group"));
  EXPECT_THAT(error_of("[Profile]\nComand=x\n"), HasSubstr("[Profile] Comand: unknown key"));
  EXPECT_THAT(error_of("[Profile]\n[Network]\nAllow=x\n"), HasSubstr("[Network] Allow: unknown key"));
  EXPECT_THAT(error_of("[Profile]\n[Environment]\nPass=NOT-A-NAME\n"), HasSubstr("is not a variable name"));
  EXPECT_THAT(error_of("[Profile]\n[Environment]\nSet=NOVALUE\n"), HasSubstr("is not NAME=VALUE"));
  EXPECT_THAT(error_of("[Profile]\n[Filesystem]\nState=relative/\n"), HasSubstr("must be a path"));
  EXPECT_THAT(error_of("[Profile]\n[Filesystem]\nState=~/\n"), HasSubstr("not ~ itself"));
  EXPECT_THAT(error_of("[Profile]\n[Filesystem]\nRuntime=etc\n"), HasSubstr("absolute path"));
  EXPECT_THAT(error_of("[Profile]\n[Sandbox]\nPtrace=maybe\n"), HasSubstr("true or false"));
}

TEST(Profile, RuleGroupsAreItsPolicyLayerAndAreChecked) {
  Profile profile = parse("[Profile]\n[Rule own-state]\nKind=folder\nMatch=~/.agent/**\nAccess=write\nDecision=allow\n");
  EXPECT_THAT(profile.policy_rules, HasSubstr("[Rule own-state]"));
  EXPECT_THAT(profile.policy_rules, HasSubstr("Match=~/.agent/**"));
  EXPECT_TRUE(parse("[Profile]\n").policy_rules.empty());
  EXPECT_THAT(error_of("[Profile]\n[Rule broken]\nKind=folder\nMatch=~/x/**\nDecision=perhaps\n"),
              HasSubstr("[Rule broken] Decision"));
  EXPECT_THAT(error_of("[Profile]\n[Rule broken]\nKind=folder\nMatch=~/x/**\nDecision=perhaps\n"),
              HasSubstr("profile test.profile"));
}

TEST(Profile, ShippedProfilesParse) {
  std::string dir = std::string(getenv("AIRLOCK_SOURCE_DIR")) + "/policies/profiles";
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    Profile profile = load_profile(entry.path().string(), "/home/alice");
    EXPECT_FALSE(profile.description.empty()) << entry.path();
    EXPECT_FALSE(profile.command.empty()) << entry.path();
    ++count;
  }
  EXPECT_GE(count, 6);
}

TEST(Profile, LoadsByNameFromTheSearchPathAndListsTheKnownOnes) {
  setenv("AIRLOCK_PROFILE_PATH", (std::string(getenv("AIRLOCK_SOURCE_DIR")) + "/policies/profiles").c_str(), 1);
  EXPECT_EQ(load_profile("claude", "/home/alice").command, "claude");
  try {
    load_profile("nonexistent", "/home/alice");
    FAIL() << "an unknown profile loaded";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("available profiles are aider, claude, codex, gemini, opencode, shell"));
  }
}

}  // namespace
}  // namespace airlock
