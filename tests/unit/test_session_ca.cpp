// The session's certificate authority (portal/session_ca.h): its certificate
// is a CA limited to signing leaves, and its leaves verify for their host
// against that CA alone.
#include <gio/gio.h>
#include <gmock/gmock.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <memory>
#include <string>
#include <vector>

#include "session_ca.h"
#include "session_ca_helper.h"
#include "temp_dir.h"

namespace airlock {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using test::session_ca_helper;
using test::TempDir;

std::unique_ptr<SessionCa> make_ca() {
  g_autoptr(GError) error = nullptr;
  auto ca = SessionCa::create(session_ca_helper(), &error);
  EXPECT_NE(ca, nullptr) << (error ? error->message : "");
  return ca;
}

// A GnuTLS view of a PEM certificate, for looking at its extensions.
struct Parsed {
  gnutls_x509_crt_t crt = nullptr;
  explicit Parsed(const std::string& pem) {
    gnutls_x509_crt_init(&crt);
    gnutls_datum_t datum = {reinterpret_cast<unsigned char*>(const_cast<char*>(pem.data())),
                            static_cast<unsigned>(pem.size())};
    EXPECT_EQ(gnutls_x509_crt_import(crt, &datum, GNUTLS_X509_FMT_PEM), 0);
  }
  ~Parsed() { gnutls_x509_crt_deinit(crt); }
  Parsed(const Parsed&) = delete;
  Parsed& operator=(const Parsed&) = delete;
};

std::string pem_of(GTlsCertificate* certificate) {
  g_autofree char* pem = nullptr;
  g_object_get(certificate, "certificate-pem", &pem, nullptr);
  return pem;
}

GTlsDatabase* database_of(const TempDir& dir, const std::string& name, const std::string& pem) {
  const std::string path = dir.path() + "/" + name;
  EXPECT_TRUE(g_file_set_contents(path.c_str(), pem.data(), static_cast<gssize>(pem.size()), nullptr));
  g_autoptr(GError) error = nullptr;
  GTlsDatabase* database = g_tls_file_database_new(path.c_str(), &error);
  EXPECT_NE(database, nullptr) << (error ? error->message : "");
  return database;
}

// The GTlsCertificateFlags of verifying LEAF for HOST (port 443) against
// DATABASE; 0 when it verifies.
GTlsCertificateFlags verify(GTlsDatabase* database, GTlsCertificate* leaf, const char* host) {
  g_autoptr(GSocketConnectable) identity = g_network_address_new(host, 443);
  g_autoptr(GError) error = nullptr;
  return g_tls_database_verify_chain(database, leaf, G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER, identity, nullptr,
                                     G_TLS_DATABASE_VERIFY_NONE, nullptr, &error);
}

TEST(SessionCa, CertificateIsACaThatSignsOnlyLeaves) {
  auto ca = make_ca();
  ASSERT_NE(ca, nullptr);
  EXPECT_THAT(ca->certificate_pem(), HasSubstr("-----BEGIN CERTIFICATE-----"));
  EXPECT_THAT(ca->certificate_pem(), Not(HasSubstr("PRIVATE KEY")));
  Parsed parsed(ca->certificate_pem());
  unsigned critical = 0, is_ca = 0;
  int path_length = -1;
  EXPECT_EQ(gnutls_x509_crt_get_basic_constraints(parsed.crt, &critical, &is_ca, &path_length), 1);
  EXPECT_EQ(critical, 1u);
  EXPECT_EQ(is_ca, 1u);
  EXPECT_EQ(path_length, 0);
  unsigned usage = 0;
  EXPECT_GE(gnutls_x509_crt_get_key_usage(parsed.crt, &usage, &critical), 0);
  EXPECT_EQ(usage, unsigned{GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN});
  EXPECT_EQ(critical, 1u);
  unsigned char id[64];
  size_t id_size = sizeof id;
  EXPECT_EQ(gnutls_x509_crt_get_subject_key_id(parsed.crt, id, &id_size, &critical), 0);
  char cn[256];
  size_t cn_size = sizeof cn;
  EXPECT_EQ(gnutls_x509_crt_get_dn_by_oid(parsed.crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &cn_size), 0);
  EXPECT_STREQ(cn, "Airlock session CA");
  EXPECT_EQ(gnutls_x509_crt_get_pk_algorithm(parsed.crt, nullptr), GNUTLS_PK_ECDSA);
  const time_t now = time(nullptr);
  EXPECT_LT(gnutls_x509_crt_get_activation_time(parsed.crt), now);
  EXPECT_GT(gnutls_x509_crt_get_expiration_time(parsed.crt), now + 7 * 24 * 3600);
  unsigned char serial[32];
  size_t serial_size = sizeof serial;
  EXPECT_EQ(gnutls_x509_crt_get_serial(parsed.crt, serial, &serial_size), 0);
  EXPECT_EQ(serial_size, 16u);
}

TEST(SessionCa, LeafIsAServerCertificateForItsHost) {
  auto ca = make_ca();
  ASSERT_NE(ca, nullptr);
  g_autoptr(GError) error = nullptr;
  g_autoptr(GTlsCertificate) leaf = ca->server_certificate("Example.TEST", &error);
  ASSERT_NE(leaf, nullptr) << error->message;
  Parsed parsed(pem_of(leaf));
  unsigned critical = 0, is_ca = 1;
  int path_length = 0;
  EXPECT_EQ(gnutls_x509_crt_get_basic_constraints(parsed.crt, &critical, &is_ca, &path_length), 0);
  EXPECT_EQ(is_ca, 0u);
  unsigned usage = 0;
  EXPECT_GE(gnutls_x509_crt_get_key_usage(parsed.crt, &usage, &critical), 0);
  EXPECT_EQ(usage, unsigned{GNUTLS_KEY_DIGITAL_SIGNATURE});
  char oid[128];
  size_t oid_size = sizeof oid;
  EXPECT_EQ(gnutls_x509_crt_get_key_purpose_oid(parsed.crt, 0, oid, &oid_size, nullptr), 0);
  EXPECT_STREQ(oid, GNUTLS_KP_TLS_WWW_SERVER);
  char san[256];
  size_t san_size = sizeof san;
  EXPECT_EQ(gnutls_x509_crt_get_subject_alt_name(parsed.crt, 0, san, &san_size, nullptr), GNUTLS_SAN_DNSNAME);
  EXPECT_EQ(std::string(san, san_size), "example.test");
  unsigned char id[64];
  size_t id_size = sizeof id;
  EXPECT_EQ(gnutls_x509_crt_get_authority_key_id(parsed.crt, id, &id_size, nullptr), 0);
  // It carries its private key, for the server side of a handshake.
  g_autofree char* key_pem = nullptr;
  g_object_get(leaf, "private-key-pem", &key_pem, nullptr);
  EXPECT_NE(key_pem, nullptr);
}

TEST(SessionCa, LeavesVerifyAgainstTheirCaOnly) {
  TempDir dir;
  auto ca = make_ca();
  auto other = make_ca();
  ASSERT_NE(ca, nullptr);
  ASSERT_NE(other, nullptr);
  g_autoptr(GTlsDatabase) database = database_of(dir, "one.pem", ca->certificate_pem());
  g_autoptr(GTlsDatabase) other_database = database_of(dir, "two.pem", other->certificate_pem());
  for (const char* host : {"example.test", "127.0.0.1", "::1"}) {
    g_autoptr(GError) error = nullptr;
    g_autoptr(GTlsCertificate) leaf = ca->server_certificate(host, &error);
    ASSERT_NE(leaf, nullptr) << host << ": " << error->message;
    EXPECT_EQ(verify(database, leaf, host), 0) << host;
    EXPECT_NE(verify(other_database, leaf, host) & G_TLS_CERTIFICATE_UNKNOWN_CA, 0) << host;
    // A leaf names its host and no other.
    EXPECT_NE(verify(database, leaf, "other.test") & G_TLS_CERTIFICATE_BAD_IDENTITY, 0) << host;
  }
  g_autoptr(GTlsCertificate) v4 = ca->server_certificate("127.0.0.1", nullptr);
  EXPECT_NE(verify(database, v4, "127.0.0.2") & G_TLS_CERTIFICATE_BAD_IDENTITY, 0);
  Parsed parsed(pem_of(v4));
  unsigned char san[16];
  size_t san_size = sizeof san;
  EXPECT_EQ(gnutls_x509_crt_get_subject_alt_name(parsed.crt, 0, san, &san_size, nullptr), GNUTLS_SAN_IPADDRESS);
  EXPECT_EQ(san_size, 4u);
}

TEST(SessionCa, RefusesWhatIsNotAHost) {
  auto ca = make_ca();
  ASSERT_NE(ca, nullptr);
  const std::string invalid[] = {"", "*.example.test", "example..test", ".example.test", "-a.test", "a-.test",
                                 "exa mple.test", "a/b", "[::1]", "::1%eth0", "host:443", "a_b.test",
                                 std::string(64, 'a') + ".test", std::string("a\0b", 3), "caf\xc3\xa9.test"};
  for (const auto& host : invalid) {
    g_autoptr(GError) error = nullptr;
    EXPECT_EQ(ca->server_certificate(host, &error), nullptr) << host;
    EXPECT_TRUE(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT)) << host;
  }
  const std::string valid[] = {"a", "a.b", "xn--caf-dma.test", "api.github.com", std::string(63, 'a') + ".test",
                                 "10.0.0.1", "fe80::1", "2001:db8::1"};
  for (const auto& host : valid) {
    EXPECT_TRUE(SessionCa::is_valid_host(host)) << host;
  }
}

