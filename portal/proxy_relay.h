// The network proxy's byte pump: copies both ways between the client and the
// origin, counts bytes, and passes a half-close on (one side's end of stream
// shuts down writing towards the other).
//
// The bytes go socket -> pipe -> socket with splice(2), so they are never
// copied through this process, driven by the thread-default GMainContext
// through one GSource per relay watching the two sockets' descriptors (only
// for what can make progress: readable while a direction's pipe has room,
// writable while it holds bytes). Pipes come from a small per-thread pool and
// go back to it whenever they are empty, so an idle tunnel holds none. Where
// splice cannot be used (no pipe to be had, or a pair of descriptors it does
// not support) a direction copies through a buffer instead.
#pragma once

#include <gio/gio.h>

#include <cstddef>
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
  // by the caller, who closes them (after stop(), or once DONE has run).
  static std::shared_ptr<ProxyRelay> start(GSocketConnection* client, GSocketConnection* upstream,
                                           std::string first_up, Done done);
  ~ProxyRelay();
  ProxyRelay(const ProxyRelay&) = delete;
  ProxyRelay& operator=(const ProxyRelay&) = delete;

  // No more reads, writes or DONE; the descriptors are no longer watched.
  void stop();
  // Bytes written to the origin (FIRST_UP included) and to the client.
  uint64_t bytes_up() const { return directions_[0].bytes; }
  uint64_t bytes_down() const { return directions_[1].bytes; }

  // For tests: directions started after this copy through a buffer, as
  // where splice is refused.
  static void set_splice_enabled_for_testing(bool enabled);

 private:
  // One way: bytes read from FROM wait in a pipe (or the buffer) until TO
  // takes them.
  struct Direction {
    int from = -1;
    int to = -1;
    int pipe_read = -1, pipe_write = -1;  // borrowed from the pool while holding bytes
    size_t capacity = 0;                  // of the pipe, or the buffer
    size_t held = 0;                      // bytes in the pipe, or the buffer
    std::unique_ptr<char[]> buffer;       // the copying fallback
    size_t buffer_offset = 0;             // of the first byte held
    std::string first;                    // to write before anything read
    size_t first_offset = 0;
    uint64_t bytes = 0;
    bool splice = true;    // false once splice was refused for this pair
    bool eof = false;      // FROM has no more
    bool blocked = false;  // the pipe refused more while holding bytes
    bool done = false;     // TO is shut for writing

    bool first_pending() const { return first_offset < first.size(); }
    bool wants_read() const;
    bool wants_write() const { return !done && (held > 0 || first_pending()); }
  };
  enum class Pumped { kOk, kMore, kReadError, kWriteError };  // kMore: out of this turn's budget

  ProxyRelay() = default;
  Pumped pump(Direction& d);
  bool fill_from_pipe_to_buffer(Direction& d);
  void release_pipe(Direction& d);
  void dispatch();
  void update_watches();
  void end(const std::string& error);
  static gboolean on_ready(GSource* source, GSourceFunc callback, gpointer data);

  GSocket* sockets_[2] = {nullptr, nullptr};  // client, origin: kept alive while watched
  int fds_[2] = {-1, -1};
  gpointer tags_[2] = {nullptr, nullptr};  // nullptr once the descriptor hung up
  GIOCondition watched_[2] = {GIOCondition(0), GIOCondition(0)};
  GSource* source_ = nullptr;
  Direction directions_[2];  // 0: client to origin, 1: origin to client
  Done done_;
  bool stopped_ = false;
};

}  // namespace airlock
