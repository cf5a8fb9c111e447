// A session's own certificate authority, for credential injection
// (DESIGN.md, "Secrets"): the proxy terminates the agent's TLS to a host
// with an injection grant using a leaf certificate this CA signs, and only
// that session's sandbox trusts the CA (the launcher puts its certificate in
// the sandbox's CA bundle). The certificates are made by airlock-session-ca
// (portal/session_ca_helper.cpp), which the portal runs, so that GnuTLS is
// not loaded into the portal; the CA's private key passes through a pipe
// into wiped memory here, and dies with the object. One CA is made ahead of
// the session that will have it (Ahead), so sessions do not wait for it.
#pragma once

#include <gio/gio.h>

#include <map>
#include <memory>
#include <string>

#include "secret_bytes.h"

namespace airlock {

class SessionCa {
 public:
  // How long the helper may take, each time: it computes for milliseconds,
  // but the portal waits for it in its main loop and must not hang with it.
  static constexpr int kHelperTimeoutMs = 10000;

  // A CA made ahead of need. The helper takes about 10 ms, mostly its own
  // start-up; started when the previous session starts (or the portal
  // does), it is done by the time the next session asks, and take() only
  // reads what it wrote.
  class Ahead {
   public:
    // Starts HELPER (the path of airlock-session-ca); a failure to start is
    // kept for take().
    explicit Ahead(const std::string& helper);
    ~Ahead();  // stops a helper that still runs
    Ahead(const Ahead&) = delete;
    Ahead& operator=(const Ahead&) = delete;

    // The CA, once: an ECDSA P-256 key and a self-signed certificate, CN
    // "Airlock session CA", CA:TRUE pathlen:0, keyCertSign|cRLSign, valid
    // from an hour before the helper started for 30 days. nullptr with
    // ERROR set when the helper could not start, failed, or did not finish
    // within TIMEOUT_MS of this call (it is stopped then).
    std::unique_ptr<SessionCa> take(GError** error, int timeout_ms = kHelperTimeoutMs);
    // Microseconds since the helper started (monotonic).
    gint64 age() const { return g_get_monotonic_time() - started_; }

   private:
    std::string helper_;
    GSubprocess* process_ = nullptr;
    GError* spawn_error_ = nullptr;
    gint64 started_ = 0;
  };

  // A new CA, made now: Ahead(HELPER).take(ERROR, TIMEOUT_MS).
  static std::unique_ptr<SessionCa> create(const std::string& helper, GError** error,
                                           int timeout_ms = kHelperTimeoutMs);
  ~SessionCa();
  SessionCa(const SessionCa&) = delete;
  SessionCa& operator=(const SessionCa&) = delete;

  // The CA's certificate, PEM: public, for the sandbox's trust store.
  const std::string& certificate_pem() const { return certificate_pem_; }

  // A certificate for HOST (a DNS name, or an IPv4 or IPv6 literal without
  // brackets) with its private key, signed by this CA, for the server side
  // of an intercepted connection: subjectAltName dNSName or iPAddress,
  // serverAuth, CA:FALSE. Made once per host, then cached; a new reference.
  // nullptr with ERROR set (G_IO_ERROR_INVALID_ARGUMENT) for a host that is
  // neither.
  GTlsCertificate* server_certificate(const std::string& host, GError** error);

  // What server_certificate() accepts: a DNS name (letters, digits, hyphens,
  // labels of 1 to 63, at most 253 in all, no wildcard) or an IP literal.
  static bool is_valid_host(const std::string& host);

 private:
  SessionCa() = default;

  std::string helper_;
  int timeout_ms_ = kHelperTimeoutMs;
  std::string certificate_pem_;
  SecretBytes ca_pem_;  // the certificate and its private key, for the helper's stdin
  std::map<std::string, GTlsCertificate*> leaves_;  // by lowercased host, owned
};

}  // namespace airlock
