#include "run_command.h"

#include <fcntl.h>
#include <glib-unix.h>
#include <glib.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "command_resolve.h"
#include "config.h"
#include "control_protocol.h"
#include "error.h"
#include "host_path.h"
#include "profile.h"
#include "sandbox_plan.h"
#include "seccomp_filter.h"
#include "supervisor.h"
#include "unique_fd.h"

namespace airlock {

namespace {

struct RunOptions {
  std::string profile;
  std::string task;
  std::vector<std::string> read_only;
  std::vector<std::string> read_write;
  std::vector<std::string> env;
  bool share_net = false;
  bool verbose = false;
  bool dry_run = false;
  std::vector<std::string> command;
};

std::vector<std::string> to_vector(char** strv) {
  std::vector<std::string> result;
  for (char** item = strv; item && *item; ++item) result.emplace_back(*item);
  return result;
}

RunOptions parse_options(int argc, char** argv) {
  g_autofree char* profile = nullptr;
  g_autofree char* task = nullptr;
  g_auto(GStrv) ro = nullptr;
  g_auto(GStrv) rw = nullptr;
  g_auto(GStrv) env = nullptr;
  g_auto(GStrv) command = nullptr;
  gboolean share_net = FALSE, verbose = FALSE, dry_run = FALSE;
  GOptionEntry entries[] = {
      {"profile", 'p', 0, G_OPTION_ARG_STRING, &profile, "Agent profile: a name, or a FILE.profile", "NAME|FILE"},
      {"task", 't', 0, G_OPTION_ARG_STRING, &task, "What this session is for (shown in prompts and logs)", "TEXT"},
      {"ro", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &ro, "Grant a folder or file read-only (repeatable)", "PATH"},
      {"rw", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &rw, "Grant a folder or file read-write (repeatable)", "PATH"},
      {"env", 'e', 0, G_OPTION_ARG_STRING_ARRAY, &env, "Pass a host variable, or set one (repeatable)", "NAME[=VALUE]"},
      {"share-net", 0, 0, G_OPTION_ARG_NONE, &share_net, "Give the agent the host's whole network (unfiltered)", nullptr},
      {"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Show the bwrap arguments, seccomp rules and Landlock ABI", nullptr},
      {"dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run, "Print the plan and start nothing", nullptr},
      {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &command, nullptr, nullptr},
      {},
  };
  g_set_prgname("airlock run");
  g_autoptr(GOptionContext) context = g_option_context_new("[--] COMMAND [ARG...]");
  g_option_context_set_summary(context,
                               "Run COMMAND in a sandbox that shares nothing with the host but a read-only\n"
                               "runtime and the folders granted with --ro and --rw.");
  g_option_context_set_description(context,
                                   "Exit status: the command's own; 125 when airlock fails, 126 when the command\n"
                                   "cannot be run, 127 when it is not found. See airlock-run(1).");
  g_option_context_add_main_entries(context, entries, nullptr);
  // Options stop at the command, so its own options reach it untouched.
  g_option_context_set_strict_posix(context, TRUE);
  g_autoptr(GError) error = nullptr;
  if (!g_option_context_parse(context, &argc, &argv, &error))
    throw Error(std::string(error->message) + " (see 'airlock run --help')");

  RunOptions options;
  if (profile) options.profile = profile;
  if (task) options.task = task;
  options.read_only = to_vector(ro);
  options.read_write = to_vector(rw);
  options.env = to_vector(env);
  options.share_net = share_net;
  options.verbose = verbose;
  options.dry_run = dry_run;
  options.command = to_vector(command);
  if (!options.command.empty() && options.command[0] == "--") options.command.erase(options.command.begin());
  return options;
}

// The helpers sit next to `airlock` in a build tree, in libexecdir once installed.
std::string helper_path(const char* name) {
  g_autofree char* self = g_file_read_link("/proc/self/exe", nullptr);
  if (self) {
    g_autofree char* dir = g_path_get_dirname(self);
    std::string candidate = std::string(dir) + "/" + name;
    if (g_file_test(candidate.c_str(), G_FILE_TEST_IS_EXECUTABLE)) return candidate;
  }
  std::string installed = std::string(AIRLOCK_LIBEXECDIR) + "/" + name;
  if (g_file_test(installed.c_str(), G_FILE_TEST_IS_EXECUTABLE)) return installed;
  throw Error(std::string("cannot find ") + name + " next to airlock or in " AIRLOCK_LIBEXECDIR +
              ": reinstall airlock");
}

std::string find_bwrap() {
  g_autofree char* bwrap = g_find_program_in_path("bwrap");
  if (!bwrap)
    throw Error("bubblewrap (bwrap) is not installed: install it with 'sudo apt install bubblewrap'");
  return bwrap;
}

// Grant paths are the canonical ones; the places the sandbox itself is
// built from can never be granted.
void check_grant_location(const std::string& canonical, const std::string& requested) {
  static constexpr const char* kRuntime[] = {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
                                             "/etc", "/proc", "/sys", "/dev", "/run/airlock", "/boot"};
  for (const char* runtime : kRuntime)
    if (path_is_within(canonical, runtime) || path_is_within(runtime, canonical))
      throw Error("cannot grant " + requested + (requested == canonical ? "" : " (" + canonical + ")") +
                  ": it overlaps " + runtime + ", which the sandbox is built from");
}

struct ResolvedGrant {
  HostPath host;
  Grant grant;
};

void add_grant(std::vector<ResolvedGrant>* grants, const std::string& path, bool read_only,
               const std::string& origin, const HostFacts& host_facts, const char* runtime_dir) {
  HostPath host = resolve_host_path(path);
  std::string shown = display_path(host.requested, host_facts.home);
  if (auto denied = deny_list_match(host.canonical, host_facts.home, runtime_dir ? runtime_dir : "")) {
    std::string via = host.canonical == host.requested ? "" : " (a symlink to " + display_path(host.canonical, host_facts.home) + ")";
    throw Error("cannot grant " + shown + via + ": " +
                (path_is_within(host.canonical, *denied) ? "it lies in " : "it contains ") +
                display_path(*denied, host_facts.home) +
                ", which airlock never grants at launch; grant a narrower folder");
  }
  check_grant_location(host.canonical, host.requested);
  for (auto& existing : *grants) {
    if (existing.grant.canonical != host.canonical) continue;
    if (existing.grant.read_only != read_only && origin.rfind("--", 0) == 0 &&
        existing.grant.origin.rfind("--", 0) == 0)
      throw Error(shown + " is given both with --ro and --rw: choose one");
    existing.grant.read_only = existing.grant.read_only && read_only;
    return;
  }
  Grant grant{host.canonical, read_only, origin};
  grants->push_back({std::move(host), std::move(grant)});
}

UniqueFd memfd_with(const char* name, const std::string& content) {
  UniqueFd fd(memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd) throw Error(errno_message("memfd_create"));
  if (write(fd.get(), content.data(), content.size()) != static_cast<ssize_t>(content.size()) ||
      lseek(fd.get(), 0, SEEK_SET) != 0)
    throw Error(errno_message("cannot write the sandbox's " + std::string(name)));
  fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
  return fd;
}

std::string quote_argv(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& arg : argv) {
    g_autofree char* quoted = g_shell_quote(arg.c_str());
    bool plain = !arg.empty() && arg.find_first_of(" \t\n'\"\\$`*?[]{}()<>|&;#~!") == std::string::npos;
    line += (line.empty() ? "" : " ") + (plain ? arg : std::string(quoted));
  }
  return line;
}

std::string describe_plan(const RunOptions& options, const Profile& profile, const std::vector<ResolvedGrant>& grants,
                          const SandboxPlan& plan, const HostFacts& host) {
  std::string text = "profile: " + profile.name + (profile.file.empty() ? " (built in)" : " (" + profile.file + ")") + "\n";
  if (!options.task.empty()) text += "task: " + options.task + "\n";
  text += "grants:\n";
  if (grants.empty()) text += "  (none)\n";
  for (const auto& resolved : grants)
    text += std::string("  ") + (resolved.grant.read_only ? "read-only  " : "read-write ") +
            display_path(resolved.grant.canonical, host.home) + "  (" + resolved.grant.origin + ")\n";
  text += "environment:";
  for (const auto& entry : plan.environment) text += " " + entry.substr(0, entry.find('='));
  text += "\nbwrap: " + quote_argv(plan.bwrap_argv) + "\n";
  return text;
}

// Moves each descriptor in FDS to its target number in this (freshly
// forked) process: first out of the way, then into place, so that no move
// overwrites a descriptor still to be moved.
void place_descriptors(std::vector<std::pair<int, int>> fds) {
  for (auto& [source, target] : fds) {
    source = fcntl(source, F_DUPFD_CLOEXEC, 64);
    if (source < 0) _exit(kExitAirlockFailed);
  }
  for (const auto& [source, target] : fds)
    if (dup2(source, target) != target) _exit(kExitAirlockFailed);
}

// Runs the session once the plan exists: supervisor, grants, start, wait.
class Session {
 public:
  Session(const SandboxPlan& plan, const std::vector<ResolvedGrant>& grants, UniqueFd seccomp_bpf, bool verbose)
      : plan_(plan), grants_(grants), seccomp_(std::move(seccomp_bpf)), verbose_(verbose) {}