TEST(SessionCa, LeavesAreCachedPerHost) {
  auto ca = make_ca();
  ASSERT_NE(ca, nullptr);
  g_autoptr(GTlsCertificate) first = ca->server_certificate("example.test", nullptr);
  g_autoptr(GTlsCertificate) again = ca->server_certificate("EXAMPLE.test", nullptr);
  g_autoptr(GTlsCertificate) other = ca->server_certificate("other.test", nullptr);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first, again);
  EXPECT_NE(first, other);
}

TEST(SessionCa, EachSessionHasItsOwnKey) {
  auto one = make_ca();
  auto two = make_ca();
  ASSERT_NE(one, nullptr);
  ASSERT_NE(two, nullptr);
  EXPECT_NE(one->certificate_pem(), two->certificate_pem());
}

// What airlock-session-ca said and its exit status, run with ARGS and INPUT
// on its stdin.
struct HelperRun {
  int status = -1;
  std::string out, err;
};

HelperRun run_helper(const std::vector<std::string>& args, const std::string& input = "") {
  TempDir dir;
  const std::string in = dir.path() + "/in";
  EXPECT_TRUE(g_file_set_contents(in.c_str(), input.data(), static_cast<gssize>(input.size()), nullptr));
  std::string command = "exec \"$0\" \"$@\" < \"" + in + "\"";
  std::vector<const char*> argv = {"/bin/sh", "-c", command.c_str()};
  const std::string helper = session_ca_helper();
  argv.push_back(helper.c_str());
  for (const auto& arg : args) argv.push_back(arg.c_str());
  argv.push_back(nullptr);
  g_autofree char* out = nullptr;
  g_autofree char* err = nullptr;
  HelperRun run;
  g_autoptr(GError) error = nullptr;
  EXPECT_TRUE(g_spawn_sync(nullptr, const_cast<char**>(argv.data()), nullptr, G_SPAWN_DEFAULT, nullptr, nullptr, &out,
                           &err, &run.status, &error))
      << error->message;
  run.status = WIFEXITED(run.status) ? WEXITSTATUS(run.status) : -1;
  run.out = out ? out : "";
  run.err = err ? err : "";
  return run;
}

