// The requests that wait for a person: which prompter asks (one registered
// for the session, one registered for all, or the desktop's, D-Bus
// activated), merging of identical requests, the timeout after which an
// unanswered request is denied, and answers given through the Manager.
#pragma once

#include <gio/gio.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace airlock {

// The longest a person may allow a secret for, short of the whole task.
inline constexpr uint32_t kMaxSecretTtlSeconds = 7 * 24 * 3600;

struct PromptDetails {
  std::string session, profile, task;
  std::string prompt_mode;  // the session's: auto | tty (none never asks)
  std::string kind, resource, access;
  std::string reason;  // the agent's words
  std::string host, header;  // a secret for the proxy: where it goes (see Question)
  bool dangerous = false;
  std::vector<std::string> scopes;  // what may be offered
  uint32_t pid = 0;
};

struct PromptAnswer {
  bool allow = false;
  std::string scope;    // once | task | always, when allowed
  uint32_t ttl = 0;     // secrets allowed for the task: seconds until the grant ends (0: with the task)
  std::string outcome;  // allow | deny | timeout | cancelled | error
  bool by_person = false;
  std::string message;  // why not, for the agent
};

class PromptBroker {
 public:
  using Callback = std::function<void(const PromptAnswer&)>;
  struct Listener {
    std::function<void(const std::string& id, GVariant* details)> added;
    std::function<void(const std::string& id)> removed;
  };

  PromptBroker(GDBusConnection* bus, unsigned timeout_seconds, Listener listener);
  ~PromptBroker();
  PromptBroker(const PromptBroker&) = delete;
  PromptBroker& operator=(const PromptBroker&) = delete;

  // Asks a person; DONE runs exactly once, from the main loop. An identical
  // request of the same session that is already waiting gets the same
  // answer instead of a second prompt. Returns the prompt's id.
  std::string ask(const PromptDetails& details, Callback done);

  // One asker of prompt ID gave up (it closed its request); when none is
  // left, the prompt is taken off the screen and its DONEs run, cancelled.
  void withdraw(const std::string& id);

  // NAME (a unique bus name) serves org.airlock.impl.Prompter until it
  // leaves the bus; SESSION: only that session's requests ("" for all).
  void register_prompter(const std::string& name, const std::string& session);

  // An answer through Manager.Answer, with RESULTS as a prompter's. False
  // with *ERROR for an unknown id or a scope that was not offered.
  bool answer(const std::string& id, bool allow, const std::string& scope, GVariant* results, std::string* error);

  // The session ended: its requests are answered (denied) now.
  void end_session(const std::string& session);

  // Manager.ListPending's answer.
  GVariant* list_pending() const;

  // Waiting requests of SESSION.
  unsigned pending_for(const std::string& session) const;

  struct Pending;
  struct Prompter;

 private:
  void dispatch(Pending* pending);
  void finish(const std::string& id, const PromptAnswer& answer);
  static void on_prompt_reply(GObject* source, GAsyncResult* result, gpointer data);
  static gboolean on_timeout(gpointer data);

  GDBusConnection* bus_;
  unsigned timeout_seconds_;
  Listener listener_;
  std::vector<std::unique_ptr<Pending>> pending_;
  std::vector<std::unique_ptr<Prompter>> prompters_;  // newest last
  uint64_t counter_ = 0;
};

}  // namespace airlock