  int run(const std::string& root_dir) {
    UniqueFd control, control_child, info_write;
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) throw Error(errno_message("socketpair"));
    control.reset(pair[0]);
    control_child.reset(pair[1]);
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) throw Error(errno_message("pipe"));
    info_fd_.reset(pipe_fds[0]);
    info_write.reset(pipe_fds[1]);
    UniqueFd passwd = memfd_with("passwd", plan_.passwd);
    UniqueFd group = memfd_with("group", plan_.group);

    SupervisorConfig config;
    config.control_fd = kControlFd;
    config.launcher = getpid();
    config.root = root_dir;
    config.dirs = plan_.skeleton_dirs;
    config.sticky_dirs = plan_.sticky_dirs;
    config.home = plan_.home;
    config.bwrap_argv = plan_.bwrap_argv;
    config.environment = plan_.environment;
    config.verbose = verbose_;

    // Forked, not executed: nothing has started a thread yet, and the
    // supervisor is a few hundred lines of this program (DESIGN.md).
    supervisor_ = fork();
    if (supervisor_ < 0) throw Error(errno_message("cannot fork the supervisor"));
    if (supervisor_ == 0) {
      place_descriptors({{control_child.get(), kControlFd}, {seccomp_.get(), kSeccompFd},
                         {info_write.get(), kInfoFd}, {passwd.get(), kPasswdFd}, {group.get(), kGroupFd}});
      // bwrap gets the numbered descriptors; nothing else of ours survives.
      close_range(kGroupFd + 1, ~0U, 0);
      fcntl(kControlFd, F_SETFD, FD_CLOEXEC);
      run_supervisor(config);
    }
    control_child.reset();
    info_write.reset();

