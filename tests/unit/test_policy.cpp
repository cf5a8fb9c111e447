#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "error.h"
#include "policy.h"
#include "policy_pattern.h"

namespace airlock {
namespace {

using ::testing::AllOf;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kHome = "/home/alice";
const PolicyContext kContext{kHome, "/run/user/1000"};

Policy make_policy(const std::vector<PolicyLayer>& layers, const PolicyContext& context = kContext) {
  return Policy(layers, context);
}

Policy one_file(const std::string& text) { return make_policy({{"test.policy", text}}); }

PolicyResult check(const Policy& policy, RequestKind kind, const std::string& resource,
                   Access access = Access::kRead, const std::string& profile = "") {
  return policy.evaluate({kind, resource, access, profile});
}

std::string error_of(const std::string& text) {
  try {
    one_file(text);
  } catch (const Error& error) {
    return error.what();
  }
  return "no error";
}

std::string pattern_error(const std::string& pattern) {
  try {
    path_pattern_matches(pattern, "/x", kHome);
  } catch (const Error& error) {
    return error.what();
  }
  return "no error";
}

std::string host_pattern_error(const std::string& pattern) {
  try {
    host_pattern_matches(pattern, "example.com:443");
  } catch (const Error& error) {
    return error.what();
  }
  return "no error";
}

bool path_matches(const std::string& pattern, const std::string& path) {
  return path_pattern_matches(pattern, path, kHome);
}

// ---------------------------------------------------------------------------
// Path patterns

TEST(PathPattern, StarMatchesWithinOneComponent) {
  EXPECT_TRUE(path_matches("/srv/*.txt", "/srv/notes.txt"));
  EXPECT_TRUE(path_matches("/srv/*", "/srv/anything"));
  EXPECT_TRUE(path_matches("/srv/a*b*c", "/srv/aXbYbZc"));
  EXPECT_FALSE(path_matches("/srv/*", "/srv/a/b"));
  EXPECT_FALSE(path_matches("/srv/*", "/srv"));
  EXPECT_FALSE(path_matches("/srv/*.txt", "/srv/notes.txt.bak"));
}

TEST(PathPattern, DoubleStarMatchesAcrossComponents) {
  EXPECT_TRUE(path_matches("/srv/**/*.txt", "/srv/a.txt"));
  EXPECT_TRUE(path_matches("/srv/**/*.txt", "/srv/a/b/c.txt"));
  EXPECT_TRUE(path_matches("/srv/**/x/**", "/srv/a/x/b/c"));
  EXPECT_TRUE(path_matches("/srv/**/**/x", "/srv/x"));
  EXPECT_FALSE(path_matches("/srv/**/*.txt", "/srv/a/b/c.md"));
  EXPECT_TRUE(path_matches("/**", "/"));
  EXPECT_TRUE(path_matches("/**", "/any/depth/at/all"));
}

TEST(PathPattern, TrailingDoubleStarMatchesTheFolderAndBeneathButNoSibling) {
  EXPECT_TRUE(path_matches("/home/a/src/**", "/home/a/src"));
  EXPECT_TRUE(path_matches("/home/a/src/**", "/home/a/src/x"));
  EXPECT_TRUE(path_matches("/home/a/src/**", "/home/a/src/x/y/z"));
  EXPECT_FALSE(path_matches("/home/a/src/**", "/home/a/srcx"));
  EXPECT_FALSE(path_matches("/home/a/src/**", "/home/a/srcx/y"));
  EXPECT_FALSE(path_matches("/home/a/src/**", "/home/a"));
}

TEST(PathPattern, APlainPathMatchesOnlyItself) {
  EXPECT_TRUE(path_matches("/home/a/src", "/home/a/src"));
  EXPECT_FALSE(path_matches("/home/a/src", "/home/a/src/x"));
  EXPECT_TRUE(path_matches("/", "/"));
  EXPECT_FALSE(path_matches("/", "/etc"));
}

TEST(PathPattern, QuestionMarkAndClasses) {
  EXPECT_TRUE(path_matches("/srv/v?", "/srv/v1"));
  EXPECT_FALSE(path_matches("/srv/v?", "/srv/v"));
  EXPECT_FALSE(path_matches("/srv/v?", "/srv/v12"));
  EXPECT_TRUE(path_matches("/srv/v[0-9]", "/srv/v7"));
  EXPECT_FALSE(path_matches("/srv/v[0-9]", "/srv/vx"));
  EXPECT_TRUE(path_matches("/srv/v[!0-9]", "/srv/vx"));
  EXPECT_TRUE(path_matches("/srv/v[^0-9]", "/srv/vx"));
  EXPECT_FALSE(path_matches("/srv/v[!0-9]", "/srv/v7"));
  EXPECT_TRUE(path_matches("/srv/[]]", "/srv/]"));
  EXPECT_TRUE(path_matches("/srv/[ab-]", "/srv/-"));
  EXPECT_TRUE(path_matches("/srv/\\*", "/srv/*"));
  EXPECT_FALSE(path_matches("/srv/\\*", "/srv/x"));
  EXPECT_TRUE(path_matches("/srv/a\\[b", "/srv/a[b"));
}

TEST(PathPattern, TildeIsTheHomeDirectoryTakenLiterally) {
  EXPECT_TRUE(path_matches("~", "/home/alice"));
  EXPECT_TRUE(path_matches("~/src/**", "/home/alice/src/x"));
  EXPECT_FALSE(path_matches("~/src/**", "/home/bob/src/x"));
  EXPECT_TRUE(path_pattern_matches("~/x", "/home/a*[b/x", "/home/a*[b"));
  EXPECT_FALSE(path_pattern_matches("~/x", "/home/aZZ[b/x", "/home/a*[b"));
}

TEST(PathPattern, StarsMatchDotFilesAndBytesThatAreNotUtf8) {
  EXPECT_TRUE(path_matches("/srv/*", "/srv/.hidden"));
  EXPECT_TRUE(path_matches("/srv/**", "/srv/a/.git/config"));
  EXPECT_TRUE(path_matches("/srv/*.key", "/srv/\xff\xfe.key"));
  EXPECT_TRUE(path_matches("/srv/?.key", "/srv/\xff.key"));
}

TEST(PathPattern, RejectsMalformedPatternsWithTheReason) {
  EXPECT_THAT(pattern_error(""), HasSubstr("is empty"));
  EXPECT_THAT(pattern_error("src/**"), HasSubstr("not an absolute path"));
  EXPECT_THAT(pattern_error("~bob/src"), HasSubstr("another user's home"));
  EXPECT_THAT(pattern_error("~/src/"), HasSubstr("ends in '/'"));
  EXPECT_THAT(pattern_error("/srv//x"), HasSubstr("empty component"));
  EXPECT_THAT(pattern_error("/srv/../etc"), HasSubstr("'..' component"));
  EXPECT_THAT(pattern_error("/srv/./x"), HasSubstr("'.' component"));
  EXPECT_THAT(pattern_error("/srv/a**"), HasSubstr("'**' inside a component"));
  EXPECT_THAT(pattern_error("/srv/[ab"), HasSubstr("malformed [...]"));
  EXPECT_THAT(pattern_error("/srv/[z-a]"), HasSubstr("malformed [...]"));
  EXPECT_THAT(pattern_error("/srv/x\\"), HasSubstr("lone backslash"));
  std::string deep;
  for (int i = 0; i < 64; ++i) deep += "/d";
  EXPECT_THAT(pattern_error(deep), HasSubstr("more than 63 components"));
  try {
    path_pattern_matches("~/x", "/x", "");
    ADD_FAILURE() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("home directory is unknown"));
  }
}

// ---------------------------------------------------------------------------
// Host patterns

TEST(HostPattern, NamesAndPorts) {
  EXPECT_TRUE(host_pattern_matches("pypi.org", "pypi.org:443"));
  EXPECT_TRUE(host_pattern_matches("pypi.org", "pypi.org:80"));
  EXPECT_TRUE(host_pattern_matches("pypi.org:443", "pypi.org:443"));
  EXPECT_TRUE(host_pattern_matches("pypi.org:*", "pypi.org:8443"));
  EXPECT_FALSE(host_pattern_matches("pypi.org:443", "pypi.org:80"));
  EXPECT_FALSE(host_pattern_matches("pypi.org", "files.pypi.org:443"));
  EXPECT_FALSE(host_pattern_matches("pypi.org", "pypi.org.evil.com:443"));
  EXPECT_TRUE(host_pattern_matches("PyPI.org", "pypi.ORG:443"));
}

TEST(HostPattern, LeadingStarMatchesSubdomainsAtAnyDepthButNotTheDomain) {
  EXPECT_TRUE(host_pattern_matches("*.githubusercontent.com", "raw.githubusercontent.com:443"));
  EXPECT_TRUE(host_pattern_matches("*.githubusercontent.com", "a.b.githubusercontent.com:443"));
  EXPECT_FALSE(host_pattern_matches("*.githubusercontent.com", "githubusercontent.com:443"));
  EXPECT_FALSE(host_pattern_matches("*.githubusercontent.com", "evilgithubusercontent.com:443"));
  EXPECT_FALSE(host_pattern_matches("*.githubusercontent.com", "githubusercontent.com.evil.org:443"));
  EXPECT_TRUE(host_pattern_matches("*.example.com:443", "api.example.com:443"));
  EXPECT_FALSE(host_pattern_matches("*.example.com:443", "api.example.com:22"));
}

TEST(HostPattern, StarsWithinALabelAndAddresses) {
  EXPECT_TRUE(host_pattern_matches("api-*.example.com", "api-eu.example.com:443"));
  EXPECT_FALSE(host_pattern_matches("api-*.example.com", "x.api-eu.example.com:443"));
  EXPECT_TRUE(host_pattern_matches("10.0.0.*", "10.0.0.7:80"));
  EXPECT_FALSE(host_pattern_matches("10.0.0.*", "10.0.1.7:80"));
  EXPECT_TRUE(host_pattern_matches("[2001:db8::1]:443", "[2001:DB8::1]:443"));
  EXPECT_FALSE(host_pattern_matches("[2001:db8::1]", "[2001:db8::2]:443"));
  EXPECT_TRUE(host_pattern_matches("*", "anything.at.all:1"));
  EXPECT_TRUE(host_pattern_matches("*:443", "x.org:443"));
  EXPECT_FALSE(host_pattern_matches("*:443", "x.org:80"));
}

TEST(HostPattern, RejectsMalformedPatterns) {
  EXPECT_THAT(host_pattern_error("example.com:0"), HasSubstr("port"));
  EXPECT_THAT(host_pattern_error("example.com:65536"), HasSubstr("port"));
  EXPECT_THAT(host_pattern_error("example.com:"), HasSubstr("port"));
  EXPECT_THAT(host_pattern_error("2001:db8::1"), HasSubstr("in brackets"));
  EXPECT_THAT(host_pattern_error("[2001:db8::1"), HasSubstr("never closes"));
  EXPECT_THAT(host_pattern_error("example..com"), HasSubstr("empty label"));
  EXPECT_THAT(host_pattern_error("example.com/x"), HasSubstr("'/'"));
  EXPECT_THAT(host_pattern_error("**.example.com"), HasSubstr("'**'"));
  EXPECT_THAT(host_pattern_error(":443"), HasSubstr("names no host"));
}

// ---------------------------------------------------------------------------
// Parsing

TEST(PolicyParse, ReadsEveryKey) {
  Policy policy = one_file(
      "# a comment\n"
      "[Rule projects]\nKind=folder;file;\nMatch=~/src/**;/srv/shared/**\nAccess=write\nDecision=allow\n"
      "Profile=claude;codex\n"
      "[Rule known-hosts]\nKind=file\nMatch=~/.ssh/known_hosts\nDecision=ask\nOverride=deny-list\n"
      "[Rule pypi]\nKind=host\nMatch=pypi.org:443;files.pythonhosted.org:443\nDecision=allow\n"
      "[Rule tokens]\nKind=secret\nMatch=GITHUB_*\nDecision=deny\n");
  EXPECT_EQ(policy.rule_count(), 4u);
  EXPECT_EQ(make_policy({}).rule_count(), 0u);
  EXPECT_EQ(one_file("# only comments\n\n").rule_count(), 0u);
}

TEST(PolicyParse, RejectsMistakesWithTheirFileGroupAndKey) {
  const std::string rule = "[Rule r]\nKind=folder\nMatch=/srv/**\nDecision=allow\n";
  EXPECT_THAT(error_of("[Rule r\n"), AllOf(StartsWith("policy test.policy is malformed"), EndsWith("airlock-policy(5))")));
  EXPECT_THAT(error_of("Kind=folder\n"), StartsWith("policy test.policy is malformed"));
  EXPECT_THAT(error_of("[Folders]\nKind=folder\n"), StartsWith("policy test.policy, [Folders]: unknown group"));
  EXPECT_THAT(error_of("[Rule ]\nKind=folder\n"), StartsWith("policy test.policy, [Rule ]: unknown group"));
  EXPECT_THAT(error_of(rule + "Mtach=x\n"), StartsWith("policy test.policy, [Rule r] Mtach: unknown key"));
  EXPECT_THAT(error_of(rule + "Match=/x\n"), StartsWith("policy test.policy, [Rule r] Match: given twice"));
  EXPECT_THAT(error_of(rule + "[Rule x]\nKind=file\nMatch=/x\nDecision=deny\n" + rule),
              StartsWith("policy test.policy, [Rule r]: the group appears twice"));
  EXPECT_THAT(error_of("[Rule r]\nMatch=/x\nDecision=allow\n"), StartsWith("policy test.policy, [Rule r]: no Kind key"));
  EXPECT_THAT(error_of("[Rule r]\nKind=file\nDecision=allow\n"), StartsWith("policy test.policy, [Rule r]: no Match key"));
  EXPECT_THAT(error_of("[Rule r]\nKind=file\nMatch=/x\n"), StartsWith("policy test.policy, [Rule r]: no Decision key"));
  EXPECT_THAT(error_of("[Rule r]\nKind=folders\nMatch=/x\nDecision=allow\n"),
              StartsWith("policy test.policy, [Rule r] Kind: 'folders' is not folder, file, host or secret"));
  EXPECT_THAT(error_of("[Rule r]\nKind=\nMatch=/x\nDecision=allow\n"), StartsWith("policy test.policy, [Rule r] Kind: is empty"));
  EXPECT_THAT(error_of("[Rule r]\nKind=folder;host\nMatch=/x\nDecision=allow\n"),
              StartsWith("policy test.policy, [Rule r] Kind: mixes paths, hosts and secrets"));
  EXPECT_THAT(error_of("[Rule r]\nKind=host;secret\nMatch=x\nDecision=allow\n"), HasSubstr("[Rule r] Kind: mixes"));
  EXPECT_THAT(error_of("[Rule r]\nKind=file\nMatch=/x\nDecision=permit\n"),
              StartsWith("policy test.policy, [Rule r] Decision: 'permit' is not allow, deny or ask"));
  EXPECT_THAT(error_of("[Rule r]\nKind=file\nMatch=/x\nDecision=allow\nAccess=rw\n"),
              StartsWith("policy test.policy, [Rule r] Access: 'rw' is not read or write"));
  EXPECT_THAT(error_of("[Rule r]\nKind=host\nMatch=x.org\nDecision=allow\nAccess=read\n"),
              StartsWith("policy test.policy, [Rule r] Access: applies to folder and file rules only"));
  EXPECT_THAT(error_of("[Rule r]\nKind=file\nMatch=;;\nDecision=allow\n"),
              StartsWith("policy test.policy, [Rule r] Match: is empty"));
  EXPECT_THAT(error_of("[Rule r]\nKind=file\nMatch=/x\nDecision=allow\nProfile=\n"),
              StartsWith("policy test.policy, [Rule r] Profile: is empty"));
  EXPECT_THAT(error_of("[Rule r]\nKind=file\nMatch=/x\nDecision=ask\nOverride=yes\n"),
              StartsWith("policy test.policy, [Rule r] Override: 'yes' is not deny-list"));
  EXPECT_THAT(error_of("[Rule r]\nKind=file\nMatch=~/.ssh/**\nDecision=allow\nOverride=deny-list\n"),
              StartsWith("policy test.policy, [Rule r] Override: needs Decision=ask"));
  EXPECT_THAT(error_of("[Rule r]\nKind=secret\nMatch=X\nDecision=ask\nOverride=deny-list\n"),
              StartsWith("policy test.policy, [Rule r] Override: applies to folder and file rules only"));
  EXPECT_THAT(error_of("[Rule r]\nKind=folder\nMatch=/srv/**;src\nDecision=allow\n"),
              StartsWith("policy test.policy, [Rule r] Match: 'src' is not an absolute path"));
  EXPECT_THAT(error_of("[Rule r]\nKind=host\nMatch=x.org:http\nDecision=allow\n"),
              StartsWith("policy test.policy, [Rule r] Match: 'x.org:http' has a port"));
}

TEST(PolicyParse, AnErrorInALaterLayerNamesThatLayer) {
  try {
    make_policy({{"first.policy", "[Rule a]\nKind=file\nMatch=/x\nDecision=allow\n"},
                 {"second.policy", "[Rule b]\nKind=file\nMatch=/x\nDecision=maybe\n"}});
    ADD_FAILURE() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), StartsWith("policy second.policy, [Rule b] Decision"));
  }
}

