// airlock-session-ca: makes a session's certificate authority and its leaf
// certificates with GnuTLS, for the portal (portal/session_ca.h). The portal
// runs it rather than linking GnuTLS, whose start-up alone (p11-kit, nettle,
// gmp, its priorities) would take about 2 MiB of the portal's 10 MiB idle
// budget (DESIGN.md, "Performance budget").
//
//   airlock-session-ca ca
//       writes a new CA's certificate and then its private key (PKCS #8),
//       PEM, to stdout: ECDSA P-256, CN "Airlock session CA", critical
//       CA:TRUE pathlen:0, critical keyCertSign|cRLSign, a random positive
//       128-bit serial, valid from an hour ago for 30 days. (No session id
//       in it: the portal makes the next session's CA ahead of time.)
//   airlock-session-ca leaf HOST
//       reads a CA's certificate and private key, PEM, from stdin (what `ca`
//       wrote) and writes a certificate for HOST signed by it and then the
//       certificate's private key, PEM, to stdout: subjectAltName dNSName
//       (lowercased) or iPAddress, serverAuth, digitalSignature, CA:FALSE,
//       valid until the CA expires.
//
// Private keys travel through the pipes only, and every buffer that held one
// is wiped. Exit status 0; 1 when a certificate cannot be made; 2 for a
// wrong invocation or input; a message on stderr.
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>

#include "certificate_host.h"
#include "secret_bytes.h"

namespace {

constexpr time_t kBackdate = 60 * 60;            // clocks a little behind still accept it
constexpr time_t kLifetime = 30 * 24 * 60 * 60;  // longer than any session
constexpr size_t kMaxInput = 64 * 1024;          // a CA's certificate and key are about 1 KiB

// A failure: the message, and the exit status it ends with.
struct Failure {
  std::string message;
  int status = 1;
};

void check(int code, const char* what) {
  if (code < 0) throw Failure{std::string("cannot make ") + what + ": " + gnutls_strerror(code)};
}

// RAII for what GnuTLS allocates; a secret datum is wiped before it is freed.
struct Datum {
  gnutls_datum_t datum = {nullptr, 0};
  bool secret = false;
  explicit Datum(bool is_secret = false) : secret(is_secret) {}
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
  Key() { check(gnutls_x509_privkey_init(&key), "a key"); }
  Key(const Key&) = delete;
  Key& operator=(const Key&) = delete;
  ~Key() { gnutls_x509_privkey_deinit(key); }
  void generate() {
    check(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
          "an ECDSA P-256 key");
  }
};

struct Certificate {
  gnutls_x509_crt_t crt = nullptr;
  Certificate() { check(gnutls_x509_crt_init(&crt), "a certificate"); }
  Certificate(const Certificate&) = delete;
  Certificate& operator=(const Certificate&) = delete;
  ~Certificate() { gnutls_x509_crt_deinit(crt); }
};

// Version 3, a random positive 128-bit serial, the validity, the subject's
// CN and public key, and its subject key identifier.
void set_common_fields(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const std::string& common_name,
                       time_t not_before, time_t not_after) {
  unsigned char serial[16];
  check(gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof serial), "a serial number");
  serial[0] = static_cast<unsigned char>((serial[0] & 0x7f) | 0x40);  // positive, 16 bytes long
  unsigned char key_id[64];
  size_t key_id_size = sizeof key_id;
  const char* what = "a certificate's fields";
  check(gnutls_x509_crt_set_version(crt, 3), what);
  check(gnutls_x509_crt_set_serial(crt, serial, sizeof serial), what);
  check(gnutls_x509_crt_set_activation_time(crt, not_before), what);
  check(gnutls_x509_crt_set_expiration_time(crt, not_after), what);
  check(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, common_name.data(),
                                      static_cast<unsigned>(common_name.size())),
        what);
  check(gnutls_x509_crt_set_key(crt, key), what);
  check(gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA1, key_id, &key_id_size), what);
  check(gnutls_x509_crt_set_subject_key_id(crt, key_id, key_id_size), what);
}

void write_all(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = write(STDOUT_FILENO, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw Failure{std::string("cannot write to stdout: ") + strerror(n < 0 ? errno : EIO)};
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

// The certificate, then its key as unencrypted PKCS #8, PEM.
void write_pair(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char* what) {
  Datum certificate_pem;
  Datum key_pem(true);
  check(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &certificate_pem.datum), what);
  check(gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, nullptr, GNUTLS_PKCS_PLAIN, &key_pem.datum), what);
  write_all(certificate_pem.view());
  write_all(key_pem.view());
}

