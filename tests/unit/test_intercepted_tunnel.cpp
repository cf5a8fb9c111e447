// The intercepting tunnel (portal/intercepted_tunnel.h) between a TLS client
// that trusts only the session's CA and an HTTPS origin whose certificate a
// test root signs. The tunnel runs in this thread's GMainContext; the client
// and the origin use blocking GIO TLS on threads of their own, over
// socketpairs.
#include <gio/gio.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <utility>

#include "intercepted_tunnel.h"
#include "session_ca.h"
#include "session_ca_helper.h"
#include "temp_dir.h"

namespace airlock {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using test::session_ca_helper;
using test::TempDir;

const std::string kPlaceholder = "airlock-placeholder-5f2c9a";
const std::string kSecret = "ghp_TheRealTokenNobodyShouldSee";
constexpr const char* kOriginHost = "origin.test";

// One end of a socketpair as a GSocketConnection, with a timeout for the
// blocking side.
GSocketConnection* connection_of(int fd) {
  g_autoptr(GError) error = nullptr;
  g_autoptr(GSocket) socket = g_socket_new_from_fd(fd, &error);
  EXPECT_NE(socket, nullptr) << (error ? error->message : "");
  g_socket_set_timeout(socket, 5);
  return g_socket_connection_factory_create_connection(socket);
}

std::string read_until_end(GIOStream* stream, std::string* error) {
  std::string received;
  GInputStream* in = g_io_stream_get_input_stream(stream);
  char buffer[4096];
  for (;;) {
    g_autoptr(GError) read_error = nullptr;
    const gssize n = g_input_stream_read(in, buffer, sizeof buffer, nullptr, &read_error);
    if (n < 0 && error != nullptr) *error = read_error->message;
    if (n <= 0) return received;
    received.append(buffer, static_cast<size_t>(n));
  }
}

bool write_all(GIOStream* stream, const std::string& data) {
  return g_output_stream_write_all(g_io_stream_get_output_stream(stream), data.data(), data.size(), nullptr, nullptr,
                                   nullptr);
}

// A megabyte with the secret in it four times: at the start, across the
// tunnel's 16 KiB reads, in the middle and at the very end.
std::string big_response() {
  std::string body(1024 * 1024, 'x');
  for (size_t at : {size_t{0}, size_t{16 * 1024 - 5}, size_t{500000}, body.size() - kSecret.size()})
    body.replace(at, kSecret.size(), kSecret);
  return body;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = 0; (at = text.find(what, at)) != std::string::npos; at += what.size()) ++n;
  return n;
}

// The origin: answers each request head with a body that echoes its
// Authorization header, and closes after one that says "Connection: close".
// What it received, all of it.
std::string run_origin(GSocketConnection* connection, GTlsCertificate* certificate) {
  g_autoptr(GIOStream) tls = g_tls_server_connection_new(G_IO_STREAM(connection), certificate, nullptr);
  g_object_unref(connection);
  if (tls == nullptr || !g_tls_connection_handshake(G_TLS_CONNECTION(tls), nullptr, nullptr)) return "";
  std::string received;
  std::string unanswered;
  GInputStream* in = g_io_stream_get_input_stream(tls);
  char buffer[4096];
  for (bool close = false; !close;) {
    const gssize n = g_input_stream_read(in, buffer, sizeof buffer, nullptr, nullptr);
    if (n <= 0) break;
    received.append(buffer, static_cast<size_t>(n));
    unanswered.append(buffer, static_cast<size_t>(n));
    for (size_t end; !close && (end = unanswered.find("\r\n\r\n")) != std::string::npos;) {
      const std::string head = unanswered.substr(0, end + 4);
      size_t body_size = 0;
      if (size_t at = head.find("Content-Length: "); at != std::string::npos)
        body_size = std::stoul(head.substr(at + 16));
      if (unanswered.size() < head.size() + body_size) break;  // the rest of the body is still coming
      unanswered.erase(0, head.size() + body_size);
      std::string echo = "none";
      if (size_t at = head.find("Authorization: "); at != std::string::npos)
        echo = head.substr(at + 15, head.find("\r\n", at) - at - 15);
      close = head.find("Connection: close") != std::string::npos;
      std::string body = "you sent: " + echo + "\n";
      if (head.rfind("GET /tail ", 0) == 0) {
        // Ends with the start of the secret, and no more.
        body = "tail: " + kSecret.substr(0, 4);
      } else if (head.rfind("GET /big ", 0) == 0) {
        body = big_response();
      } else if (head.rfind("POST ", 0) == 0) {
        body = "got " + std::to_string(body_size) + " bytes\n";
      }
      write_all(tls, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
                         (close ? "Connection: close\r\n" : "") + "\r\n" + body);
    }
  }
  g_io_stream_close(tls, nullptr, nullptr);
  return received;
}

