#include "run_command.h"

#include <glib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "command_resolve.h"
#include "config.h"
#include "error.h"
#include "host_path.h"
#include "profile.h"
#include "sandbox_plan.h"
#include "seccomp_filter.h"
#include "session.h"

namespace airlock {

namespace {

struct RunOptions {
  std::string profile;
  std::string task;
  std::string prompt = "auto";
  std::vector<std::string> read_only;
  std::vector<std::string> read_write;
  std::vector<std::string> env;
  bool share_net = false;
  bool no_net = false;
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
  g_autofree char* prompt = nullptr;
  g_auto(GStrv) ro = nullptr;
  g_auto(GStrv) rw = nullptr;
  g_auto(GStrv) env = nullptr;
  g_auto(GStrv) command = nullptr;
  gboolean share_net = FALSE, no_net = FALSE, verbose = FALSE, dry_run = FALSE;
  GOptionEntry entries[] = {
      {"profile", 'p', 0, G_OPTION_ARG_STRING, &profile, "Agent profile: a name, or a FILE.profile", "NAME|FILE"},
      {"task", 't', 0, G_OPTION_ARG_STRING, &task, "What this session is for (shown in prompts and logs)", "TEXT"},
      {"ro", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &ro, "Grant a folder or file read-only (repeatable)", "PATH"},
      {"rw", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &rw, "Grant a folder or file read-write (repeatable)", "PATH"},
      {"prompt", 0, 0, G_OPTION_ARG_STRING, &prompt,
       "Who answers the agent's requests: auto (a running prompter, or the desktop), tty (this terminal, for "
       "an agent that does not use it), none (nobody: what the policy does not allow is denied)",
       "auto|tty|none"},
      {"env", 'e', 0, G_OPTION_ARG_STRING_ARRAY, &env, "Pass a host variable, or set one (repeatable)", "NAME[=VALUE]"},
      {"share-net", 0, 0, G_OPTION_ARG_NONE, &share_net, "Give the agent the host's whole network (unfiltered)", nullptr},
      {"no-net", 0, 0, G_OPTION_ARG_NONE, &no_net,
       "No network at all, not even through the portal's proxy (loopback only)", nullptr},
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
  if (prompt) options.prompt = prompt;
  if (options.prompt != "auto" && options.prompt != "tty" && options.prompt != "none")
    throw Error("--prompt=" + options.prompt + ": say auto, tty or none (see 'airlock run --help')");
  options.read_only = to_vector(ro);
  options.read_write = to_vector(rw);
  options.env = to_vector(env);
  options.share_net = share_net;
  options.no_net = no_net;
  if (options.share_net && options.no_net)
    throw Error("--no-net and --share-net contradict each other: --no-net leaves the sandbox loopback only, "
                "--share-net gives it the host's whole network; choose one");
  options.verbose = verbose;
  options.dry_run = dry_run;
  options.command = to_vector(command);
  if (!options.command.empty() && options.command[0] == "--") options.command.erase(options.command.begin());
  return options;
}

NetworkMode network_mode(const RunOptions& options) {
  if (options.share_net) return NetworkMode::kHost;
  return options.no_net ? NetworkMode::kNone : NetworkMode::kProxied;
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
  std::string overlap = sandbox_overlap(canonical);
  if (!overlap.empty())
    throw Error("cannot grant " + requested + (requested == canonical ? "" : " (" + canonical + ")") + ": " + overlap);
}

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
  const NetworkMode network = network_mode(options);
  if (network == NetworkMode::kProxied)
    text += "network: through the portal's proxy (127.0.0.1:" + std::to_string(kProxyPort) + ")\n";
  else if (network == NetworkMode::kNone)
    text += "network: none (loopback only)\n";
  else
    text += "network: the host's, unfiltered\n";
  text += "environment:";
  for (const auto& entry : plan.environment) text += " " + entry.substr(0, entry.find('='));
  text += "\nbwrap: " + quote_argv(plan.bwrap_argv) + "\n";
  return text;
}

// What the portal is told about the session. The workspace is the folder
// granted read-write that the agent starts in (`cd project && airlock run
// --rw .`): always-grants given in it stay with it.
SessionDescription describe_session(const RunOptions& options, const Profile& profile,
                                    const std::vector<ResolvedGrant>& grants, const HostFacts& host,
                                    const ResolvedCommand& command) {
  SessionDescription description;
  description.profile = profile.name;
  description.profile_file = profile.file;
  description.task = options.task;
  description.command = command.path;
  description.prompt = options.prompt;
  for (const auto& resolved : grants)
    if (!resolved.grant.read_only && resolved.grant.origin == "--rw" && path_is_within(host.cwd, resolved.grant.canonical) &&
        resolved.grant.canonical.size() > description.workspace.size())
      description.workspace = resolved.grant.canonical;
  return description;
}

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
  request.network = network_mode(options);
  request.verbose = options.verbose;
  request.command = command;
  request.args.assign(options.command.begin() + 1, options.command.end());
  request.root_dir = "ROOT";
  request.init_binary = helper_path("airlock-init");
  request.request_binary = helper_path("airlock-request");
  request.bwrap = bwrap;

  SeccompOptions seccomp_options;
  seccomp_options.allow_ptrace = profile.allow_ptrace;

  if (options.dry_run) {
    SandboxPlan plan = build_sandbox_plan(request, host);
    fputs(describe_plan(options, profile, grants, plan, host).c_str(), stdout);
    return 0;
  }
  if (options.prompt == "tty" && host.stdin_is_tty)
    throw Error("--prompt=tty asks on this terminal, which the agent is using: run 'airlock prompt' in another "
                "terminal instead, or give the agent its input from elsewhere");
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
      fputs("seccomp:\n", stderr);
      g_auto(GStrv) rules = g_strsplit(describe_seccomp_rules(seccomp_options).c_str(), "\n", -1);
      for (char** rule = rules; *rule; ++rule)
        if (**rule) fprintf(stderr, "  %s\n", *rule);
    }
    status = run_session(plan, grants, std::move(bpf), root_dir, describe_session(options, profile, grants, host, command),
                         options.verbose);
  } catch (...) {
    rmdir(root_dir.c_str());
    throw;
  }
  rmdir(root_dir.c_str());
  return status;
}

}  // namespace airlock