TEST(SessionCaHelper, RefusesWhatItCannotUseAndSaysWhy) {
  const HelperRun ca = run_helper({"ca"});
  ASSERT_EQ(ca.status, 0) << ca.err;
  const std::string certificate_only = ca.out.substr(0, ca.out.find("-----BEGIN PRIVATE KEY"));
  const struct {
    std::vector<std::string> args;
    std::string input, says;
  } cases[] = {
      {{}, "", "usage: airlock-session-ca"},
      {{"leaf"}, "", "usage: airlock-session-ca"},
      {{"sign", "a.test"}, ca.out, "usage: airlock-session-ca"},
      {{"ca", "s1"}, "", "usage: airlock-session-ca"},
      {{"leaf", "a.test", "extra"}, ca.out, "usage: airlock-session-ca"},
      {{"leaf", "*.a.test"}, ca.out, "not a DNS name or an IP address"},
      {{"leaf", "a.test"}, "", "does not hold a CA's certificate and private key"},
      {{"leaf", "a.test"}, "garbage\n", "does not hold a CA's certificate and private key"},
      {{"leaf", "a.test"}, certificate_only, "does not hold a CA's certificate and private key"},
      {{"leaf", "a.test"}, std::string(65 * 1024, 'x'), "cannot read the CA from stdin"},
  };
  for (const auto& c : cases) {
    const HelperRun run = run_helper(c.args, c.input);
    EXPECT_EQ(run.status, 2) << c.says;
    EXPECT_THAT(run.err, HasSubstr(c.says));
    EXPECT_EQ(run.out, "") << c.says;  // nothing made, no key written
  }
  const HelperRun leaf = run_helper({"leaf", "a.test"}, ca.out);
  EXPECT_EQ(leaf.status, 0) << leaf.err;
  EXPECT_THAT(leaf.out, HasSubstr("-----BEGIN PRIVATE KEY-----"));
}

