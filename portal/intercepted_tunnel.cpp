#include "intercepted_tunnel.h"

#include <cstring>
#include <string>
#include <utility>

namespace airlock {

namespace {

// The only application protocol offered either way: the rewriter frames
// HTTP/1.1 and nothing else (no h2, whose headers it could not see).
const char* const kAlpn[] = {"http/1.1", nullptr};

bool acceptable_alpn(GTlsConnection* connection) {
  const char* protocol = g_tls_connection_get_negotiated_protocol(connection);
  return protocol == nullptr || std::strcmp(protocol, "http/1.1") == 0;
}

const char* const kSides[2] = {"the client", "the origin"};

}  // namespace

bool InterceptedTunnel::tls_available(std::string* error) {
  if (g_tls_backend_supports_tls(g_tls_backend_get_default())) return true;
  if (error != nullptr)
    *error = "GIO has no TLS backend, so hosts with an injected secret cannot be reached: install glib-networking";
  return false;
}

GTlsDatabase* InterceptedTunnel::database_from_pem_file(const std::string& path, GError** error) {
  return g_tls_file_database_new(path.c_str(), error);
}

InterceptedTunnel::InterceptedTunnel(Options options)
    : rewriter_(Injection{options.injection}), scrubber_(options.injection.value) {
  if (options.server_certificate != nullptr)
    server_certificate_ = G_TLS_CERTIFICATE(g_object_ref(options.server_certificate));
  if (options.origin_identity != nullptr)
    origin_identity_ = G_SOCKET_CONNECTABLE(g_object_ref(options.origin_identity));
  if (options.origin_database != nullptr) origin_database_ = G_TLS_DATABASE(g_object_ref(options.origin_database));
  cancellable_ = g_cancellable_new();
  handshake_timeout_ms_ = options.handshake_timeout_ms;
}

std::shared_ptr<InterceptedTunnel> InterceptedTunnel::start(GSocketConnection* client, GSocketConnection* upstream,
                                                            Options options, Done done) {
  std::shared_ptr<InterceptedTunnel> tunnel(new InterceptedTunnel(std::move(options)));
  tunnel->done_ = std::move(done);
  tunnel->connections_[0] = G_SOCKET_CONNECTION(g_object_ref(client));
  tunnel->connections_[1] = G_SOCKET_CONNECTION(g_object_ref(upstream));
  // Nothing happens before the main loop turns: DONE never runs from start().
  GSource* idle = g_idle_source_new();
  g_source_set_static_name(idle, "airlock intercepted tunnel");
  g_source_set_callback(
      idle,
      [](gpointer data) -> gboolean {
        (*static_cast<std::shared_ptr<InterceptedTunnel>*>(data))->begin();
        return G_SOURCE_REMOVE;
      },
      tunnel->ref(), [](gpointer data) { delete static_cast<std::shared_ptr<InterceptedTunnel>*>(data); });
  g_source_attach(idle, g_main_context_get_thread_default());
  g_source_unref(idle);
  return tunnel;
}

InterceptedTunnel::~InterceptedTunnel() {
  stop();
  for (auto*& tls : tls_) g_clear_object(&tls);
  for (auto*& connection : connections_) g_clear_object(&connection);
  g_clear_object(&cancellable_);
  g_clear_object(&server_certificate_);
  g_clear_object(&origin_identity_);
  g_clear_object(&origin_database_);
  for (auto& d : directions_) explicit_bzero(d.buffer, sizeof d.buffer);
}

void InterceptedTunnel::stop() {
  if (stopped_) return;
  stopped_ = true;
  done_ = nullptr;
  g_cancellable_cancel(cancellable_);
  destroy_source(&flush_timer_);
  destroy_source(&handshake_timer_);
}

void InterceptedTunnel::destroy_source(GSource** source) {
  if (*source == nullptr) return;
  g_source_destroy(*source);
  g_source_unref(*source);
  *source = nullptr;
}

gpointer InterceptedTunnel::ref() { return new std::shared_ptr<InterceptedTunnel>(shared_from_this()); }

// Each pending operation holds a reference, so the tunnel outlives it; a
// stopped tunnel only collects the operation's result.
template <void (InterceptedTunnel::*Method)(GObject*, GAsyncResult*)>
void InterceptedTunnel::callback(GObject* source, GAsyncResult* result, gpointer data) {
  std::unique_ptr<std::shared_ptr<InterceptedTunnel>> self(static_cast<std::shared_ptr<InterceptedTunnel>*>(data));
  ((**self).*Method)(source, result);
}

template <int D, void (InterceptedTunnel::*Method)(int, GObject*, GAsyncResult*)>
void InterceptedTunnel::direction_callback(GObject* source, GAsyncResult* result, gpointer data) {
  std::unique_ptr<std::shared_ptr<InterceptedTunnel>> self(static_cast<std::shared_ptr<InterceptedTunnel>*>(data));
  ((**self).*Method)(D, source, result);
}

void InterceptedTunnel::begin() {
  if (stopped_) return;
  std::string reason;
  if (!tls_available(&reason)) return end(reason);
  if (server_certificate_ == nullptr || origin_identity_ == nullptr)
    return end("an intercepted tunnel needs a server certificate and the origin's identity");
  if (!rewriter_.error().empty()) return end("cannot inject the secret: " + rewriter_.error());

  g_autoptr(GError) error = nullptr;
  GIOStream* origin = g_tls_client_connection_new(G_IO_STREAM(connections_[1]), origin_identity_, &error);
  if (origin == nullptr) return end(std::string("cannot start TLS to the origin: ") + error->message);
  tls_[1] = G_TLS_CONNECTION(origin);
  // The default database is the system's; validation flags stay at their
  // default (everything checked), and no accept-certificate handler is
  // connected, so any verification error fails the handshake.
  if (origin_database_ != nullptr) g_tls_connection_set_database(tls_[1], origin_database_);
  g_tls_connection_set_advertised_protocols(tls_[1], kAlpn);
  // An origin that ends without close_notify still ends the response: the
  // client's own HTTP framing shows whether it was whole.
  g_tls_connection_set_require_close_notify(tls_[1], FALSE);

  GIOStream* client = g_tls_server_connection_new(G_IO_STREAM(connections_[0]), server_certificate_, &error);
  if (client == nullptr) return end(std::string("cannot start TLS with the client: ") + error->message);
  tls_[0] = G_TLS_CONNECTION(client);
  g_tls_connection_set_advertised_protocols(tls_[0], kAlpn);
  g_tls_connection_set_require_close_notify(tls_[0], FALSE);

  for (int i = 0; i < 2; ++i) {
    // Data flows from side i to side 1 - i.
    directions_[i].in = g_io_stream_get_input_stream(G_IO_STREAM(tls_[i]));
    directions_[i].out = g_io_stream_get_output_stream(G_IO_STREAM(tls_[1 - i]));
  }
  handshake_timer_ = g_timeout_source_new(handshake_timeout_ms_);
  g_source_set_static_name(handshake_timer_, "airlock intercepted tunnel handshake");
  g_source_set_callback(
      handshake_timer_,
      [](gpointer data) -> gboolean {
        auto& self = *static_cast<std::shared_ptr<InterceptedTunnel>*>(data);
        self->end("the TLS handshakes took longer than " + std::to_string(self->handshake_timeout_ms_) + " ms");
        return G_SOURCE_REMOVE;
      },
      ref(), [](gpointer data) { delete static_cast<std::shared_ptr<InterceptedTunnel>*>(data); });
  g_source_attach(handshake_timer_, g_main_context_get_thread_default());
  g_tls_connection_handshake_async(tls_[1], G_PRIORITY_DEFAULT, cancellable_,
                                   callback<&InterceptedTunnel::on_origin_handshake>, ref());
}

void InterceptedTunnel::on_origin_handshake(GObject* source, GAsyncResult* result) {
  g_autoptr(GError) error = nullptr;
  const bool ok = g_tls_connection_handshake_finish(G_TLS_CONNECTION(source), result, &error);
  if (stopped_) return;
  if (!ok) return end(std::string("TLS to the origin failed (the client is refused): ") + error->message);
  if (!acceptable_alpn(tls_[1])) return end("the origin chose an application protocol other than HTTP/1.1");
  g_tls_connection_handshake_async(tls_[0], G_PRIORITY_DEFAULT, cancellable_,
                                   callback<&InterceptedTunnel::on_client_handshake>, ref());
}

void InterceptedTunnel::on_client_handshake(GObject* source, GAsyncResult* result) {
  g_autoptr(GError) error = nullptr;
  const bool ok = g_tls_connection_handshake_finish(G_TLS_CONNECTION(source), result, &error);
  if (stopped_) return;
  if (!ok) return end(std::string("TLS with the client failed: ") + error->message);
  destroy_source(&handshake_timer_);
  if (!acceptable_alpn(tls_[0])) return end("the client chose an application protocol other than HTTP/1.1");
  read(0);
  read(1);
}

void InterceptedTunnel::read(int direction) {
  auto& d = directions_[direction];
  GAsyncReadyCallback ready = direction == 0 ? direction_callback<0, &InterceptedTunnel::on_read>
                                             : direction_callback<1, &InterceptedTunnel::on_read>;
  g_input_stream_read_async(d.in, d.buffer, sizeof d.buffer, G_PRIORITY_DEFAULT, cancellable_, ready, ref());
}

void InterceptedTunnel::on_read(int direction, GObject* source, GAsyncResult* result) {
  auto& d = directions_[direction];
  g_autoptr(GError) error = nullptr;
  const gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, &error);
  if (stopped_) return;
  if (n < 0) return end(std::string("reading from ") + kSides[direction] + ": " + error->message);
  // The flush timer's write is under way: the bytes wait in the buffer
  // until it is done, so that writes go out in order.
  if (d.writing) {
    d.deferred_read = n;
    return;
  }
  handle_read(direction, n);
}

