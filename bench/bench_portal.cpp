// The portal's numbers (issue 3, DESIGN.md "Performance budget"), in one
// run, each beside a baseline measured in the same run:
//   - grant latency: a policy-allowed RequestFolder inside the sandbox until
//     a file in the folder is visible there, against a policy-denied round
//     trip (the same work without the mount);
//   - a 5,000-file tree created, walked, stat'ed, read and removed in a folder
//     granted at run time, against the same work on the host;
//   - policy-only requests a second from one client, against Peer.Ping on
//     the same connection (D-Bus alone);
//   - the portal's idle RSS with a session registered, against its budget.
// It builds a scratch HOME and XDG folders, a D-Bus service folder naming
// the built portal and a user policy, then runs itself again under
// dbus-run-session, where it starts `airlock run` with bench-portal-client
// inside. A benchmark, not a test: it reports, and fails only when it
// cannot measure. The scratch folder is removed in every case.
#include <fcntl.h>
#include <ftw.h>
#include <gio/gio.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "bench_support.h"

namespace {

using namespace airlock::bench;

struct Config {
  std::string build, scratch;
  int folders = 200, runs = 5;
  double seconds = 2;
};

// What the inner run started, ended by die() too: the sandbox, and the
// portal (which holds files in the scratch folder the outer run removes).
pid_t g_agent = -1;
GDBusConnection* g_bus = nullptr;
void stop_started();

// ---- statistics --------------------------------------------------------------

std::vector<double> numbers(const std::string& csv) {
  std::vector<double> out;
  std::stringstream in(csv);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(atof(item.c_str()));
  return out;
}

// "key value" lines.
std::map<std::string, std::string> parse(const std::string& text) {
  std::map<std::string, std::string> out;
  std::stringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t space = line.find(' ');
    if (space != std::string::npos) out[line.substr(0, space)] = line.substr(space + 1);
  }
  return out;
}

const std::string& need(const std::map<std::string, std::string>& values, const std::string& key) {
  auto it = values.find(key);
  if (it == values.end()) die("the client's results lack " + key);
  return it->second;
}

// ---- the outer run: scratch, bus, cleanup ------------------------------------

std::string policy_text(const std::string& scratch) {
  return "# bench-portal: grants beneath grants/ need no prompt; denied/ is refused.\n"
         "[Rule bench-grants]\nKind=folder\nMatch=" + scratch + "/grants;" + scratch + "/grants/**;\n"
         "Access=write\nDecision=allow\n\n"
         "[Rule bench-denied]\nKind=folder\nMatch=" + scratch + "/denied;" + scratch + "/denied/**;\n"
         "Decision=deny\n";
}

