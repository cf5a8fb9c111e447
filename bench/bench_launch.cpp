// `airlock run -- true` against the equivalent raw bwrap call, in one run:
// prints the ratio of medians (budget: 1.5, DESIGN.md) and the peak RSS of
// the launcher and the supervisor. Then the same with its portal, as people
// run it: on a private bus (dbus-run-session) that starts the built portal,
// in a scratch HOME, the sessions a second apart (one person starting
// agents, not a loop). A benchmark, not a test: it reports.
#include <fcntl.h>
#include <glib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench_support.h"

namespace {

using airlock::bench::make_dir;
using airlock::bench::now_ms;
using airlock::bench::read_file;
using airlock::bench::remove_tree;
using airlock::bench::start;
using airlock::bench::wait_for;
using airlock::bench::write_file;

// Runs ARGV with stdin from /dev/null; stderr to ERR_FD when >= 0.
int run(const std::vector<std::string>& argv, int err_fd = -1) {
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(err_fd >= 0 ? err_fd : null, 2);
    std::vector<char*> raw;
    for (const auto& arg : argv) raw.push_back(const_cast<char*>(arg.c_str()));
    raw.push_back(nullptr);
    execv(raw[0], raw.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct Stats {
  double median, p90;
};

// RUNS of ARGV, each after PAUSE_US microseconds of nothing.
Stats measure(const std::vector<std::string>& argv, int runs, gulong pause_us = 0) {
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    if (pause_us > 0) g_usleep(pause_us);
    double start = now_ms();
    if (run(argv) != 0) {
      fprintf(stderr, "bench: %s failed\n", argv[0].c_str());
      exit(1);
    }
    times.push_back(now_ms() - start);
  }
  std::sort(times.begin(), times.end());
  return {times[times.size() / 2], times[times.size() * 9 / 10]};
}

long peak_kib(const std::string& text, const std::string& who) {
  size_t at = text.find(who + " peak RSS ");
  return at == std::string::npos ? -1 : atol(text.c_str() + at + who.size() + 10);
}

// On the private bus: RUNS sessions a second apart, after one that starts
// the portal; prints "MEDIAN P90".
int with_portal(const std::string& airlock, int runs) {
  std::vector<std::string> sandboxed = {airlock, "run", "--prompt=none", "--", "/bin/true"};
  measure(sandboxed, 1);
  Stats stats = measure(sandboxed, runs, G_USEC_PER_SEC);
  printf("%f %f\n", stats.median, stats.p90);
  return 0;
}

// The with_portal() figures from a scratch HOME and a private bus, or why not.
bool measure_with_portal(const std::string& self, const std::string& airlock, int runs, Stats* stats,
                         std::string* why) {
  g_autofree char* dbus_run_session = g_find_program_in_path("dbus-run-session");
  g_autofree char* dir = g_path_get_dirname(airlock.c_str());
  const std::string portal = std::string(dir) + "/../portal/airlock-portal";
  if (!dbus_run_session || access(portal.c_str(), X_OK) != 0) {
    *why = !dbus_run_session ? "dbus-run-session is not installed" : "no built portal at " + portal;
    return false;
  }
  std::string scratch = "/tmp/airlock-bench-launch-XXXXXX";
  if (!mkdtemp(scratch.data())) {
    *why = "cannot make a scratch folder";
    return false;
  }
  make_dir(scratch + "/home");
  make_dir(scratch + "/run", 0700);
  make_dir(scratch + "/share/dbus-1/services");
  write_file(scratch + "/share/dbus-1/services/org.airlock.Portal.service",
             "[D-BUS Service]\nName=org.airlock.Portal\nExec=" + portal + "\n");
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"HOME", scratch + "/home"},
           {"XDG_RUNTIME_DIR", scratch + "/run"},
           {"XDG_CONFIG_HOME", scratch + "/config"},
           {"XDG_DATA_HOME", scratch + "/data"},
           {"XDG_DATA_DIRS", scratch + "/share"},
           {"AIRLOCK_DEFAULT_POLICY", std::string(AIRLOCK_BENCH_SOURCE_DIR) + "/policies/default.policy"},
           {"AIRLOCK_PROFILE_PATH", std::string(AIRLOCK_BENCH_SOURCE_DIR) + "/policies/profiles"}})
    g_setenv(name.c_str(), value.c_str(), TRUE);
  g_unsetenv("DBUS_SESSION_BUS_ADDRESS");
  const std::string out = scratch + "/out";
  int status = wait_for(start({dbus_run_session, "--", self, "--with-portal", airlock, std::to_string(runs)}, out,
                              scratch + "/err"),
                        600);
  std::string text = read_file(out);
  remove_tree(scratch);
  if (status != 0 || sscanf(text.c_str(), "%lf %lf", &stats->median, &stats->p90) != 2) {
    *why = "failed (exit status " + std::to_string(status) + ")";
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  airlock::bench::set_program("bench-launch", nullptr);
  if (argc == 4 && strcmp(argv[1], "--with-portal") == 0) return with_portal(argv[2], atoi(argv[3]));
  if (argc < 2) {
    fprintf(stderr, "usage: %s AIRLOCK [RUNS]\n", argv[0]);
    return 2;
  }
  std::string airlock = argv[1];
  int runs = argc > 2 ? atoi(argv[2]) : 40;

  // What airlock builds, done by hand with bwrap alone: the same namespaces,
  // runtime binds, /proc and /dev, without the supervisor, grants, seccomp
  // or Landlock.
  std::vector<std::string> raw = {"/usr/bin/bwrap", "--unshare-all", "--unshare-user", "--disable-userns",
                                  "--die-with-parent", "--cap-drop", "ALL", "--ro-bind", "/usr", "/usr",
                                  "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib",
                                  "--symlink", "usr/lib64", "/lib64", "--proc", "/proc", "--dev", "/dev",
                                  "--", "/bin/true"};
  std::vector<std::string> sandboxed = {airlock, "run", "--", "/bin/true"};

  measure(raw, 3);  // warm the page cache for both
  measure(sandboxed, 3);
  Stats bwrap = measure(raw, runs);
  Stats ours = measure(sandboxed, runs);

  char path[] = "/tmp/airlock-bench-XXXXXX";
  int err = mkstemp(path);
  unlink(path);
  run({airlock, "run", "--verbose", "--", "/bin/true"}, err);
  std::string text(static_cast<size_t>(lseek(err, 0, SEEK_END)), '\0');
  if (pread(err, text.data(), text.size(), 0) < 0) text.clear();
  close(err);

  double ratio = ours.median / bwrap.median;
  printf("launch: %d runs each\n", runs);
  printf("  raw bwrap            median %7.2f ms  p90 %7.2f ms\n", bwrap.median, bwrap.p90);
  printf("  airlock run -- true  median %7.2f ms  p90 %7.2f ms\n", ours.median, ours.p90);
  printf("  ratio of medians     %.2f (budget 1.50: %s)\n", ratio, ratio <= 1.5 ? "within" : "OVER");
  printf("  peak RSS             launcher %ld KiB, supervisor %ld KiB\n", peak_kib(text, "launcher"),
         peak_kib(text, "supervisor"));

  // The same with its portal (its session, its proxy and CA): the path
  // people take.
  g_autofree char* self = realpath("/proc/self/exe", nullptr);
  Stats portal{};
  std::string why;
  if (self && measure_with_portal(self, airlock, runs, &portal, &why))
    printf("  with its portal      median %7.2f ms  p90 %7.2f ms  (%.2f of raw bwrap; sessions 1 s apart)\n",
           portal.median, portal.p90, portal.median / bwrap.median);
  else
    printf("  with its portal      not measured: %s\n", why.c_str());
  return 0;
}
