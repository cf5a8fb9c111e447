// `airlock run -- true` against the equivalent raw bwrap call, in one run:
// prints the ratio of medians (budget: 1.5, DESIGN.md) and the peak RSS of
// the launcher and the supervisor. A benchmark, not a test: it reports.
#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

double now_ms() {
  struct timespec ts {};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

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

Stats measure(const std::vector<std::string>& argv, int runs) {
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
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

}  // namespace

int main(int argc, char** argv) {
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
  return 0;
}
