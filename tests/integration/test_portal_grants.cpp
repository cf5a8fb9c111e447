// Run-time grants through the portal, as issue 3 lists them: a person's
// answer (the scripted prompter) mounts the folder in the running sandbox
// at its host path, with the access asked for; a revoke takes it away; a
// task grant ends with the session; an always-grant returns in the next
// session of the profile until it is forgotten.
#include <gtest/gtest.h>

#include "portal_fixture.h"

namespace airlock::test {
namespace {

using PortalGrants = PortalTest;

TEST_F(PortalGrants, ApprovedReadOnlyFolderAppearsAndRevokeTakesItAway) {
  auto prompt = prompter({"--answer=allow", "--scope=task", "--count=1"});
  const std::string e = exchange_;
  auto agent = start_agent({}, "ls " + project_ + " > " + e + "/invisible 2>&1;"
                               "airlock-request folder " + project_ + " --reason 'to read the docs' > " + e +
                               "/granted 2> " + e + "/err; echo $? > " + e + "/rc;"
                               "cat " + project_ + "/README > " + e + "/before 2>&1;"
                               "touch " + project_ + "/new 2> " + e + "/write-error;"
                               "echo > " + e + "/ready; while [ ! -e " + e + "/go ]; do sleep 0.05; done;"
                               "ls -A " + project_ + " > " + e + "/after 2>&1;"
                               "airlock-request folder " + project_ + " 2> " + e + "/again; echo $? >> " + e + "/again;"
                               "echo > " + e + "/done");
  ASSERT_TRUE(wait_for_file(e + "/ready")) << agent->err();
  EXPECT_NE(Scratch::read_file(e + "/invisible").find("No such file"), std::string::npos);
  EXPECT_EQ(Scratch::read_file(e + "/rc"), "0\n") << Scratch::read_file(e + "/err");
  EXPECT_EQ(Scratch::read_file(e + "/granted"), project_ + "\n");
  EXPECT_EQ(Scratch::read_file(e + "/before"), "project readme\n");
  EXPECT_NE(Scratch::read_file(e + "/write-error").find("Read-only file system"), std::string::npos);
  EXPECT_FALSE(Scratch::exists(project_ + "/new"));

  auto grants = manager_list("ListGrants", g_variant_new("(s)", ""));
  ASSERT_EQ(grants.size(), 1u);
  EXPECT_EQ(grants[0]["resource"], project_);
  EXPECT_EQ(grants[0]["access"], "read");
  EXPECT_EQ(grants[0]["scope"], "task");
  EXPECT_EQ(grants[0]["decided-by"], "person");
  Result revoke = airlock({"revoke", grants[0]["session"], grants[0]["id"]}, options());
  EXPECT_EQ(revoke.status, 0) << revoke.err;

  Scratch::write_file(e + "/go", "");
  ASSERT_TRUE(wait_for_file(e + "/done"));
  EXPECT_EQ(Scratch::read_file(e + "/after").find("README"), std::string::npos) << Scratch::read_file(e + "/after");
  // The revoke sticks: the task answer no longer grants it; the person is
  // asked again (and nobody is there to answer now).
  EXPECT_NE(Scratch::read_file(e + "/again").find("nobody can answer"), std::string::npos)
      << Scratch::read_file(e + "/again");
  EXPECT_EQ(agent->wait(), 0) << agent->err();
  EXPECT_TRUE(manager_list("ListGrants", g_variant_new("(s)", "")).empty());
  EXPECT_EQ(prompt->wait(), 0) << prompt->err();
}

TEST_F(PortalGrants, ReadWriteFolderAndFileGrants) {
  std::string notes = scratch_.path("notes.txt");
  Scratch::write_file(notes, "a file of its own\n");
  auto prompt = prompter({"--answer=allow", "--scope=once", "--count=2"});
  Result result = run_agent({}, "airlock-request folder --rw " + project_ + " && echo made-inside > " + project_ +
                                    "/new && airlock-request file " + notes + " && cat " + notes + " && ls " +
                                    scratch_.dir());
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(Scratch::read_file(project_ + "/new"), "made-inside\n");
  EXPECT_NE(result.out.find("a file of its own"), std::string::npos);
  // The file came alone: its folder's other entries stay hidden.
  EXPECT_EQ(result.out.find("services"), std::string::npos) << result.out;
}

TEST_F(PortalGrants, TaskGrantEndsWithTheSession) {
  auto prompt = prompter({"--answer=allow", "--scope=task", "--count=1"});
  Result first = run_agent({}, "airlock-request folder " + project_ + " && cat " + project_ + "/README");
  ASSERT_EQ(first.status, 0) << first.err;
  EXPECT_TRUE(manager_list("ListGrants", g_variant_new("(s)", "")).empty());
  // The next session of the same profile is asked again: with nobody to
  // ask, it is denied.
  Result second = run_agent({"--prompt=none"}, "ls " + project_ + "; airlock-request folder " + project_);
  EXPECT_EQ(second.status, 1) << second.err;
  EXPECT_NE(second.err.find("No such file"), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("--prompt=none"), std::string::npos) << second.err;
}

TEST_F(PortalGrants, AlwaysGrantReturnsInTheNextSessionUntilForgotten) {
  auto prompt = prompter({"--answer=allow", "--scope=always", "--count=1"});
  Result first = run_agent({}, "airlock-request folder " + project_);
  ASSERT_EQ(first.status, 0) << first.err;
  ASSERT_EQ(prompt->wait(), 0) << prompt->err();

  // Mounted before the agent starts, without asking anyone.
  Result second = run_agent({"--prompt=none"}, "cat " + project_ + "/README && airlock-request grants");
  ASSERT_EQ(second.status, 0) << second.err;
  EXPECT_NE(second.out.find("project readme"), std::string::npos);
  EXPECT_NE(second.out.find("always"), std::string::npos) << second.out;

  auto always = manager_list("ListAlways");
  ASSERT_EQ(always.size(), 1u);
  EXPECT_EQ(always[0]["resource"], project_);
  EXPECT_EQ(always[0]["profile"], "default");
  Result forget = airlock({"forget", always[0]["id"]}, options());
  EXPECT_EQ(forget.status, 0) << forget.err;
  EXPECT_TRUE(manager_list("ListAlways").empty());

  Result third = run_agent({"--prompt=none"}, "ls " + project_);
  EXPECT_NE(third.status, 0);
  EXPECT_NE(third.err.find("No such file"), std::string::npos) << third.err;
}

TEST_F(PortalGrants, AnAlwaysGrantStaysWithItsProfile) {
  auto prompt = prompter({"--answer=allow", "--scope=always", "--count=1"});
  ASSERT_EQ(run_agent({"--profile=shell"}, "airlock-request folder " + project_).status, 0);
  Result other = run_agent({"--prompt=none"}, "ls " + project_);
  EXPECT_NE(other.status, 0) << "an always-grant of the shell profile reached a session of another profile";
}

}  // namespace
}  // namespace airlock::test
