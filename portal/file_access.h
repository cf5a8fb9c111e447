// The in-sandbox API: org.airlock.portal.FileAccess and .Session on each
// connection a sandbox makes to its private socket. A request is checked
// (path, options, rate), resolved on the host, decided (policy, the
// session's task answers, the always-grants, a person) and granted by the
// session's supervisor; its answer is the Request object's Response.
#pragma once

#include <gio/gio.h>

#include <map>
#include <memory>
#include <string>

#include "decision.h"
#include "host_path.h"
#include "policy.h"
#include "sandbox_session.h"

namespace airlock {

class Portal;

class FileAccess {
 public:
  explicit FileAccess(Portal* portal);
  ~FileAccess();
  FileAccess(const FileAccess&) = delete;
  FileAccess& operator=(const FileAccess&) = delete;

  // Serves SESSION's sandbox on CONNECTION.
  void export_on(GDBusConnection* connection, SandboxSession* session);

  // Mounts the always-grants of SESSION's profile and workspace that still
  // resolve to the same kind of object and that the policy does not deny.
  void apply_always_grants(SandboxSession* session);

  // SESSION ended: its requests in flight end with an error.
  void end_session(const std::string& session);
  // CONNECTION closed: its requests are withdrawn, prompts included.
  void withdraw_all(GDBusConnection* connection);

  struct InFlight;

 private:
  static gboolean handle_request_folder(GObject* skeleton, GDBusMethodInvocation* invocation, GVariant* path,
                                        GVariant* options, gpointer data);
  static gboolean handle_request_file(GObject* skeleton, GDBusMethodInvocation* invocation, GVariant* path,
                                      GVariant* options, gpointer data);
  gboolean handle_request(RequestKind kind, GObject* skeleton, GDBusMethodInvocation* invocation, GVariant* path,
                          GVariant* options);
  void decide(InFlight* request);
  void on_verdict(const std::string& key, const Verdict& verdict);
  // Makes REQUEST grant CHOSEN, a person's narrower path, if it may;
  // otherwise responds with a refusal and returns false.
  bool narrow(InFlight* request, const std::string& chosen);
  // Mounts REQUEST's object in its session; responds either way.
  void grant(InFlight* request, const std::string& scope, const std::string& decided_by);
  void respond(InFlight* request, unsigned response, const std::string& outcome, const std::string& message,
               const GrantRecord* grant = nullptr);

  Portal* portal_;
  std::map<std::string, std::unique_ptr<InFlight>> in_flight_;  // by session id + "/" + request id
};

}  // namespace airlock
