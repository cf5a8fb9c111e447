#include "proxy_relay.h"

#include <fcntl.h>
#include <glib-unix.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <vector>

namespace airlock {

namespace {

// The sockets are non-blocking (GSocket makes them so), and SIGPIPE is
// ignored (GSocket's class does that), so a splice to a closed peer fails
// with EPIPE like a send with MSG_NOSIGNAL.
constexpr unsigned kSpliceFlags = SPLICE_F_MOVE | SPLICE_F_NONBLOCK;
// A pipe's size: fewer turns than the default 64 KiB for bulk transfers; a
// pipe is held only while bytes wait in it. Past the per-user allowance
// (fs.pipe-user-pages-soft) the kernel refuses, and the pipe stays smaller.
constexpr int kPipeSize = 256 * 1024;
// The copying fallback's buffer.
constexpr size_t kBufferSize = 64 * 1024;
// Empty pipes kept for the next direction that has bytes to move.
constexpr size_t kSparePipes = 8;
// At most this much moves one way per turn of the main loop, so that one busy
// tunnel does not hold up the others (or the portal's D-Bus traffic).
constexpr uint64_t kTurnBudget = 1024 * 1024;

std::atomic<bool> splice_enabled{true};

struct Pipe {
  int read = -1;
  int write = -1;
  size_t capacity = 0;
};

// The pipes of this thread's relays: a direction holds one only while bytes
// wait in it, so a thousand tunnels need as many pipes as have bytes in
// flight at once, not two each.
class PipePool {
 public:
  PipePool() = default;
  PipePool(const PipePool&) = delete;
  PipePool& operator=(const PipePool&) = delete;
  ~PipePool() {
    for (const auto& pipe : free_) close_pipe(pipe);
  }

  // False when no pipe can be had (out of descriptors, say).
  bool take(Pipe* pipe) {
    if (!free_.empty()) {
      *pipe = free_.back();
      free_.pop_back();
      return true;
    }
    int fds[2];
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return false;
    fcntl(fds[0], F_SETPIPE_SZ, kPipeSize);
    int size = fcntl(fds[0], F_GETPIPE_SZ);
    if (size <= 0) {
      close(fds[0]);
      close(fds[1]);
      return false;
    }
    *pipe = Pipe{fds[0], fds[1], static_cast<size_t>(size)};
    return true;
  }

  // PIPE must be empty.
  void give(const Pipe& pipe) {
    if (free_.size() < kSparePipes) {
      free_.push_back(pipe);
    } else {
      close_pipe(pipe);
    }
  }

  static void close_pipe(const Pipe& pipe) {
    close(pipe.read);
    close(pipe.write);
  }

