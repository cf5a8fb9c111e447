// The network proxy's tunnel for a host with an injection grant (DESIGN.md,
// "Secrets": the agent never holds the token), in place of ProxyRelay: it
// ends the agent's TLS with a leaf from the session's CA, opens its own TLS
// to the origin (verified against the system's roots, or a given database,
// for the name the agent asked for), and between the two moves plaintext:
// requests through a RequestRewriter (placeholder -> secret in one header),
// responses through a ResponseScrubber (secret -> '*'). Every other host
// stays an untouched CONNECT tunnel (ProxyRelay).
//
// Fails closed: when the origin's certificate does not verify, the client's
// handshake is never completed; on any error both sockets are shut down, so
// no half-rewritten stream goes on. No error message holds a secret.
//
// Asynchronous on the thread-default GMainContext (GIO's TLS, glib-networking
// at run time), no threads.
#pragma once

#include <gio/gio.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "credential_rewriter.h"

namespace airlock {

class InterceptedTunnel : public std::enable_shared_from_this<InterceptedTunnel> {
 public:
  // ERROR is empty when both sides ended their streams; DONE runs once, from
  // the main loop, and not after stop().
  using Done = std::function<void(const std::string& error)>;

  struct Options {
    // The leaf the client sees (SessionCa::server_certificate), with its key.
    GTlsCertificate* server_certificate = nullptr;
    // Who the origin must prove to be: the host and port the agent asked
    // for (a GNetworkAddress), checked against the origin's certificate.
    GSocketConnectable* origin_identity = nullptr;
    // The roots that verify the origin; nullptr: the TLS backend's default
    // (the system's CA store).
    GTlsDatabase* origin_database = nullptr;
    Injection injection;
    // Both handshakes must be done within this, or the tunnel ends: a peer
    // that never answers does not hold the connection open for ever.
    guint handshake_timeout_ms = 30 * 1000;
  };

  // Starts the two handshakes (the origin's first, so that the client's
  // completes only once the origin is verified), then relays. Both
  // connections stay owned by the caller, who closes them (after stop(), or
  // once DONE has run); no byte may have been read from CLIENT past the
  // CONNECT request. The tunnel takes references on what OPTIONS points to
  // and keeps itself alive while it runs.
  static std::shared_ptr<InterceptedTunnel> start(GSocketConnection* client, GSocketConnection* upstream,
                                                  Options options, Done done);
  ~InterceptedTunnel();
  InterceptedTunnel(const InterceptedTunnel&) = delete;
  InterceptedTunnel& operator=(const InterceptedTunnel&) = delete;

  // No more reads, writes or DONE: everything pending is cancelled.
  void stop();
  // Plaintext bytes written to the origin (after injection) and to the
  // client (after scrubbing).
  uint64_t bytes_up() const { return directions_[0].bytes; }
  uint64_t bytes_down() const { return directions_[1].bytes; }
  // Requests that had the placeholder replaced, and echoes scrubbed.
  uint64_t injected_requests() const { return rewriter_.injected_requests(); }
  uint64_t scrubbed_values() const { return scrubber_.scrubbed(); }

  // Whether GIO has a TLS backend (glib-networking); when not, ERROR says
  // what to install. Without one every tunnel fails.
  static bool tls_available(std::string* error);
  // The certificates of a PEM file as a database that verifies origins
  // (a test root, or a portal option adding one). nullptr with ERROR set.
  static GTlsDatabase* database_from_pem_file(const std::string& path, GError** error);

 private:
  struct Direction {
    GInputStream* in = nullptr;    // owned by its GTlsConnection
    GOutputStream* out = nullptr;
    char buffer[16 * 1024];
    WipedBuffer pending;  // transformed bytes being written
    WipedBuffer flushed;  // the scrubber's held bytes, let go by the timer
    bool writing = false;
    gssize deferred_read = -1;  // a read that came back while FLUSHED was written
    uint64_t bytes = 0;
    bool done = false;  // read its end, wrote what was left, closed OUT
  };

  explicit InterceptedTunnel(Options options);
  void begin();
  void on_origin_handshake(GObject* source, GAsyncResult* result);
  void on_client_handshake(GObject* source, GAsyncResult* result);
  void read(int direction);
  void on_read(int direction, GObject* source, GAsyncResult* result);
  void handle_read(int direction, gssize n);
  void arm_flush_timer();
  static void destroy_source(GSource** source);
  void on_flush_timer();
  void on_flushed(int direction, GObject* source, GAsyncResult* result);
  void write(int direction);
  void on_written(int direction, GObject* source, GAsyncResult* result);
  void on_closed(int direction, GObject* source, GAsyncResult* result);
  void end(const std::string& error);
  gpointer ref();
  template <void (InterceptedTunnel::*Method)(GObject*, GAsyncResult*)>
  static void callback(GObject* source, GAsyncResult* result, gpointer data);
  template <int Direction, void (InterceptedTunnel::*Method)(int, GObject*, GAsyncResult*)>
  static void direction_callback(GObject* source, GAsyncResult* result, gpointer data);

  GSocketConnection* connections_[2] = {nullptr, nullptr};  // client, origin
  GTlsConnection* tls_[2] = {nullptr, nullptr};
  GCancellable* cancellable_ = nullptr;
  GSource* flush_timer_ = nullptr;
  GSource* handshake_timer_ = nullptr;
  guint handshake_timeout_ms_ = 0;
  GTlsCertificate* server_certificate_ = nullptr;
  GSocketConnectable* origin_identity_ = nullptr;
  GTlsDatabase* origin_database_ = nullptr;
  RequestRewriter rewriter_;
  ResponseScrubber scrubber_;
  Direction directions_[2];  // 0: client to origin, 1: origin to client
  Done done_;
  bool stopped_ = false;

 public:
  // How long the scrubber may hold back the start of the value while the
  // origin sends nothing more, before it goes as '*'.
  static constexpr guint kHeldBytesDelayMs = 50;
};

}  // namespace airlock