    for (const auto& resolved : grants_) {
      uint32_t flags = resolved.grant.read_only ? static_cast<uint32_t>(kGrantReadOnly) : 0u;
      if (!send_control_request(control.get(), ControlOp::kGrant, flags, resolved.grant.canonical,
                                resolved.host.fd.get()))
        return finish_early();
      auto reply = receive_control_reply(control.get());
      if (!reply) return finish_early();
      if (reply->error != 0) {
        kill(supervisor_, SIGKILL);
        finish_early();
        throw Error(std::string("cannot grant ") + resolved.grant.canonical + ": " + reply->message);
      }
    }
    if (!send_control_request(control.get(), ControlOp::kStart, 0, "", -1)) return finish_early();
    if (!receive_control_reply(control.get())) return finish_early();
    control_ = std::move(control);

    loop_ = g_main_loop_new(nullptr, FALSE);
    g_unix_fd_add(info_fd_.get(), static_cast<GIOCondition>(G_IO_IN | G_IO_HUP | G_IO_ERR), on_info, this);
    forward_signals();
    g_child_watch_add(supervisor_, on_supervisor_exit, this);
    g_main_loop_run(loop_);
    g_main_loop_unref(loop_);
    if (verbose_) {
      struct rusage usage {};
      getrusage(RUSAGE_SELF, &usage);
      fprintf(stderr, "airlock: launcher peak RSS %ld KiB\n", usage.ru_maxrss);
    }
    return exit_status_;
  }