void InterceptedTunnel::handle_read(int direction, gssize n) {
  auto& d = directions_[direction];
  const std::string_view data(d.buffer, static_cast<size_t>(n));
  if (n == 0) {
    // The end of this side's stream: what the scrubber held back goes, then
    // the other side learns that no more is coming (and may still answer).
    if (direction == 1) scrubber_.finish(&d.pending);
    if (!d.pending.empty()) return write(direction);
    GAsyncReadyCallback ready = direction == 0 ? direction_callback<0, &InterceptedTunnel::on_closed>
                                               : direction_callback<1, &InterceptedTunnel::on_closed>;
    g_output_stream_close_async(d.out, G_PRIORITY_DEFAULT, cancellable_, ready, ref());
    return;
  }
  if (direction == 0) {
    const bool ok = rewriter_.feed(data, &d.pending);
    explicit_bzero(d.buffer, static_cast<size_t>(n));
    if (!ok) return end("refused a request to an intercepted host: " + rewriter_.error());
  } else {
    scrubber_.feed(data, &d.pending);
    explicit_bzero(d.buffer, static_cast<size_t>(n));
  }
  if (!d.pending.empty()) return write(direction);
  read(direction);
  if (direction == 1) arm_flush_timer();
}

// The scrubber holds the start of the value while the origin is quiet: the
// client may be waiting for just those bytes to end a response.
void InterceptedTunnel::arm_flush_timer() {
  if (scrubber_.held() == 0 || flush_timer_ != nullptr) return;
  flush_timer_ = g_timeout_source_new(kHeldBytesDelayMs);
  g_source_set_static_name(flush_timer_, "airlock intercepted tunnel flush");
  g_source_set_callback(
      flush_timer_,
      [](gpointer data) -> gboolean {
        (*static_cast<std::shared_ptr<InterceptedTunnel>*>(data))->on_flush_timer();
        return G_SOURCE_REMOVE;
      },
      ref(), [](gpointer data) { delete static_cast<std::shared_ptr<InterceptedTunnel>*>(data); });
  g_source_attach(flush_timer_, g_main_context_get_thread_default());
}

