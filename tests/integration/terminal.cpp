#include "terminal.h"

#include <glib.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>

namespace airlock::test {

Terminal::Terminal(const std::vector<std::string>& airlock_args, const Options& options, unsigned short rows,
                   unsigned short cols) {
  struct winsize size = {rows, cols, 0, 0};
  pid_ = forkpty(&master_, nullptr, nullptr, &size);
  if (pid_ < 0) throw std::runtime_error("forkpty");
  if (pid_ == 0) {
    if (!options.cwd.empty() && chdir(options.cwd.c_str()) != 0) _exit(121);
    for (const auto& name : options.unset_env) unsetenv(name.c_str());
    for (const auto& [name, value] : options.env) setenv(name.c_str(), value.c_str(), 1);
    if (!options.env.count("TERM")) setenv("TERM", "xterm-256color", 1);
    std::vector<std::string> argv = {airlock_binary()};
    argv.insert(argv.end(), airlock_args.begin(), airlock_args.end());
    std::vector<char*> raw;
    for (auto& arg : argv) raw.push_back(arg.data());
    raw.push_back(nullptr);
    execv(raw[0], raw.data());
    _exit(122);
  }
}

Terminal::~Terminal() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (master_ >= 0) close(master_);
}

bool Terminal::read_some(std::chrono::milliseconds wait) {
  struct pollfd p = {master_, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(wait.count())) <= 0) return true;
  char buffer[4096];
  ssize_t n = read(master_, buffer, sizeof buffer);
  if (n <= 0) return false;  // the program has gone
  screen_.append(buffer, static_cast<size_t>(n));
  return true;
}

bool Terminal::expect(const std::string& text, std::chrono::milliseconds timeout) {
  return expect_any({text}, timeout) == 0;
}

int Terminal::expect_any(const std::vector<std::string>& texts, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool gone = false;
  for (;;) {
    g_autofree char* lower = g_ascii_strdown(screen_.c_str() + consumed_, -1);
    std::string haystack(lower);
    for (size_t i = 0; i < texts.size(); ++i) {
      g_autofree char* needle = g_ascii_strdown(texts[i].c_str(), -1);
      size_t at = haystack.find(needle);
      if (at != std::string::npos) {
        consumed_ += at + texts[i].size();
        return static_cast<int>(i);
      }
    }
    if (gone || std::chrono::steady_clock::now() >= deadline) return -1;
    gone = !read_some(std::chrono::milliseconds(100));
  }
}

void Terminal::type(const std::string& text) {
  if (write(master_, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    throw std::runtime_error("write to the terminal");
}

void Terminal::resize(unsigned short rows, unsigned short cols) {
  struct winsize size = {rows, cols, 0, 0};
  ioctl(master_, TIOCSWINSZ, &size);
}

int Terminal::wait_status() {
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace airlock::test