 private:
  static int exit_status_of(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return kExitAirlockFailed;
  }

  // The supervisor said why on stderr; its status is the answer.
  int finish_early() {
    int status = 0;
    while (waitpid(supervisor_, &status, 0) < 0 && errno == EINTR) {
    }
    int result = exit_status_of(status);
    return result == 0 ? static_cast<int>(kExitAirlockFailed) : result;
  }

  static void on_supervisor_exit(GPid, gint status, gpointer data) {
    auto* self = static_cast<Session*>(data);
    self->exit_status_ = exit_status_of(status);
    g_main_loop_quit(self->loop_);
  }

  // bwrap reports the sandbox's pid 1 (airlock-init) on --info-fd as
  // {"child-pid": N, ...}; signals for the agent go there, and airlock-init
  // passes them on. One known key of one known writer: a lookup, not a
  // JSON parser.
  static gboolean on_info(int fd, GIOCondition, gpointer data) {
    auto* self = static_cast<Session*>(data);
    char buffer[4096];
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n <= 0) {
      self->info_fd_.reset();
      return G_SOURCE_REMOVE;
    }
    self->info_.append(buffer, static_cast<size_t>(n));
    size_t key = self->info_.find("\"child-pid\"");
    size_t colon = key == std::string::npos ? key : self->info_.find(':', key);
    if (self->sandbox_pid_ == 0 && colon != std::string::npos &&
        self->info_.find_first_of(",}", colon) != std::string::npos)
      self->sandbox_pid_ = static_cast<pid_t>(strtol(self->info_.c_str() + colon + 1, nullptr, 10));
    return G_SOURCE_CONTINUE;
  }

  void forward_signals() {
    // With a terminal the agent gets ^C and ^\ from it directly.
    bool tty = isatty(STDIN_FILENO);
    signal(SIGQUIT, tty ? SIG_IGN : SIG_DFL);
    for (int signo : {SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGINT}) {
      if (signo == SIGINT && tty) {
        g_unix_signal_add(signo, [](gpointer) -> gboolean { return G_SOURCE_CONTINUE; }, nullptr);
        continue;
      }
      auto* forward = new Forward{this, signo};
      g_unix_signal_add_full(G_PRIORITY_DEFAULT, signo, on_signal, forward,
                             [](gpointer p) { delete static_cast<Forward*>(p); });
    }
  }

  struct Forward {
    Session* session;
    int signo;
  };

  static gboolean on_signal(gpointer data) {
    auto* forward = static_cast<Forward*>(data);
    Session* self = forward->session;
    // Not started yet: end it all.
    kill(self->sandbox_pid_ > 0 ? self->sandbox_pid_ : self->supervisor_,
         self->sandbox_pid_ > 0 ? forward->signo : SIGKILL);
    return G_SOURCE_CONTINUE;
  }

  const SandboxPlan& plan_;
  const std::vector<ResolvedGrant>& grants_;
  UniqueFd seccomp_;
  bool verbose_;
  pid_t supervisor_ = -1;
  GMainLoop* loop_ = nullptr;
  UniqueFd control_;
  UniqueFd info_fd_;
  std::string info_;
  pid_t sandbox_pid_ = 0;
  int exit_status_ = kExitAirlockFailed;
};

