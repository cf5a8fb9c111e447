// `airlock policy check`: the policy's answer and the rule behind it, for a
// person writing a policy; nobody is asked and nothing is granted.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "sandbox_runner.h"

namespace airlock::test {
namespace {

class PolicyCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    project_ = scratch_.path("project");
    ASSERT_EQ(mkdir(project_.c_str(), 0755), 0);
    std::string config = scratch_.home() + "/.config/airlock";
    ASSERT_EQ(system(("mkdir -p '" + config + "'").c_str()), 0);
    Scratch::write_file(config + "/airlock.policy",
                        "[Rule projects]\nKind=folder;\nMatch=" + project_ + "/**;\nAccess=write\nDecision=allow\n"
                        "[Rule no-example]\nKind=host\nMatch=*.example.com\nDecision=deny\n"
                        "[Rule everything-at-home]\nKind=folder;file;\nMatch=~/**;\nDecision=allow\n");
    options_ = scratch_.options();
    options_.env["XDG_CONFIG_HOME"] = scratch_.home() + "/.config";
  }
  Result check(std::vector<std::string> args) {
    args.insert(args.begin(), {"policy", "check"});
    return airlock(args, options_);
  }
  Scratch scratch_;
  std::string project_;
  Options options_;
};

TEST_F(PolicyCheck, AnAllowRuleAndItsName) {
  Result result = check({"--write", "folder", project_});
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.out.find("folder " + project_ + " (write): allow"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("[Rule projects]"), std::string::npos) << result.out;
}

TEST_F(PolicyCheck, TheDenyListWinsOverAnAllowRule) {
  Result result = check({"folder", scratch_.home() + "/.ssh"});
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.out.find(": deny"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("built-in deny list: ~/.ssh"), std::string::npos) << result.out;
}

TEST_F(PolicyCheck, TheShippedDefaultPolicyIsRead) {
  Result result = check({"folder", "/proc"});
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.out.find("folder /proc (read): deny"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("[Rule kernel-devices-sockets]"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("default.policy"), std::string::npos) << result.out;
}

TEST_F(PolicyCheck, HostsAreCheckedAsHostAndPort) {
  Result denied = check({"host", "API.Example.com:443"});
  EXPECT_NE(denied.out.find("host api.example.com:443: deny"), std::string::npos) << denied.out;
  Result no_port = check({"host", "api.example.com"});
  EXPECT_EQ(no_port.status, 125);
  EXPECT_NE(no_port.err.find("give HOST:PORT"), std::string::npos) << no_port.err;
}

TEST_F(PolicyCheck, AProfilesRulesComeLast) {
  std::string profile = scratch_.path("agent.profile");
  Scratch::write_file(profile, "[Profile]\nDescription=test\n"
                               "[Rule agent-may-not-see-project]\nKind=folder\nMatch=" + project_ + "/**\n"
                               "Decision=deny\n");
  Result with_profile = check({"--write", "--profile", profile, "folder", project_});
  EXPECT_EQ(with_profile.status, 0) << with_profile.err;
  EXPECT_NE(with_profile.out.find("(write, profile agent): deny"), std::string::npos) << with_profile.out;
  EXPECT_NE(with_profile.out.find("[Rule agent-may-not-see-project] in profile " + profile), std::string::npos)
      << with_profile.out;
  Result without = check({"--write", "folder", project_});
  EXPECT_NE(without.out.find(": allow"), std::string::npos) << without.out;
  Result unknown = check({"--profile", "no-such-agent", "folder", project_});
  EXPECT_EQ(unknown.status, 125);
  EXPECT_NE(unknown.err.find("unknown profile"), std::string::npos) << unknown.err;
}

TEST_F(PolicyCheck, BadInputIsRefusedWithWhatToDo) {
  Result kind = check({"socket", "/tmp"});
  EXPECT_EQ(kind.status, 125);
  EXPECT_NE(kind.err.find("use folder, file, host or secret"), std::string::npos) << kind.err;
  Result missing = check({"folder", scratch_.path("nowhere")});
  EXPECT_EQ(missing.status, 125);
  EXPECT_NE(missing.err.find("does not exist"), std::string::npos) << missing.err;
  Result wrong_kind = check({"file", project_});
  EXPECT_EQ(wrong_kind.status, 125);
  EXPECT_NE(wrong_kind.err.find("is a folder"), std::string::npos) << wrong_kind.err;

  std::string broken = scratch_.home() + "/.config/airlock/airlock.policy";
  Scratch::write_file(broken, "[Rule x]\nKind=folder\nMatch=/tmp/**\nDecision=perhaps\n");
  Result malformed = check({"folder", project_});
  EXPECT_EQ(malformed.status, 125);
  EXPECT_NE(malformed.err.find("[Rule x] Decision"), std::string::npos) << malformed.err;
}

}  // namespace
}  // namespace airlock::test