 private:
  std::vector<Pipe> free_;
};

PipePool& pipe_pool() {
  thread_local PipePool pool;
  return pool;
}

bool would_block(int error) { return error == EAGAIN || error == EWOULDBLOCK; }

// The relay's GSource: the two sockets' descriptors, nothing else.
struct RelaySource {
  GSource source;
  ProxyRelay* relay;
};

}  // namespace

void ProxyRelay::set_splice_enabled_for_testing(bool enabled) { splice_enabled = enabled; }

bool ProxyRelay::Direction::wants_read() const {
  if (done || eof || first_pending()) return false;
  // A pipe may take more while it has room, unless it just refused: then it
  // is out of slots (a splice from a socket takes one per fragment), and
  // reading waits until some bytes have left. The buffer is filled only
  // once it is empty.
  return held == 0 || (pipe_read >= 0 && splice && held < capacity && !blocked);
}

std::shared_ptr<ProxyRelay> ProxyRelay::start(GSocketConnection* client, GSocketConnection* upstream,
                                              std::string first_up, Done done) {
  static GSourceFuncs funcs = {nullptr, nullptr, on_ready, nullptr, nullptr, nullptr};
  std::shared_ptr<ProxyRelay> relay(new ProxyRelay());
  relay->done_ = std::move(done);
  GSocketConnection* connections[2] = {client, upstream};
  for (int i = 0; i < 2; ++i) {
    GSocket* socket = g_socket_connection_get_socket(connections[i]);
    relay->sockets_[i] = G_SOCKET(g_object_ref(socket));
    relay->fds_[i] = g_socket_get_fd(socket);
    // GSocket keeps its descriptor non-blocking; splice relies on it.
    int flags = fcntl(relay->fds_[i], F_GETFL);
    if (flags >= 0 && (flags & O_NONBLOCK) == 0) fcntl(relay->fds_[i], F_SETFL, flags | O_NONBLOCK);
  }
  for (int i = 0; i < 2; ++i) {
    auto& d = relay->directions_[i];
    d.from = relay->fds_[i];
    d.to = relay->fds_[1 - i];
    d.splice = splice_enabled;
  }
  relay->directions_[0].first = std::move(first_up);

  relay->source_ = g_source_new(&funcs, sizeof(RelaySource));
  reinterpret_cast<RelaySource*>(relay->source_)->relay = relay.get();
  g_source_set_static_name(relay->source_, "airlock proxy relay");
  for (int i = 0; i < 2; ++i) relay->tags_[i] = g_source_add_unix_fd(relay->source_, relay->fds_[i], GIOCondition(0));
  relay->update_watches();
  // Nothing moves before the main loop turns: DONE never runs from start().
  g_source_attach(relay->source_, g_main_context_get_thread_default());
  return relay;
}

ProxyRelay::~ProxyRelay() {
  stop();
  for (auto*& socket : sockets_) g_clear_object(&socket);
}

void ProxyRelay::stop() {
  if (stopped_) return;
  stopped_ = true;
  done_ = nullptr;
  if (source_ != nullptr) {
    g_source_destroy(source_);
    g_source_unref(source_);
    source_ = nullptr;
  }
  for (auto& d : directions_) release_pipe(d);
}

void ProxyRelay::release_pipe(Direction& d) {
  if (d.pipe_read < 0) return;
  Pipe pipe{d.pipe_read, d.pipe_write, d.capacity};
  if (d.held == 0) {
    pipe_pool().give(pipe);
  } else {
    // Bytes left in it (the relay was stopped): they go with it.
    PipePool::close_pipe(pipe);
    d.held = 0;
  }
  d.pipe_read = d.pipe_write = -1;
  d.capacity = 0;
}

// Splice cannot write from the pipe to TO: what the pipe holds moves to the
// buffer, and this direction copies from now on.
bool ProxyRelay::fill_from_pipe_to_buffer(Direction& d) {
  const size_t size = std::max(kBufferSize, d.held);
  d.buffer = std::make_unique<char[]>(size);
  d.buffer_offset = 0;
  for (size_t got = 0; got < d.held;) {
    ssize_t n = read(d.pipe_read, d.buffer.get() + got, d.held - got);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return false;
    }
    got += static_cast<size_t>(n);
  }
  const size_t held = d.held;
  d.held = 0;
  release_pipe(d);
  d.held = held;
  d.splice = false;
  return true;
}

// Moves what can move now without blocking, within this turn's budget.
ProxyRelay::Pumped ProxyRelay::pump(Direction& d) {
  uint64_t budget = kTurnBudget;
  Pumped result = Pumped::kOk;
  for (bool progress = true; progress && !d.done && budget > 0 && result == Pumped::kOk;) {
    progress = false;
    if (d.first_pending()) {
      // What the client sent ahead (or the rewritten head) goes first.
      ssize_t n = send(d.to, d.first.data() + d.first_offset, d.first.size() - d.first_offset,
                       MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        d.first_offset += static_cast<size_t>(n);
        d.bytes += static_cast<uint64_t>(n);
        progress = true;
        if (!d.first_pending()) {
          d.first.clear();
          d.first.shrink_to_fit();
          d.first_offset = 0;
        }
      } else if (errno == EINTR) {
        progress = true;
      } else if (!would_block(errno)) {
        result = Pumped::kWriteError;
      }
      continue;
    }
    if (d.held > 0) {
      ssize_t n;
      if (d.pipe_read >= 0) {
        n = splice(d.pipe_read, nullptr, d.to, nullptr, d.held, kSpliceFlags);
      } else {
        n = send(d.to, d.buffer.get() + d.buffer_offset, d.held, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) d.buffer_offset += static_cast<size_t>(n);
      }
      if (n > 0) {
        d.held -= static_cast<size_t>(n);
        d.bytes += static_cast<uint64_t>(n);
        budget -= std::min(budget, static_cast<uint64_t>(n));
        d.blocked = false;
        progress = true;
      } else if (n < 0 && errno == EINVAL && d.pipe_read >= 0) {
        if (!fill_from_pipe_to_buffer(d)) {
          result = Pumped::kWriteError;
          continue;
        }
        progress = true;
      } else if (n < 0 && errno == EINTR) {
        progress = true;
      } else if (n < 0 && !would_block(errno)) {
        result = Pumped::kWriteError;
        continue;
      }
    }
    if (d.wants_read()) {
      if (d.held == 0 && d.pipe_read < 0 && d.splice) {
        Pipe pipe;
        if (pipe_pool().take(&pipe)) {
          d.pipe_read = pipe.read;
          d.pipe_write = pipe.write;
          d.capacity = pipe.capacity;
          d.blocked = false;
        }
        // Otherwise this turn copies through the buffer.
      }
      ssize_t n;
      if (d.pipe_read >= 0) {
        n = splice(d.from, nullptr, d.pipe_write, nullptr, d.capacity - d.held, kSpliceFlags);
        if (n < 0 && would_block(errno)) d.blocked = d.held > 0;
      } else {
        if (!d.buffer) d.buffer = std::make_unique<char[]>(kBufferSize);
        d.buffer_offset = 0;
        n = recv(d.from, d.buffer.get(), kBufferSize, MSG_DONTWAIT);
      }
      if (n > 0) {
        d.held += static_cast<size_t>(n);
        progress = true;
      } else if (n == 0) {
        d.eof = true;
        progress = true;
      } else if (errno == EINVAL && d.pipe_read >= 0) {
        // Not a pair splice supports: copy instead, from now on (once what
        // the pipe holds has left).
        d.splice = false;
        if (d.held == 0) {
          release_pipe(d);
          progress = true;
        }
      } else if (errno == EINTR) {
        progress = true;
      } else if (!would_block(errno)) {
        result = Pumped::kReadError;
        continue;
      }
    }
    if (d.eof && d.held == 0 && !d.first_pending()) {
      // Half-close: the other side learns that no more is coming, and may
      // still answer.
      shutdown(d.to, SHUT_WR);
      d.done = true;
    }
  }
  const int error = errno;
  if (d.held == 0) release_pipe(d);
  errno = error;
  if (result == Pumped::kOk && budget == 0) result = Pumped::kMore;
  return result;
}

