#include "sandbox_runner.h"

#include <fcntl.h>
#include <glib.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace airlock::test {

std::string env_or_die(const char* name) {
  const char* value = getenv(name);
  if (!value || !*value) throw std::runtime_error(std::string(name) + " is not set: run the tests with meson test");
  return value;
}

std::string airlock_binary() { return env_or_die("AIRLOCK_BIN"); }

bool running_as_root() { return geteuid() == 0; }

Result run(const std::vector<std::string>& argv, const Options& options) {
  std::map<std::string, std::string> env;
  for (char** entry = environ; *entry; ++entry) {
    const char* eq = strchr(*entry, '=');
    if (eq) env[std::string(*entry, static_cast<size_t>(eq - *entry))] = eq + 1;
  }
  for (const auto& name : options.unset_env) env.erase(name);
  for (const auto& [name, value] : options.env) env[name] = value;
  std::vector<std::string> env_strings;
  for (const auto& [name, value] : env) env_strings.push_back(name + "=" + value);
  std::vector<char*> envp, args;
  for (auto& entry : env_strings) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& arg : argv_copy) args.push_back(arg.data());
  args.push_back(nullptr);

  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) throw std::runtime_error("pipe");
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork");
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    if (!options.cwd.empty() && chdir(options.cwd.c_str()) != 0) _exit(121);
    execve(args[0], args.data(), envp.data());
    _exit(122);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (!options.input.empty() &&
      write(in[1], options.input.data(), options.input.size()) != static_cast<ssize_t>(options.input.size()))
    throw std::runtime_error("write to child");
  close(in[1]);

  Result result;
  auto deadline = std::chrono::steady_clock::now() + options.timeout;
  struct pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_streams = 2;
  while (open_streams > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    int ready = poll(fds, 2, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !fds[i].revents) continue;
      char buffer[8192];
      ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        (i == 0 ? result.out : result.err).append(buffer, static_cast<size_t>(n));
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_streams;
      }
    }
  }
  for (auto& fd : fds)
    if (fd.fd >= 0) close(fd.fd);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

Result airlock(const std::vector<std::string>& args, const Options& options) {
  std::vector<std::string> argv = {airlock_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, options);
}

Scratch::Scratch() {
  std::string tmpl = std::string(g_get_tmp_dir()) + "/airlock-test-XXXXXX";
  if (!g_mkdtemp_full(tmpl.data(), 0700)) throw std::runtime_error("mkdtemp");
  dir_ = tmpl;
  home_ = dir_ + "/home";
  g_mkdir_with_parents((home_ + "/.ssh").c_str(), 0700);
  g_mkdir_with_parents((home_ + "/.aws").c_str(), 0700);
  g_mkdir_with_parents((dir_ + "/run").c_str(), 0700);
  write_file(home_ + "/.ssh/id_ed25519", "-----BEGIN OPENSSH PRIVATE KEY----- not-a-real-key\n");
  write_file(home_ + "/.aws/credentials", "[default]\naws_secret_access_key = not-a-real-secret\n");
  write_file(home_ + "/notes.txt", "the person's own notes\n");
}

Scratch::~Scratch() {
  // Grants made read-only inside leave nothing read-only outside.
  std::string command = "chmod -R u+w '" + dir_ + "' 2>/dev/null; rm -rf '" + dir_ + "'";
  if (system(command.c_str()) != 0) {
  }
}

Options Scratch::options() const {
  Options options;
  options.env["HOME"] = home_;
  options.env["XDG_RUNTIME_DIR"] = dir_ + "/run";
  options.cwd = dir_;
  return options;
}

void Scratch::write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string Scratch::read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

bool Scratch::exists(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0;
}

}  // namespace airlock::test