void make_ca() {
  Key key;
  key.generate();
  Certificate ca;
  const time_t now = time(nullptr);
  set_common_fields(ca.crt, key.key, "Airlock session CA", now - kBackdate, now + kLifetime);
  // Critical basicConstraints CA:TRUE with pathlen 0 (it signs leaves, never
  // another CA); critical keyUsage keyCertSign and cRLSign.
  const char* what = "the CA certificate";
  check(gnutls_x509_crt_set_basic_constraints(ca.crt, 1, 0), what);
  check(gnutls_x509_crt_set_key_usage(ca.crt, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN), what);
  check(gnutls_x509_crt_sign2(ca.crt, ca.crt, key.key, GNUTLS_DIG_SHA256, 0), what);
  write_pair(ca.crt, key.key, what);
}

void make_leaf(const std::string& host) {
  if (!airlock::is_certificate_host(host)) throw Failure{"the host is not a DNS name or an IP address", 2};
  airlock::SecretBytes input;
  if (!airlock::SecretBytes::read_fd(STDIN_FILENO, kMaxInput, &input))
    throw Failure{std::string("cannot read the CA from stdin: ") + strerror(errno), 2};
  gnutls_datum_t pem = {reinterpret_cast<unsigned char*>(input.data()), static_cast<unsigned>(input.size())};
  Certificate ca;
  Key ca_key;
  if (gnutls_x509_crt_import(ca.crt, &pem, GNUTLS_X509_FMT_PEM) < 0 ||
      gnutls_x509_privkey_import_pkcs8(ca_key.key, &pem, GNUTLS_X509_FMT_PEM, nullptr, GNUTLS_PKCS_PLAIN) < 0)
    throw Failure{"stdin does not hold a CA's certificate and private key (PEM), as `airlock-session-ca ca` writes", 2};

  std::string name = host;
  for (char& c : name)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  Key key;
  key.generate();
  Certificate leaf;
  set_common_fields(leaf.crt, key.key, name, time(nullptr) - kBackdate, gnutls_x509_crt_get_expiration_time(ca.crt));
  const char* what = "a server certificate";
  unsigned char address[16];
  if (inet_pton(AF_INET, name.c_str(), address) == 1) {
    check(gnutls_x509_crt_set_subject_alt_name(leaf.crt, GNUTLS_SAN_IPADDRESS, address, 4, GNUTLS_FSAN_SET), what);
  } else if (inet_pton(AF_INET6, name.c_str(), address) == 1) {
    check(gnutls_x509_crt_set_subject_alt_name(leaf.crt, GNUTLS_SAN_IPADDRESS, address, 16, GNUTLS_FSAN_SET), what);
  } else {
    check(gnutls_x509_crt_set_subject_alt_name(leaf.crt, GNUTLS_SAN_DNSNAME, name.data(),
                                               static_cast<unsigned>(name.size()), GNUTLS_FSAN_SET),
          what);
  }
  unsigned char ca_key_id[64];
  size_t ca_key_id_size = sizeof ca_key_id;
  check(gnutls_x509_crt_set_basic_constraints(leaf.crt, 0, -1), what);
  check(gnutls_x509_crt_set_key_usage(leaf.crt, GNUTLS_KEY_DIGITAL_SIGNATURE), what);
  check(gnutls_x509_crt_set_key_purpose_oid(leaf.crt, GNUTLS_KP_TLS_WWW_SERVER, 0), what);
  check(gnutls_x509_crt_get_subject_key_id(ca.crt, ca_key_id, &ca_key_id_size, nullptr), what);
  check(gnutls_x509_crt_set_authority_key_id(leaf.crt, ca_key_id, ca_key_id_size), what);
  check(gnutls_x509_crt_sign2(leaf.crt, ca.crt, ca_key.key, GNUTLS_DIG_SHA256, 0), what);
  write_pair(leaf.crt, key.key, what);
}

}  // namespace

int main(int argc, char** argv) {
  // Private keys pass through it: no core dump, no ptrace by the user's
  // other processes (as the portal, which runs it).
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  const std::string mode = argc > 1 ? argv[1] : "";
  try {
    if (mode == "ca" && argc == 2) {
      make_ca();
    } else if (mode == "leaf" && argc == 3) {
      make_leaf(argv[2]);
    } else {
      throw Failure{"usage: airlock-session-ca ca | leaf HOST (the CA on stdin); the portal runs it", 2};
    }
  } catch (const Failure& failure) {
    fprintf(stderr, "airlock-session-ca: %s\n", failure.message.c_str());
    return failure.status;
  }
  return 0;
}