// ---------------------------------------------------------------------------
// Evaluation: what the issue asks for

TEST(PolicyEvaluate, APolicyAllowNeedsNoPrompt) {
  Policy policy = one_file("[Rule projects]\nKind=folder\nMatch=~/src/**\nDecision=allow\n");
  PolicyResult result = check(policy, RequestKind::kFolder, "/home/alice/src/airlock");
  EXPECT_EQ(result.decision, Decision::kAllow);
  EXPECT_FALSE(result.dangerous);
  EXPECT_EQ(result.source, "test.policy");
  EXPECT_EQ(result.rule, "projects");
  EXPECT_EQ(result.reason, "[Rule projects] in test.policy");
}

TEST(PolicyEvaluate, APolicyDenyNeverPrompts) {
  Policy policy = one_file(
      "[Rule everything]\nKind=folder;file\nMatch=/**\nDecision=ask\n"
      "[Rule no-tax-papers]\nKind=folder;file\nMatch=~/Documents/taxes/**\nDecision=deny\n");
  for (Access access : {Access::kRead, Access::kWrite}) {
    EXPECT_EQ(check(policy, RequestKind::kFolder, "/home/alice/Documents/taxes", access).decision, Decision::kDeny);
    PolicyResult result = check(policy, RequestKind::kFile, "/home/alice/Documents/taxes/2025.pdf", access);
    EXPECT_EQ(result.decision, Decision::kDeny);
    EXPECT_EQ(result.rule, "no-tax-papers");
  }
}

