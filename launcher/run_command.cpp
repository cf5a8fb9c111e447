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
#include "helper_program.h"
#include "host_path.h"
#include "profile.h"
#include "sandbox_plan.h"
#include "seccomp_filter.h"
#include "session.h"
#include "translate.h"

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
      // TRANSLATORS: "FILE.profile": keep the suffix .profile; it names a file.
      {"profile", 'p', 0, G_OPTION_ARG_STRING, &profile, N_("Agent profile: a name, or a FILE.profile"),
       N_("NAME|FILE")},
      {"task", 't', 0, G_OPTION_ARG_STRING, &task, N_("What this session is for (shown in prompts and logs)"),
       N_("TEXT")},
      {"ro", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &ro, N_("Grant a folder or file read-only (repeatable)"), N_("PATH")},
      {"rw", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &rw, N_("Grant a folder or file read-write (repeatable)"), N_("PATH")},
      // TRANSLATORS: keep auto, tty and none: they are typed as shown.
      {"prompt", 0, 0, G_OPTION_ARG_STRING, &prompt,
       N_("Who answers the agent's requests: auto (a running prompter, or the desktop), tty (this terminal, for "
          "an agent that does not use it), none (nobody: what the policy does not allow is denied)"),
       "auto|tty|none"},
      {"env", 'e', 0, G_OPTION_ARG_STRING_ARRAY, &env, N_("Pass a host variable, or set one (repeatable)"),
       N_("NAME[=VALUE]")},
      {"share-net", 0, 0, G_OPTION_ARG_NONE, &share_net, N_("Give the agent the host's whole network (unfiltered)"),
       nullptr},
      {"no-net", 0, 0, G_OPTION_ARG_NONE, &no_net,
       N_("No network at all, not even through the portal's proxy (loopback only)"), nullptr},
      // TRANSLATORS: bwrap, seccomp and Landlock are names of programs and kernel features.
      {"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, N_("Show the bwrap arguments, seccomp rules and Landlock ABI"),
       nullptr},
      {"dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run, N_("Print the plan and start nothing"), nullptr},
      {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &command, nullptr, nullptr},
      {},
  };
  g_set_prgname("airlock run");
  g_autoptr(GOptionContext) context = g_option_context_new(N_("[--] COMMAND [ARG...]"));
  // TRANSLATORS: keep --ro and --rw: they are options.
  g_option_context_set_summary(context,
                               N_("Run COMMAND in a sandbox that shares nothing with the host but a read-only\n"
                                  "runtime and the folders granted with --ro and --rw."));
  // TRANSLATORS: airlock-run(1) is a manual page.
  g_option_context_set_description(context,
                                   N_("Exit status: the command's own; 125 when airlock fails, 126 when the command\n"
                                      "cannot be run, 127 when it is not found. See airlock-run(1)."));
  add_translated_entries(context, entries);
  // Options stop at the command, so its own options reach it untouched.
  g_option_context_set_strict_posix(context, TRUE);
  g_autoptr(GError) error = nullptr;
  if (!g_option_context_parse(context, &argc, &argv, &error))
    // TRANSLATORS: %s is GLib's message about the command line, such as
    // "Unknown option --frobnicate".
    throw Error(format(_("%s (see 'airlock run --help')"), error->message));

  RunOptions options;
  if (profile) options.profile = profile;
  if (task) options.task = task;
  if (prompt) options.prompt = prompt;
  if (options.prompt != "auto" && options.prompt != "tty" && options.prompt != "none")
    // TRANSLATORS: keep --prompt, auto, tty and none: they are typed as shown.
    throw Error(format(_("--prompt=%s: say auto, tty or none (see 'airlock run --help')"), options.prompt.c_str()));
  options.read_only = to_vector(ro);
  options.read_write = to_vector(rw);
  options.env = to_vector(env);
  options.share_net = share_net;
  options.no_net = no_net;
  if (options.share_net && options.no_net)
    throw Error(_("--no-net and --share-net contradict each other: --no-net leaves the sandbox loopback only, "
                  "--share-net gives it the host's whole network; choose one"));
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
    throw Error(_("bubblewrap (bwrap) is not installed: install it with 'sudo apt install bubblewrap'"));
  return bwrap;
}