struct ClientResult {
  bool handshake = false;
  std::string received;
  std::string error;
};

// Whether RECEIVED holds a whole response (head and Content-Length body).
bool whole_response(const std::string& received) {
  const size_t end = received.find("\r\n\r\n");
  const size_t at = received.find("Content-Length: ");
  if (end == std::string::npos || at == std::string::npos) return false;
  return received.size() >= end + 4 + std::stoul(received.substr(at + 16));
}

// The agent: trusts DATABASE only (the session's CA), sends REQUEST, reads
// until the end, or, with ONE_RESPONSE, until it has one whole response (a
// keep-alive connection: the origin is waiting for more).
ClientResult run_client(GSocketConnection* connection, GTlsDatabase* database, const std::string& request,
                        bool one_response) {
  ClientResult result;
  g_autoptr(GSocketConnectable) identity = g_network_address_new(kOriginHost, 443);
  g_autoptr(GError) error = nullptr;
  g_autoptr(GIOStream) tls = g_tls_client_connection_new(G_IO_STREAM(connection), identity, &error);
  g_object_unref(connection);
  if (tls == nullptr) {
    result.error = error->message;
    return result;
  }
  g_tls_connection_set_database(G_TLS_CONNECTION(tls), database);
  if (!g_tls_connection_handshake(G_TLS_CONNECTION(tls), nullptr, &error)) {
    result.error = error->message;
    return result;
  }
  result.handshake = true;
  if (!write_all(tls, request)) return result;
  if (one_response) {
    GInputStream* in = g_io_stream_get_input_stream(tls);
    char buffer[4096];
    while (!whole_response(result.received)) {
      g_autoptr(GError) read_error = nullptr;
      const gssize n = g_input_stream_read(in, buffer, sizeof buffer, nullptr, &read_error);
      if (n < 0) result.error = read_error->message;
      if (n <= 0) break;
      result.received.append(buffer, static_cast<size_t>(n));
    }
  } else {
    result.received = read_until_end(tls, &result.error);
  }
  g_io_stream_close(tls, nullptr, nullptr);
  return result;
}

class InterceptedTunnelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string reason;
    if (!InterceptedTunnel::tls_available(&reason)) GTEST_SKIP() << reason;
    g_autoptr(GError) error = nullptr;
    session_ca_ = SessionCa::create(session_ca_helper(), &error);
    origin_root_ = SessionCa::create(session_ca_helper(), &error);
    ASSERT_NE(session_ca_, nullptr);
    ASSERT_NE(origin_root_, nullptr);
    session_database_ = database_of("session.pem", session_ca_->certificate_pem());
    origin_database_ = database_of("origin-root.pem", origin_root_->certificate_pem());
  }
  void TearDown() override {
    g_clear_object(&session_database_);
    g_clear_object(&origin_database_);
  }

  GTlsDatabase* database_of(const std::string& name, const std::string& pem) {
    const std::string path = dir_.path() + "/" + name;
    EXPECT_TRUE(g_file_set_contents(path.c_str(), pem.data(), static_cast<gssize>(pem.size()), nullptr));
    g_autoptr(GError) error = nullptr;
    GTlsDatabase* database = InterceptedTunnel::database_from_pem_file(path, &error);
    EXPECT_NE(database, nullptr) << (error ? error->message : "");
    return database;
  }

  struct Outcome {
    std::string error;  // what DONE said; "(not done)" when it never ran
    std::string origin_received;
    ClientResult client;
    uint64_t bytes_up = 0, bytes_down = 0, injected = 0, scrubbed = 0;
  };

  // One tunnel: the client sends REQUEST through it to the origin, which
  // presents ORIGIN_CERTIFICATE; the tunnel verifies it against
  // ORIGIN_DATABASE for ORIGIN_NAME.
  Outcome run(const std::string& request, GTlsCertificate* origin_certificate, GTlsDatabase* origin_database,
              const char* origin_name = kOriginHost, bool one_response = false) {
    int client_pair[2], origin_pair[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, client_pair), 0);
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, origin_pair), 0);
    g_autoptr(GSocketConnection) client_side = connection_of(client_pair[1]);
    g_autoptr(GSocketConnection) origin_side = connection_of(origin_pair[0]);
    GSocketConnection* agent = connection_of(client_pair[0]);
    GSocketConnection* origin = connection_of(origin_pair[1]);
    GTlsDatabase* session_database = session_database_;
    auto client_future = std::async(std::launch::async, [agent, session_database, request, one_response] {
      return run_client(agent, session_database, request, one_response);
    });
    g_object_ref(origin_certificate);
    auto origin_future = std::async(std::launch::async, [origin, origin_certificate] {
      std::string received = run_origin(origin, origin_certificate);
      g_object_unref(origin_certificate);
      return received;
    });

    g_autoptr(GError) error = nullptr;
    g_autoptr(GTlsCertificate) leaf = session_ca_->server_certificate(kOriginHost, &error);
    EXPECT_NE(leaf, nullptr);
    g_autoptr(GSocketConnectable) identity = g_network_address_new(origin_name, 443);
    InterceptedTunnel::Options options;
    options.server_certificate = leaf;
    options.origin_identity = identity;
    options.origin_database = origin_database;
    options.injection = Injection{"Authorization", kPlaceholder,
                                  std::make_shared<const SecretBytes>(SecretBytes::copy_of(kSecret))};
    Outcome outcome;
    outcome.error = "(not done)";
    bool done = false;
    auto tunnel = InterceptedTunnel::start(client_side, origin_side, std::move(options),
                                           [&](const std::string& message) {
                                             outcome.error = message;
                                             done = true;
                                           });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done && std::chrono::steady_clock::now() < deadline) g_main_context_iteration(nullptr, FALSE);
    EXPECT_TRUE(done) << "the tunnel did not end";
    tunnel->stop();
    outcome.bytes_up = tunnel->bytes_up();
    outcome.bytes_down = tunnel->bytes_down();
    outcome.injected = tunnel->injected_requests();
    outcome.scrubbed = tunnel->scrubbed_values();
    // The caller closes the connections.
    g_io_stream_close(G_IO_STREAM(client_side), nullptr, nullptr);
    g_io_stream_close(G_IO_STREAM(origin_side), nullptr, nullptr);
    outcome.client = client_future.get();
    outcome.origin_received = origin_future.get();
    tunnel.reset();
    while (g_main_context_iteration(nullptr, FALSE)) {
    }
    return outcome;
  }

  GTlsCertificate* origin_certificate(const char* host = kOriginHost) {
    GTlsCertificate* certificate = origin_root_->server_certificate(host, nullptr);
    EXPECT_NE(certificate, nullptr);
    return certificate;
  }

  TempDir dir_;
  std::unique_ptr<SessionCa> session_ca_;
  std::unique_ptr<SessionCa> origin_root_;
  GTlsDatabase* session_database_ = nullptr;
  GTlsDatabase* origin_database_ = nullptr;
};

