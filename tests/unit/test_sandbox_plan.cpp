// The argument builder: each protection of the sandbox is a flag or its
// absence; each is checked here on its own.
#include <gmock/gmock.h>
#include <glib.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "error.h"
#include "sandbox_plan.h"

namespace airlock {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

HostFacts host() {
  HostFacts facts;
  facts.home = "/home/alice";
  facts.user = "alice";
  facts.group = "alice";
  facts.uid = 1000;
  facts.gid = 1000;
  facts.shell = "/bin/bash";
  facts.cwd = "/home/alice/src/app";
  facts.top_level_dirs = {"/boot", "/etc", "/home", "/media", "/mnt", "/opt", "/proc", "/root", "/run", "/srv",
                          "/sys", "/tmp", "/usr", "/var"};
  facts.root_symlinks = {{"/bin", "usr/bin"}, {"/lib", "usr/lib"}, {"/lib64", "usr/lib64"}, {"/sbin", "usr/sbin"}};
  facts.stdin_is_tty = true;
  facts.environment = {{"TERM", "xterm-256color"}, {"LANG", "de_DE.UTF-8"}, {"SSH_AUTH_SOCK", "/run/user/1000/ssh"},
                       {"DBUS_SESSION_BUS_ADDRESS", "unix:path=/run/user/1000/bus"}, {"DISPLAY", ":0"},
                       {"API_KEY", "secret-value"}, {"HOME", "/home/alice"}};
  return facts;
}

PlanRequest request() {
  PlanRequest req;
  req.profile.name = "test";
  req.command.path = "/usr/bin/agent";
  req.args = {"--flag"};
  req.root_dir = "/run/user/1000/airlock/root-x";
  req.init_binary = "/usr/libexec/airlock/airlock-init";
  req.request_binary = "/usr/libexec/airlock/airlock-request";
  req.bwrap = "/usr/bin/bwrap";
  return req;
}

// The bwrap options, before the command.
std::vector<std::string> bwrap_options(const SandboxPlan& plan) {
  auto end = std::find(plan.bwrap_argv.begin(), plan.bwrap_argv.end(), "--");
  return {plan.bwrap_argv.begin(), end};
}

std::string joined(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& arg : argv) line += arg + " ";
  return line;
}

TEST(SandboxPlan, SharesNothingByDefault) {
  auto options = bwrap_options(build_sandbox_plan(request(), host()));
  for (const char* flag : {"--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--as-pid-1"})
    EXPECT_THAT(options, Contains(flag));
  EXPECT_THAT(joined(options), HasSubstr("--cap-drop ALL"));
  EXPECT_THAT(options, Not(Contains("--share-net")));
}

TEST(SandboxPlan, RootIsTheSupervisorsSharedMountAndComesFirst) {
  auto options = bwrap_options(build_sandbox_plan(request(), host()));
  auto bind = std::find(options.begin(), options.end(), "--bind");
  ASSERT_NE(bind, options.end());
  EXPECT_EQ(*(bind + 1), "/run/user/1000/airlock/root-x");
  EXPECT_EQ(*(bind + 2), "/");
  auto first_mount = std::find_if(options.begin(), options.end(), [](const std::string& arg) {
    return arg == "--ro-bind" || arg == "--ro-bind-try" || arg == "--symlink" || arg == "--tmpfs";
  });
  EXPECT_LT(bind, first_mount);
}

TEST(SandboxPlan, RuntimeIsReadOnlyAndNothingOfTheSessionIsBound) {
  auto options = bwrap_options(build_sandbox_plan(request(), host()));
  auto line = joined(options);
  EXPECT_THAT(line, HasSubstr("--ro-bind /usr /usr"));
  EXPECT_THAT(line, HasSubstr("--symlink usr/bin /bin"));
  EXPECT_THAT(options, Not(Contains("--dev-bind")));
  // Every source bound in, but the supervisor's root, is runtime.
  std::vector<std::string> sources;
  for (size_t i = 0; i + 1 < options.size(); ++i)
    if (options[i] == "--bind" || options[i] == "--ro-bind" || options[i] == "--ro-bind-try") sources.push_back(options[i + 1]);
  ASSERT_FALSE(sources.empty());
  EXPECT_EQ(sources[0], "/run/user/1000/airlock/root-x");
  for (size_t i = 1; i < sources.size(); ++i) {
    const std::string& source = sources[i];
    bool runtime = source == "/usr" || source.rfind("/etc/", 0) == 0 || source == "/usr/libexec/airlock/airlock-init" ||
                   source == "/usr/libexec/airlock/airlock-request";
    EXPECT_TRUE(runtime) << source << " is bound into the sandbox";
    for (const char* never : {"/etc/passwd", "/etc/shadow", "/etc/group", "/etc/machine-id", "/etc/ssh"})
      EXPECT_NE(source, never);
  }
  EXPECT_THAT(line, HasSubstr("--proc /proc"));
  EXPECT_THAT(line, HasSubstr("--dev /dev"));
}

