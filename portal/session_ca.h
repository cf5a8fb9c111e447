// A session's own certificate authority, for credential injection
// (DESIGN.md, "Secrets"): the proxy terminates the agent's TLS to a host
// with an injection grant using a leaf certificate this CA signs, and only
// that session's sandbox trusts the CA (the launcher puts its certificate in
// the sandbox's CA bundle). Made in memory when the session starts; its
// private key never leaves the object, and dies with it.
#pragma once

#include <gio/gio.h>
#include <gnutls/x509.h>

#include <map>
#include <memory>
#include <string>

namespace airlock {

class SessionCa {
 public:
  // An ECDSA P-256 key and a self-signed certificate, CN "Airlock session
  // SESSION_ID CA", CA:TRUE pathlen:0, keyCertSign|cRLSign, valid from an
  // hour ago for 30 days. nullptr with ERROR set when GnuTLS fails.
  static std::unique_ptr<SessionCa> create(const std::string& session_id, GError** error);
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

  gnutls_x509_privkey_t key_ = nullptr;
  gnutls_x509_crt_t certificate_ = nullptr;
  std::string certificate_pem_;
  time_t expiration_ = 0;
  std::map<std::string, GTlsCertificate*> leaves_;  // by lowercased host, owned
};

}  // namespace airlock