TEST_F(InterceptedTunnelTest, TheOriginGetsTheSecretAndTheClientOnlyStars) {
  g_autoptr(GTlsCertificate) certificate = origin_certificate();
  const std::string request =
      "GET /user HTTP/1.1\r\nHost: origin.test\r\nAuthorization: Bearer " + kPlaceholder +
      "\r\nAccept-Encoding: gzip\r\nX-Other: " + kPlaceholder +
      "\r\n\r\nGET /again HTTP/1.1\r\nHost: origin.test\r\nAuthorization: Bearer " + kPlaceholder +
      "\r\nConnection: close\r\n\r\n";
  const Outcome outcome = run(request, certificate, origin_database_);
  EXPECT_EQ(outcome.error, "");
  ASSERT_TRUE(outcome.client.handshake) << outcome.client.error;

  // Both keep-alive requests carried the real value, in the header only.
  EXPECT_THAT(outcome.origin_received, HasSubstr("GET /user HTTP/1.1\r\nHost: origin.test\r\nAuthorization: Bearer " +
                                                 kSecret + "\r\nX-Other: " + kPlaceholder + "\r\n\r\n"));
  EXPECT_THAT(outcome.origin_received,
              HasSubstr("GET /again HTTP/1.1\r\nHost: origin.test\r\nAuthorization: Bearer " + kSecret + "\r\n"));
  EXPECT_THAT(outcome.origin_received, Not(HasSubstr("Bearer " + kPlaceholder)));
  EXPECT_THAT(outcome.origin_received, Not(HasSubstr("Accept-Encoding")));
  EXPECT_EQ(outcome.bytes_up, outcome.origin_received.size());
  EXPECT_EQ(outcome.injected, 2u);

  // The origin echoed it twice; the client saw stars of the same length.
  const std::string stars(kSecret.size(), '*');
  EXPECT_THAT(outcome.client.received, HasSubstr("HTTP/1.1 200 OK"));
  EXPECT_THAT(outcome.client.received, HasSubstr("you sent: Bearer " + stars + "\n"));
  EXPECT_THAT(outcome.client.received, Not(HasSubstr(kSecret)));
  EXPECT_EQ(outcome.scrubbed, 2u);
  EXPECT_EQ(outcome.bytes_down, outcome.client.received.size());
}

TEST_F(InterceptedTunnelTest, AKeepAliveClientGetsItsWholeResponse) {
  // The client waits for the end of one response before it closes; the
  // origin waits for another request. Nothing may stay held back.
  g_autoptr(GTlsCertificate) certificate = origin_certificate();
  const Outcome outcome = run("GET /user HTTP/1.1\r\nAuthorization: Bearer " + kPlaceholder + "\r\n\r\n",
                              certificate, origin_database_, kOriginHost, true);
  EXPECT_EQ(outcome.error, "");
  EXPECT_THAT(outcome.client.received,
              HasSubstr("\r\n\r\nyou sent: Bearer " + std::string(kSecret.size(), '*') + "\n"));
  EXPECT_THAT(outcome.origin_received, HasSubstr("Bearer " + kSecret + "\r\n"));
}

TEST_F(InterceptedTunnelTest, AResponseEndingWithTheStartOfTheSecretIsNotHeldForever) {
  g_autoptr(GTlsCertificate) certificate = origin_certificate();
  const auto started = std::chrono::steady_clock::now();
  const Outcome outcome = run("GET /tail HTTP/1.1\r\nAuthorization: Bearer " + kPlaceholder + "\r\n\r\n",
                              certificate, origin_database_, kOriginHost, true);
  EXPECT_EQ(outcome.error, "");
  // The held start went as '*' after the delay: the secret's first bytes
  // never reach the client, even then.
  EXPECT_THAT(outcome.client.received, HasSubstr("\r\n\r\ntail: ****"));
  EXPECT_THAT(outcome.client.received, Not(HasSubstr(kSecret.substr(0, 4))));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
}

