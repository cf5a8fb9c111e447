// The proxy bridge of airlock-init: the sandbox has its own network
// namespace with only loopback, and the portal's network proxy listens on a
// unix socket bound into it. The bridge listens on 127.0.0.1:PORT (and
// [::1]:PORT when the loopback has IPv6) and hands each accepted TCP
// connection to the proxy: it connects to the unix socket, sends one zero
// byte with the TCP socket attached (SCM_RIGHTS), and closes its copies. The
// proxy then talks to the agent's TCP connection itself, so no byte of the
// traffic passes through the bridge (network_proxy.h, "handed-over
// connections").
//
// It is driven by its owner's epoll loop: no thread, nothing that blocks. A
// connection the proxy's full backlog cannot take yet waits and is tried
// again; one that nobody serves is closed at once.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "unique_fd.h"

namespace airlock {

// What an epoll event's data.ptr points to.
class EpollWatch {
 public:
  virtual void ready(std::uint32_t events) = 0;

 protected:
  ~EpollWatch() = default;
};

class ProxyBridge {
 public:
  // Listens on the loopback; throws Error when 127.0.0.1:PORT cannot be
  // listened on. Call before Landlock is applied.
  ProxyBridge(int epoll_fd, int port, std::string unix_path);
  ~ProxyBridge();
  ProxyBridge(const ProxyBridge&) = delete;
  ProxyBridge& operator=(const ProxyBridge&) = delete;

  // "127.0.0.1:3128 and [::1]:3128", for --verbose.
  const std::string& description() const { return description_; }

  // The epoll_wait timeout the bridge needs (-1: none), and the work due
  // when it has passed (connections waiting for the proxy's backlog, a
  // paused accept); call after every epoll_wait, events or not.
  int timeout_ms() const;
  void run_timers();

 private:
  struct Waiting;
  class Listener;

  void accept_from(Listener* listener);
  // True when TCP is handed over or closed for good; false when the
  // proxy's backlog is full and it should be tried again.
  bool hand_over(const UniqueFd& tcp);
  void pause_accepting();

  int epoll_fd_;
  std::string unix_path_;
  std::string description_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::list<Waiting> waiting_;          // for the proxy's backlog, oldest first
  std::int64_t resume_accept_at_ = -1;  // monotonic ms; -1 when accepting
};

}  // namespace airlock
