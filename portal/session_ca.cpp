#include "session_ca.h"

#include <arpa/inet.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <strings.h>

#include <cstring>
#include <ctime>

#include "credential_rewriter.h"

namespace airlock {

namespace {

constexpr time_t kBackdate = 60 * 60;               // clocks a little behind still accept it
constexpr time_t kLifetime = 30 * 24 * 60 * 60;     // longer than any session

bool set_gnutls_error(int code, const char* what, GError** error) {
  g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot make the session's TLS certificates: %s: %s", what,
              gnutls_strerror(code));
  return false;
}

// RAII for what GnuTLS allocates.
struct Datum {
  gnutls_datum_t datum = {nullptr, 0};
  bool secret = false;
  Datum() = default;
  explicit Datum(bool is_secret) : secret(is_secret) {}
  Datum(const Datum&) = delete;
  Datum& operator=(const Datum&) = delete;
  ~Datum() {
    if (datum.data == nullptr) return;
    if (secret) explicit_bzero(datum.data, datum.size);
    gnutls_free(datum.data);
  }
  std::string_view view() const { return {reinterpret_cast<const char*>(datum.data), datum.size}; }
};

struct Key {
  gnutls_x509_privkey_t key = nullptr;
  Key() = default;
  Key(const Key&) = delete;
  Key& operator=(const Key&) = delete;
  ~Key() {
    if (key != nullptr) gnutls_x509_privkey_deinit(key);
  }
};

struct Certificate {
  gnutls_x509_crt_t crt = nullptr;
  Certificate() = default;
  Certificate(const Certificate&) = delete;
  Certificate& operator=(const Certificate&) = delete;
  ~Certificate() {
    if (crt != nullptr) gnutls_x509_crt_deinit(crt);
  }
};

bool generate_key(gnutls_x509_privkey_t* key, GError** error) {
  int code = gnutls_x509_privkey_init(key);
  if (code < 0) return set_gnutls_error(code, "a key", error);
  code = gnutls_x509_privkey_generate(*key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
  if (code < 0) return set_gnutls_error(code, "an ECDSA P-256 key", error);
  return true;
}

// Version 3, a random positive 128-bit serial, the validity, the subject's
// CN and public key, and its subject key identifier.
bool set_common_fields(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const std::string& common_name,
                       time_t not_before, time_t not_after, GError** error) {
  unsigned char serial[16];
  int code = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof serial);
  if (code < 0) return set_gnutls_error(code, "a serial number", error);
  serial[0] = static_cast<unsigned char>((serial[0] & 0x7f) | 0x40);  // positive, 16 bytes long
  unsigned char key_id[64];
  size_t key_id_size = sizeof key_id;
  if ((code = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
      (code = gnutls_x509_crt_set_serial(crt, serial, sizeof serial)) < 0 ||
      (code = gnutls_x509_crt_set_activation_time(crt, not_before)) < 0 ||
      (code = gnutls_x509_crt_set_expiration_time(crt, not_after)) < 0 ||
      (code = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, common_name.data(),
                                            static_cast<unsigned>(common_name.size()))) < 0 ||
      (code = gnutls_x509_crt_set_key(crt, key)) < 0 ||
      (code = gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA1, key_id, &key_id_size)) < 0 ||
      (code = gnutls_x509_crt_set_subject_key_id(crt, key_id, key_id_size)) < 0) {
    return set_gnutls_error(code, "a certificate's fields", error);
  }
  return true;
}

bool is_dns_name(const std::string& host) {
  if (host.empty() || host.size() > 253) return false;
  size_t label = 0;
  for (size_t i = 0; i <= host.size(); ++i) {
    if (i == host.size() || host[i] == '.') {
      if (label == 0 || label > 63) return false;
      if (host[i - 1] == '-' || host[i - label] == '-') return false;
      label = 0;
      continue;
    }
    const char c = host[i];
    if (!g_ascii_isalnum(c) && c != '-') return false;
    ++label;
  }
  return true;
}

}  // namespace

bool SessionCa::is_valid_host(const std::string& host) {
  unsigned char address[16];
  if (inet_pton(AF_INET, host.c_str(), address) == 1 || inet_pton(AF_INET6, host.c_str(), address) == 1)
    return true;
  return host.find('\0') == std::string::npos && is_dns_name(host);
}