// Grant paths are the canonical ones; the places the sandbox itself is
// built from can never be granted.
void check_grant_location(const std::string& canonical, const std::string& requested) {
  std::string overlap = sandbox_overlap(canonical);
  if (overlap.empty()) return;
  // TRANSLATORS: the last %s is the reason, such as "it overlaps /etc,
  // which the sandbox is built from".
  if (requested == canonical) throw Error(format(_("cannot grant %s: %s"), requested.c_str(), overlap.c_str()));
  // TRANSLATORS: a path, the path it resolves to, and the reason.
  throw Error(format(_("cannot grant %s (%s): %s"), requested.c_str(), canonical.c_str(), overlap.c_str()));
}

void add_grant(std::vector<ResolvedGrant>* grants, const std::string& path, bool read_only,
               const std::string& origin, const HostFacts& host_facts, const char* runtime_dir) {
  HostPath host = resolve_host_path(path);
  std::string shown = display_path(host.requested, host_facts.home);
  if (auto denied = deny_list_match(host.canonical, host_facts.home, runtime_dir ? runtime_dir : "")) {
    std::string reason =
        path_is_within(host.canonical, *denied)
            // TRANSLATORS: a reason, after "cannot grant PATH: "; %s is a
            // folder such as ~/.ssh.
            ? format(_("it lies in %s, which airlock never grants at launch; grant a narrower folder"),
                     display_path(*denied, host_facts.home).c_str())
            : format(_("it contains %s, which airlock never grants at launch; grant a narrower folder"),
                     display_path(*denied, host_facts.home).c_str());
    if (host.canonical == host.requested) throw Error(format(_("cannot grant %s: %s"), shown.c_str(), reason.c_str()));
    // TRANSLATORS: a path, the path of the symlink's target, and the reason.
    throw Error(format(_("cannot grant %s (a symlink to %s): %s"), shown.c_str(),
                       display_path(host.canonical, host_facts.home).c_str(), reason.c_str()));
  }
  check_grant_location(host.canonical, host.requested);
  for (auto& existing : *grants) {
    if (existing.grant.canonical != host.canonical) continue;
    if (existing.grant.read_only != read_only && origin.rfind("--", 0) == 0 &&
        existing.grant.origin.rfind("--", 0) == 0)
      // TRANSLATORS: keep --ro and --rw: they are options.
      throw Error(format(_("%s is given both with --ro and --rw: choose one"), shown.c_str()));
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
  std::string text = profile.file.empty()
                         // TRANSLATORS: the plan of airlock run --dry-run; %s is a profile's name.
                         ? format(_("profile: %s (built in)\n"), profile.name.c_str())
                         // TRANSLATORS: a profile's name and the file it comes from.
                         : format(_("profile: %s (%s)\n"), profile.name.c_str(), profile.file.c_str());
  // TRANSLATORS: the plan of airlock run --dry-run: what the session is for.
  if (!options.task.empty()) text += format(_("task: %s\n"), options.task.c_str());
  // TRANSLATORS: the plan of airlock run --dry-run: the heading of the list of grants.
  text += _("grants:\n");
  if (grants.empty()) text += _("  (none)\n");
  for (const auto& resolved : grants) {
    std::string path = display_path(resolved.grant.canonical, host.home);
    // The origin is an option (--ro, --rw) or one of the words marked in run_command().
    const char* origin = _(resolved.grant.origin.c_str());
    text += resolved.grant.read_only
                // TRANSLATORS: a granted path and where the grant comes from (--ro, --rw,
                // "profile state", "command"). Keep the paths of the two lines in one
                // column: pad the shorter of "read-only" and "read-write" with spaces.
                ? format(_("  read-only  %s  (%s)\n"), path.c_str(), origin)
                : format(_("  read-write %s  (%s)\n"), path.c_str(), origin);
  }
  const NetworkMode network = network_mode(options);
  if (network == NetworkMode::kProxied)
    text += format(_("network: through the portal's proxy (127.0.0.1:%d)\n"), kProxyPort);
  else if (network == NetworkMode::kNone)
    text += _("network: none (loopback only)\n");
  else
    text += _("network: the host's, unfiltered\n");
  std::string names;
  for (const auto& entry : plan.environment) names += (names.empty() ? "" : " ") + entry.substr(0, entry.find('='));
  // TRANSLATORS: %s lists the names of the environment variables the sandbox gets.
  text += format(_("environment: %s\n"), names.c_str());
  text += "bwrap: " + quote_argv(plan.bwrap_argv) + "\n";
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
  if (!g_mkdtemp_full(tmpl.data(), 0700)) throw Error(errno_message(format(_("cannot create %s"), tmpl.c_str())));
  return tmpl;
}

}  // namespace