TEST(PolicyEvaluate, TheDenyListWinsOverAnAllowRule) {
  Policy policy = one_file("[Rule home]\nKind=folder;file\nMatch=~/**\nAccess=write\nDecision=allow\n");
  PolicyResult key = check(policy, RequestKind::kFile, "/home/alice/.ssh/id_ed25519");
  EXPECT_EQ(key.decision, Decision::kDeny);
  EXPECT_FALSE(key.dangerous);
  EXPECT_EQ(key.reason, "built-in deny list: ~/.ssh");
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/home/alice/.gnupg").decision, Decision::kDeny);
  EXPECT_EQ(check(policy, RequestKind::kFile, "/home/alice/.docker/config.json", Access::kWrite).decision,
            Decision::kDeny);
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/home/alice/.config/gh").decision, Decision::kDeny);
  // The whole home at once, and a folder that contains a denied one.
  EXPECT_THAT(check(policy, RequestKind::kFolder, "/home/alice").reason, HasSubstr("built-in deny list"));
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/home/alice/.config").decision, Decision::kDeny);
  // What the deny list does not name is the rule's to decide.
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/home/alice/.config/nvim").decision, Decision::kAllow);
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/home/alice/.sshx").decision, Decision::kAllow);
}

TEST(PolicyEvaluate, TheDenyListCoversTheRootAndTheRuntimeDirectory) {
  Policy policy = one_file("[Rule all]\nKind=folder;file\nMatch=/**\nAccess=write\nDecision=allow\n");
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/").decision, Decision::kDeny);
  EXPECT_EQ(check(policy, RequestKind::kFile, "/run/user/1000/bus").decision, Decision::kDeny);
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/srv").decision, Decision::kAllow);
}

TEST(PolicyEvaluate, APlainAskRuleDoesNotOpenTheDenyList) {
  Policy policy = one_file("[Rule ssh]\nKind=file\nMatch=~/.ssh/**\nDecision=ask\n");
  EXPECT_EQ(check(policy, RequestKind::kFile, "/home/alice/.ssh/known_hosts").decision, Decision::kDeny);
}

TEST(PolicyEvaluate, AnOverrideOfTheDenyListAsksWithAWarning) {
  Policy policy = one_file(
      "[Rule known-hosts]\nKind=file\nMatch=~/.ssh/known_hosts\nDecision=ask\nOverride=deny-list\n"
      "[Rule home]\nKind=folder;file\nMatch=~/**\nDecision=allow\n");
  PolicyResult result = check(policy, RequestKind::kFile, "/home/alice/.ssh/known_hosts");
  EXPECT_EQ(result.decision, Decision::kAsk);
  EXPECT_TRUE(result.dangerous);
  EXPECT_EQ(result.rule, "known-hosts");
  EXPECT_THAT(result.reason, AllOf(HasSubstr("built-in deny list: ~/.ssh"), HasSubstr("[Rule known-hosts]")));
  // Only what the override names; the later allow rule opens nothing.
  EXPECT_EQ(check(policy, RequestKind::kFile, "/home/alice/.ssh/id_ed25519").decision, Decision::kDeny);
  // An override rule on an ordinary path is a plain ask rule.
  Policy plain = one_file("[Rule srv]\nKind=file\nMatch=/srv/**\nDecision=ask\nOverride=deny-list\n");
  PolicyResult ordinary = check(plain, RequestKind::kFile, "/srv/x");
  EXPECT_EQ(ordinary.decision, Decision::kAsk);
  EXPECT_FALSE(ordinary.dangerous);
}

TEST(PolicyEvaluate, ALaterDenyRuleBeatsAnOverride) {
  Policy policy = make_policy(
      {{"user.policy", "[Rule known-hosts]\nKind=file\nMatch=~/.ssh/known_hosts\nDecision=ask\nOverride=deny-list\n"},
       {"profile codex", "[Rule no-ssh]\nKind=file\nMatch=~/.ssh/**\nDecision=deny\n"}});
  PolicyResult result = check(policy, RequestKind::kFile, "/home/alice/.ssh/known_hosts");
  EXPECT_EQ(result.decision, Decision::kDeny);
  EXPECT_FALSE(result.dangerous);
}

TEST(PolicyEvaluate, NoRuleMatchedMeansAsk) {
  Policy policy = one_file("[Rule projects]\nKind=folder\nMatch=~/src/**\nDecision=allow\n");
  for (auto [kind, resource] : std::vector<std::pair<RequestKind, std::string>>{
           {RequestKind::kFolder, "/srv/data"},
           {RequestKind::kFile, "/home/alice/src/x"},  // a folder rule says nothing about files
           {RequestKind::kHost, "example.com:443"},
           {RequestKind::kSecret, "GITHUB_TOKEN"}}) {
    PolicyResult result = check(policy, kind, resource);
    EXPECT_EQ(result.decision, Decision::kAsk) << resource;
    EXPECT_EQ(result.reason, "no rule matched: ask");
    EXPECT_TRUE(result.rule.empty());
    EXPECT_FALSE(result.dangerous);
  }
  EXPECT_EQ(check(make_policy({}), RequestKind::kFolder, "/srv").decision, Decision::kAsk);
}

// ---------------------------------------------------------------------------
// Precedence, profiles, access

TEST(PolicyEvaluate, ALaterLayerBeatsAnEarlierOne) {
  const std::string allow = "[Rule srv]\nKind=folder\nMatch=/srv/**\nDecision=allow\n";
  const std::string deny = "[Rule srv]\nKind=folder\nMatch=/srv/**\nDecision=deny\n";
  Policy denied = make_policy({{"shipped", allow}, {"/etc/airlock/airlock.policy", deny}});
  PolicyResult result = check(denied, RequestKind::kFolder, "/srv/x");
  EXPECT_EQ(result.decision, Decision::kDeny);
  EXPECT_EQ(result.source, "/etc/airlock/airlock.policy");
  EXPECT_EQ(result.reason, "[Rule srv] in /etc/airlock/airlock.policy");
  Policy allowed = make_policy({{"shipped", deny}, {"/home/alice/.config/airlock/airlock.policy", allow}});
  result = check(allowed, RequestKind::kFolder, "/srv/x");
  EXPECT_EQ(result.decision, Decision::kAllow);
  EXPECT_EQ(result.reason, "[Rule srv] in ~/.config/airlock/airlock.policy");
}

