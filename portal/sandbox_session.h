// One sandbox session as the portal sees it: what `airlock run` told it,
// the supervisor's control socket through which it mounts and unmounts
// grants, the private socket the sandbox reaches it on, the grants it holds,
// and the limits that keep a flooding agent from drowning the portal or the
// person.
#pragma once

#include <gio/gio.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "policy.h"
#include "unique_fd.h"

namespace airlock {

struct SessionInfo {
  std::string id;
  std::string profile;
  std::string profile_file;
  std::string task;
  std::string workspace;  // canonical, or ""
  std::string command;
  std::string prompt;  // auto | tty | none
  uint32_t pid = 0;
  int64_t started = 0;  // microseconds since the epoch
};

struct GrantRecord {
  std::string id;  // "1", "2"... within the session
  std::string kind;      // folder | file | host | secret
  std::string resource;  // canonical path, HOST:PORT, or a secret's name
  std::string access;    // read | write
  std::string scope;     // once | task | always | launch
  std::string decided_by;  // policy | person | store
  int64_t since = 0;
  int64_t expires = 0;  // secrets: when a TTL ends it, microseconds since the epoch (0: with the task)
  // Secrets for the proxy: it puts the value into HEADER of requests to
  // HOST in place of PLACEHOLDER, which is all the agent gets.
  std::string host{}, header{}, placeholder{};
  // Hosts: someone named this host itself (see Verdict::names_resource), so
  // its address may be loopback or private.
  bool names_host = false;
};

class SandboxSession {
 public:
  // CONTROL: the supervisor's portal control socket. ON_CONNECTION is called
  // for each connection the sandbox makes on the private socket, once
  // authenticated; ON_END once the supervisor is gone.
  SandboxSession(SessionInfo info, UniqueFd control, Policy policy);
  ~SandboxSession();
  SandboxSession(const SandboxSession&) = delete;
  SandboxSession& operator=(const SandboxSession&) = delete;

  // Serves D-Bus peer connections on LISTENER (a listening socket; taken).
  bool serve(int listener, std::function<void(GDBusConnection*)> on_connection, GError** error);
  // Calls ON_END (once) when the supervisor's end of the control socket closes.
  void watch_end(std::function<void()> on_end);

  const SessionInfo& info() const { return info_; }
  const Policy& policy() const { return policy_; }

  // Asks the supervisor to mount CANONICAL, the object FD refers to (O_PATH,
  // opened by the portal), or to unmount it. 0 or an errno value, with a
  // sentence in *MESSAGE.
  int mount(const std::string& canonical, int fd, bool read_only, std::string* message);
  int unmount(const std::string& canonical, std::string* message);
  // Has the supervisor write the session's certificate authority (PEM in
  // MEMFD) where the sandbox's TLS clients look (kCaBundleInside).
  int trust(int memfd, std::string* message);
  // Detaches every grant any portal made in this session (after a restart,
  // when their scopes are unknown).
  int unmount_all(std::string* message);

  std::vector<GrantRecord>& grants() { return grants_; }
  std::string next_grant_id() { return std::to_string(++grant_counter_); }
  std::string next_request_id() { return std::to_string(++request_counter_); }

  // Flood control: false (and the session flagged) when a request now
  // would exceed the session's rate.
  bool admit_request();
  bool flagged() const { return flagged_; }
  void flag() { flagged_ = true; }
  unsigned pending_prompts = 0;

  // "Allow for this task" answers, consulted before asking again.
  struct TaskAnswer {
    std::string kind, resource, access;
  };
  std::vector<TaskAnswer> task_answers;
  // Folders and files a person revoked in this session: asked again, even
  // where a task answer or an always-grant would have allowed them.
  std::vector<std::string> revoked;

 private:
  static gboolean on_incoming(GSocketService* service, GSocketConnection* connection, GObject* source, gpointer data);
  static void on_connection_ready(GObject* source, GAsyncResult* result, gpointer data);
  static gboolean on_control_hup(int fd, GIOCondition condition, gpointer data);

  SessionInfo info_;
  UniqueFd control_;
  Policy policy_;
  uint32_t seq_;
  GSocketService* service_ = nullptr;
  GDBusAuthObserver* observer_ = nullptr;
  std::string guid_;
  std::function<void(GDBusConnection*)> on_connection_;
  std::function<void()> on_end_;
  guint hup_watch_ = 0;
  std::vector<GDBusConnection*> connections_;
  std::vector<GrantRecord> grants_;
  uint64_t grant_counter_ = 0;
  uint64_t request_counter_ = 0;
  double tokens_;
  int64_t refilled_;
  bool flagged_ = false;
};

// Requests a session may make in a burst, and per second after it.
inline constexpr double kRequestBurst = 1000;
inline constexpr double kRequestsPerSecond = 500;
// Requests of one session that may wait for a person at once.
inline constexpr unsigned kMaxPendingPrompts = 8;

}  // namespace airlock