void InterceptedTunnel::on_flush_timer() {
  g_clear_pointer(&flush_timer_, g_source_unref);
  auto& d = directions_[1];
  // Only while a read waits: otherwise what is under way sends the bytes
  // or re-arms the timer.
  if (stopped_ || d.writing || !d.pending.empty() || scrubber_.held() == 0) return;
  scrubber_.flush(&d.flushed);
  d.writing = true;
  g_output_stream_write_all_async(d.out, d.flushed.data(), d.flushed.size(), G_PRIORITY_DEFAULT, cancellable_,
                                  direction_callback<1, &InterceptedTunnel::on_flushed>, ref());
}

void InterceptedTunnel::on_flushed(int direction, GObject* source, GAsyncResult* result) {
  auto& d = directions_[direction];
  g_autoptr(GError) error = nullptr;
  gsize written = 0;
  const bool ok = g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), result, &written, &error);
  d.bytes += written;
  d.flushed.clear();
  d.writing = false;
  if (stopped_) return;
  if (!ok) return end(std::string("writing to ") + kSides[1 - direction] + ": " + error->message);
  if (d.deferred_read >= 0) handle_read(direction, std::exchange(d.deferred_read, -1));
}

void InterceptedTunnel::write(int direction) {
  auto& d = directions_[direction];
  GAsyncReadyCallback ready = direction == 0 ? direction_callback<0, &InterceptedTunnel::on_written>
                                             : direction_callback<1, &InterceptedTunnel::on_written>;
  d.writing = true;
  g_output_stream_write_all_async(d.out, d.pending.data(), d.pending.size(), G_PRIORITY_DEFAULT, cancellable_, ready,
                                  ref());
}

void InterceptedTunnel::on_written(int direction, GObject* source, GAsyncResult* result) {
  auto& d = directions_[direction];
  g_autoptr(GError) error = nullptr;
  gsize written = 0;
  const bool ok = g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), result, &written, &error);
  d.bytes += written;
  d.pending.clear();
  d.writing = false;
  if (stopped_) return;
  if (!ok) return end(std::string("writing to ") + kSides[1 - direction] + ": " + error->message);
  read(direction);  // after the end of the stream, a read gives 0 again
  if (direction == 1) arm_flush_timer();
}

void InterceptedTunnel::on_closed(int direction, GObject* source, GAsyncResult* result) {
  // A peer that has gone already cannot take the close_notify: the stream
  // is over either way.
  g_output_stream_close_finish(G_OUTPUT_STREAM(source), result, nullptr);
  if (stopped_) return;
  GSocket* socket = g_socket_connection_get_socket(connections_[1 - direction]);
  g_socket_shutdown(socket, FALSE, TRUE, nullptr);
  directions_[direction].done = true;
  if (directions_[0].done && directions_[1].done) end("");
}

void InterceptedTunnel::end(const std::string& error) {
  if (stopped_) return;
  if (!error.empty()) {
    // Fail closed at once: neither side gets another byte, whenever the
    // caller gets round to closing the connections.
    for (auto* connection : connections_)
      g_socket_shutdown(g_socket_connection_get_socket(connection), TRUE, TRUE, nullptr);
  }
  auto done = std::move(done_);
  stop();
  if (done) done(error);
}

}  // namespace airlock