// The portal's socket is in the root the supervisor made; the sandbox finds
// it, and airlock-request, without anything of the host's session.
TEST(SandboxPlan, PortalSocketAndClientAreAnnounced) {
  SandboxPlan plan = build_sandbox_plan(request(), host());
  EXPECT_THAT(plan.environment, Contains("AIRLOCK_PORTAL_ADDRESS=unix:path=/run/airlock/portal.sock"));
  EXPECT_THAT(joined(bwrap_options(plan)),
              HasSubstr("--ro-bind /usr/libexec/airlock/airlock-request /run/airlock/bin/airlock-request"));
  bool on_path = false;
  for (const auto& entry : plan.environment)
    if (entry.rfind("PATH=", 0) == 0) on_path = entry.size() > 17 && entry.substr(entry.size() - 17) == ":/run/airlock/bin";
  EXPECT_TRUE(on_path) << "airlock-request is on PATH, after everything else";
}

TEST(SandboxPlan, NewSessionOnlyWithoutATerminal) {
  EXPECT_THAT(bwrap_options(build_sandbox_plan(request(), host())), Not(Contains("--new-session")));
  HostFacts piped = host();
  piped.stdin_is_tty = false;
  EXPECT_THAT(bwrap_options(build_sandbox_plan(request(), piped)), Contains("--new-session"));
}

TEST(SandboxPlan, SeccompAndInfoComeByDescriptor) {
  auto line = joined(bwrap_options(build_sandbox_plan(request(), host())));
  EXPECT_THAT(line, HasSubstr("--seccomp " + std::to_string(kSeccompFd)));
  EXPECT_THAT(line, HasSubstr("--info-fd " + std::to_string(kInfoFd)));
}

TEST(SandboxPlan, EnvironmentIsBuiltNotInherited) {
  PlanRequest req = request();
  req.profile.pass_env = {"API_KEY"};
  SandboxPlan plan = build_sandbox_plan(req, host());
  EXPECT_THAT(plan.environment, Contains("HOME=/home/alice"));
  EXPECT_THAT(plan.environment, Contains("TERM=xterm-256color"));
  EXPECT_THAT(plan.environment, Contains("LANG=de_DE.UTF-8"));
  EXPECT_THAT(plan.environment, Contains("API_KEY=secret-value"));
  for (const auto& entry : plan.environment) {
    EXPECT_THAT(entry, Not(HasSubstr("SSH_AUTH_SOCK")));
    EXPECT_THAT(entry, Not(HasSubstr("DBUS_SESSION_BUS_ADDRESS")));
    EXPECT_THAT(entry, Not(HasSubstr("DISPLAY")));
  }
  // Values never go on a command line, where any user could read them.
  EXPECT_THAT(joined(plan.bwrap_argv), Not(HasSubstr("secret-value")));
  EXPECT_THAT(joined(plan.bwrap_argv), Not(HasSubstr("--setenv")));
}

TEST(SandboxPlan, EnvOptions) {
  PlanRequest req = request();
  req.env_options = {"LANG", "EXTRA=1"};
  SandboxPlan plan = build_sandbox_plan(req, host());
  EXPECT_THAT(plan.environment, Contains("EXTRA=1"));
  req.env_options = {"NOT_ON_HOST"};
  EXPECT_THROW(build_sandbox_plan(req, host()), Error);
  req.env_options = {"BAD-NAME=1"};
  EXPECT_THROW(build_sandbox_plan(req, host()), Error);
}

