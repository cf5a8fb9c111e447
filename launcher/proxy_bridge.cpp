// The proxy bridge; see proxy_bridge.h.
#include "proxy_bridge.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <glib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "error.h"
#include "translate.h"

namespace airlock {

namespace {

// A unix connect that finds the proxy's backlog full is tried again this
// often, for this long; the agent's connection waits meanwhile.
constexpr int kConnectRetryMs = 10;
constexpr int kConnectTimeoutMs = 10000;
// Out of descriptors: accepting resumes when a connection closes, or after this.
constexpr int kAcceptPauseMs = 100;
constexpr int kBacklog = 4096;  // capped by net.core.somaxconn
constexpr int kAcceptBatch = 64;
constexpr unsigned kSpliceFlags = SPLICE_F_MOVE | SPLICE_F_NONBLOCK;

std::int64_t now_ms() { return g_get_monotonic_time() / 1000; }

// A listening socket on the loopback, or an invalid one with *WHY set.
UniqueFd listen_on_loopback(int family, int port, std::string* why) {
  UniqueFd fd(socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    *why = errno_message("socket");
    return fd;
  }
  int bound;
  if (family == AF_INET6) {
    int only = 1;
    setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &only, sizeof only);
    sockaddr_in6 address = {};
    address.sin6_family = AF_INET6;
    address.sin6_addr = in6addr_loopback;
    address.sin6_port = htons(static_cast<std::uint16_t>(port));
    bound = bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
  } else {
    sockaddr_in address = {};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    bound = bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
  }
  if (bound != 0 || listen(fd.get(), kBacklog) != 0) {
    *why = errno_message(bound != 0 ? "bind" : "listen");
    fd.reset();
  }
  return fd;
}

// One way of a connection: bytes read from FROM wait in a pipe until TO
// takes them.
struct Direction {
  int from = -1;
  int to = -1;
  UniqueFd pipe_read, pipe_write;
  std::size_t bytes = 0;     // in the pipe
  std::size_t capacity = 0;  // of the pipe
  bool eof = false;          // FROM has no more
  // The pipe refused more while holding bytes: it is out of slots (a splice
  // from a socket takes one per fragment), not FROM out of data. Reading
  // waits until some bytes have left.
  bool blocked = false;
  bool done = false;  // TO is shut for writing, or gone

  bool wants_read() const { return !done && !eof && bytes < capacity && (bytes == 0 || !blocked); }
  bool wants_write() const { return !done && bytes > 0; }

  // Moves what can move now without blocking; false on an error that ends
  // the connection.
  bool pump() {
    for (bool progress = true; progress && !done;) {
      progress = false;
      if (bytes > 0) {
        ssize_t n = splice(pipe_read.get(), nullptr, to, nullptr, bytes, kSpliceFlags);
        if (n > 0) {
          bytes -= static_cast<std::size_t>(n);
          blocked = false;
          progress = true;
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
          return false;
        }
      }
      if (!eof && bytes < capacity && (bytes == 0 || !blocked)) {
        ssize_t n = splice(from, nullptr, pipe_write.get(), nullptr, capacity - bytes, kSpliceFlags);
        if (n > 0) {
          bytes += static_cast<std::size_t>(n);
          progress = true;
        } else if (n == 0) {
          eof = true;
          progress = true;
        } else if (errno == EAGAIN) {
          blocked = bytes > 0;
        } else if (errno != EINTR) {
          return false;
        }
      }
      if (eof && bytes == 0) {
        // Half-close: the other end learns that this way is finished.
        shutdown(to, SHUT_WR);
        done = true;
      }
    }
    return true;
  }
};

}  // namespace

class ProxyBridge::Listener final : public EpollWatch {
 public:
  Listener(ProxyBridge* bridge, UniqueFd fd) : bridge_(bridge), fd_(std::move(fd)) {}
  void ready(std::uint32_t) override { bridge_->accept_from(this); }
  int fd() const { return fd_.get(); }

 private:
  ProxyBridge* bridge_;
  UniqueFd fd_;
};

class ProxyBridge::Connection {
 public:
  Connection(ProxyBridge* bridge, UniqueFd tcp) : bridge_(bridge), tcp_(this, std::move(tcp)), unix_(this) {
    deadline_ = now_ms() + kConnectTimeoutMs;
  }