int outer_main(Config config, const char* self) {
  if (geteuid() == 0)
    die("run it as an unprivileged user, as setup.sh does: airlock's sandboxes are measured as a person runs them "
        "(as root: runuser -u USER -- bench/run.sh BUILD_DIR)");
  std::string airlock = config.build + "/launcher/airlock";
  std::string portal = config.build + "/portal/airlock-portal";
  std::string client = config.build + "/bench/bench-portal-client";
  require_executable(airlock, "airlock");
  require_executable(portal, "airlock-portal");
  require_executable(client, "bench-portal-client");
  g_autofree char* dbus_run_session = g_find_program_in_path("dbus-run-session");
  if (!dbus_run_session) die("dbus-run-session is not installed (Debian: apt install dbus-daemon or dbus)");

  const char* tmp = g_getenv("TMPDIR");
  std::string base = std::string(tmp && *tmp ? tmp : "/tmp") + "/airlock-bench-portal-XXXXXX";
  if (!mkdtemp(base.data())) die_errno("cannot create a scratch folder like " + base);
  g_autofree char* real = realpath(base.c_str(), nullptr);
  config.scratch = real ? real : base;
  const std::string& s = config.scratch;

  // From here on the scratch folder is removed whatever happens: an
  // interrupted run ends the child, then cleans up.
  signal(SIGINT, SIG_IGN);
  signal(SIGTERM, SIG_IGN);
  signal(SIGHUP, SIG_IGN);

  make_dir(s + "/home");
  make_dir(s + "/config/airlock", 0700);
  make_dir(s + "/data", 0700);
  make_dir(s + "/run", 0700);
  make_dir(s + "/share/dbus-1/services");
  make_dir(s + "/exchange");
  make_dir(s + "/denied");
  make_dir(s + "/grants/tree");
  make_dir(s + "/host-tree");
  for (int i = 0; i < config.folders; ++i) {
    make_dir(s + "/grants/lat/" + std::to_string(i));
    write_file(s + "/grants/lat/" + std::to_string(i) + "/marker", "x\n");
  }
  write_file(s + "/share/dbus-1/services/org.airlock.Portal.service",
             "[D-BUS Service]\nName=org.airlock.Portal\nExec=" + portal + "\n");
  write_file(s + "/config/airlock/airlock.policy", policy_text(s));

  // The portal inherits the bus's environment, so these are set before
  // dbus-run-session starts the bus.
  g_setenv("HOME", (s + "/home").c_str(), TRUE);
  g_setenv("XDG_CONFIG_HOME", (s + "/config").c_str(), TRUE);
  g_setenv("XDG_DATA_HOME", (s + "/data").c_str(), TRUE);
  g_setenv("XDG_RUNTIME_DIR", (s + "/run").c_str(), TRUE);
  g_setenv("XDG_DATA_DIRS", (s + "/share").c_str(), TRUE);  // only the bench's service file
  // The source tree's default policy and profiles, as meson devenv sets them.
  std::string source = AIRLOCK_BENCH_SOURCE_DIR;
  if (!g_getenv("AIRLOCK_DEFAULT_POLICY") && exists(source + "/policies/default.policy"))
    g_setenv("AIRLOCK_DEFAULT_POLICY", (source + "/policies/default.policy").c_str(), TRUE);
  if (!g_getenv("AIRLOCK_PROFILE_PATH") && exists(source + "/policies/profiles"))
    g_setenv("AIRLOCK_PROFILE_PATH", (source + "/policies/profiles").c_str(), TRUE);
  g_unsetenv("DBUS_SESSION_BUS_ADDRESS");
  g_unsetenv("AIRLOCK_PORTAL_ADDRESS");

  pid_t inner = start({dbus_run_session, "--", self, "--inner", config.build, s, std::to_string(config.folders),
                       std::to_string(config.runs), std::to_string(config.seconds)});
  int status = wait_for(inner);
  remove_tree(s);
  if (exists(s)) fprintf(stderr, "bench-portal: %s could not be removed completely\n", s.c_str());
  if (status != 0) fprintf(stderr, "bench-portal: failed (exit status %d)\n", status);
  return status;
}

// ---- the inner run, on the private bus ------------------------------------------

struct Memory {
  long rss = -1, anon = -1, file = -1, hwm = -1;
};

Memory memory_of(pid_t pid) {
  Memory m;
  std::stringstream in(read_file("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(in, line)) {
    long value = atol(line.c_str() + line.find(':') + 1);
    if (line.rfind("VmRSS:", 0) == 0) m.rss = value;
    else if (line.rfind("RssAnon:", 0) == 0) m.anon = value;
    else if (line.rfind("RssFile:", 0) == 0) m.file = value;
    else if (line.rfind("VmHWM:", 0) == 0) m.hwm = value;
  }
  if (m.rss < 0) die("cannot read the memory of airlock-portal (pid " + std::to_string(pid) + ")");
  return m;
}

pid_t portal_pid(GDBusConnection* bus) {
  g_autoptr(GError) error = nullptr;
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
      bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetConnectionUnixProcessID",
      g_variant_new("(s)", "org.airlock.Portal"), G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, 5000, nullptr, &error);
  if (!reply) die(std::string("org.airlock.Portal is not on the bus: ") + error->message);
  guint32 pid = 0;
  g_variant_get(reply, "(u)", &pid);
  return static_cast<pid_t>(pid);
}

// Waits until PATH exists while PID runs; the agent's stderr on failure.
void await(const std::string& path, pid_t agent, const std::string& agent_err, double timeout_s, const char* what) {
  double deadline = now_ms() + timeout_s * 1e3;
  while (!exists(path)) {
    int status = 0;
    if (waitpid(agent, &status, WNOHANG) == agent) {
      g_agent = -1;
      die(std::string("the sandbox ended (exit status ") + std::to_string(exit_status(status)) + ") before " + what +
          ":\n" + read_file(agent_err));
    }
    if (now_ms() > deadline)
      die(std::string("timed out waiting for ") + what + ":\n" + read_file(agent_err));
    usleep(10000);
  }
}

void print_row(const char* phase, double host, double sandbox) {
  printf("  %-8s %10.2f %12.2f %9.2f\n", phase, host, sandbox, sandbox / host);
}

double rate_of(const std::map<std::string, std::string>& r, const std::string& name) {
  return atof(need(r, "rate." + name + ".answered").c_str()) / (atof(need(r, "rate." + name + ".ms").c_str()) / 1e3);
}

