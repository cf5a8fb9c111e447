#include "sandbox_session.h"

#include <glib-unix.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "control_protocol.h"
#include "error.h"

namespace airlock {

namespace {

// The supervisor answers within microseconds; one that does not within
// this is stuck, and the grant is refused.
constexpr int kSupervisorTimeoutMs = 5000;

// Only the sandbox can reach the socket; still, only EXTERNAL with our own
// uid authenticates (never a cookie, never anonymous).
gboolean allow_mechanism(GDBusAuthObserver*, const char* mechanism, gpointer) {
  return g_strcmp0(mechanism, "EXTERNAL") == 0;
}

gboolean authorize_peer(GDBusAuthObserver*, GIOStream*, GCredentials* credentials, gpointer) {
  if (!credentials) return FALSE;
  g_autoptr(GError) error = nullptr;
  uid_t uid = g_credentials_get_unix_user(credentials, &error);
  return uid == getuid();
}

}  // namespace

SandboxSession::SandboxSession(SessionInfo info, UniqueFd control, Policy policy)
    : info_(std::move(info)),
      control_(std::move(control)),
      policy_(std::move(policy)),
      // A portal that restarts must not take its predecessor's answers
      // for its own.
      seq_(g_random_int()),
      tokens_(kRequestBurst),
      refilled_(g_get_monotonic_time()) {
  g_autofree char* guid = g_dbus_generate_guid();
  guid_ = guid;
}

SandboxSession::~SandboxSession() {
  if (hup_watch_) g_source_remove(hup_watch_);
  if (service_) {
    g_object_set_data(G_OBJECT(service_), "airlock-session", nullptr);
    g_socket_service_stop(service_);
    g_socket_listener_close(G_SOCKET_LISTENER(service_));
    g_signal_handlers_disconnect_by_data(service_, this);
    g_object_unref(service_);
  }
  for (GDBusConnection* connection : connections_) {
    g_signal_handlers_disconnect_by_data(connection, this);
    g_dbus_connection_close(connection, nullptr, nullptr, nullptr);
    g_object_unref(connection);
  }
  if (observer_) g_object_unref(observer_);
}

bool SandboxSession::serve(int listener, std::function<void(GDBusConnection*)> on_connection, GError** error) {
  on_connection_ = std::move(on_connection);
  GSocket* socket = g_socket_new_from_fd(listener, error);
  if (!socket) {
    close(listener);
    return false;
  }
  service_ = g_socket_service_new();
  g_object_set_data(G_OBJECT(service_), "airlock-session", this);
  bool added = g_socket_listener_add_socket(G_SOCKET_LISTENER(service_), socket, nullptr, error);
  g_object_unref(socket);
  if (!added) return false;
  observer_ = g_dbus_auth_observer_new();
  g_signal_connect(observer_, "allow-mechanism", G_CALLBACK(allow_mechanism), nullptr);
  g_signal_connect(observer_, "authorize-authenticated-peer", G_CALLBACK(authorize_peer), nullptr);
  g_signal_connect(service_, "incoming", G_CALLBACK(on_incoming), this);
  g_socket_service_start(service_);
  return true;
}

gboolean SandboxSession::on_incoming(GSocketService*, GSocketConnection* connection, GObject*, gpointer data) {
  auto* self = static_cast<SandboxSession*>(data);
  // The callback holds a reference to the service; it only reaches a
  // session that still serves it (see the destructor).
  g_object_ref(self->service_);
  g_dbus_connection_new(G_IO_STREAM(connection), self->guid_.c_str(),
                        static_cast<GDBusConnectionFlags>(G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_SERVER |
                                                          G_DBUS_CONNECTION_FLAGS_DELAY_MESSAGE_PROCESSING),
                        self->observer_, nullptr, on_connection_ready, self->service_);
  return TRUE;
}

void SandboxSession::on_connection_ready(GObject*, GAsyncResult* result, gpointer data) {
  g_autoptr(GSocketService) service = static_cast<GSocketService*>(data);
  g_autoptr(GError) error = nullptr;
  GDBusConnection* connection = g_dbus_connection_new_finish(result, &error);
  if (!connection) {
    g_debug("a sandbox connection failed to authenticate: %s", error->message);
    return;
  }
  auto* self = static_cast<SandboxSession*>(g_object_get_data(G_OBJECT(service), "airlock-session"));
  if (!self) {  // the session ended meanwhile
    g_dbus_connection_close(connection, nullptr, nullptr, nullptr);
    g_object_unref(connection);
    return;
  }
  self->connections_.push_back(connection);
  g_signal_connect(connection, "closed",
                   G_CALLBACK(+[](GDBusConnection* closed, gboolean, GError*, gpointer user) {
                     auto* session = static_cast<SandboxSession*>(user);
                     auto& list = session->connections_;
                     auto it = std::find(list.begin(), list.end(), closed);
                     if (it == list.end()) return;
                     list.erase(it);
                     g_signal_handlers_disconnect_by_data(closed, session);
                     g_object_unref(closed);
                   }),
                   self);
  self->on_connection_(connection);
  g_dbus_connection_start_message_processing(connection);
}

void SandboxSession::watch_end(std::function<void()> on_end) {
  on_end_ = std::move(on_end);
  hup_watch_ = g_unix_fd_add(control_.get(), static_cast<GIOCondition>(G_IO_HUP | G_IO_ERR), on_control_hup, this);
}

gboolean SandboxSession::on_control_hup(int, GIOCondition, gpointer data) {
  auto* self = static_cast<SandboxSession*>(data);
  self->hup_watch_ = 0;
  // May destroy this session.
  std::function<void()> on_end = std::move(self->on_end_);
  if (on_end) on_end();
  return G_SOURCE_REMOVE;
}

bool SandboxSession::admit_request() {
  int64_t now = g_get_monotonic_time();
  tokens_ = std::min(kRequestBurst, tokens_ + static_cast<double>(now - refilled_) * kRequestsPerSecond / 1e6);
  refilled_ = now;
  if (tokens_ < 1) {
    flagged_ = true;
    return false;
  }
  tokens_ -= 1;
  return true;
}

namespace {

int call_supervisor(int sock, uint32_t seq, ControlOp op, uint32_t flags, const std::string& path, int fd,
                    std::string* message) {
  if (!send_control_request(sock, op, flags, path, fd, seq)) {
    int saved = errno ? errno : EPIPE;
    *message = "the session's supervisor cannot be reached: the session has ended";
    return saved;
  }
  int64_t deadline = g_get_monotonic_time() + kSupervisorTimeoutMs * 1000;
  for (;;) {
    int left = static_cast<int>((deadline - g_get_monotonic_time()) / 1000);
    struct pollfd ready = {sock, POLLIN, 0};
    int n = left > 0 ? poll(&ready, 1, left) : 0;
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *message = "the session's supervisor did not answer";
      return ETIMEDOUT;
    }
    auto reply = receive_control_reply(sock);
    if (!reply) {
      *message = "the session has ended";
      return EPIPE;
    }
    if (reply->seq != seq) continue;  // an answer to a portal that ran before this one
    *message = reply->message;
    return reply->error;
  }
}

}  // namespace

int SandboxSession::mount(const std::string& canonical, int fd, bool read_only, std::string* message) {
  return call_supervisor(control_.get(), ++seq_, ControlOp::kGrant, read_only ? static_cast<uint32_t>(kGrantReadOnly) : 0u, canonical, fd,
                         message);
}

int SandboxSession::unmount(const std::string& canonical, std::string* message) {
  return call_supervisor(control_.get(), ++seq_, ControlOp::kRevoke, 0, canonical, -1, message);
}

int SandboxSession::trust(int memfd, std::string* message) {
  return call_supervisor(control_.get(), ++seq_, ControlOp::kTrust, 0, "", memfd, message);
}

int SandboxSession::unmount_all(std::string* message) {
  return call_supervisor(control_.get(), ++seq_, ControlOp::kRevokeAll, 0, "", -1, message);
}

}  // namespace airlock
