// The per-session network proxy (DESIGN.md, "Network grants"): HTTP CONNECT,
// plain-HTTP forwarding and SOCKS5 on one listening unix socket, one
// decision per connection, names resolved on the host, and no address of the
// LAN, the host or the metadata service without a grant that names it.
//
// Handed-over connections: a unix client whose first and only byte is a
// zero, with one TCP socket attached (SCM_RIGHTS), hands that socket over;
// the proxy serves the agent's TCP connection directly and closes the unix
// one (airlock-init's bridge does this, launcher/proxy_bridge.h). No HTTP or
// SOCKS request begins with a zero byte. Anything else attached, or a zero
// byte without a TCP socket, closes the connection.
//
// Event-driven on the thread-default GMainContext of the thread that creates
// it (no thread per connection); use it from that thread only. Each
// connection holds two file descriptors (and, while bytes wait in it, a
// pipe of two more for each direction): the portal raises RLIMIT_NOFILE to
// its hard limit so that a thousand connections per session fit.
#pragma once

#include <gio/gio.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "credential_rewriter.h"
#include "proxy_address.h"
#include "proxy_request.h"

namespace airlock {

struct ProxyReport {
  ProxyTarget target;
  std::string address;      // the address connected (or refused), without port
  uint64_t bytes_up = 0;    // client to origin (for plain HTTP, the rewritten head included)
  uint64_t bytes_down = 0;  // origin to client
  int64_t duration_us = 0;  // from accept to close
  std::string outcome;      // allow | deny | error
  std::string message;      // why it was refused or how it ended ("" for a clean end)
  std::string grant;        // what allowed it, as decide() named it
  std::string secret_grant;  // the grant of the secret put into its requests, if any (bytes: plaintext)
};

// A host whose requests carry a secret (DESIGN.md, "Secrets"): the proxy
// ends the agent's TLS with CERTIFICATE (from the session's certificate
// authority), verifies the origin against ORIGIN_DATABASE (nullptr: the
// system's roots) and swaps the placeholder for the value (InterceptedTunnel)
// instead of relaying bytes. Holds its references.
struct ProxyInterception {
  ProxyInterception() = default;
  ~ProxyInterception();
  ProxyInterception(const ProxyInterception&) = delete;
  ProxyInterception& operator=(const ProxyInterception&) = delete;
  GTlsCertificate* certificate = nullptr;
  GTlsDatabase* origin_database = nullptr;
  Injection injection;
  std::string grant;  // the secret's grant: revoking it cuts the connection
};

// Implemented by the portal, one per session. Its calls come from the main
// loop; it must outlive the SessionProxy (whose destructor still reports).
class ProxyDecider {
 public:
  virtual ~ProxyDecider() = default;
  // INTERCEPTION, for an allowed host that has one, replaces the tunnel of a
  // CONNECT or SOCKS5 connection (plain HTTP is never given a secret).
  using Decided = std::function<void(bool allow, const std::string& reason, const std::string& grant,
                                     std::shared_ptr<const ProxyInterception> interception)>;
  // May TARGET be reached? DONE is called exactly once, possibly much later
  // (a person may be asked), possibly from within decide(); a connection that
  // ended meanwhile ignores it. The wait is bounded by the decider alone.
  // REASON is the refusal's text for the client ("airlock: ..."). GRANT names
  // what allowed it, for close_grant(). Returns a ticket for withdraw()
  // while a person is asked, else "".
  virtual std::string decide(const ProxyTarget& target, Decided done) = 0;
  // The connection that TICKET's decision was for went away before it came:
  // take its question back (a prompt no connection waits for is closed).
  virtual void withdraw(const std::string& ticket) = 0;
  // ADDRESS, resolved on the host for TARGET (or TARGET's own literal), is one
  // address_is_forbidden() refuses: may it be used anyway, because a grant
  // names it explicitly?
  virtual bool address_granted(const ProxyTarget& target, GInetAddress* address) = 0;
  // Once per connection, when it ends or is refused.
  virtual void report(const ProxyReport& report) = 0;
};

struct ProxyLimits {
  unsigned head_timeout_ms = 30000;     // request head / SOCKS greeting and request
  unsigned connect_timeout_ms = 30000;  // resolution and connection to the origin
  size_t max_head_bytes = 64 * 1024;    // request line and headers
};

class SessionProxy {
 public:
  explicit SessionProxy(ProxyDecider* decider, ProxyLimits limits = {});
  ~SessionProxy();  // closes every connection (each is reported) and the listening socket
  SessionProxy(const SessionProxy&) = delete;
  SessionProxy& operator=(const SessionProxy&) = delete;

  // Accepts clients on LISTENING_FD, a listening unix (or TCP) stream socket,
  // which it takes in every case. Once only.
  bool serve(int listening_fd, GError** error);
  // Revocation: every open connection that GRANT allowed, or whose secret
  // it gave, is closed, now.
  void close_grant(const std::string& grant);
  // Accepted and not yet ended.
  size_t open_connections() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace airlock
