// Network grants (DESIGN.md, "Network grants"): each session's proxy, which
// asks on first contact with a host through the same decision path as
// folder requests, and org.airlock.portal.Network (RequestHost) to ask
// ahead of time. Host grants are records of the session: revoking one
// closes its connections.
#pragma once

#include <gio/gio.h>

#include <map>
#include <memory>
#include <string>

#include "sandbox_session.h"
#include "session_ca.h"

namespace airlock {

class Portal;

class NetworkAccess {
 public:
  explicit NetworkAccess(Portal* portal);
  ~NetworkAccess();
  NetworkAccess(const NetworkAccess&) = delete;
  NetworkAccess& operator=(const NetworkAccess&) = delete;

  // Serves SESSION's proxy on LISTENER (a listening socket), which it takes
  // (and closes when it fails).
  bool start_session(SandboxSession* session, int listener, GError** error);
  void end_session(const std::string& session);
  // Serves org.airlock.portal.Network for SESSION's sandbox on CONNECTION.
  void export_on(GDBusConnection* connection, SandboxSession* session);
  // GRANT of SESSION was revoked: its open connections close now.
  void revoked(const std::string& session, const GrantRecord& grant);

  class SessionDecider;

 private:
  Portal* portal_;
  GTlsDatabase* origin_roots_ = nullptr;  // AIRLOCK_INTERCEPT_ROOTS, or nullptr for the system's
  std::string origin_roots_error_;        // AIRLOCK_INTERCEPT_ROOTS that could not be read
  std::map<std::string, std::unique_ptr<SessionDecider>> sessions_;
  // The next session's certificate authority, made ahead by CA_HELPER_
  // (airlock-session-ca) so that a session does not wait for it as it starts.
  const std::string ca_helper_;
  std::unique_ptr<SessionCa::Ahead> next_ca_;
  guint next_ca_source_ = 0;
  void make_next_ca_soon();
};

// HOST:PORT as the policy and the grants spell it: lower case, an IPv6
// address in brackets; "" with *WHY set when TEXT is not one.
std::string canonical_host(const std::string& text, std::string* why);

}  // namespace airlock