TEST(SandboxPlan, LandlockAllowsWritingOnlyInHomeTmpAndTheGrantArea) {
  SandboxPlan plan = build_sandbox_plan(request(), host());
  auto init = std::find(plan.bwrap_argv.begin(), plan.bwrap_argv.end(), "--") + 1;
  ASSERT_EQ(*init, kInitInside);
  std::vector<std::string> writable;
  for (auto it = init; it + 1 != plan.bwrap_argv.end() && *it != "--"; ++it)
    if (*it == "--rw") writable.push_back(*(it + 1));
  EXPECT_THAT(writable, Contains("/tmp"));
  EXPECT_THAT(writable, Contains("/home"));
  EXPECT_THAT(writable, Contains("/srv"));
  for (const char* never : {"/usr", "/etc", "/proc", "/sys", "/run", "/boot", "/bin"})
    EXPECT_THAT(writable, Not(Contains(never))) << never;
}

TEST(SandboxPlan, GrantAreaExcludesTheRuntime) {
  auto area = grant_area(host());
  EXPECT_THAT(area, Contains("/home"));
  EXPECT_THAT(area, Contains("/opt"));
  EXPECT_THAT(area, Contains("/var"));
  for (const char* never : {"/usr", "/etc", "/proc", "/sys", "/run", "/boot", "/tmp"})
    EXPECT_THAT(area, Not(Contains(never))) << never;
}

TEST(SandboxPlan, WorkingDirectoryOnlyInsideAGrant) {
  EXPECT_EQ(build_sandbox_plan(request(), host()).cwd, "/home/alice");
  PlanRequest req = request();
  req.grants.push_back({"/home/alice/src", true, "--ro"});
  EXPECT_EQ(build_sandbox_plan(req, host()).cwd, "/home/alice/src/app");
}

TEST(SandboxPlan, PasswdNamesOnlyThePersonAndSystemAccounts) {
  SandboxPlan plan = build_sandbox_plan(request(), host());
  EXPECT_THAT(plan.passwd, HasSubstr("alice:x:1000:1000:alice:/home/alice:/bin/bash\n"));
  EXPECT_THAT(plan.group, HasSubstr("alice:x:1000:\n"));
}

TEST(SandboxPlan, CommandComesLastAfterInit) {
  SandboxPlan plan = build_sandbox_plan(request(), host());
  ASSERT_GE(plan.bwrap_argv.size(), 3u);
  EXPECT_EQ(plan.bwrap_argv[plan.bwrap_argv.size() - 2], "/usr/bin/agent");
  EXPECT_EQ(plan.bwrap_argv.back(), "--flag");
}

TEST(SandboxPlan, ShareNetIsExplicit) {
  PlanRequest req = request();
  req.network = NetworkMode::kHost;
  auto line = joined(bwrap_options(build_sandbox_plan(req, host())));
  EXPECT_THAT(line, HasSubstr("--share-net"));
  EXPECT_THAT(line, HasSubstr("/etc/resolv.conf"));
}

// airlock-init's options, between the first "--" and the command's.
std::vector<std::string> init_options(const SandboxPlan& plan) {
  auto init = std::find(plan.bwrap_argv.begin(), plan.bwrap_argv.end(), "--");
  if (init == plan.bwrap_argv.end()) return {};
  auto end = std::find(init + 1, plan.bwrap_argv.end(), "--");
  return {init + 1, end};
}

std::vector<std::string> proxy_variables(const SandboxPlan& plan) {
  std::vector<std::string> found;
  for (const auto& entry : plan.environment) {
    std::string name = entry.substr(0, entry.find('='));
    for (const char* proxy : {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "SSL_CERT_FILE",
                              "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO", "NODE_EXTRA_CA_CERTS"}) {
      g_autofree char* lower = g_ascii_strdown(proxy, -1);
      if (name == proxy || name == lower) found.push_back(entry);
    }
  }
  return found;
}