std::unique_ptr<SessionCa> SessionCa::create(const std::string& session_id, GError** error) {
  std::unique_ptr<SessionCa> ca(new SessionCa());
  if (!generate_key(&ca->key_, error)) return nullptr;
  int code = gnutls_x509_crt_init(&ca->certificate_);
  if (code < 0) {
    set_gnutls_error(code, "the CA certificate", error);
    return nullptr;
  }
  const time_t now = time(nullptr);
  ca->expiration_ = now + kLifetime;
  gnutls_x509_crt_t crt = ca->certificate_;
  if (!set_common_fields(crt, ca->key_, "Airlock session " + session_id + " CA", now - kBackdate, ca->expiration_,
                         error)) {
    return nullptr;
  }
  // Critical basicConstraints CA:TRUE with pathlen 0 (it signs leaves, never
  // another CA); critical keyUsage keyCertSign and cRLSign.
  Datum pem;
  if ((code = gnutls_x509_crt_set_basic_constraints(crt, 1, 0)) < 0 ||
      (code = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN)) < 0 ||
      (code = gnutls_x509_crt_sign2(crt, crt, ca->key_, GNUTLS_DIG_SHA256, 0)) < 0 ||
      (code = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &pem.datum)) < 0) {
    set_gnutls_error(code, "the CA certificate", error);
    return nullptr;
  }
  ca->certificate_pem_ = std::string(pem.view());
  return ca;
}

SessionCa::~SessionCa() {
  for (auto& [host, certificate] : leaves_) g_object_unref(certificate);
  if (certificate_ != nullptr) gnutls_x509_crt_deinit(certificate_);
  if (key_ != nullptr) gnutls_x509_privkey_deinit(key_);
}

GTlsCertificate* SessionCa::server_certificate(const std::string& host, GError** error) {
  if (!is_valid_host(host)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "cannot make a TLS certificate for that host: it is not a DNS name or an IP address");
    return nullptr;
  }
  g_autofree char* lowered = g_ascii_strdown(host.c_str(), -1);
  const std::string name(lowered);
  if (auto found = leaves_.find(name); found != leaves_.end()) return G_TLS_CERTIFICATE(g_object_ref(found->second));

  Key key;
  if (!generate_key(&key.key, error)) return nullptr;
  Certificate leaf;
  int code = gnutls_x509_crt_init(&leaf.crt);
  if (code < 0) {
    set_gnutls_error(code, "a server certificate", error);
    return nullptr;
  }
  if (!set_common_fields(leaf.crt, key.key, name, time(nullptr) - kBackdate, expiration_, error)) return nullptr;

  unsigned char address[16];
  unsigned address_size = 0;
  if (inet_pton(AF_INET, name.c_str(), address) == 1) {
    address_size = 4;
  } else if (inet_pton(AF_INET6, name.c_str(), address) == 1) {
    address_size = 16;
  }
  if (address_size > 0) {
    code = gnutls_x509_crt_set_subject_alt_name(leaf.crt, GNUTLS_SAN_IPADDRESS, address, address_size,
                                                GNUTLS_FSAN_SET);
  } else {
    code = gnutls_x509_crt_set_subject_alt_name(leaf.crt, GNUTLS_SAN_DNSNAME, name.data(),
                                                static_cast<unsigned>(name.size()), GNUTLS_FSAN_SET);
  }
  unsigned char ca_key_id[64];
  size_t ca_key_id_size = sizeof ca_key_id;
  Datum certificate_pem;
  Datum key_pem(true);
  if (code < 0 || (code = gnutls_x509_crt_set_basic_constraints(leaf.crt, 0, -1)) < 0 ||
      (code = gnutls_x509_crt_set_key_usage(leaf.crt, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
      (code = gnutls_x509_crt_set_key_purpose_oid(leaf.crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0 ||
      (code = gnutls_x509_crt_get_subject_key_id(certificate_, ca_key_id, &ca_key_id_size, nullptr)) < 0 ||
      (code = gnutls_x509_crt_set_authority_key_id(leaf.crt, ca_key_id, ca_key_id_size)) < 0 ||
      (code = gnutls_x509_crt_sign2(leaf.crt, certificate_, key_, GNUTLS_DIG_SHA256, 0)) < 0 ||
      (code = gnutls_x509_crt_export2(leaf.crt, GNUTLS_X509_FMT_PEM, &certificate_pem.datum)) < 0 ||
      (code = gnutls_x509_privkey_export2_pkcs8(key.key, GNUTLS_X509_FMT_PEM, nullptr, GNUTLS_PKCS_PLAIN,
                                                &key_pem.datum)) < 0) {
    set_gnutls_error(code, "a server certificate", error);
    return nullptr;
  }
  // The certificate and its key, in memory that is wiped once GIO has them.
  WipedBuffer pem;
  pem.append(certificate_pem.view());
  pem.append(key_pem.view());
  GTlsCertificate* certificate = g_tls_certificate_new_from_pem(pem.data(), static_cast<gssize>(pem.size()), error);
  if (certificate == nullptr) return nullptr;
  leaves_.emplace(name, certificate);
  return G_TLS_CERTIFICATE(g_object_ref(certificate));
}

}  // namespace airlock
