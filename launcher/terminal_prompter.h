// The terminal prompter: serves org.airlock.impl.Prompter on the session
// bus and asks a person on a terminal (or answers from a script), for
// `airlock prompt` and for `airlock run --prompt=tty`.
#pragma once

#include <gio/gio.h>

#include <functional>
#include <memory>
#include <optional>
#include <cstdint>
#include <string>
#include <string_view>

namespace airlock {

// Scripted mode: answer the next COUNT requests that match.
struct PromptScript {
  bool allow = false;          // --answer allow|deny
  std::string scope = "once";  // --scope once|task|always (for a secret, "always" is the confirmed second step)
  uint32_t ttl = 0;            // --ttl: a secret's "task" ends after SECONDS (0: with the task)
  std::string kind;            // "" for any, else folder|file|host|secret
  std::string resource_glob;   // "" for any, else a GLib glob on the canonical resource
  int count = 1;               // 0: every matching request, for ever
};

// Owns no global state: no signal handlers, no default main context of its
// own. Everything runs on the thread-default main context of the thread
// that calls start(), which the caller iterates (a GMainLoop).
//
// Only the portal's connection (the owner of org.airlock.Portal when the
// prompter registered) may call Prompt and Close; anyone else on the bus is
// refused, so no other program can put a prompt on the terminal. When the
// portal restarts, the prompter registers again with the new one.
//
// Interactive: requests queue and are asked one at a time; input typed
// before a question is shown is thrown away, so a keystroke meant for
// something else never answers a prompt. Text from the request (the agent's
// reason above all, but also paths and names) is shown with control
// characters, escape sequences and bidirectional overrides made visible as
// escapes (terminal_text.h), and the reason is wrapped in a marked, quoted
// block. End of file on the terminal denies the request on screen,
// dismisses the others, and calls the on_done callback: nobody is left to
// ask.
//
// Scripted: each matching request is answered at once and logged on
// stderr, one line each; a request that does not match, or whose scope is
// not offered (no "always" for a dangerous request), is dismissed (2) and
// logged. After COUNT answers, on_done is called and later requests are
// dismissed.
class TerminalPrompter {
 public:
  // Serves on BUS (borrowed; must outlive this) at kPrompterPath. SESSION:
  // only that session's requests ("" for all). Interactive when SCRIPT is
  // empty: reads answers from TTY_FD and writes the prompt to it (borrowed;
  // a terminal, opened for reading and writing).
  TerminalPrompter(GDBusConnection* bus, std::string session, int tty_fd, std::optional<PromptScript> script);
  // Answers every open request 2 (dismissed) and unexports the object. The
  // portal forgets the prompter when the connection leaves the bus; the
  // Manager API has no call to unregister earlier.
  ~TerminalPrompter();
  TerminalPrompter(const TerminalPrompter&) = delete;
  TerminalPrompter& operator=(const TerminalPrompter&) = delete;

  // Exports the object and calls Manager.RegisterPrompter (D-Bus activating
  // the portal if needed); when that returns, requests reach this prompter.
  // Throws Error when the portal cannot be reached or refuses.
  void start();

  // Called from the main loop (an idle callback, never from inside start()
  // or a D-Bus handler) when a script has given all its answers, or, when
  // interactive, when the terminal reached end of file. The prompter may be
  // destroyed from the callback.
  void on_done(std::function<void()> callback);

  // Requests answered so far (allow or deny, by the person or the script;
  // dismissals not counted).
  int answered() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace airlock