// Answers a second over the whole phase and, when the session's flood
// control refused some, over the time before the first refusal: what the
// portal itself sustains.
void print_rate(const std::map<std::string, std::string>& r, const std::string& name, const char* label, double ping) {
  long answered = atol(need(r, "rate." + name + ".answered").c_str());
  long throttled = atol(need(r, "rate." + name + ".throttled").c_str());
  double ms = atof(need(r, "rate." + name + ".ms").c_str());
  double rate = rate_of(r, name);
  printf("  %-26s %6ld in %5.2f s %7.0f /s", label, answered, ms / 1e3, rate);
  if (ping > 0) printf("  %5.3f of ping", rate / ping);
  if (throttled > 0) printf("  (%ld more refused: throttled)", throttled);
  printf("\n");
  if (throttled > 0) {
    double first = atof(need(r, "rate." + name + ".first_throttle_ms").c_str());
    long before = atol(need(r, "rate." + name + ".answered_at_throttle").c_str());
    double unthrottled = static_cast<double>(before) / (first / 1e3);
    printf("  %-26s %6ld in %5.2f s %7.0f /s  %5.3f of ping\n", "  until the first refusal", before, first / 1e3,
           unthrottled, ping > 0 ? unthrottled / ping : 0.0);
  }
}

void stop_started() {
  if (g_agent > 0) {
    pid_t agent = g_agent;
    g_agent = -1;
    kill(agent, SIGTERM);
    waitpid(agent, nullptr, 0);
  }
  if (!g_bus) return;
  GDBusConnection* bus = g_bus;
  g_bus = nullptr;
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
      bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetConnectionUnixProcessID",
      g_variant_new("(s)", "org.airlock.Portal"), G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, 5000, nullptr, nullptr);
  if (!reply) return;  // never started
  guint32 pid = 0;
  g_variant_get(reply, "(u)", &pid);
  if (pid == 0 || kill(static_cast<pid_t>(pid), SIGTERM) != 0) return;
  double deadline = now_ms() + 5000;
  while (kill(static_cast<pid_t>(pid), 0) == 0 && now_ms() < deadline) usleep(10000);
}

