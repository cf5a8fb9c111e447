// The proxy bridge; see proxy_bridge.h.
#include "proxy_bridge.h"

#include <arpa/inet.h>
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

// A connection that finds the proxy's backlog full is tried again this
// often, for this long; the agent's connection waits meanwhile.
constexpr int kRetryMs = 10;
constexpr int kGiveUpMs = 10000;
// Out of descriptors: accepting resumes when a waiting connection goes, or
// after this.
constexpr int kAcceptPauseMs = 100;
constexpr int kBacklog = 4096;  // capped by net.core.somaxconn
constexpr int kAcceptBatch = 64;

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

struct ProxyBridge::Waiting {
  UniqueFd tcp;
  std::int64_t give_up_at;
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

bool ProxyBridge::hand_over(const UniqueFd& tcp) {
  UniqueFd proxy(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!proxy) return true;
  sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, unix_path_.c_str(), unix_path_.size() + 1);
  int result;
  do {
    result = connect(proxy.get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
  } while (result != 0 && errno == EINTR);
  if (result != 0) return errno != EAGAIN;  // EAGAIN: the backlog is full
  // A unix connect completes at once and its first write finds an empty
  // buffer; the proxy accepts it later and finds the byte and the socket.
  char zero = 0;
  iovec data = {&zero, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr message = {};
  message.msg_iov = &data;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  cmsghdr* rights = CMSG_FIRSTHDR(&message);
  rights->cmsg_level = SOL_SOCKET;
  rights->cmsg_type = SCM_RIGHTS;
  rights->cmsg_len = CMSG_LEN(sizeof(int));
  const int fd = tcp.get();
  std::memcpy(CMSG_DATA(rights), &fd, sizeof fd);
  while (sendmsg(proxy.get(), &message, MSG_NOSIGNAL) < 0 && errno == EINTR) {
  }
  return true;  // sent or not, our copies close: the agent sees a reset
}

void ProxyBridge::accept_from(Listener* listener) {
  for (int i = 0; i < kAcceptBatch; ++i) {
    UniqueFd tcp(accept4(listener->fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!tcp) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) pause_accepting();
      return;
    }
    // Small writes should not wait; the option stays with the socket the
    // proxy takes over.
    int one = 1;
    setsockopt(tcp.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // Behind others waiting, a connection waits too, so that they are
    // handed over in the order they came.
    if (!waiting_.empty() || !hand_over(tcp)) waiting_.push_back({std::move(tcp), now_ms() + kGiveUpMs});
  }
}

// Out of descriptors: a listening socket stays readable, so it leaves epoll
// until there may be some again.
void ProxyBridge::pause_accepting() {
  if (resume_accept_at_ < 0)
    for (const auto& listener : listeners_) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listener->fd(), nullptr);
  resume_accept_at_ = now_ms() + kAcceptPauseMs;
}

int ProxyBridge::timeout_ms() const {
  int timeout = waiting_.empty() ? -1 : kRetryMs;
  if (resume_accept_at_ >= 0) {
    const std::int64_t left = std::max<std::int64_t>(0, resume_accept_at_ - now_ms());
    timeout = timeout < 0 ? static_cast<int>(left) : std::min(timeout, static_cast<int>(left));
  }
  return timeout;
}

void ProxyBridge::run_timers() {
  const std::int64_t now = now_ms();
  while (!waiting_.empty() && (hand_over(waiting_.front().tcp) || now >= waiting_.front().give_up_at)) {
    waiting_.pop_front();
    if (resume_accept_at_ >= 0) resume_accept_at_ = now;  // a descriptor or two are free again
  }
  if (resume_accept_at_ >= 0 && now >= resume_accept_at_) {
    resume_accept_at_ = -1;
    for (const auto& listener : listeners_) {
      epoll_event event = {};
      event.events = EPOLLIN;
      event.data.ptr = static_cast<EpollWatch*>(listener.get());
      epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listener->fd(), &event);
    }
  }
}

}  // namespace airlock