TEST(PolicyEvaluate, WithinAFileALaterRuleBeatsAnEarlierOne) {
  Policy policy = one_file(
      "[Rule srv]\nKind=folder;file\nMatch=/srv/**\nDecision=allow\n"
      "[Rule private]\nKind=folder;file\nMatch=/srv/private/**\nDecision=deny\n"
      "[Rule private-readme]\nKind=file\nMatch=/srv/private/README\nDecision=allow\n");
  EXPECT_EQ(check(policy, RequestKind::kFile, "/srv/x").decision, Decision::kAllow);
  EXPECT_EQ(check(policy, RequestKind::kFile, "/srv/private/notes").decision, Decision::kDeny);
  EXPECT_EQ(check(policy, RequestKind::kFile, "/srv/private/README").decision, Decision::kAllow);
}

TEST(PolicyEvaluate, ProfileRestrictsARule) {
  Policy policy = one_file(
      "[Rule claude-state]\nKind=folder\nMatch=/srv/claude/**\nDecision=allow\nProfile=claude;aider\n");
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/srv/claude", Access::kRead, "claude").decision, Decision::kAllow);
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/srv/claude", Access::kRead, "aider").decision, Decision::kAllow);
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/srv/claude", Access::kRead, "codex").decision, Decision::kAsk);
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/srv/claude", Access::kRead, "").decision, Decision::kAsk);
}

TEST(PolicyEvaluate, AReadAllowDoesNotMatchAWriteRequest) {
  Policy policy = one_file("[Rule docs]\nKind=folder\nMatch=/usr/share/doc/**\nAccess=read\nDecision=allow\n");
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/usr/share/doc", Access::kRead).decision, Decision::kAllow);
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/usr/share/doc", Access::kWrite).decision, Decision::kAsk);
}

TEST(PolicyEvaluate, AnAllowRuleWithoutAccessAllowsReadingOnly) {
  Policy policy = one_file("[Rule docs]\nKind=folder\nMatch=/srv/**\nDecision=allow\n");
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/srv", Access::kRead).decision, Decision::kAllow);
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/srv", Access::kWrite).decision, Decision::kAsk);
}

TEST(PolicyEvaluate, AWriteAllowCoversReading) {
  Policy policy = one_file("[Rule src]\nKind=folder\nMatch=/srv/**\nAccess=write\nDecision=allow\n");
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/srv", Access::kRead).decision, Decision::kAllow);
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/srv", Access::kWrite).decision, Decision::kAllow);
}

TEST(PolicyEvaluate, DenyAndAskRulesRestrictFromTheirAccessUp) {
  Policy policy = one_file(
      "[Rule srv]\nKind=folder\nMatch=/srv/**\nAccess=write\nDecision=allow\n"
      "[Rule no-writing-releases]\nKind=folder\nMatch=/srv/releases/**\nAccess=write\nDecision=deny\n"
      "[Rule no-secrets-at-all]\nKind=folder\nMatch=/srv/secrets/**\nAccess=read\nDecision=deny\n"
      "[Rule ask-before-writing-prod]\nKind=folder\nMatch=/srv/prod/**\nAccess=write\nDecision=ask\n");
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/srv/releases", Access::kRead).decision, Decision::kAllow);
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/srv/releases", Access::kWrite).decision, Decision::kDeny);
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/srv/secrets", Access::kRead).decision, Decision::kDeny);
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/srv/secrets", Access::kWrite).decision, Decision::kDeny);
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/srv/prod", Access::kRead).decision, Decision::kAllow);
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/srv/prod", Access::kWrite).decision, Decision::kAsk);
}

// ---------------------------------------------------------------------------
// Folders: a grant of a folder is a grant of everything beneath it

TEST(PolicyEvaluate, AFolderContainingADeniedPathIsDenied) {
  Policy policy = one_file(
      "[Rule src]\nKind=folder;file\nMatch=~/src/**\nDecision=allow\n"
      "[Rule client-secrets]\nKind=folder;file\nMatch=~/src/*/secrets/**\nDecision=deny\n");
  PolicyResult folder = check(policy, RequestKind::kFolder, "/home/alice/src");
  EXPECT_EQ(folder.decision, Decision::kDeny);
  EXPECT_EQ(folder.rule, "client-secrets");
  EXPECT_EQ(folder.reason, "[Rule client-secrets] in test.policy covers ~/src/*/secrets/**, inside ~/src");
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/home/alice/src/app").decision, Decision::kDeny);
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/home/alice/src/app/lib").decision, Decision::kAllow);
  EXPECT_EQ(check(policy, RequestKind::kFile, "/home/alice/src/README").decision, Decision::kAllow);
  EXPECT_EQ(check(policy, RequestKind::kFile, "/home/alice/src/app/secrets/key").decision, Decision::kDeny);
}

TEST(PolicyEvaluate, ADenyRuleThatCanMatchAtAnyDepthDeniesEveryFolderAbove) {
  Policy policy = one_file(
      "[Rule src]\nKind=folder;file\nMatch=~/src/**\nDecision=allow\n"
      "[Rule dotenv]\nKind=folder;file\nMatch=~/src/**/.env\nDecision=deny\n");
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/home/alice/src/app/lib").decision, Decision::kDeny);
  EXPECT_EQ(check(policy, RequestKind::kFile, "/home/alice/src/app/lib/main.c").decision, Decision::kAllow);
  EXPECT_EQ(check(policy, RequestKind::kFile, "/home/alice/src/app/.env").decision, Decision::kDeny);
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/home/alice/srcx").decision, Decision::kAsk);
}

TEST(PolicyEvaluate, AFolderContainingAnAskPathIsAsked) {
  Policy policy = one_file(
      "[Rule work]\nKind=folder\nMatch=~/work/**\nDecision=allow\n"
      "[Rule clients]\nKind=folder\nMatch=~/work/clients/**\nDecision=ask\n");
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/home/alice/work").decision, Decision::kAsk);
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/home/alice/work/tools").decision, Decision::kAllow);
}

TEST(PolicyEvaluate, ALaterRuleOnTheFolderItselfOverridesRulesInsideIt) {
  Policy policy = one_file(
      "[Rule secrets]\nKind=folder\nMatch=~/src/secrets/**\nDecision=deny\n"
      "[Rule src]\nKind=folder\nMatch=~/src/**\nDecision=allow\n");
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/home/alice/src").decision, Decision::kAllow);
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/home/alice/src/secrets").decision, Decision::kAllow);
}

TEST(PolicyEvaluate, ARuleInsideForAnotherAccessDoesNotBind) {
  Policy policy = one_file(
      "[Rule src]\nKind=folder\nMatch=~/src/**\nAccess=write\nDecision=allow\n"
      "[Rule releases]\nKind=folder\nMatch=~/src/releases/**\nAccess=write\nDecision=deny\n");
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/home/alice/src", Access::kRead).decision, Decision::kAllow);
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/home/alice/src", Access::kWrite).decision, Decision::kDeny);
}

// ---------------------------------------------------------------------------
// Untrusted resources

TEST(PolicyEvaluate, ResourcesThatAreNotCanonicalAreDeniedWithoutAsking) {
  Policy policy = one_file(
      "[Rule all]\nKind=folder;file\nMatch=/**\nAccess=write\nDecision=allow\n"
      "[Rule hosts]\nKind=host\nMatch=*\nDecision=allow\n"
      "[Rule secrets]\nKind=secret\nMatch=*\nDecision=allow\n");
  for (const std::string& path : std::vector<std::string>{"", "srv", "/srv/", "/srv//x", "/srv/../home/alice/.ssh", "/srv/./x",
                                  std::string("/srv/a\0b", 8)}) {
    PolicyResult result = check(policy, RequestKind::kFolder, path);
    EXPECT_EQ(result.decision, Decision::kDeny) << path;
    EXPECT_THAT(result.reason, HasSubstr("not a canonical absolute path"));
  }
  for (const std::string& host : std::vector<std::string>{"example.com", "example.com:0", "example.com:99999", "example.com:+80",
                                 ":443", "example..com:443", "example.com.:443", "ex ample.com:443",
                                 "2001:db8::1:443", "[zz]:443", "[::1]"}) {
    PolicyResult result = check(policy, RequestKind::kHost, host);
    EXPECT_EQ(result.decision, Decision::kDeny) << host;
    EXPECT_THAT(result.reason, HasSubstr("not a HOST:PORT"));
  }
  EXPECT_EQ(check(policy, RequestKind::kHost, "[::1]:443").decision, Decision::kAllow);
  EXPECT_EQ(check(policy, RequestKind::kSecret, "").decision, Decision::kDeny);
  EXPECT_EQ(check(policy, RequestKind::kSecret, std::string("A\0B", 3)).decision, Decision::kDeny);
}