  std::list<std::unique_ptr<Connection>>::iterator self;

  bool connecting() const { return state_ == State::kConnecting; }
  bool connect_due(std::int64_t now) const { return state_ == State::kConnecting && now >= next_retry_; }

  // Connects to the proxy's socket: relaying once it answers, again later
  // while its backlog is full, closed when nobody serves it.
  void try_connect() {
    if (!unix_.fd) {
      unix_.fd.reset(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
      if (!unix_.fd) return close();
    }
    sockaddr_un address = {};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, bridge_->unix_path_.c_str(), bridge_->unix_path_.size() + 1);
    int result;
    do {
      result = connect(unix_.fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
    } while (result != 0 && errno == EINTR);
    if (result == 0) return start_relaying();
    const std::int64_t now = now_ms();
    if (errno == EAGAIN && now < deadline_) {
      set_state(State::kConnecting);
      next_retry_ = now + kConnectRetryMs;
      return;
    }
    close();
  }

  void close() {
    if (state_ == State::kClosed) return;
    set_state(State::kClosed);
    // The descriptors leave epoll as they close; the object lives on until
    // the batch of events that may name it is over.
    tcp_.fd.reset();
    unix_.fd.reset();
    up_ = Direction();
    down_ = Direction();
    bridge_->closed(this);
  }

 private:
  enum class State { kNew, kConnecting, kRelaying, kClosed };

  struct Side final : EpollWatch {
    explicit Side(Connection* c, UniqueFd f = UniqueFd()) : connection(c), fd(std::move(f)) {}
    void ready(std::uint32_t events) override { connection->ready(this, events); }
    Connection* connection;
    UniqueFd fd;
    std::uint32_t watched = 0;
    bool in_epoll = false;
    bool hung_up = false;
  };

  void set_state(State state) {
    if (state_ == State::kConnecting && state != State::kConnecting) --bridge_->connecting_;
    if (state_ != State::kConnecting && state == State::kConnecting) ++bridge_->connecting_;
    state_ = state;
  }

  bool make_pipe(Direction* direction, int from, int to) {
    int fds[2];
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return false;
    direction->pipe_read.reset(fds[0]);
    direction->pipe_write.reset(fds[1]);
    // Larger than the default 64 KiB, as the portal's relay: fewer trips
    // through the loop for bulk transfers. Past the per-user limit on pipe
    // memory the kernel refuses, and the default stays.
    fcntl(fds[0], F_SETPIPE_SZ, 256 * 1024);
    int size = fcntl(fds[0], F_GETPIPE_SZ);
    if (size <= 0) return false;
    direction->capacity = static_cast<std::size_t>(size);
    direction->from = from;
    direction->to = to;
    return true;
  }

  void start_relaying() {
    set_state(State::kRelaying);
    int one = 1;
    // The bridge should add no latency of its own to small writes.
    setsockopt(tcp_.fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (!make_pipe(&up_, tcp_.fd.get(), unix_.fd.get()) || !make_pipe(&down_, unix_.fd.get(), tcp_.fd.get()))
      return close();
    update_watches();
  }

  void ready(Side* side, std::uint32_t events) {
    if (state_ != State::kRelaying) return;
    if (events & EPOLLERR) return close();
    if (events & EPOLLHUP) {
      // Both ways are shut on this socket: nothing more can be written to
      // it, and what is left to read needs no more waiting for.
      side->hung_up = true;
      epoll_ctl(bridge_->epoll_fd_, EPOLL_CTL_DEL, side->fd.get(), nullptr);
      side->in_epoll = false;
      (side == &tcp_ ? down_ : up_).done = true;
    }
    if (!up_.pump() || !down_.pump()) return close();
    if (up_.done && down_.done) return close();
    update_watches();
  }

  void watch(Side* side, std::uint32_t events) {
    if (side->hung_up || (side->in_epoll && side->watched == events)) return;
    epoll_event event = {};
    event.events = events;
    event.data.ptr = static_cast<EpollWatch*>(side);
    if (epoll_ctl(bridge_->epoll_fd_, side->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, side->fd.get(), &event) != 0)
      return close();
    side->in_epoll = true;
    side->watched = events;
  }

  void update_watches() {
    watch(&tcp_, (up_.wants_read() ? EPOLLIN : 0u) | (down_.wants_write() ? EPOLLOUT : 0u));
    if (state_ == State::kRelaying)
      watch(&unix_, (down_.wants_read() ? EPOLLIN : 0u) | (up_.wants_write() ? EPOLLOUT : 0u));
  }

  ProxyBridge* bridge_;
  Side tcp_, unix_;
  Direction up_, down_;  // TCP to unix, unix to TCP
  State state_ = State::kNew;
  std::int64_t deadline_ = 0;
  std::int64_t next_retry_ = 0;
};

ProxyBridge::ProxyBridge(int epoll_fd, int port, std::string unix_path)
    : epoll_fd_(epoll_fd), unix_path_(std::move(unix_path)) {
  if (unix_path_.empty() || unix_path_.size() >= sizeof(sockaddr_un{}.sun_path))
    throw Error(format(_("the proxy socket's path '%s' is empty or too long"), unix_path_.c_str()));
  if (port <= 0 || port > 65535) throw Error(format(_("the proxy port %d is not a TCP port"), port));
  std::string why;
  UniqueFd v4 = listen_on_loopback(AF_INET, port, &why);
  // TRANSLATORS: %s is the error, such as "bind: Address already in use".
  if (!v4) throw Error(format(_("cannot listen on 127.0.0.1:%d for the proxy: %s"), port, why.c_str()));
  description_ = "127.0.0.1:" + std::to_string(port);
  listeners_.push_back(std::make_unique<Listener>(this, std::move(v4)));
  // Without IPv6 on the loopback (a kernel without it, or disabled), IPv4 only.
  if (UniqueFd v6 = listen_on_loopback(AF_INET6, port, &why)) {
    description_ += " and [::1]:" + std::to_string(port);
    listeners_.push_back(std::make_unique<Listener>(this, std::move(v6)));
  }
  for (const auto& listener : listeners_) {
    epoll_event event = {};
    event.events = EPOLLIN;
    event.data.ptr = static_cast<EpollWatch*>(listener.get());
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listener->fd(), &event) != 0)
      throw Error(errno_message(_("cannot watch the proxy's listening socket")));
  }
}

