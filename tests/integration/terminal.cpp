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

namespace {

// A terminal's output as plain text: each escape sequence or control
// character becomes a space, each run of white space one space, letters
// lower case. Programs that redraw only the cells that changed move the
// cursor over the spaces between words, so the raw stream rarely holds a
// phrase whole.
std::string plain(const std::string& raw) {
  std::string text;
  auto space = [&text] {
    if (!text.empty() && text.back() != ' ') text += ' ';
  };
  for (size_t i = 0; i < raw.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(raw[i]);
    if (c == 0x1b && i + 1 < raw.size()) {
      char kind = raw[++i];
      if (kind == '[') {  // CSI: parameters, then a final byte in @..~
        while (i + 1 < raw.size() && !(raw[i + 1] >= '@' && raw[i + 1] <= '~')) ++i;
        ++i;
      } else if (kind == ']' || kind == 'P' || kind == '_' || kind == '^') {  // up to BEL or ESC backslash
        while (i + 1 < raw.size() && raw[i + 1] != '\x07' &&
               !(raw[i + 1] == '\x1b' && i + 2 < raw.size() && raw[i + 2] == '\\'))
          ++i;
        i += raw[i + 1] == '\x07' ? 1 : 2;
      } else if (kind == '(' || kind == ')' || kind == '#') {
        ++i;
      }
      space();
    } else if (c < 0x20 || c == ' ' || c == 0x7f) {
      space();
    } else {
      text += static_cast<char>(g_ascii_tolower(static_cast<char>(c)));
    }
  }
  return text;
}

}  // namespace


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
    std::string text = plain(screen_);
    size_t best = std::string::npos, end = 0;
    int found = -1;
    for (size_t i = 0; i < texts.size(); ++i) {
      std::string phrase = plain(texts[i]);
      size_t at = text.find(phrase, consumed_);
      if (at != std::string::npos && (best == std::string::npos || at < best)) {
        best = at;
        end = at + phrase.size();
        found = static_cast<int>(i);
      }
    }
    if (found >= 0) {
      consumed_ = end;
      return found;
    }
    if (gone || std::chrono::steady_clock::now() >= deadline) return -1;
    gone = !read_some(std::chrono::milliseconds(100));
  }
}

std::string Terminal::tail() const {
  std::string text = plain(screen_);
  return text.size() > 3000 ? "..." + text.substr(text.size() - 3000) : text;
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