TEST_F(InterceptedTunnelTest, LargeBodiesPassBothWays) {
  g_autoptr(GTlsCertificate) certificate = origin_certificate();
  // An upload with the placeholder in its body (which stays as it is), then
  // a download with the secret in it (which the client never sees).
  std::string upload(300000, 'u');
  for (size_t at : {size_t{10}, size_t{16 * 1024 - 3}, size_t{299000}})
    upload.replace(at, kPlaceholder.size(), kPlaceholder);
  const std::string request = "POST /upload HTTP/1.1\r\nAuthorization: Bearer " + kPlaceholder +
                              "\r\nContent-Length: " + std::to_string(upload.size()) + "\r\n\r\n" + upload +
                              "GET /big HTTP/1.1\r\nConnection: close\r\n\r\n";
  const Outcome outcome = run(request, certificate, origin_database_);
  EXPECT_EQ(outcome.error, "");
  EXPECT_THAT(outcome.origin_received, HasSubstr(upload));
  EXPECT_EQ(count(outcome.origin_received, kPlaceholder), 3u);
  EXPECT_EQ(count(outcome.origin_received, kSecret), 1u);
  EXPECT_THAT(outcome.client.received, HasSubstr("got 300000 bytes\n"));
  EXPECT_THAT(outcome.client.received, Not(HasSubstr(kSecret)));
  EXPECT_EQ(count(outcome.client.received, std::string(kSecret.size(), '*')), 4u);
  EXPECT_EQ(outcome.scrubbed, 4u);
  EXPECT_EQ(outcome.bytes_down, outcome.client.received.size());
}

TEST_F(InterceptedTunnelTest, AnUntrustedOriginFailsClosed) {
  // Signed by a root the tunnel does not trust: another session's CA, or
  // none the system knows.
  auto stranger = SessionCa::create(session_ca_helper(), nullptr);
  ASSERT_NE(stranger, nullptr);
  g_autoptr(GTlsDatabase) stranger_database = database_of("stranger.pem", stranger->certificate_pem());
  g_autoptr(GTlsCertificate) certificate = origin_certificate();
  for (GTlsDatabase* database : {stranger_database, static_cast<GTlsDatabase*>(nullptr)}) {
    const Outcome outcome =
        run("GET / HTTP/1.1\r\nAuthorization: Bearer " + kPlaceholder + "\r\n\r\n", certificate, database);
    EXPECT_THAT(outcome.error, HasSubstr("TLS to the origin failed"));
    EXPECT_THAT(outcome.error, Not(HasSubstr(kSecret)));
    EXPECT_FALSE(outcome.client.handshake);
    EXPECT_EQ(outcome.client.received, "");
    EXPECT_EQ(outcome.origin_received, "");
    EXPECT_EQ(outcome.bytes_up, 0u);
  }
}

TEST_F(InterceptedTunnelTest, AnOriginWithAnotherNamesCertificateFailsClosed) {
  g_autoptr(GTlsCertificate) certificate = origin_certificate("elsewhere.test");
  const Outcome outcome =
      run("GET / HTTP/1.1\r\nAuthorization: Bearer " + kPlaceholder + "\r\n\r\n", certificate, origin_database_);
  EXPECT_THAT(outcome.error, HasSubstr("TLS to the origin failed"));
  EXPECT_FALSE(outcome.client.handshake);
  EXPECT_EQ(outcome.origin_received, "");
}

TEST_F(InterceptedTunnelTest, ARefusedRequestClosesTheTunnel) {
  g_autoptr(GTlsCertificate) certificate = origin_certificate();
  const Outcome outcome = run("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nAuthorization: Bearer " + kPlaceholder +
                                  "\r\nConnection: close\r\n\r\n",
                              certificate, origin_database_);
  EXPECT_THAT(outcome.error, HasSubstr("refused a request"));
  EXPECT_TRUE(outcome.client.handshake);
  EXPECT_EQ(outcome.client.received, "");
  EXPECT_EQ(outcome.origin_received, "");
  EXPECT_EQ(outcome.bytes_up, 0u);
}

