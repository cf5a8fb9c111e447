#include "sandbox_plan.h"

#include <glib.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdlib>
#include <memory>
#include <set>

#include "dbus_names.h"
#include "error.h"
#include "host_path.h"
#include "translate.h"

namespace airlock {

namespace {

// /etc is not shared as a whole: only what programs need to run, and none of
// the host's accounts, hostnames or credentials.
constexpr std::array kEtcRuntime = {
    "/etc/alternatives", "/etc/bash.bashrc",    "/etc/ca-certificates",  "/etc/ca-certificates.conf",
    "/etc/debian_version", "/etc/gitconfig",    "/etc/host.conf",        "/etc/hosts",
    "/etc/inputrc",       "/etc/ld.so.cache",   "/etc/ld.so.conf",       "/etc/ld.so.conf.d",
    "/etc/locale.alias",  "/etc/localtime",     "/etc/lsb-release",      "/etc/mime.types",
    "/etc/nsswitch.conf", "/etc/os-release",    "/etc/pki",              "/etc/profile",
    "/etc/profile.d",     "/etc/protocols",     "/etc/services",         "/etc/ssl",
    "/etc/terminfo",      "/etc/timezone",      "/etc/vim",              "/etc/xdg",
};
// Only meaningful with the host's network.
constexpr std::array kEtcNetwork = {"/etc/resolv.conf", "/etc/gai.conf"};

// Top-level directories that are never a grant area, besides the runtime
// (is_runtime_path).
constexpr std::array kNotGrantArea = {"/etc", "/proc", "/dev", "/sys", "/run", "/tmp", "/boot", "/lost+found"};

// Passed from the host when set: the terminal, the locale, preferences.
constexpr std::array kBaseEnv = {"TERM",   "COLORTERM", "LANG",   "LANGUAGE", "LC_ALL",   "LC_CTYPE",
                                 "LC_MESSAGES", "LC_COLLATE", "LC_NUMERIC", "LC_TIME", "LC_MONETARY",
                                 "LC_PAPER", "LC_MEASUREMENT", "TZ", "NO_COLOR", "EDITOR", "VISUAL", "PAGER"};

class Environment {
 public:
  void set(const std::string& name, const std::string& value) {
    for (auto& entry : entries_)
      if (entry.first == name) {
        entry.second = value;
        return;
      }
    entries_.emplace_back(name, value);
  }
  std::vector<std::string> strings() const {
    std::vector<std::string> result;
    for (const auto& [name, value] : entries_) result.push_back(name + "=" + value);
    return result;
  }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

std::vector<std::pair<std::string, std::string>> proxy_environment() {
  const std::string http = "http://127.0.0.1:" + std::to_string(kProxyPort);
  const std::string socks = "socks5h://127.0.0.1:" + std::to_string(kProxyPort);
  const std::string local = "localhost,127.0.0.1,::1";
  // TLS clients trust the session's certificate authority beside the
  // system's roots: the proxy answers with it for the hosts it puts a
  // secret into (the portal has the supervisor write both files).
  return {{"HTTP_PROXY", http},  {"HTTPS_PROXY", http}, {"http_proxy", http}, {"https_proxy", http},
          {"ALL_PROXY", socks},  {"all_proxy", socks},  {"NO_PROXY", local},  {"no_proxy", local},
          {"SSL_CERT_FILE", kCaBundleInside}, {"REQUESTS_CA_BUNDLE", kCaBundleInside},
          {"CURL_CA_BUNDLE", kCaBundleInside}, {"GIT_SSL_CAINFO", kCaBundleInside},
          {"NODE_EXTRA_CA_CERTS", kCaCertInside}};
}

const std::string* host_env(const HostFacts& host, const std::string& name) {
  for (const auto& [key, value] : host.environment)
    if (key == name) return &value;
  return nullptr;
}

Environment build_environment(const PlanRequest& request, const HostFacts& host) {
  Environment env;
  env.set("HOME", host.home);
  env.set("USER", host.user);
  env.set("LOGNAME", host.user);
  env.set("SHELL", !host.shell.empty() && is_runtime_path(host.shell) ? host.shell : "/bin/sh");
  std::string path;
  for (const auto& dir : request.command.path_dirs) path += dir + ":";
  env.set("PATH", path + "/usr/local/bin:/usr/bin:/bin:" + kBinInside);
  for (const char* name : kBaseEnv)
    if (const std::string* value = host_env(host, name)) env.set(name, *value);
  for (const auto& name : request.profile.pass_env)
    if (const std::string* value = host_env(host, name)) env.set(name, *value);
  // Before the profile's and the command line's, which may refine them.
  if (request.network == NetworkMode::kProxied)
    for (const auto& [name, value] : proxy_environment()) env.set(name, value);
  for (const auto& [name, value] : request.profile.set_env) env.set(name, value);
  for (const auto& option : request.env_options) {
    size_t eq = option.find('=');
    std::string name = option.substr(0, eq);
    if (!is_variable_name(name))
      throw Error(
          // TRANSLATORS: keep --env: it is an option. The first %s is what
          // was given to it (NAME=VALUE), the second the name in it.
          format(_("--env %s: '%s' is not a variable name (letters, digits, _)"), option.c_str(), name.c_str()));
    if (eq != std::string::npos) {
      env.set(name, option.substr(eq + 1));
    } else if (const std::string* value = host_env(host, name)) {
      env.set(name, *value);
    } else {
      // TRANSLATORS: keep --env: it is an option. Each %s is the name of an
      // environment variable; VALUE stands for its value, as in --help.
      throw Error(format(_("--env %s: %s is not set on the host; give a value with --env %s=VALUE"), name.c_str(),
                         name.c_str(), name.c_str()));
    }
  }
  env.set("AIRLOCK_PROFILE", request.profile.name);
  if (!request.task.empty()) env.set("AIRLOCK_TASK", request.task);
  env.set(kPortalAddressVariable, std::string("unix:path=") + kPortalSocketInside);
  return env;
}

void add(std::vector<std::string>* argv, std::initializer_list<std::string> items) {
  argv->insert(argv->end(), items.begin(), items.end());
}

}  // namespace

std::vector<std::string> grant_area(const HostFacts& host) {
  std::vector<std::string> area;
  for (const auto& dir : host.top_level_dirs) {
    bool excluded = is_runtime_path(dir) || std::any_of(kNotGrantArea.begin(), kNotGrantArea.end(),
                                                         [&](const char* name) { return dir == name; });
    if (!excluded) area.push_back(dir);
  }
  return area;
}

SandboxPlan build_sandbox_plan(const PlanRequest& request, const HostFacts& host) {
  SandboxPlan plan;
  plan.home = host.home;
  plan.environment = build_environment(request, host).strings();

  std::vector<std::string> writable = grant_area(host);
  plan.skeleton_dirs = writable;
  plan.skeleton_dirs.emplace_back("/run/airlock");
  plan.sticky_dirs = {"/tmp"};
  if (std::find(writable.begin(), writable.end(), "/var") != writable.end()) plan.sticky_dirs.emplace_back("/var/tmp");

  plan.passwd = host.user + ":x:" + std::to_string(host.uid) + ":" + std::to_string(host.gid) + ":" + host.user +
                ":" + host.home + ":" + (is_runtime_path(host.shell) ? host.shell : "/bin/sh") + "\n";
  if (host.uid != 0) plan.passwd += "root:x:0:0:root:/root:/usr/sbin/nologin\n";
  plan.passwd += "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
  plan.group = host.group + ":x:" + std::to_string(host.gid) + ":\n";
  if (host.gid != 0) plan.group += "root:x:0:\n";
  plan.group += "nogroup:x:65534:\n";

  plan.cwd = host.home;
  for (const auto& grant : request.grants)
    if (path_is_within(host.cwd, grant.canonical)) plan.cwd = host.cwd;

  auto& argv = plan.bwrap_argv;
  add(&argv, {request.bwrap, "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
              "--as-pid-1", "--cap-drop", "ALL", "--hostname", "airlock"});
  const bool share_net = request.network == NetworkMode::kHost;
  plan.proxy_socket = request.network == NetworkMode::kProxied;
  if (share_net) add(&argv, {"--share-net"});
  // A terminal stays the agent's controlling terminal (TIOCSTI is blocked by
  // seccomp instead); without one, a new session keeps it from reaching ours.
  if (!host.stdin_is_tty) add(&argv, {"--new-session"});

  // The root comes first: everything after is mounted on top of it.
  add(&argv, {"--bind", request.root_dir, "/"});
  add(&argv, {"--ro-bind", "/usr", "/usr"});
  for (const auto& [link, target] : host.root_symlinks) add(&argv, {"--symlink", target, link});
  for (const auto& dir : host.top_level_dirs)
    if (is_runtime_path(dir) && dir != "/usr") add(&argv, {"--ro-bind", dir, dir});
  for (const char* path : kEtcRuntime) add(&argv, {"--ro-bind-try", path, path});
  if (share_net)
    for (const char* path : kEtcNetwork) add(&argv, {"--ro-bind-try", path, path});
  for (const auto& path : request.profile.runtime) add(&argv, {"--ro-bind-try", path, path});
  add(&argv, {"--ro-bind-data", std::to_string(kPasswdFd), "/etc/passwd"});
  add(&argv, {"--ro-bind-data", std::to_string(kGroupFd), "/etc/group"});
  add(&argv, {"--proc", "/proc", "--dev", "/dev"});
  add(&argv, {"--ro-bind", request.init_binary, kInitInside});
  add(&argv, {"--ro-bind", request.request_binary, std::string(kBinInside) + "/airlock-request"});
  add(&argv, {"--chdir", plan.cwd});
  add(&argv, {"--seccomp", std::to_string(kSeccompFd), "--info-fd", std::to_string(kInfoFd)});

  // airlock-init applies Landlock to itself and everything it starts.
  add(&argv, {"--", kInitInside, "--ro", "/usr", "--ro", "/etc", "--ro", "/run/airlock", "--ro", "/proc"});
  for (const auto& [link, target] : host.root_symlinks) add(&argv, {"--ro", link});
  for (const auto& dir : host.top_level_dirs)
    if (is_runtime_path(dir) && dir != "/usr") add(&argv, {"--ro", dir});
  for (const auto& path : request.profile.runtime) add(&argv, {"--ro", path});
  // POSIX shared memory lives in /dev/shm, where files are created.
  add(&argv, {"--dev", "/dev", "--rw", "/dev/shm", "--rw", "/tmp"});
  for (const auto& dir : writable) add(&argv, {"--rw", dir});
  if (!path_is_within(host.home, "/tmp") &&
      std::none_of(writable.begin(), writable.end(), [&](const std::string& dir) { return path_is_within(host.home, dir); }))
    add(&argv, {"--rw", host.home});
  if (plan.proxy_socket)
    add(&argv, {"--proxy", std::to_string(kProxyPort) + ":" + kProxySocketInside});
  if (host.stdin_is_tty) add(&argv, {"--tty"});
  if (request.verbose) add(&argv, {"--verbose"});
  add(&argv, {"--", request.command.path});
  argv.insert(argv.end(), request.args.begin(), request.args.end());
  return plan;
}

HostFacts gather_host_facts() {
  HostFacts host;
  std::unique_ptr<char, decltype(&free)> home(realpath(g_get_home_dir(), nullptr), free);
  host.home = home ? home.get() : g_get_home_dir();
  host.uid = getuid();
  host.gid = getgid();
  host.user = g_get_user_name();
  struct group* group = getgrgid(host.gid);
  host.group = group ? group->gr_name : host.user;
  const char* shell = g_getenv("SHELL");
  host.shell = shell ? shell : "/bin/sh";
  std::unique_ptr<char, decltype(&free)> cwd(getcwd(nullptr, 0), free);
  host.cwd = cwd ? cwd.get() : host.home;
  host.stdin_is_tty = isatty(STDIN_FILENO);

  g_autoptr(GDir) root = g_dir_open("/", 0, nullptr);
  while (const char* name = root ? g_dir_read_name(root) : nullptr) {
    std::string path = std::string("/") + name;
    struct stat st {};
    if (lstat(path.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      host.top_level_dirs.push_back(path);
    } else if (S_ISLNK(st.st_mode) && is_runtime_path(path)) {
      char target[PATH_MAX];
      ssize_t n = readlink(path.c_str(), target, sizeof target - 1);
      if (n > 0) host.root_symlinks.emplace_back(path, std::string(target, static_cast<size_t>(n)));
    }
  }
  std::sort(host.top_level_dirs.begin(), host.top_level_dirs.end());
  std::sort(host.root_symlinks.begin(), host.root_symlinks.end());

  g_auto(GStrv) environ_list = g_get_environ();
  for (char** entry = environ_list; *entry; ++entry) {
    const char* eq = strchr(*entry, '=');
    if (eq) host.environment.emplace_back(std::string(*entry, static_cast<size_t>(eq - *entry)), eq + 1);
  }
  return host;
}

}  // namespace airlock
