// A pseudo-terminal, as a person's terminal emulator gives one: runs airlock
// on it, types, resizes, and waits for text on the screen.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "sandbox_runner.h"

namespace airlock::test {

class Terminal {
 public:
  Terminal(const std::vector<std::string>& airlock_args, const Options& options, unsigned short rows,
           unsigned short cols);
  ~Terminal();
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  // Waits until TEXT appears after what earlier calls matched. Matching is
  // on what a person reads: escape sequences and runs of white space count
  // as one space, and case does not matter, because programs that redraw
  // only the cells that changed rarely send a phrase whole.
  bool expect(const std::string& text, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Waits until any of TEXTS appears; returns the index of the one that
  // appears first on the screen, or -1 after TIMEOUT or when the program has
  // gone.
  int expect_any(const std::vector<std::string>& texts, std::chrono::milliseconds timeout);
  // The last of the screen as plain text, for failure messages.
  std::string tail() const;
  void type(const std::string& text);
  void resize(unsigned short rows, unsigned short cols);
  int wait_status();
  pid_t pid() const { return pid_; }
  const std::string& screen() const { return screen_; }

 private:
  bool read_some(std::chrono::milliseconds wait);

  int master_ = -1;
  pid_t pid_ = -1;
  std::string screen_;
  size_t consumed_ = 0;
};

}  // namespace airlock::test
