// Launch grants: --ro and --rw go through the supervisor's mount injection
// and appear at their host paths, with the access asked for and no more.
#include <gtest/gtest.h>
#include <unistd.h>

#include "sandbox_runner.h"

namespace airlock::test {
namespace {

class Grants : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_IF_ROOT();
    project_ = scratch_.path("project");
    ASSERT_EQ(mkdir(project_.c_str(), 0755), 0);
    Scratch::write_file(project_ + "/README", "project readme\n");
  }
  Result sh(std::vector<std::string> options_then_script) {
    std::string script = options_then_script.back();
    options_then_script.pop_back();
    std::vector<std::string> args = {"run"};
    args.insert(args.end(), options_then_script.begin(), options_then_script.end());
    args.insert(args.end(), {"--", "/bin/sh", "-c", script});
    return airlock(args, scratch_.options());
  }
  Scratch scratch_;
  std::string project_;
};

TEST_F(Grants, ReadOnlyIsReadableAndNotWritable) {
  Result result = sh({"--ro", project_,
                      "cat '" + project_ + "/README'; echo new > '" + project_ + "/new' && echo WROTE;"
                      "rm '" + project_ + "/README' && echo REMOVED; grep ' " + project_ + " ' /proc/self/mounts"});
  EXPECT_NE(result.out.find("project readme"), std::string::npos) << result.err;
  EXPECT_EQ(result.out.find("WROTE"), std::string::npos);
  EXPECT_EQ(result.out.find("REMOVED"), std::string::npos);
  EXPECT_NE(result.out.find(" ro,"), std::string::npos) << result.out;
  EXPECT_FALSE(Scratch::exists(project_ + "/new"));
  EXPECT_TRUE(Scratch::exists(project_ + "/README"));
}

TEST_F(Grants, ReadWriteIsWritableAndReachesTheHost) {
  Result result = sh({"--rw", project_, "echo made-inside > '" + project_ + "/new' && echo WROTE"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.out.find("WROTE"), std::string::npos);
  EXPECT_EQ(Scratch::read_file(project_ + "/new"), "made-inside\n");
}

TEST_F(Grants, GrantedFileAppearsAlone) {
  std::string other = scratch_.path("other.txt");
  Scratch::write_file(other, "beside\n");
  Result result = sh({"--ro", project_ + "/README", "cat '" + project_ + "/README'; ls '" + scratch_.dir() + "'"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.out.find("project readme"), std::string::npos);
  EXPECT_EQ(result.out.find("other.txt"), std::string::npos);
}

TEST_F(Grants, SymlinkInsideGrantCannotOpenSshKeys) {
  ASSERT_EQ(symlink((scratch_.home() + "/.ssh").c_str(), (project_ + "/keys").c_str()), 0);
  Result result = sh({"--rw", project_, "cat '" + project_ + "/keys/id_ed25519' && echo READ-KEY"});
  EXPECT_NE(result.status, 0);
  EXPECT_EQ(result.out.find("PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(result.out.find("READ-KEY"), std::string::npos);
}

TEST_F(Grants, SymlinkAsGrantIsResolvedAndChecked) {
  std::string link = scratch_.path("project-link");
  ASSERT_EQ(symlink(project_.c_str(), link.c_str()), 0);
  Result result = sh({"--ro", link, "cat '" + project_ + "/README'"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.out.find("project readme"), std::string::npos);

  // A symlink to ~/.ssh does not widen a grant into it.
  std::string ssh_link = scratch_.path("innocent");
  ASSERT_EQ(symlink((scratch_.home() + "/.ssh").c_str(), ssh_link.c_str()), 0);
  Result denied = sh({"--ro", ssh_link, "echo STARTED"});
  EXPECT_EQ(denied.status, 125);
  EXPECT_NE(denied.err.find("airlock: cannot grant"), std::string::npos) << denied.err;
  EXPECT_NE(denied.err.find(".ssh"), std::string::npos) << denied.err;
  EXPECT_EQ(denied.out.find("STARTED"), std::string::npos);
}

TEST_F(Grants, NestedGrantsKeepTheirOwnModes) {
  std::string inner = project_ + "/build";
  ASSERT_EQ(mkdir(inner.c_str(), 0755), 0);
  Result result = sh({"--ro", project_, "--rw", inner,
                      "echo a > '" + inner + "/out' && echo INNER-WROTE; echo b > '" + project_ + "/x' || echo OUTER-RO"});
  EXPECT_NE(result.out.find("INNER-WROTE"), std::string::npos) << result.err;
  EXPECT_NE(result.out.find("OUTER-RO"), std::string::npos);
}

TEST_F(Grants, WorkingDirectoryFollowsIntoAGrant) {
  Options options = scratch_.options();
  options.cwd = project_;
  Result result = airlock({"run", "--ro", ".", "--", "/bin/sh", "-c", "pwd; cat README"}, options);
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, project_ + "\nproject readme\n");
}

TEST_F(Grants, ProfileStateFolderIsCreatedAndWritable) {
  std::string profile = scratch_.path("agent.profile");
  Scratch::write_file(profile, "[Profile]\nDescription=test\n[Filesystem]\nState=~/.agent-state/;\n");
  Result result = sh({"--profile", profile, "echo remembered > \"$HOME/.agent-state/memory\""});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(Scratch::read_file(scratch_.home() + "/.agent-state/memory"), "remembered\n");
}

TEST_F(Grants, CommandInstalledOutsideTheRuntimeIsVisibleReadOnlyAndNothingElse) {
  // As an npm global install under ~/.npm-global would be.
  std::string package = scratch_.home() + "/.npm-global/lib/node_modules/fake-agent";
  std::string bin = scratch_.home() + "/.npm-global/bin";
  ASSERT_EQ(system(("mkdir -p '" + package + "' '" + bin + "'").c_str()), 0);
  Scratch::write_file(package + "/cli.sh", "#!/bin/sh\necho agent-ran; ls -A \"$HOME\"; touch \"$0.tampered\" || echo RO\n");
  Scratch::write_file(scratch_.home() + "/.npm-global/lib/node_modules/neighbour", "x");
  ASSERT_EQ(chmod((package + "/cli.sh").c_str(), 0755), 0);
  ASSERT_EQ(symlink("../lib/node_modules/fake-agent/cli.sh", (bin + "/fake-agent").c_str()), 0);
  Options options = scratch_.options();
  options.env["PATH"] = bin + ":/usr/bin:/bin";
  Result result = airlock({"run", "--", "fake-agent"}, options);
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.out.find("agent-ran"), std::string::npos);
  EXPECT_NE(result.out.find("RO"), std::string::npos);
  EXPECT_EQ(result.out.find("notes.txt"), std::string::npos);
  EXPECT_EQ(result.out.find(".ssh"), std::string::npos);
  Result listing = airlock({"run", "--", "/bin/sh", "-c",
                            "ls " + scratch_.home() + "/.npm-global/lib/node_modules 2>&1"}, options);
  EXPECT_EQ(listing.out.find("neighbour"), std::string::npos) << listing.out;
}

}  // namespace
}  // namespace airlock::test