ProxyBridge::~ProxyBridge() = default;

void ProxyBridge::accept_from(Listener* listener) {
  for (int i = 0; i < kAcceptBatch; ++i) {
    UniqueFd tcp(accept4(listener->fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!tcp) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) pause_accepting();
      return;
    }
    connections_.push_back(std::make_unique<Connection>(this, std::move(tcp)));
    connections_.back()->self = std::prev(connections_.end());
    connections_.back()->try_connect();
  }
}

// Out of descriptors: a listening socket stays readable, so it leaves epoll
// until there may be some again.
void ProxyBridge::pause_accepting() {
  if (resume_accept_at_ < 0)
    for (const auto& listener : listeners_) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listener->fd(), nullptr);
  resume_accept_at_ = now_ms() + kAcceptPauseMs;
}

void ProxyBridge::closed(Connection* connection) {
  closed_.push_back(std::move(*connection->self));
  connections_.erase(connection->self);
  if (resume_accept_at_ >= 0) resume_accept_at_ = now_ms();
}

int ProxyBridge::timeout_ms() const {
  int timeout = -1;
  if (connecting_ > 0) timeout = kConnectRetryMs;
  if (resume_accept_at_ >= 0) {
    const std::int64_t left = std::max<std::int64_t>(0, resume_accept_at_ - now_ms());
    timeout = timeout < 0 ? static_cast<int>(left) : std::min(timeout, static_cast<int>(left));
  }
  return timeout;
}

void ProxyBridge::run_timers() {
  const std::int64_t now = now_ms();
  if (resume_accept_at_ >= 0 && now >= resume_accept_at_) {
    resume_accept_at_ = -1;
    for (const auto& listener : listeners_) {
      epoll_event event = {};
      event.events = EPOLLIN;
      event.data.ptr = static_cast<EpollWatch*>(listener.get());
      epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listener->fd(), &event);
    }
  }
  if (connecting_ == 0) return;
  for (auto it = connections_.begin(); it != connections_.end();) {
    Connection* connection = (it++)->get();  // try_connect may close it, and so unlink it
    if (connection->connect_due(now)) connection->try_connect();
  }
}

void ProxyBridge::collect() { closed_.clear(); }

}  // namespace airlock