// ---------------------------------------------------------------------------
// Hosts and secrets

TEST(PolicyEvaluate, HostRules) {
  Policy policy = one_file(
      "[Rule github]\nKind=host\nMatch=github.com:443;*.githubusercontent.com:443\nDecision=allow\n"
      "[Rule metadata]\nKind=host\nMatch=169.254.169.254\nDecision=deny\n");
  EXPECT_EQ(check(policy, RequestKind::kHost, "raw.githubusercontent.com:443").decision, Decision::kAllow);
  EXPECT_EQ(check(policy, RequestKind::kHost, "GitHub.com:443").decision, Decision::kAllow);
  EXPECT_EQ(check(policy, RequestKind::kHost, "github.com:22").decision, Decision::kAsk);
  EXPECT_EQ(check(policy, RequestKind::kHost, "169.254.169.254:80").decision, Decision::kDeny);
  // A host request never meets the path deny list, nor a path rule.
  EXPECT_EQ(check(policy, RequestKind::kHost, "ssh.example.com:22").decision, Decision::kAsk);
}

TEST(PolicyEvaluate, SecretRules) {
  Policy policy = one_file(
      "[Rule tokens]\nKind=secret\nMatch=GITHUB_*;NPM_TOKEN\nDecision=allow\nProfile=claude\n"
      "[Rule cloud]\nKind=secret\nMatch=AWS_*\nDecision=deny\n");
  EXPECT_EQ(check(policy, RequestKind::kSecret, "GITHUB_TOKEN", Access::kRead, "claude").decision, Decision::kAllow);
  EXPECT_EQ(check(policy, RequestKind::kSecret, "GITHUB_TOKEN", Access::kRead, "codex").decision, Decision::kAsk);
  EXPECT_EQ(check(policy, RequestKind::kSecret, "github_token", Access::kRead, "claude").decision, Decision::kAsk);
  EXPECT_EQ(check(policy, RequestKind::kSecret, "AWS_SECRET_ACCESS_KEY").decision, Decision::kDeny);
}

// ---------------------------------------------------------------------------
// Files, the shipped default, names

std::string source_file(const std::string& relative) {
  const char* dir = getenv("AIRLOCK_SOURCE_DIR");
  std::string path = std::string(dir ? dir : ".") + "/" + relative;
  // load_policy() skips a missing file; a test must not pass on nothing.
  EXPECT_TRUE(std::filesystem::is_regular_file(path)) << path << " (is AIRLOCK_SOURCE_DIR set?)";
  return path;
}

TEST(PolicyDefault, ShippedDefaultAsksAndRefusesWhatItShould) {
  Policy policy = load_policy({source_file("policies/default.policy")}, kContext);
  EXPECT_GT(policy.rule_count(), 0u);
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/home/alice/src/app").decision, Decision::kAsk);
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/home/alice/src/app", Access::kWrite).decision, Decision::kAsk);
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/srv/data", Access::kWrite).decision, Decision::kAsk);
  EXPECT_EQ(check(policy, RequestKind::kHost, "pypi.org:443").decision, Decision::kAsk);
  EXPECT_EQ(check(policy, RequestKind::kSecret, "GITHUB_TOKEN").decision, Decision::kAsk);
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/home/bob/src").decision, Decision::kDeny);
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/root").decision, Decision::kDeny);
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/var").decision, Decision::kDeny);  // holds /var/home
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/proc/1").decision, Decision::kDeny);
  EXPECT_EQ(check(policy, RequestKind::kFile, "/run/docker.sock").decision, Decision::kDeny);
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/run/media/alice/USB").decision, Decision::kAsk);
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/etc/ssl", Access::kRead).decision, Decision::kAsk);
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/etc/ssl", Access::kWrite).decision, Decision::kDeny);
  EXPECT_EQ(check(policy, RequestKind::kFile, "/home/alice/.ssh/config").decision, Decision::kDeny);

  Policy as_root = load_policy({source_file("policies/default.policy")}, PolicyContext{"/root", ""});
  EXPECT_EQ(check(as_root, RequestKind::kFolder, "/root/src").decision, Decision::kAsk);
  EXPECT_EQ(check(as_root, RequestKind::kFolder, "/home/alice/src").decision, Decision::kDeny);
}

TEST(PolicyDefault, UserRulesComeAfterTheShippedOnes) {
  Policy policy = load_policy({source_file("policies/default.policy")}, kContext,
                              {{"profile claude", "[Rule src]\nKind=folder\nMatch=~/src/**\nAccess=write\nDecision=allow\n"}});
  PolicyResult result = check(policy, RequestKind::kFolder, "/home/alice/src/app", Access::kWrite);
  EXPECT_EQ(result.decision, Decision::kAllow);
  EXPECT_EQ(result.reason, "[Rule src] in profile claude");
}

// The example in airlock-policy(5) is a policy that works as it says.
TEST(PolicyDefault, TheManualsExampleParsesAndMeansWhatItSays) {
  std::ifstream man(source_file("man/airlock-policy.5"));
  std::string line;
  std::string example;
  bool inside = false;
  while (std::getline(man, line)) {
    if (line == ".fi") inside = false;
    if (inside) example += line + "\n";
    if (line == ".nf") inside = true;
  }
  ASSERT_THAT(example, HasSubstr("[Rule "));
  Policy policy = make_policy({{"airlock-policy(5)", example}});
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/home/alice/src/app", Access::kWrite).decision, Decision::kAllow);
  EXPECT_EQ(check(policy, RequestKind::kFolder, "/home/alice/src").decision, Decision::kAsk);
  EXPECT_EQ(check(policy, RequestKind::kFile, "/home/alice/src/client-x/notes", Access::kWrite).decision,
            Decision::kAsk);
  EXPECT_EQ(check(policy, RequestKind::kHost, "pypi.org:443", Access::kRead, "claude").decision, Decision::kAllow);
  PolicyResult known_hosts = check(policy, RequestKind::kFile, "/home/alice/.ssh/known_hosts");
  EXPECT_EQ(known_hosts.decision, Decision::kAsk);
  EXPECT_TRUE(known_hosts.dangerous);
}

class PolicyFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/airlock-policy-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  std::string dir_;
};

TEST_F(PolicyFiles, MissingFilesAreSkippedAndLayersKeepTheirOrder) {
  std::string first = write("first.policy", "[Rule a]\nKind=file\nMatch=/srv/x\nDecision=allow\n");
  std::string second = write("second.policy", "[Rule b]\nKind=file\nMatch=/srv/x\nDecision=deny\n");
  Policy policy = load_policy({first, dir_ + "/missing.policy", second}, kContext);
  EXPECT_EQ(policy.rule_count(), 2u);
  PolicyResult result = check(policy, RequestKind::kFile, "/srv/x");
  EXPECT_EQ(result.decision, Decision::kDeny);
  EXPECT_EQ(result.source, second);
}

TEST_F(PolicyFiles, AnUnreadableFileIsAnError) {
  std::filesystem::create_directory(dir_ + "/a-directory.policy");
  try {
    load_policy({dir_ + "/a-directory.policy"}, kContext);
    ADD_FAILURE() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("cannot read policy " + dir_ + "/a-directory.policy"));
  }
}

TEST_F(PolicyFiles, AMalformedFileNamesItself) {
  std::string bad = write("bad.policy", "[Rule a]\nKind=file\n");
  try {
    load_policy({bad}, kContext);
    ADD_FAILURE() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), StartsWith("policy " + bad + ", [Rule a]: no Match key"));
  }
}