TEST(SessionCa, WithoutItsHelperThereIsNoCa) {
  g_autoptr(GError) error = nullptr;
  EXPECT_EQ(SessionCa::create("/nonexistent/airlock-session-ca", &error), nullptr);
  ASSERT_NE(error, nullptr);
  EXPECT_THAT(error->message, HasSubstr("cannot run /nonexistent/airlock-session-ca"));
  // A helper that fails: its words are the error.
  TempDir dir;
  const std::string failing = dir.path() + "/airlock-session-ca";
  ASSERT_TRUE(g_file_set_contents(failing.c_str(), "#!/bin/sh\necho 'no entropy today' >&2\nexit 1\n", -1, nullptr));
  ASSERT_EQ(chmod(failing.c_str(), 0755), 0);
  g_clear_error(&error);
  EXPECT_EQ(SessionCa::create(failing, &error), nullptr);
  ASSERT_NE(error, nullptr);
  EXPECT_STREQ(error->message, "no entropy today");
}

// A CA made ahead is the helper's one run: take() reads what it wrote
// (without running it again), once.
TEST(SessionCa, ACaMadeAheadIsTakenOnceWithoutAnotherRun) {
  TempDir dir;
  const std::string runs = dir.path() + "/runs", counting = dir.path() + "/airlock-session-ca";
  ASSERT_TRUE(g_file_set_contents(
      counting.c_str(), ("#!/bin/sh\necho run >> '" + runs + "'\nexec '" + session_ca_helper() + "' \"$@\"\n").c_str(),
      -1, nullptr));
  ASSERT_EQ(chmod(counting.c_str(), 0755), 0);
  SessionCa::Ahead ahead(counting);
  g_usleep(500 * 1000);  // done by now, on any machine that runs the tests
  g_autoptr(GError) error = nullptr;
  auto ca = ahead.take(&error);
  ASSERT_NE(ca, nullptr) << error->message;
  EXPECT_THAT(ca->certificate_pem(), HasSubstr("-----BEGIN CERTIFICATE-----"));
  g_autofree char* counted = nullptr;
  ASSERT_TRUE(g_file_get_contents(runs.c_str(), &counted, nullptr, nullptr));
  EXPECT_STREQ(counted, "run\n");
  EXPECT_EQ(ahead.take(&error), nullptr);
  EXPECT_THAT(error->message, HasSubstr("taken already"));
  // One that is never taken is stopped with its Ahead.
  { SessionCa::Ahead dropped(counting); }
}

// The portal waits for the helper in its main loop: one that hangs is
// stopped after the timeout, and no CA is made.
TEST(SessionCa, AHelperThatHangsIsStopped) {
  TempDir dir;
  const std::string hanging = dir.path() + "/airlock-session-ca";
  ASSERT_TRUE(g_file_set_contents(hanging.c_str(), "#!/bin/sh\nexec sleep 60\n", -1, nullptr));
  ASSERT_EQ(chmod(hanging.c_str(), 0755), 0);
  g_autoptr(GError) error = nullptr;
  const gint64 start = g_get_monotonic_time();
  EXPECT_EQ(SessionCa::create(hanging, &error, 300), nullptr);
  EXPECT_LT(g_get_monotonic_time() - start, 5 * G_USEC_PER_SEC);
  ASSERT_NE(error, nullptr);
  EXPECT_TRUE(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) << error->message;
  EXPECT_THAT(error->message, HasSubstr("did not finish within 300 ms"));
}

// The portal's idle memory budget (DESIGN.md, "Performance budget"): GnuTLS
// is loaded by airlock-session-ca, never by the portal, whose start-up it
// would cost about 2 MiB.
TEST(SessionCa, ThePortalDoesNotLinkGnuTls) {
  const char* portal = g_getenv("AIRLOCK_PORTAL_BIN");
  ASSERT_NE(portal, nullptr) << "AIRLOCK_PORTAL_BIN is not set (run through meson test)";
  const char* argv[] = {"ldd", portal, nullptr};
  g_autofree char* out = nullptr;
  int status = -1;
  ASSERT_TRUE(g_spawn_sync(nullptr, const_cast<char**>(argv), nullptr, G_SPAWN_SEARCH_PATH, nullptr, nullptr, &out,
                           nullptr, &status, nullptr));
  EXPECT_THAT(out, HasSubstr("libglib-2.0"));  // ldd did list it
  EXPECT_THAT(out, Not(HasSubstr("libgnutls")));
}

}  // namespace
}  // namespace airlock
