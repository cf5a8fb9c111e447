#include "proxy_relay.h"

namespace airlock {

namespace {

// Large enough that loopback throughput is near direct, small enough that a
// thousand idle tunnels stay cheap (the pages are touched only when used).
constexpr size_t kBufferSize = 64 * 1024;

struct Op {
  std::shared_ptr<ProxyRelay> relay;
  int direction;
};

GSocket* socket_of(GIOStream* stream) {
  return G_IS_SOCKET_CONNECTION(stream) ? g_socket_connection_get_socket(G_SOCKET_CONNECTION(stream)) : nullptr;
}

}  // namespace

std::shared_ptr<ProxyRelay> ProxyRelay::start(GIOStream* client, GIOStream* upstream, std::string first_up,
                                              Done done) {
  std::shared_ptr<ProxyRelay> relay(new ProxyRelay());
  relay->cancellable_ = g_cancellable_new();
  relay->done_ = std::move(done);
  relay->first_up_ = std::move(first_up);
  relay->streams_[0] = G_IO_STREAM(g_object_ref(client));
  relay->streams_[1] = G_IO_STREAM(g_object_ref(upstream));
  GIOStream* ends[2][2] = {{client, upstream}, {upstream, client}};
  for (int i = 0; i < 2; ++i) {
    auto& direction = relay->directions_[i];
    direction.from = G_INPUT_STREAM(g_object_ref(g_io_stream_get_input_stream(ends[i][0])));
    direction.to = G_OUTPUT_STREAM(g_object_ref(g_io_stream_get_output_stream(ends[i][1])));
    GSocket* socket = socket_of(ends[i][1]);
    direction.to_socket = socket != nullptr ? G_SOCKET(g_object_ref(socket)) : nullptr;
    direction.buffer = std::make_unique<char[]>(kBufferSize);
  }
  if (!relay->first_up_.empty()) {
    relay->write(0, relay->first_up_.data(), relay->first_up_.size());
  } else {
    relay->read(0);
  }
  relay->read(1);
  return relay;
}

ProxyRelay::~ProxyRelay() {
  for (auto& direction : directions_) {
    g_clear_object(&direction.from);
    g_clear_object(&direction.to);
    g_clear_object(&direction.to_socket);
  }
  g_clear_object(&streams_[0]);
  g_clear_object(&streams_[1]);
  g_clear_object(&cancellable_);
}

void ProxyRelay::stop() {
  if (stopped_) return;
  stopped_ = true;
  done_ = nullptr;
  g_cancellable_cancel(cancellable_);
}

void ProxyRelay::read(int direction) {
  auto& d = directions_[direction];
  g_input_stream_read_async(d.from, d.buffer.get(), kBufferSize, G_PRIORITY_DEFAULT, cancellable_, on_read,
                            new Op{shared_from_this(), direction});
}

void ProxyRelay::write(int direction, const char* data, size_t size) {
  g_output_stream_write_all_async(directions_[direction].to, data, size, G_PRIORITY_DEFAULT, cancellable_, on_written,
                                  new Op{shared_from_this(), direction});
}

void ProxyRelay::end(const std::string& error) {
  if (stopped_) return;
  auto done = std::move(done_);
  stop();
  if (done) done(error);
}

void ProxyRelay::on_read(GObject* source, GAsyncResult* result, gpointer data) {
  std::unique_ptr<Op> op(static_cast<Op*>(data));
  auto& relay = *op->relay;
  g_autoptr(GError) error = nullptr;
  gssize count = g_input_stream_read_finish(G_INPUT_STREAM(source), result, &error);
  if (relay.stopped_) return;
  auto& d = relay.directions_[op->direction];
  if (count < 0) {
    relay.end(std::string(op->direction == 0 ? "reading from the client: " : "reading from the origin: ") +
              error->message);
    return;
  }
  if (count == 0) {
    // Half-close: the other side learns that no more is coming, and may
    // still answer.
    d.ended = true;
    if (d.to_socket != nullptr) g_socket_shutdown(d.to_socket, FALSE, TRUE, nullptr);
    if (relay.directions_[0].ended && relay.directions_[1].ended) relay.end("");
    return;
  }
  relay.write(op->direction, d.buffer.get(), static_cast<size_t>(count));
}

void ProxyRelay::on_written(GObject* source, GAsyncResult* result, gpointer data) {
  std::unique_ptr<Op> op(static_cast<Op*>(data));
  auto& relay = *op->relay;
  g_autoptr(GError) error = nullptr;
  gsize written = 0;
  gboolean ok = g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), result, &written, &error);
  if (relay.stopped_) return;
  relay.directions_[op->direction].bytes += written;
  if (!ok) {
    relay.end(std::string(op->direction == 0 ? "writing to the origin: " : "writing to the client: ") +
              error->message);
    return;
  }
  relay.read(op->direction);
}

}  // namespace airlock
