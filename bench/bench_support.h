// What the benchmarks' outer programs (bench-portal, bench-proxy) share:
// failing with a message, files and folders, starting and waiting for
// processes, and the statistics they print.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace airlock::bench {

// NAME prefixes die()'s messages; ON_DIE (may be null) stops what the
// program started before it exits.
void set_program(const char* name, void (*on_die)());
[[noreturn]] void die(const std::string& what);
[[noreturn]] void die_errno(const std::string& what);

double now_ms();  // CLOCK_MONOTONIC

void make_dir(const std::string& path, unsigned mode = 0755);
void write_file(const std::string& path, const std::string& text);
std::string read_file(const std::string& path);
bool exists(const std::string& path);
void require_executable(const std::string& path, const std::string& what);
void remove_tree(const std::string& path);
// The file system PATH is on, by name: what weighs on fsync.
std::string fs_type(const std::string& path);

// Starts ARGV with stdin from /dev/null and stdout, stderr to files (or
// inherited when empty).
pid_t start(const std::vector<std::string>& argv, const std::string& out = "", const std::string& err = "");
int exit_status(int status);
// PID's exit status. With TIMEOUT_S above 0 it is sent SIGTERM after that
// long, then SIGKILL, and the status is -1.
int wait_for(pid_t pid, double timeout_s = 0);

double quantile(std::vector<double> values, double q);
double median(std::vector<double> values);

}  // namespace airlock::bench
