// The network proxy's byte pump: copies both ways between the client and the
// origin with GIO's asynchronous streams, counts bytes, and passes a half-close
// on (one side's end of stream shuts down writing towards the other).
#pragma once

#include <gio/gio.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace airlock {

class ProxyRelay : public std::enable_shared_from_this<ProxyRelay> {
 public:
  // ERROR is empty when both sides ended their streams; DONE runs once, from
  // the main loop, and not after stop().
  using Done = std::function<void(const std::string& error)>;

  // Starts relaying: FIRST_UP (what the client sent ahead, or the request
  // head for the origin) goes to UPSTREAM first. Both connections stay owned
  // by the caller, who closes them.
  static std::shared_ptr<ProxyRelay> start(GIOStream* client, GIOStream* upstream, std::string first_up, Done done);
  ~ProxyRelay();
  ProxyRelay(const ProxyRelay&) = delete;
  ProxyRelay& operator=(const ProxyRelay&) = delete;

  // No more reads, writes or DONE; pending operations end cancelled.
  void stop();
  uint64_t bytes_up() const { return directions_[0].bytes; }
  uint64_t bytes_down() const { return directions_[1].bytes; }

  struct Direction {
    GInputStream* from = nullptr;
    GOutputStream* to = nullptr;
    GSocket* to_socket = nullptr;  // for the half-close
    std::unique_ptr<char[]> buffer;
    uint64_t bytes = 0;
    bool ended = false;
  };

 private:
  ProxyRelay() = default;
  void read(int direction);
  void write(int direction, const char* data, size_t size);
  void end(const std::string& error);
  static void on_read(GObject* source, GAsyncResult* result, gpointer data);
  static void on_written(GObject* source, GAsyncResult* result, gpointer data);

  GIOStream* streams_[2] = {nullptr, nullptr};  // kept open while operations are pending
  Direction directions_[2];                     // 0: client to origin, 1: origin to client
  GCancellable* cancellable_ = nullptr;
  std::string first_up_;
  Done done_;
  bool stopped_ = false;
};

}  // namespace airlock