TEST(PolicySearchFiles, ShippedThenSystemThenUser) {
  const char* saved = getenv("XDG_CONFIG_HOME");
  std::string saved_value = saved ? saved : "";
  unsetenv("XDG_CONFIG_HOME");
  std::vector<std::string> files = policy_search_files(kHome);
  ASSERT_EQ(files.size(), 3u);
  EXPECT_THAT(files[0], EndsWith("/policies/default.policy"));
  EXPECT_EQ(files[1], "/etc/airlock/airlock.policy");
  EXPECT_EQ(files[2], "/home/alice/.config/airlock/airlock.policy");
  setenv("XDG_CONFIG_HOME", "/home/alice/.cfg", 1);
  EXPECT_EQ(policy_search_files(kHome)[2], "/home/alice/.cfg/airlock/airlock.policy");
  if (saved)
    setenv("XDG_CONFIG_HOME", saved_value.c_str(), 1);
  else
    unsetenv("XDG_CONFIG_HOME");
}

TEST(PolicyNames, RoundTrip) {
  for (RequestKind kind : {RequestKind::kFolder, RequestKind::kFile, RequestKind::kHost, RequestKind::kSecret})
    EXPECT_EQ(parse_request_kind(request_kind_name(kind)), kind);
  for (Access access : {Access::kRead, Access::kWrite}) EXPECT_EQ(parse_access(access_name(access)), access);
  EXPECT_FALSE(parse_request_kind("folders"));
  EXPECT_FALSE(parse_access("rw"));
  EXPECT_STREQ(decision_name(Decision::kAllow), "allow");
  EXPECT_STREQ(decision_name(Decision::kDeny), "deny");
  EXPECT_STREQ(decision_name(Decision::kAsk), "ask");
}

// ---------------------------------------------------------------------------
// A sanity check, not a benchmark: the portal answers policy-only requests at
// thousands per second.

TEST(PolicyPerformance, AHundredThousandEvaluationsTakeWellUnderASecond) {
  Policy policy = load_policy(
      {source_file("policies/default.policy")}, kContext,
      {{"user", "[Rule src]\nKind=folder;file\nMatch=~/src/**;~/work/*/src/**\nAccess=write\nDecision=allow\n"
                "[Rule secrets]\nKind=folder;file\nMatch=~/src/**/secrets/**\nDecision=deny\n"
                "[Rule hosts]\nKind=host\nMatch=*.githubusercontent.com:443;pypi.org:443\nDecision=allow\n"
                "[Rule tokens]\nKind=secret\nMatch=GITHUB_*\nDecision=allow\nProfile=claude\n"}});
  const std::vector<PolicyRequest> requests = {
      {RequestKind::kFolder, "/home/alice/src/airlock", Access::kWrite, "claude"},
      {RequestKind::kFile, "/home/alice/src/airlock/portal/policy.cpp", Access::kRead, "claude"},
      {RequestKind::kFile, "/home/alice/.ssh/id_ed25519", Access::kRead, "claude"},
      {RequestKind::kFolder, "/srv/data/a/b/c/d/e", Access::kRead, "claude"},
      {RequestKind::kHost, "raw.githubusercontent.com:443", Access::kRead, "claude"},
      {RequestKind::kSecret, "GITHUB_TOKEN", Access::kRead, "claude"},
  };
  size_t allowed = 0;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 100000; ++i)
    allowed += policy.evaluate(requests[static_cast<size_t>(i) % requests.size()]).decision == Decision::kAllow;
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_GT(allowed, 0u);
#if defined(__SANITIZE_ADDRESS__)
  // ASan makes every allocation several times dearer; this checks the
  // algorithm, not the instrumentation.
  EXPECT_LT(elapsed, std::chrono::seconds(10));
#else
  EXPECT_LT(elapsed, std::chrono::seconds(2));
#endif
  RecordProperty("microseconds", std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()));
}

}  // namespace
}  // namespace airlock

namespace airlock {
namespace {

// The network proxy lets a forbidden address (loopback, private...) through
// only when a rule names it, port and all, without a wildcard.
TEST(PolicyHosts, KnowsWhetherTheDecidingRuleNamesTheHostItself) {
  Policy policy = one_file(
      "[Rule everything]\nKind=host\nMatch=*\nDecision=allow\n"
      "[Rule dev-server]\nKind=host\nMatch=127.0.0.1:8080;localhost:*;\nDecision=allow\n");
  EXPECT_TRUE(check(policy, RequestKind::kHost, "127.0.0.1:8080").literal);
  EXPECT_FALSE(check(policy, RequestKind::kHost, "localhost:8080").literal) << "a port wildcard is not a name";
  PolicyResult other = check(policy, RequestKind::kHost, "10.0.0.1:80");
  EXPECT_EQ(other.decision, Decision::kAllow);
  EXPECT_FALSE(other.literal) << "Match=* names no address";
}

}  // namespace
}  // namespace airlock