TEST_F(InterceptedTunnelTest, StopMeansNoDone) {
  int client_pair[2], origin_pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, client_pair), 0);
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, origin_pair), 0);
  g_autoptr(GSocketConnection) client_side = connection_of(client_pair[1]);
  g_autoptr(GSocketConnection) origin_side = connection_of(origin_pair[0]);
  g_autoptr(GSocketConnection) agent = connection_of(client_pair[0]);
  g_autoptr(GSocketConnection) origin = connection_of(origin_pair[1]);
  g_autoptr(GTlsCertificate) leaf = session_ca_->server_certificate(kOriginHost, nullptr);
  g_autoptr(GSocketConnectable) identity = g_network_address_new(kOriginHost, 443);
  InterceptedTunnel::Options options;
  options.server_certificate = leaf;
  options.origin_identity = identity;
  options.origin_database = origin_database_;
  options.injection = Injection{"Authorization", kPlaceholder,
                                std::make_shared<const SecretBytes>(SecretBytes::copy_of(kSecret))};
  bool done = false;
  for (int turns_before_stop : {0, 3}) {
    auto tunnel = InterceptedTunnel::start(client_side, origin_side, options, [&](const std::string&) { done = true; });
    for (int i = 0; i < turns_before_stop; ++i) g_main_context_iteration(nullptr, FALSE);
    tunnel->stop();
    tunnel.reset();
    // Let the cancelled operations come back.
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
    while (std::chrono::steady_clock::now() < until) g_main_context_iteration(nullptr, FALSE);
  }
  EXPECT_FALSE(done);
}

TEST_F(InterceptedTunnelTest, SilentPeersTimeOut) {
  // Nobody answers on either socket: the tunnel gives up on its own.
  int client_pair[2], origin_pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, client_pair), 0);
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, origin_pair), 0);
  g_autoptr(GSocketConnection) client_side = connection_of(client_pair[1]);
  g_autoptr(GSocketConnection) origin_side = connection_of(origin_pair[0]);
  g_autoptr(GSocketConnection) agent = connection_of(client_pair[0]);
  g_autoptr(GSocketConnection) origin = connection_of(origin_pair[1]);
  g_autoptr(GTlsCertificate) leaf = session_ca_->server_certificate(kOriginHost, nullptr);
  g_autoptr(GSocketConnectable) identity = g_network_address_new(kOriginHost, 443);
  InterceptedTunnel::Options options;
  options.server_certificate = leaf;
  options.origin_identity = identity;
  options.origin_database = origin_database_;
  options.injection = Injection{"Authorization", kPlaceholder,
                                std::make_shared<const SecretBytes>(SecretBytes::copy_of(kSecret))};
  options.handshake_timeout_ms = 200;
  std::string error = "(not done)";
  auto tunnel = InterceptedTunnel::start(client_side, origin_side, options,
                                         [&](const std::string& message) { error = message; });
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (error == "(not done)" && std::chrono::steady_clock::now() < until) g_main_context_iteration(nullptr, FALSE);
  EXPECT_THAT(error, HasSubstr("took longer than 200 ms"));
  tunnel.reset();
  while (g_main_context_iteration(nullptr, FALSE)) {
  }
}

TEST_F(InterceptedTunnelTest, RefusesToStartWithoutWhatItNeeds) {
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
  g_autoptr(GSocketConnection) one = connection_of(pair[0]);
  g_autoptr(GSocketConnection) two = connection_of(pair[1]);
  InterceptedTunnel::Options options;  // no certificate, no identity, no secret
  std::string error = "(not done)";
  auto tunnel = InterceptedTunnel::start(one, two, options, [&](const std::string& message) { error = message; });
  EXPECT_EQ(error, "(not done)");  // never from start()
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (error == "(not done)" && std::chrono::steady_clock::now() < until) g_main_context_iteration(nullptr, FALSE);
  EXPECT_THAT(error, HasSubstr("needs a server certificate"));
}

TEST(InterceptedTunnel, DatabaseFromAMissingFileIsAnError) {
  TempDir dir;
  g_autoptr(GError) error = nullptr;
  GTlsDatabase* database = InterceptedTunnel::database_from_pem_file(dir.path() + "/missing.pem", &error);
  EXPECT_EQ(database, nullptr);
  EXPECT_NE(error, nullptr);
}

}  // namespace
}  // namespace airlock
