#include "bench_support.h"

#include <fcntl.h>
#include <ftw.h>
#include <glib.h>
#include <signal.h>
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
#include <sstream>

namespace airlock::bench {

namespace {

const char* g_program = "bench";
void (*g_on_die)() = nullptr;

int remove_entry(const char* path, const struct stat*, int, struct FTW*) {
  if (remove(path) != 0 && errno != ENOENT) fprintf(stderr, "%s: cannot remove %s: %s\n", g_program, path, strerror(errno));
  return 0;
}

}  // namespace

void set_program(const char* name, void (*on_die)()) {
  g_program = name;
  g_on_die = on_die;
}

void die(const std::string& what) {
  fprintf(stderr, "%s: %s\n", g_program, what.c_str());
  if (g_on_die) g_on_die();
  exit(1);
}

void die_errno(const std::string& what) { die(what + ": " + strerror(errno)); }

double now_ms() {
  struct timespec ts {};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

void make_dir(const std::string& path, unsigned mode) {
  if (g_mkdir_with_parents(path.c_str(), static_cast<int>(mode)) != 0) die_errno("cannot create " + path);
}

void write_file(const std::string& path, const std::string& text) {
  g_autoptr(GError) error = nullptr;
  if (!g_file_set_contents(path.c_str(), text.c_str(), static_cast<gssize>(text.size()), &error))
    die("cannot write " + path + ": " + error->message);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

void require_executable(const std::string& path, const std::string& what) {
  if (access(path.c_str(), X_OK) != 0)
    die("cannot find " + what + " at " + path + " (" + strerror(errno) + "): build first (ninja -C BUILD_DIR)");
}

void remove_tree(const std::string& path) {
  if (!path.empty() && exists(path)) nftw(path.c_str(), remove_entry, 32, FTW_DEPTH | FTW_PHYS);
}

std::string fs_type(const std::string& path) {
  struct statfs fs {};
  if (statfs(path.c_str(), &fs) != 0) return "?";
  switch (static_cast<unsigned long>(fs.f_type)) {
    case 0xEF53UL: return "ext4";
    case 0x01021994UL: return "tmpfs";
    case 0x9123683EUL: return "btrfs";
    case 0x58465342UL: return "xfs";
    case 0x794c7630UL: return "overlayfs";
    default: {
      char hex[32];
      snprintf(hex, sizeof hex, "fs 0x%lx", static_cast<unsigned long>(fs.f_type));
      return hex;
    }
  }
}

pid_t start(const std::vector<std::string>& argv, const std::string& out, const std::string& err) {
  pid_t pid = fork();
  if (pid < 0) die_errno("fork");
  if (pid == 0) {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    int null = open("/dev/null", O_RDONLY);
    dup2(null, 0);
    if (!out.empty()) dup2(open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), 1);
    if (!err.empty()) dup2(open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), 2);
    std::vector<char*> raw;
    for (const auto& arg : argv) raw.push_back(const_cast<char*>(arg.c_str()));
    raw.push_back(nullptr);
    execv(raw[0], raw.data());
    fprintf(stderr, "%s: cannot run %s: %s\n", g_program, raw[0], strerror(errno));
    _exit(127);
  }
  return pid;
}

int exit_status(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

int wait_for(pid_t pid, double timeout_s) {
  if (timeout_s <= 0) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
      if (errno != EINTR) die_errno("waitpid");
    return exit_status(status);
  }
  double deadline = now_ms() + timeout_s * 1e3;
  bool termed = false;
  for (;;) {
    int status = 0;
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return termed ? -1 : exit_status(status);
    if (done < 0 && errno != EINTR) die_errno("waitpid");
    if (now_ms() > deadline) {
      kill(pid, termed ? SIGKILL : SIGTERM);
      termed = true;
      deadline = now_ms() + 5000;
    }
    usleep(2000);
  }
}

double quantile(std::vector<double> values, double q) {
  if (values.empty()) return NAN;
  std::sort(values.begin(), values.end());
  size_t at = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size()))) - (q > 0 ? 1 : 0);
  return values[std::min(at, values.size() - 1)];
}

double median(std::vector<double> values) {
  if (values.empty()) return NAN;
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace airlock::bench