// The default: loopback only, and the portal's proxy through airlock-init's
// bridge, announced in both cases of the variables programs read.
TEST(SandboxPlan, NetworkIsProxiedByDefault) {
  SandboxPlan plan = build_sandbox_plan(request(), host());
  const std::string http = "http://127.0.0.1:" + std::to_string(kProxyPort);
  const std::string socks = "socks5h://127.0.0.1:" + std::to_string(kProxyPort);
  for (const char* name : {"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"})
    EXPECT_THAT(plan.environment, Contains(std::string(name) + "=" + http));
  EXPECT_THAT(plan.environment, Contains("ALL_PROXY=" + socks));
  EXPECT_THAT(plan.environment, Contains("all_proxy=" + socks));
  EXPECT_THAT(plan.environment, Contains("NO_PROXY=localhost,127.0.0.1,::1"));
  EXPECT_THAT(plan.environment, Contains("no_proxy=localhost,127.0.0.1,::1"));
  // TLS clients trust the session's authority beside the system's roots
  // (the portal has the supervisor write both files).
  for (const char* name : {"SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO"})
    EXPECT_THAT(plan.environment, Contains(std::string(name) + "=/run/airlock/ca-bundle.pem"));
  EXPECT_THAT(plan.environment, Contains("NODE_EXTRA_CA_CERTS=/run/airlock/session-ca.pem"));
  EXPECT_EQ(proxy_variables(plan).size(), 13u);

  auto init = init_options(plan);
  auto proxy = std::find(init.begin(), init.end(), "--proxy");
  ASSERT_NE(proxy, init.end()) << joined(init);
  ASSERT_NE(proxy + 1, init.end());
  EXPECT_EQ(*(proxy + 1), "3128:/run/airlock/proxy.sock");
  EXPECT_EQ(kProxyPort, 3128);
  EXPECT_STREQ(kProxySocketInside, "/run/airlock/proxy.sock");

  // The supervisor binds the proxy's socket in /run/airlock, which the
  // skeleton has and Landlock lets the sandbox reach (read-only: connecting
  // to a socket is no write).
  EXPECT_TRUE(plan.proxy_socket);
  EXPECT_THAT(plan.skeleton_dirs, Contains("/run/airlock"));
  EXPECT_THAT(joined(init), HasSubstr("--ro /run/airlock "));
  // Still its own network namespace, and no host name resolution.
  auto options = bwrap_options(plan);
  EXPECT_THAT(options, Not(Contains("--share-net")));
  EXPECT_THAT(joined(options), Not(HasSubstr("/etc/resolv.conf")));
}

// The command line and the profile may refine what the launcher sets.
TEST(SandboxPlan, ProxyVariablesCanBeRefined) {
  PlanRequest req = request();
  req.env_options = {"NO_PROXY=localhost,127.0.0.1,::1,internal"};
  SandboxPlan plan = build_sandbox_plan(req, host());
  EXPECT_THAT(plan.environment, Contains("NO_PROXY=localhost,127.0.0.1,::1,internal"));
  EXPECT_THAT(plan.environment, Not(Contains("NO_PROXY=localhost,127.0.0.1,::1")));
}

TEST(SandboxPlan, NoNetHasNoProxyNoVariablesNoBridge) {
  PlanRequest req = request();
  req.network = NetworkMode::kNone;
  SandboxPlan plan = build_sandbox_plan(req, host());
  EXPECT_THAT(proxy_variables(plan), ::testing::IsEmpty());
  EXPECT_THAT(init_options(plan), Not(Contains("--proxy")));
  EXPECT_FALSE(plan.proxy_socket);
  auto options = bwrap_options(plan);
  EXPECT_THAT(options, Contains("--unshare-all"));
  EXPECT_THAT(options, Not(Contains("--share-net")));
  EXPECT_THAT(joined(options), Not(HasSubstr("/etc/resolv.conf")));
  // The portal's own socket stays: the agent may still ask for folders.
  EXPECT_THAT(plan.environment, Contains("AIRLOCK_PORTAL_ADDRESS=unix:path=/run/airlock/portal.sock"));
}

TEST(SandboxPlan, ShareNetHasNoProxyNoVariablesNoBridge) {
  PlanRequest req = request();
  req.network = NetworkMode::kHost;
  SandboxPlan plan = build_sandbox_plan(req, host());
  EXPECT_THAT(proxy_variables(plan), ::testing::IsEmpty());
  EXPECT_THAT(init_options(plan), Not(Contains("--proxy")));
  EXPECT_FALSE(plan.proxy_socket);
  EXPECT_THAT(bwrap_options(plan), Contains("--share-net"));
}

}  // namespace
}  // namespace airlock