namespace airlock {
namespace {

// ---------------------------------------------------------------------------
// Address ranges, port lists and port ranges

TEST(HostPatternRanges, IPv4Ranges) {
  EXPECT_TRUE(host_pattern_matches("10.0.0.0/8:*", "10.1.2.3:443"));
  EXPECT_TRUE(host_pattern_matches("10.0.0.0/8", "10.255.255.255:1"));
  EXPECT_FALSE(host_pattern_matches("10.0.0.0/8:*", "11.0.0.1:443"));
  EXPECT_FALSE(host_pattern_matches("10.0.0.0/8:*", "9.255.255.255:443"));
  EXPECT_TRUE(host_pattern_matches("192.168.1.0/24:443", "192.168.1.77:443"));
  EXPECT_FALSE(host_pattern_matches("192.168.1.0/24:443", "192.168.1.77:80"));
  EXPECT_FALSE(host_pattern_matches("192.168.1.0/24:443", "192.168.2.1:443"));
  EXPECT_TRUE(host_pattern_matches("172.16.0.0/12", "172.31.0.1:22"));
  EXPECT_FALSE(host_pattern_matches("172.16.0.0/12", "172.32.0.1:22"));
  EXPECT_TRUE(host_pattern_matches("0.0.0.0/0", "203.0.113.9:80"));
  EXPECT_TRUE(host_pattern_matches("203.0.113.9/32", "203.0.113.9:80"));
  EXPECT_FALSE(host_pattern_matches("203.0.113.9/32", "203.0.113.8:80"));
}

TEST(HostPatternRanges, IPv6Ranges) {
  EXPECT_TRUE(host_pattern_matches("[fd00::]/8:*", "[fd12:3456::1]:443"));
  EXPECT_FALSE(host_pattern_matches("[fd00::]/8:*", "[fe80::1]:443"));
  EXPECT_TRUE(host_pattern_matches("[2001:db8::]/32:80", "[2001:DB8:ffff::1]:80"));
  EXPECT_FALSE(host_pattern_matches("[2001:db8::]/32:80", "[2001:db8::1]:443"));
  EXPECT_FALSE(host_pattern_matches("[2001:db8::]/32", "[2001:db9::1]:80"));
  EXPECT_TRUE(host_pattern_matches("[2001:db8::]/32", "[2001:0db8:0000::0001]:80")) << "by value, not by text";
  EXPECT_TRUE(host_pattern_matches("[::]/0", "[::1]:80"));
  EXPECT_TRUE(host_pattern_matches("[fe80::]/10", "[febf::1]:80"));
  EXPECT_FALSE(host_pattern_matches("[fe80::]/10", "[fec0::1]:80"));
}

TEST(HostPatternRanges, RangesMatchAddressesAndNeverNames) {
  EXPECT_FALSE(host_pattern_matches("0.0.0.0/0", "example.com:443"));
  EXPECT_FALSE(host_pattern_matches("127.0.0.0/8", "localhost:80"));
  EXPECT_FALSE(host_pattern_matches("[::]/0", "example.com:443"));
  EXPECT_FALSE(host_pattern_matches("10.0.0.0/8", "10.0.0.1.example.com:443"));
  // Not addresses to inet_pton(3), so names, which a range does not match.
  EXPECT_FALSE(host_pattern_matches("10.0.0.0/8", "010.0.0.1:443"));
  EXPECT_FALSE(host_pattern_matches("0.0.0.0/0", "10.1:443"));
  // The families stay apart: an IPv6 range does not match an IPv4 address.
  EXPECT_FALSE(host_pattern_matches("[::]/0", "10.0.0.1:443"));
  EXPECT_FALSE(host_pattern_matches("0.0.0.0/0", "[2001:db8::1]:443"));
}

TEST(HostPatternRanges, AnIPv4MappedAddressIsTheIPv4Address) {
  EXPECT_TRUE(host_pattern_matches("10.0.0.0/8:*", "[::ffff:10.1.2.3]:443"));
  EXPECT_TRUE(host_pattern_matches("10.0.0.0/8:*", "[::FFFF:a01:203]:443"));
  EXPECT_FALSE(host_pattern_matches("10.0.0.0/8:*", "[::ffff:11.1.2.3]:443"));
  EXPECT_TRUE(host_pattern_matches("10.1.2.3", "[::ffff:10.1.2.3]:443")) << "a deny rule must not be bypassed";
  EXPECT_TRUE(host_pattern_matches("10.0.0.*", "[::ffff:10.0.0.7]:443"));
  EXPECT_FALSE(host_pattern_matches("[::]/0", "[::ffff:10.1.2.3]:443")) << "it is IPv4, not IPv6";
  // A mapped pattern is the IPv4 pattern.
  EXPECT_TRUE(host_pattern_matches("[::ffff:10.0.0.0]/104", "10.9.9.9:80"));
  EXPECT_TRUE(host_pattern_matches("[::ffff:0:0]/96", "203.0.113.9:80"));
  EXPECT_TRUE(host_pattern_matches("[::ffff:10.1.2.3]:443", "10.1.2.3:443"));
  // Neither the deprecated IPv4-compatible form nor NAT64 is mapped.
  EXPECT_FALSE(host_pattern_matches("10.0.0.0/8", "[::10.1.2.3]:443"));
  EXPECT_FALSE(host_pattern_matches("10.0.0.0/8", "[64:ff9b::10.1.2.3]:443"));
}

TEST(HostPatternRanges, SingleAddressesStillMatch) {
  EXPECT_TRUE(host_pattern_matches("169.254.169.254", "169.254.169.254:80"));
  EXPECT_FALSE(host_pattern_matches("169.254.169.254", "169.254.169.253:80"));
  EXPECT_TRUE(host_pattern_matches("127.0.0.1:8080", "127.0.0.1:8080"));
  EXPECT_FALSE(host_pattern_matches("127.0.0.1:8080", "127.0.0.1:8081"));
  EXPECT_TRUE(host_pattern_matches("[::1]:8080", "[0:0::1]:8080"));
  EXPECT_TRUE(host_pattern_matches("[2001:DB8::1]", "[2001:db8:0:0:0:0:0:1]:443"));
  EXPECT_FALSE(host_pattern_matches("127.0.0.1", "localhost:80")) << "a name is not its addresses";
}

TEST(HostPatternRanges, PortListsAndRanges) {
  EXPECT_TRUE(host_pattern_matches("pypi.org:80,443", "pypi.org:80"));
  EXPECT_TRUE(host_pattern_matches("pypi.org:80,443", "pypi.org:443"));
  EXPECT_FALSE(host_pattern_matches("pypi.org:80,443", "pypi.org:8080"));
  EXPECT_TRUE(host_pattern_matches("localhost:8000-8999", "localhost:8000"));
  EXPECT_TRUE(host_pattern_matches("localhost:8000-8999", "localhost:8999"));
  EXPECT_FALSE(host_pattern_matches("localhost:8000-8999", "localhost:7999"));
  EXPECT_FALSE(host_pattern_matches("localhost:8000-8999", "localhost:9000"));
  EXPECT_TRUE(host_pattern_matches("*.example.com:80,443", "api.example.com:443"));
  EXPECT_FALSE(host_pattern_matches("*.example.com:80,443", "api.example.com:22"));
  EXPECT_FALSE(host_pattern_matches("*.example.com:80,443", "example.com:443"));
  EXPECT_TRUE(host_pattern_matches("x.org:22,80,8000-8100,443", "x.org:8050"));
  EXPECT_TRUE(host_pattern_matches("x.org:1-65535", "x.org:1"));
  EXPECT_TRUE(host_pattern_matches("x.org:443-443", "x.org:443"));
  EXPECT_TRUE(host_pattern_matches("10.0.0.0/8:80,443", "10.0.0.1:443"));
  EXPECT_FALSE(host_pattern_matches("10.0.0.0/8:80,443", "10.0.0.1:22"));
  EXPECT_TRUE(host_pattern_matches("[fd00::]/8:8000-8999", "[fd00::5]:8443"));
  EXPECT_FALSE(host_pattern_matches("[fd00::]/8:8000-8999", "[fd00::5]:443"));
  EXPECT_TRUE(host_pattern_matches("*:80,443", "anything.org:80"));
  std::string many = "x.org:1";
  for (int port = 2; port <= 32; ++port) many += "," + std::to_string(port);
  EXPECT_TRUE(host_pattern_matches(many, "x.org:32"));
}

TEST(HostPatternRanges, RejectsMalformedRangesAndListsWithWhatToWrite) {
  EXPECT_THAT(host_pattern_error("10.0.0.0/33"), HasSubstr("prefix length that is not a number from 0 to 32"));
  EXPECT_THAT(host_pattern_error("[fd00::]/129"), HasSubstr("from 0 to 128"));
  EXPECT_THAT(host_pattern_error("10.0.0.0/"), HasSubstr("prefix length"));
  EXPECT_THAT(host_pattern_error("10.0.0.0/08"), HasSubstr("prefix length"));
  EXPECT_THAT(host_pattern_error("10.0.0.0/x:443"), HasSubstr("prefix length"));
  EXPECT_THAT(host_pattern_error("10.1.2.3/8"), HasSubstr("has bits set past its /8 prefix: write 10.0.0.0/8 for the "
                                                          "range it falls in, or leave out /8 for the one address"));
  EXPECT_THAT(host_pattern_error("192.168.1.0/16:443"), HasSubstr("write 192.168.0.0/16"));
  EXPECT_THAT(host_pattern_error("[fd00::1]/8"), HasSubstr("write [fd00::]/8"));
  EXPECT_THAT(host_pattern_error("[::ffff:10.1.2.3]/104"), HasSubstr("write 10.0.0.0/8"));
  EXPECT_THAT(host_pattern_error("[fd00::/8]"), HasSubstr("inside the brackets: write [fd00::]/8"));
  EXPECT_THAT(host_pattern_error("example.com/24"), HasSubstr("'/' after something that is not an IPv4 address"));
  EXPECT_THAT(host_pattern_error("10.0.0/8"), HasSubstr("'/'"));
  EXPECT_THAT(host_pattern_error("10.0.0.*/8"), HasSubstr("'/'"));
  EXPECT_THAT(host_pattern_error("[fd00::zz]/8"), HasSubstr("not an IPv6 address in brackets"));
  EXPECT_THAT(host_pattern_error("[1:2:3]"), HasSubstr("not an IPv6 address in brackets"));
  EXPECT_THAT(host_pattern_error("[]:443"), HasSubstr("no address between its brackets"));
  EXPECT_THAT(host_pattern_error("[fd00::]/8x"), HasSubstr("prefix length"));
  EXPECT_THAT(host_pattern_error("[fd00::]x"), HasSubstr("not /PREFIX or :PORT"));

  EXPECT_THAT(host_pattern_error("x.org:9000-8000"),
              HasSubstr("has a port range that ends before it starts ('9000-8000'): write 8000-9000"));
  EXPECT_THAT(host_pattern_error("x.org:0-80"), HasSubstr("has a port '0-80' that is not a number from 1 to 65535"));
  EXPECT_THAT(host_pattern_error("x.org:80,0"), HasSubstr("has a port '0' that is not a number"));
  EXPECT_THAT(host_pattern_error("x.org:80,65536"), HasSubstr("'65536'"));
  EXPECT_THAT(host_pattern_error("x.org:80,,443"), HasSubstr("empty item in its port list"));
  EXPECT_THAT(host_pattern_error("x.org:80,"), HasSubstr("empty item in its port list"));
  EXPECT_THAT(host_pattern_error("x.org:,80"), HasSubstr("empty item in its port list"));
  EXPECT_THAT(host_pattern_error("x.org:80,*"), HasSubstr("'*' alone means every port, write x.org:*"));
  EXPECT_THAT(host_pattern_error("x.org:80-"), HasSubstr("has a port '80-'"));
  EXPECT_THAT(host_pattern_error("x.org:80-90-100"), HasSubstr("has a port '80-90-100'"));
  EXPECT_THAT(host_pattern_error("x.org:80, 443"), HasSubstr("has a port ' 443'"));
  EXPECT_THAT(host_pattern_error("x.org:"), HasSubstr("has no port after ':'"));
  std::string many = "x.org:1";
  for (int port = 2; port <= 33; ++port) many += "," + std::to_string(port);
  EXPECT_THAT(host_pattern_error(many), HasSubstr("more than 32 ports in its list"));
  // Every message says what to write.
  EXPECT_THAT(host_pattern_error("x.org:0"),
              HasSubstr("write one port (443), a list (80,443), a range (8000-8999) or '*'"));

  // In a file: the file, the group and the key, as for every mistake.
  EXPECT_THAT(error_of("[Rule lan]\nKind=host\nMatch=192.168.1.1/24:443\nDecision=allow\n"),
              AllOf(StartsWith("policy test.policy, [Rule lan] Match: '192.168.1.1/24:443' has bits set"),
                    EndsWith("(see airlock-policy(5))")));
  EXPECT_THAT(error_of("[Rule dev]\nKind=host\nMatch=localhost:9000-8000\nDecision=allow\n"),
              StartsWith("policy test.policy, [Rule dev] Match: 'localhost:9000-8000' has a port range"));
}

TEST(HostPatternRanges, ResourcesInBracketsMustBeIPv6Addresses) {
  Policy policy = one_file("[Rule hosts]\nKind=host\nMatch=*\nDecision=allow\n");
  for (const std::string& host : std::vector<std::string>{"[1:2:3]:443", "[::1%eth0]:443", "[10.0.0.1]:443", "[]:443",
                                                         "[::1]x:443"}) {
    PolicyResult result = check(policy, RequestKind::kHost, host);
    EXPECT_EQ(result.decision, Decision::kDeny) << host;
    EXPECT_THAT(result.reason, HasSubstr("not a HOST:PORT"));
  }
  EXPECT_EQ(check(policy, RequestKind::kHost, "[::ffff:10.0.0.1]:443").decision, Decision::kAllow);
}

TEST(HostPatternRanges, RulesWithRangesDecide) {
  Policy policy = one_file(
      "[Rule lan]\nKind=host\nMatch=10.0.0.0/8:*;[fd00::]/8:*;\nDecision=deny\n"
      "[Rule build-farm]\nKind=host\nMatch=10.1.0.0/16:22,443\nDecision=allow\n"
      "[Rule dev]\nKind=host\nMatch=localhost:8000-8999\nDecision=allow\n");
  EXPECT_EQ(check(policy, RequestKind::kHost, "10.2.0.1:443").decision, Decision::kDeny);
  EXPECT_EQ(check(policy, RequestKind::kHost, "[::ffff:10.2.0.1]:443").decision, Decision::kDeny);
  EXPECT_EQ(check(policy, RequestKind::kHost, "[fd00::1]:443").decision, Decision::kDeny);
  PolicyResult farm = check(policy, RequestKind::kHost, "10.1.2.3:22");
  EXPECT_EQ(farm.decision, Decision::kAllow);
  EXPECT_EQ(farm.rule, "build-farm");
  EXPECT_EQ(check(policy, RequestKind::kHost, "10.1.2.3:80").decision, Decision::kDeny);
  EXPECT_EQ(check(policy, RequestKind::kHost, "localhost:8080").decision, Decision::kAllow);
  EXPECT_EQ(check(policy, RequestKind::kHost, "localhost:9000").decision, Decision::kAsk);
  EXPECT_EQ(check(policy, RequestKind::kHost, "intranet.example:443").decision, Decision::kAsk)
      << "a name is not matched by a range, whatever it resolves to";
}

// Only one host or address with one port names what it grants: a range of
// addresses, a list or a range of ports does not, so the network proxy
// does not open a loopback or private address on its strength.
TEST(HostPatternRanges, OnlyOneAddressWithOnePortIsLiteral) {
  Policy policy = one_file(
      "[Rule ranges]\nKind=host\n"
      "Match=10.0.0.0/8:443;10.0.0.9/32:443;[fd00::]/8:443;[fd00::9]/128:443;localhost:80,443;localhost:8000-8999;"
      "x.org:443-443;127.0.0.1:80,443;\nDecision=allow\n"
      "[Rule one]\nKind=host\nMatch=10.0.0.1:443;[fd00::1]:443;[::ffff:10.0.0.2]:443;dev.local:8080\nDecision=allow\n");
  for (const char* host : {"10.0.0.1:443", "[fd00::1]:443", "[0:0:0:0:0:ffff:a00:1]:443", "10.0.0.2:443",
                                  "[::ffff:10.0.0.2]:443", "dev.local:8080"}) {
    PolicyResult result = check(policy, RequestKind::kHost, host);
    EXPECT_EQ(result.decision, Decision::kAllow) << host;
    EXPECT_EQ(result.rule, "one") << host;
    EXPECT_TRUE(result.literal) << host;
  }
  for (const char* host : {"10.0.0.7:443", "10.0.0.9:443", "[fd00::7]:443", "[fd00::9]:443", "localhost:443",
                                  "localhost:8080", "x.org:443", "127.0.0.1:80"}) {
    PolicyResult result = check(policy, RequestKind::kHost, host);
    EXPECT_EQ(result.decision, Decision::kAllow) << host;
    EXPECT_EQ(result.rule, "ranges") << host;
    EXPECT_FALSE(result.literal) << host;
  }
}

}  // namespace
}  // namespace airlock