int inner_main(const Config& config) {
  const std::string& s = config.scratch;
  std::string client = config.build + "/bench/bench-portal-client";
  g_autoptr(GError) error = nullptr;
  g_autoptr(GDBusConnection) bus = g_bus_get_sync(G_BUS_TYPE_SESSION, nullptr, &error);
  if (!bus) die(std::string("cannot reach the private bus dbus-run-session started: ") + error->message);
  g_bus = bus;
  std::string runs = std::to_string(config.runs);

  std::string agent_out = s + "/agent.out", agent_err = s + "/agent.err", ex = s + "/exchange";
  pid_t agent = start({config.build + "/launcher/airlock", "run", "--prompt=none", "--task", "bench-portal", "--rw", ex,
                       "--", client, "sandbox", ex, s, std::to_string(config.folders), runs,
                       std::to_string(config.seconds)},
                      agent_out, agent_err);
  g_agent = agent;
  await(ex + "/idle", agent, agent_err, 60, "the agent connected to the portal");
  g_usleep(1000 * 1000);
  pid_t portal = portal_pid(bus);
  Memory idle = memory_of(portal);
  write_file(ex + "/go", "");
  // The file tree: each round in the sandbox follows one on the host, the
  // same program, so that a busy machine weighs on both alike.
  std::string host_results;
  for (int k = 0; k < config.runs; ++k) {
    std::string round = std::to_string(k);
    await(ex + "/tree-ready-" + round, agent, agent_err, 600, "the sandbox's file-tree round");
    std::string out = s + "/host-" + round;
    if (wait_for(start({client, "tree", s + "/host-tree", "1", out})) != 0)
      die("the file-tree workload failed on the host");
    host_results += read_file(out);
    write_file(ex + "/tree-go-" + round, "");
  }
  await(ex + "/done", agent, agent_err, 600, "the measurements in the sandbox ended");
  g_usleep(1000 * 1000);
  Memory after = memory_of(portal);
  write_file(ex + "/exit", "");
  int status = wait_for(agent);
  g_agent = -1;
  if (status != 0) die("airlock run ended with exit status " + std::to_string(status) + ":\n" + read_file(agent_err));


  auto r = parse(read_file(ex + "/results"));
  // "tree.PHASE.ms T" once per host round: joined into one list a phase.
  std::map<std::string, std::string> host;
  {
    std::stringstream in(host_results);
    std::string line;
    while (std::getline(in, line)) {
      size_t space = line.find(' ');
      if (space == std::string::npos) continue;
      std::string& values = host[line.substr(0, space)];
      values += (values.empty() ? "" : ",") + line.substr(space + 1);
    }
  }

  printf("portal: %d folders, %d file-tree rounds, %.1f s per rate phase; scratch on %s\n", config.folders,
         config.runs, config.seconds, fs_type(s).c_str());

  auto response = numbers(need(r, "latency.response.ms"));
  auto visible = numbers(need(r, "latency.visible.ms"));
  auto deny = numbers(need(r, "latency.deny.ms"));
  auto ping_rtt = numbers(need(r, "latency.ping.ms"));
  printf("grant latency: RequestFolder inside the sandbox, policy-allowed, %zu distinct folders\n", visible.size());
  printf("  call -> Response         median %7.3f ms  p99 %7.3f ms\n", median(response), quantile(response, 0.99));
  printf("  call -> file visible     median %7.3f ms  p99 %7.3f ms  max %7.3f ms  (goal: a few ms)\n",
         median(visible), quantile(visible, 0.99), quantile(visible, 1.0));
  printf("  baseline: denied call    median %7.3f ms  p99 %7.3f ms  (the round trip without a mount)\n",
         median(deny), quantile(deny, 0.99));
  printf("  baseline: Peer.Ping      median %7.3f ms  p99 %7.3f ms  (D-Bus alone)\n", median(ping_rtt),
         quantile(ping_rtt, 0.99));
  printf("  ratio of medians         grant/deny %.2f, grant/ping %.1f; stat retries after the Response: %s\n",
         median(visible) / median(deny), median(visible) / median(ping_rtt), need(r, "latency.extra_polls").c_str());

  printf("file tree: 5,000 files of 1 KiB in 50 folders, median of %d rounds each, host and sandbox alternating\n",
         config.runs);
  printf("  %-8s %10s %12s %9s\n", "phase", "host ms", "sandbox ms", "ratio");
  double host_total = 0, sandbox_total = 0;
  for (const char* phase : {"create", "walk", "stat", "read", "remove"}) {
    std::string key = std::string("tree.") + phase + ".ms";
    double h = median(numbers(need(host, key))), b = median(numbers(need(r, key)));
    host_total += h;
    sandbox_total += b;
    print_row(phase, h, b);
  }
  print_row("total", host_total, sandbox_total);
  printf("  (goal: ratio 1.0-1.1; the granted folder is a bind mount, the sandbox adds seccomp and Landlock)\n");

  double ping = rate_of(r, "ping");
  printf("policy-only requests from one client, %d in flight, Responses a second\n", 32);
  print_rate(r, "ping", "baseline: Peer.Ping", 0);
  print_rate(r, "deny", "denied by a policy rule", ping);
  print_rate(r, "granted", "covered by a held grant", ping);
  printf("  (a session may send a burst of 1000 requests, then 500 a second: over the whole phase the rate is\n"
         "  the flood control's; until its first refusal, the portal's own)\n");

  printf("airlock-portal memory (pid %d), idle, one session registered\n", portal);
  printf("  before the work   VmRSS %6ld KiB (anon %ld, file %ld)  %.2f of the 10 MiB budget\n", idle.rss, idle.anon,
         idle.file, static_cast<double>(idle.rss) / 10240);
  printf("  after the work    VmRSS %6ld KiB (anon %ld, file %ld)  %.2f of the 10 MiB budget; peak VmHWM %ld KiB\n",
         after.rss, after.anon, after.file, static_cast<double>(after.rss) / 10240, after.hwm);
  fflush(stdout);

  // The portal holds files in the scratch folder: end it before the outer
  // run removes them, rather than leave it to notice the bus is gone.
  stop_started();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  set_program("bench-portal", stop_started);
  Config config;
  if (argc == 7 && strcmp(argv[1], "--inner") == 0) {
    config.build = argv[2];
    config.scratch = argv[3];
    config.folders = atoi(argv[4]);
    config.runs = atoi(argv[5]);
    config.seconds = atof(argv[6]);
    return inner_main(config);
  }
  if (argc < 2 || argc > 5 || argv[1][0] == '-') {
    fprintf(stderr, "usage: %s BUILD_DIR [FOLDERS [RUNS [SECONDS]]]\n(defaults: 200 folders, 5 rounds, 2 s)\n", argv[0]);
    return 2;
  }
  g_autofree char* build = realpath(argv[1], nullptr);
  if (!build) die_errno(std::string("cannot find the build folder ") + argv[1]);
  config.build = build;
  if (argc > 2) config.folders = atoi(argv[2]);
  if (argc > 3) config.runs = atoi(argv[3]);
  if (argc > 4) config.seconds = atof(argv[4]);
  if (config.folders < 1 || config.runs < 1 || !(config.seconds > 0)) die("FOLDERS, RUNS and SECONDS must be positive");
  g_autofree char* self = realpath("/proc/self/exe", nullptr);
  if (!self) die_errno("cannot find this program");
  return outer_main(config, self);
}
