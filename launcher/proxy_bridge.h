// The proxy bridge of airlock-init: the sandbox has its own network
// namespace with only loopback, and the portal's network proxy listens on a
// unix socket bound into it. The bridge listens on 127.0.0.1:PORT (and
// [::1]:PORT when the loopback has IPv6) and relays each TCP connection to a
// fresh connection on that unix socket, both ways, half-close included.
//
// It is driven by its owner's epoll loop: no thread, nothing that blocks.
// Bytes move with splice(2) through one pipe per direction, never through
// user space. A connection whose unix connect fails (nobody serves the
// proxy) is closed at once.
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
  // when it has passed (retried connects, a paused accept); call after
  // every epoll_wait, events or not.
  int timeout_ms() const;
  void run_timers();
  // Frees the connections closed while handling the last batch of events,
  // whose pointers that batch may still hold. Call after each batch.
  void collect();

 private:
  class Connection;
  class Listener;

  void accept_from(Listener* listener);
  void pause_accepting();
  void closed(Connection* connection);

  int epoll_fd_;
  std::string unix_path_;
  std::string description_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::list<std::unique_ptr<Connection>> connections_;
  std::vector<std::unique_ptr<Connection>> closed_;
  int connecting_ = 0;                  // connections waiting for the proxy's backlog
  std::int64_t resume_accept_at_ = -1;  // monotonic ms; -1 when accepting
};

}  // namespace airlock