namespace airlock {
namespace {

// The resolver reads these as addresses (inet_aton(3)) and connects to them
// without DNS; as names they would walk around every range.
TEST(HostPatternRanges, NumbersTheResolverReadsAsAddressesAreRefused) {
  Policy policy = one_file("[Rule hosts]\nKind=host\nMatch=*\nDecision=allow\n");
  for (const char* host : {"127.1:80", "010.0.0.1:80", "0x7f000001:80", "2130706433:80", "0x7f.1:80", "10.1.1:80"}) {
    PolicyResult result = check(policy, RequestKind::kHost, host);
    EXPECT_EQ(result.decision, Decision::kDeny) << host;
    EXPECT_THAT(result.reason, HasSubstr("not a HOST:PORT")) << host;
  }
  for (const char* host : {"1password.com:443", "123.example:443", "0x.example:443", "a.0x7f:443"})
    EXPECT_EQ(check(policy, RequestKind::kHost, host).decision, Decision::kAllow) << host;
}

}  // namespace
}  // namespace airlock

namespace airlock {
namespace {

// The host rules of the example in airlock-policy(5) mean what it says.
TEST(HostPatternRanges, TheManualsHostExamplesMeanWhatTheySay) {
  std::ifstream man(source_file("man/airlock-policy.5"));
  std::string line;
  std::string example;
  bool inside = false;
  while (std::getline(man, line)) {
    if (line == ".fi") inside = false;
    if (inside) example += line + "\n";
    if (line == ".nf") inside = true;
  }
  Policy policy = make_policy({{"airlock-policy(5)", example}});
  EXPECT_EQ(check(policy, RequestKind::kHost, "github.com:22").decision, Decision::kAllow);
  EXPECT_EQ(check(policy, RequestKind::kHost, "github.com:443").decision, Decision::kAllow);
  EXPECT_EQ(check(policy, RequestKind::kHost, "github.com:80").decision, Decision::kAsk);
  EXPECT_EQ(check(policy, RequestKind::kHost, "raw.githubusercontent.com:443").decision, Decision::kAllow);
  PolicyResult office = check(policy, RequestKind::kHost, "10.20.30.40:8080");
  EXPECT_EQ(office.decision, Decision::kAsk);
  EXPECT_EQ(office.rule, "office-network");
  EXPECT_EQ(check(policy, RequestKind::kHost, "[fd00::1]:22").rule, "office-network");
  EXPECT_EQ(check(policy, RequestKind::kHost, "[::ffff:10.0.0.1]:443").rule, "office-network");
}

}  // namespace
}  // namespace airlock