gboolean ProxyRelay::on_ready(GSource* source, GSourceFunc, gpointer) {
  reinterpret_cast<RelaySource*>(source)->relay->dispatch();
  return G_SOURCE_CONTINUE;
}

void ProxyRelay::dispatch() {
  auto self = shared_from_this();  // DONE may drop the owner's reference
  g_source_set_ready_time(source_, -1);
  static const char* const kSides[2] = {"the client", "the origin"};
  for (int i = 0; i < 2; ++i) {
    if (tags_[i] == nullptr) continue;
    const GIOCondition events = g_source_query_unix_fd(source_, tags_[i]);
    if ((events & G_IO_NVAL) != 0) return end(std::string("the connection to ") + kSides[i] + " was closed");
    if ((events & G_IO_ERR) != 0) {
      int error = 0;
      socklen_t size = sizeof error;
      if (getsockopt(fds_[i], SOL_SOCKET, SO_ERROR, &error, &size) == 0 && error != 0)
        return end(std::string("reading from ") + kSides[i] + ": " + g_strerror(error));
    }
    if ((events & G_IO_HUP) != 0) {
      // Shut both ways (or reset): nothing more can be written to it, and
      // what is left to read is all there, so its descriptor needs no more
      // watching (poll would report the hang-up on every turn).
      g_source_remove_unix_fd(source_, tags_[i]);
      tags_[i] = nullptr;
    }
  }
  bool more = false;
  for (int i = 0; i < 2; ++i) {
    switch (pump(directions_[i])) {
      case Pumped::kOk:
        break;
      case Pumped::kMore:
        more = true;
        break;
      case Pumped::kReadError:
        return end(std::string("reading from ") + kSides[i] + ": " + g_strerror(errno));
      case Pumped::kWriteError:
        return end(std::string("writing to ") + kSides[1 - i] + ": " + g_strerror(errno));
      default:
        break;
    }
  }
  if (directions_[0].done && directions_[1].done) return end("");
  // Out of budget with more to move: another turn, after the other sources.
  if (more) g_source_set_ready_time(source_, 0);
  update_watches();
}

void ProxyRelay::update_watches() {
  // The client's descriptor: readable for the way up, writable for the way
  // down; the origin's the other way round.
  for (int i = 0; i < 2; ++i) {
    if (tags_[i] == nullptr) continue;
    const auto events = GIOCondition((directions_[i].wants_read() ? G_IO_IN : 0) |
                                     (directions_[1 - i].wants_write() ? G_IO_OUT : 0));
    if (events == watched_[i]) continue;
    g_source_modify_unix_fd(source_, tags_[i], events);
    watched_[i] = events;
  }
}

void ProxyRelay::end(const std::string& error) {
  if (stopped_) return;
  auto done = std::move(done_);
  stop();
  if (done) done(error);
}

}  // namespace airlock