std::string helper_path(const char* name) {
  std::string path = helper_program(name);
  if (g_file_test(path.c_str(), G_FILE_TEST_IS_EXECUTABLE)) return path;
  // TRANSLATORS: a helper program such as airlock-init, and the folder it is installed in.
  throw Error(format(_("cannot find %s next to airlock or in %s: reinstall airlock"), name, AIRLOCK_LIBEXECDIR));
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
    throw Error(
        // TRANSLATORS: keep --, 'airlock run -- bash' and --profile: they are typed as shown.
        _("no command given: name one after --, e.g. 'airlock run -- bash', or use a --profile that names one"));

  std::string bwrap = find_bwrap();
  const char* search_path = g_getenv("PATH");
  ResolvedCommand command = resolve_command(options.command[0], search_path ? search_path : "/usr/bin:/bin");

  std::vector<ResolvedGrant> grants;
  for (const auto& path : options.read_only) add_grant(&grants, path, true, "--ro", host, runtime_dir);
  for (const auto& path : options.read_write) add_grant(&grants, path, false, "--rw", host, runtime_dir);
  for (const auto& state : profile.state) {
    if (state.directory && g_mkdir_with_parents(state.path.c_str(), 0700) != 0)
      // TRANSLATORS: a folder, and the name of the profile that keeps its state there.
      throw Error(errno_message(format(_("cannot create %s for profile %s"),
                                       display_path(state.path, host.home).c_str(), profile.name.c_str())));
    if (g_file_test(state.path.c_str(), G_FILE_TEST_EXISTS))
      // TRANSLATORS: where a grant in the plan of airlock run --dry-run
      // comes from: the profile's own state folders.
      add_grant(&grants, state.path, false, N_("profile state"), host, runtime_dir);
  }
  for (const auto& path : command.installation) {
    bool visible = std::any_of(grants.begin(), grants.end(),
                               [&](const ResolvedGrant& g) { return path_is_within(path, g.grant.canonical); });
    if (!visible)
      // TRANSLATORS: where a grant in the plan of airlock run --dry-run
      // comes from: the installation of the command that runs.
      add_grant(&grants, path, true, N_("command"), host, runtime_dir);
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
    // TRANSLATORS: keep --prompt=tty and 'airlock prompt': they are typed as shown.
    throw Error(_("--prompt=tty asks on this terminal, which the agent is using: run 'airlock prompt' in another "
                  "terminal instead, or give the agent its input from elsewhere"));
  UniqueFd bpf = build_seccomp_bpf(seccomp_options);
  if (options.share_net)
    // TRANSLATORS: keep --share-net: it is an option.
    fputs(_("airlock: warning: --share-net gives the agent the host's whole network, unfiltered, "
            "including services listening on localhost\n"),
          stderr);

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