// The supervisor mounts the sandbox root over an empty directory of ours,
// in its own mount namespace; the host only ever sees the empty directory.
std::string make_root_dir() {
  const char* runtime = g_getenv("XDG_RUNTIME_DIR");
  std::string base = runtime && *runtime ? std::string(runtime) + "/airlock" : std::string(g_get_tmp_dir());
  if (g_mkdir_with_parents(base.c_str(), 0700) != 0) base = g_get_tmp_dir();
  std::string tmpl = base + "/airlock-root-XXXXXX";
  if (!g_mkdtemp_full(tmpl.data(), 0700)) throw Error(errno_message("cannot create " + tmpl));
  return tmpl;
}

}  // namespace

int run_command(int argc, char** argv) {
  RunOptions options = parse_options(argc, argv);
  HostFacts host = gather_host_facts();
  const char* runtime_dir = g_getenv("XDG_RUNTIME_DIR");

  Profile profile;
  profile.name = "default";
  if (!options.profile.empty()) profile = load_profile(options.profile, host.home);
  if (options.command.empty() && !profile.command.empty()) options.command = {profile.command};
  if (options.command.empty())
    throw Error("no command given: name one after --, e.g. 'airlock run -- bash', or use a --profile that names one");

  std::string bwrap = find_bwrap();
  const char* search_path = g_getenv("PATH");
  ResolvedCommand command = resolve_command(options.command[0], search_path ? search_path : "/usr/bin:/bin");

  std::vector<ResolvedGrant> grants;
  for (const auto& path : options.read_only) add_grant(&grants, path, true, "--ro", host, runtime_dir);
  for (const auto& path : options.read_write) add_grant(&grants, path, false, "--rw", host, runtime_dir);
  for (const auto& state : profile.state) {
    if (state.directory && g_mkdir_with_parents(state.path.c_str(), 0700) != 0)
      throw Error(errno_message("cannot create " + display_path(state.path, host.home) + " for profile " + profile.name));
    if (g_file_test(state.path.c_str(), G_FILE_TEST_EXISTS))
      add_grant(&grants, state.path, false, "profile state", host, runtime_dir);
  }
  for (const auto& path : command.installation) {
    bool visible = std::any_of(grants.begin(), grants.end(),
                               [&](const ResolvedGrant& g) { return path_is_within(path, g.grant.canonical); });
    if (!visible) add_grant(&grants, path, true, "command", host, runtime_dir);
  }
  // Parents before children, so a nested grant is mounted on top.
  std::stable_sort(grants.begin(), grants.end(), [](const ResolvedGrant& a, const ResolvedGrant& b) {
    return a.grant.canonical.size() < b.grant.canonical.size();
  });

  PlanRequest request;
  request.profile = profile;
  request.task = options.task;
  for (const auto& resolved : grants) request.grants.push_back(resolved.grant);
  request.env_options = options.env;
  request.share_net = options.share_net;
  request.verbose = options.verbose;
  request.command = command;
  request.args.assign(options.command.begin() + 1, options.command.end());
  request.root_dir = "ROOT";
  request.init_binary = helper_path("airlock-init");
  request.bwrap = bwrap;

  SeccompOptions seccomp_options;
  seccomp_options.allow_ptrace = profile.allow_ptrace;

  if (options.dry_run) {
    SandboxPlan plan = build_sandbox_plan(request, host);
    fputs(describe_plan(options, profile, grants, plan, host).c_str(), stdout);
    return 0;
  }
  UniqueFd bpf = build_seccomp_bpf(seccomp_options);
  if (options.share_net)
    fprintf(stderr, "airlock: warning: --share-net gives the agent the host's whole network, unfiltered, "
                    "including services listening on localhost\n");

  std::string root_dir = make_root_dir();
  request.root_dir = root_dir;
  int status = kExitAirlockFailed;
  try {
    SandboxPlan plan = build_sandbox_plan(request, host);
    if (options.verbose) {
      fputs(describe_plan(options, profile, grants, plan, host).c_str(), stderr);
      fputs(("seccomp:\n" + describe_seccomp_rules(seccomp_options)).c_str(), stderr);
    }
    Session session(plan, grants, std::move(bpf), options.verbose);
    status = session.run(root_dir);
  } catch (...) {
    rmdir(root_dir.c_str());
    throw;
  }
  rmdir(root_dir.c_str());
  return status;
}

}  // namespace airlock
