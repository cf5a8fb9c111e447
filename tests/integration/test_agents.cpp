// The shipped profiles with the real agents, installed from npm into
// ~/.npm-global of the person running the tests (./setup.sh test does it):
// each prints its version in the sandbox, gets as far as asking for a login
// or an API key on a terminal, and sees nothing of $HOME but what its
// profile grants. The sandbox has no network, so nothing here logs in.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "profile.h"
#include "sandbox_runner.h"
#include "terminal.h"

namespace airlock::test {
namespace {

using namespace std::chrono_literals;

// The agents are slow to start on two cores, slower still when they first
// wait for a network that is not there.
constexpr auto kScreenTimeout = 60s;

// Wait for any of SCREEN (case-insensitive), then type each of KEYS.
struct Step {
  std::vector<std::string> screen;
  std::vector<std::string> keys;
};

struct Agent {
  const char* test_name;            // "ClaudeCode"
  const char* profile;              // its profile, which names its command
  const char* package;              // on npm
  bool optional = false;            // skipped, with the reason, when not installed
  const char* seed_file = nullptr;  // planted in the fake home first, relative to it
  const char* seed_content = nullptr;
  std::vector<Step> to_login = {};      // the screens before the login
  std::vector<std::string> login = {};  // the login / API key screen
};

void PrintTo(const Agent& agent, std::ostream* os) { *os << agent.test_name; }

const std::vector<Agent>& agents() {
  static const std::vector<Agent> table = {
      // Claude Code's first run checks that api.anthropic.com answers before
      // it offers a login, and stops there without a network (see
      // ClaudeCodeFirstRunStopsAtItsConnectivityCheck). Someone who has run
      // it before, whose ~/.claude the profile grants, gets the login prompt.
      {.test_name = "ClaudeCode",
       .profile = "claude",
       .package = "@anthropic-ai/claude-code",
       .seed_file = ".claude/.claude.json",
       .seed_content = "{\"hasCompletedOnboarding\": true}\n",
       .to_login = {{{"trust this folder"}, {"\r"}}, {{"Run /login", "Not logged in"}, {"/login", "\r"}}},
       .login = {"Select login method"}},
      {.test_name = "CodexCli",
       .profile = "codex",
       .package = "@openai/codex",
       .login = {"Sign in with ChatGPT", "API key"}},
      // Trusting the folder restarts Gemini CLI (exit status 199 to its
      // parent process), which then asks how to authenticate.
      {.test_name = "GeminiCli",
       .profile = "gemini",
       .package = "@google/gemini-cli",
       .to_login = {{{"trust the files in this folder"}, {"\r"}}},
       .login = {"How would you like to authenticate", "Use Gemini API Key", "Sign in with Google"}},
      // Not among the agents the project promises; tested when installed.
      {.test_name = "Opencode",
       .profile = "opencode",
       .package = "opencode-ai",
       .optional = true,
       .to_login = {{{"Ask anything", "ctrl+p commands"}, {"/connect", "\r"}}},
       .login = {"Connect a provider"}},
  };
  return table;
}

// The home of the person running the tests: the tests' own $HOME is a
// scratch directory.
std::string real_home() {
  struct passwd* pw = getpwuid(getuid());
  return pw && pw->pw_dir ? pw->pw_dir : "/nonexistent";
}

std::string agents_bin() { return real_home() + "/.npm-global/bin"; }

std::string realpath_of(const std::string& path) {
  std::unique_ptr<char, decltype(&free)> real(realpath(path.c_str(), nullptr), free);
  return real ? real.get() : "";
}

// The npm package the command belongs to: .../node_modules/[@scope/]name.
std::string npm_package_of(const std::string& real) {
  size_t modules = real.rfind("/node_modules/");
  if (modules == std::string::npos) return "";
  size_t start = modules + std::string("/node_modules/").size();
  size_t end = real.find('/', start);
  if (end != std::string::npos && real[start] == '@') end = real.find('/', end + 1);
  return end == std::string::npos ? "" : real.substr(0, end);
}

std::optional<std::string> not_installed(const Agent& agent) {
  std::string command = agents_bin() + "/" + agent.profile;
  if (access(command.c_str(), X_OK) == 0) return std::nullopt;
  return std::string(agent.profile) + " (npm package " + agent.package + ") is not installed at " + command +
         ": run './setup.sh test', which installs the agents with npm into ~/.npm-global" +
         (agent.optional ? " (this agent is optional)" : "");
}

#define REQUIRE_INSTALLED(agent)                  \
  do {                                            \
    if (auto why = not_installed(agent)) {        \
      if ((agent).optional) GTEST_SKIP() << "optional agent not available: " << *why; \
      FAIL() << *why;                             \
    }                                             \
  } while (0)

class Agents : public ::testing::TestWithParam<Agent> {
 protected:
  Options options() const {
    Options options = scratch_.options();
    options.env["PATH"] = agents_bin() + ":/usr/bin:/bin";
    // Whatever keys the person running the tests has: the agents must ask.
    Profile profile = load_profile(GetParam().profile, scratch_.home());
    options.unset_env = profile.pass_env;
    return options;
  }
  Scratch scratch_;
};

TEST_P(Agents, Version) {
  SKIP_IF_ROOT();
  const Agent& agent = GetParam();
  REQUIRE_INSTALLED(agent);
  Result result = airlock({"run", "--profile", agent.profile, "--", agent.profile, "--version"}, options());
  ASSERT_FALSE(result.timed_out) << agent.profile << " --version did not finish";
  EXPECT_EQ(result.status, 0) << result.out << result.err;
  EXPECT_TRUE(std::regex_search(result.out, std::regex("\\b[0-9]+\\.[0-9]+\\.[0-9]+\\b")))
      << "no version in: " << result.out << result.err;
}

TEST_P(Agents, ReachesLogin) {
  SKIP_IF_ROOT();
  const Agent& agent = GetParam();
  REQUIRE_INSTALLED(agent);
  if (agent.seed_file) {
    std::string path = scratch_.home() + "/" + agent.seed_file;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    Scratch::write_file(path, agent.seed_content);
  }
  Terminal terminal({"run", "--profile", agent.profile}, options(), 40, 120);
  for (const Step& step : agent.to_login) {
    ASSERT_GE(terminal.expect_any(step.screen, kScreenTimeout), 0)
        << agent.profile << " never showed \"" << step.screen.front() << "\"; the screen:\n"
        << terminal.tail();
    for (const std::string& keys : step.keys) {
      std::this_thread::sleep_for(700ms);  // let the screen take input
      terminal.type(keys);
    }
  }
  EXPECT_GE(terminal.expect_any(agent.login, kScreenTimeout), 0)
      << agent.profile << " never asked for a login or an API key; the screen:\n"
      << terminal.tail();
}

TEST_P(Agents, SeesNothingElseOfHome) {
  SKIP_IF_ROOT();
  const Agent& agent = GetParam();
  REQUIRE_INSTALLED(agent);
  Options options = this->options();
  Profile profile = load_profile(agent.profile, scratch_.home());
  std::string package = npm_package_of(realpath_of(agents_bin() + "/" + agent.profile));
  ASSERT_FALSE(package.empty()) << agents_bin() << "/" << agent.profile << " is not in an npm package";

  // What the launcher grants the agent: its state folders and its package.
  Result plan = airlock({"run", "--dry-run", "--profile", agent.profile}, options);
  ASSERT_EQ(plan.status, 0) << plan.err;
  std::set<std::string> granted, expected = {package};
  std::istringstream lines(plan.out.substr(0, plan.out.find("\nenvironment:")));
  for (std::string line; std::getline(lines, line);) {
    static const std::regex grant("^  read-(only|write) +(.*)  \\([^)]*\\)$");
    std::smatch match;
    if (!std::regex_match(line, match, grant)) continue;
    std::string path = match[2];
    granted.insert(path.rfind("~/", 0) == 0 ? scratch_.home() + path.substr(1) : path);
  }
  std::set<std::string> home_entries;  // what `ls -A $HOME` may show
  for (const auto& state : profile.state) {
    ASSERT_EQ(state.path.rfind(scratch_.home() + "/", 0), 0u) << state.path << " is not in $HOME";
    expected.insert(state.path);
    std::string below = state.path.substr(scratch_.home().size() + 1);
    home_entries.insert(below.substr(0, below.find('/')));
  }
  EXPECT_EQ(granted, expected) << plan.out;

  // What a program in that sandbox sees of $HOME and of the real home.
  Result seen = airlock({"run", "--profile", agent.profile, "--ro", package, "--", "/bin/sh", "-c",
                         "ls -A \"$HOME\"; echo ---; ls -A \"$1\"", "sh", real_home()},
                        options);
  ASSERT_EQ(seen.status, 0) << seen.out << seen.err;
  std::string in_home = seen.out.substr(0, seen.out.find("---\n"));
  std::string in_real_home = seen.out.substr(seen.out.find("---\n") + 4);
  std::set<std::string> listed;
  std::istringstream names(in_home);
  for (std::string name; std::getline(names, name);) listed.insert(name);
  EXPECT_EQ(listed, home_entries) << "$HOME in the sandbox:\n" << in_home;
  EXPECT_THAT(in_home, ::testing::Not(::testing::HasSubstr(".ssh")));
  EXPECT_THAT(in_home, ::testing::Not(::testing::HasSubstr("notes.txt")));
  EXPECT_EQ(in_real_home, ".npm-global\n") << "only the way to the npm package is visible in " << real_home();
}

INSTANTIATE_TEST_SUITE_P(, Agents, ::testing::ValuesIn(agents()), [](const ::testing::TestParamInfo<Agent>& param) {
  return std::string(param.param.test_name);
});

// Claude Code's first run, as a new user starts it: its welcome screen, then
// a check that api.anthropic.com answers, which fails in a sandbox without a
// network; it says so and exits 1. With a network grant it would go on to
// the theme picker and the login.
TEST(AgentsFirstRun, ClaudeCodeFirstRunStopsAtItsConnectivityCheck) {
  SKIP_IF_ROOT();
  const Agent& claude = agents().front();
  REQUIRE_INSTALLED(claude);
  Scratch scratch;
  Options options = scratch.options();
  options.env["PATH"] = agents_bin() + ":/usr/bin:/bin";
  options.unset_env = load_profile("claude", scratch.home()).pass_env;
  Terminal terminal({"run", "--profile", "claude"}, options, 40, 120);
  ASSERT_EQ(terminal.expect_any({"Welcome to Claude Code"}, kScreenTimeout), 0) << terminal.tail();
  ASSERT_EQ(terminal.expect_any({"Unable to connect to Anthropic services"}, kScreenTimeout), 0)
      << "expected the connectivity check to fail without a network; the screen:\n"
      << terminal.tail();
  EXPECT_EQ(terminal.wait_status(), 1);
}

}  // namespace
}  // namespace airlock::test
