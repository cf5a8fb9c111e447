#include "request_portal.h"

#include <gio/gunixfdlist.h>

#include <glib-unix.h>
#include <signal.h>

#include <map>
#include <optional>
#include <string>

#include "airlock-dbus.h"
#include "dbus_names.h"
#include "error.h"
#include "translate.h"

namespace airlock {

namespace {

constexpr GDBusProxyFlags kPlainProxy = static_cast<GDBusProxyFlags>(
    G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES | G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS |
    G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START);

constexpr int kCloseTimeoutMs = 5000;
// As long as D-Bus's default call timeout.
constexpr unsigned kConnectTimeoutSeconds = 25;

// One request in flight. The Response signal may arrive before the reply
// that names the request, so every Response is kept by path until the
// handle is known.
class RequestWait {
 public:
  RequestWait(GDBusConnection* connection, AccessKind kind) : connection_(connection), kind_(kind) {
    subscription_ = g_dbus_connection_signal_subscribe(connection_, nullptr, "org.airlock.portal.Request", "Response",
                                                       nullptr, nullptr, G_DBUS_SIGNAL_FLAGS_NONE, on_response,
                                                       this, nullptr);
    closed_handler_ = g_signal_connect(connection_, "closed", G_CALLBACK(on_closed), this);
    sources_[0] = g_unix_signal_add(SIGINT, on_signal<SIGINT>, this);
    sources_[1] = g_unix_signal_add(SIGTERM, on_signal<SIGTERM>, this);
    sources_[2] = g_unix_signal_add(SIGHUP, on_signal<SIGHUP>, this);
  }

  RequestWait(const RequestWait&) = delete;
  RequestWait& operator=(const RequestWait&) = delete;

  ~RequestWait() {
    // The reply callback points at this object: let it run before leaving.
    if (!call_done_) {
      g_cancellable_cancel(cancellable_);
      while (!call_done_) g_main_context_iteration(nullptr, TRUE);
    }
    for (guint source : sources_) g_source_remove(source);
    if (timeout_source_) g_source_remove(timeout_source_);
    g_signal_handler_disconnect(connection_, closed_handler_);
    g_dbus_connection_signal_unsubscribe(connection_, subscription_);
    g_clear_error(&call_error_);
    g_object_unref(cancellable_);
  }

  // PATH is HOST:PORT for a host.
  void start(const std::string& path, GVariant* options, unsigned timeout_seconds) {
    if (timeout_seconds) {
      timeout_seconds_ = timeout_seconds;
      timeout_source_ = g_timeout_add_seconds(timeout_seconds, on_timeout, this);
    }
    call_done_ = false;
    bool named = kind_ == AccessKind::kHost || kind_ == AccessKind::kSecret;  // a string, not a path
    GVariant* arguments = named ? g_variant_new("(s@a{sv})", path.c_str(), options)
                                : g_variant_new("(@ay@a{sv})", g_variant_new_bytestring(path.c_str()), options);
    const char* interface = kind_ == AccessKind::kHost     ? "org.airlock.portal.Network"
                            : kind_ == AccessKind::kSecret ? "org.airlock.portal.Secret"
                                                           : "org.airlock.portal.FileAccess";
    const char* method = kind_ == AccessKind::kHost     ? "RequestHost"
                         : kind_ == AccessKind::kSecret ? "RequestSecret"
                         : kind_ == AccessKind::kFolder ? "RequestFolder"
                                                        : "RequestFile";
    g_dbus_connection_call(connection_, nullptr, kPortalObjectPath, interface, method, arguments, G_VARIANT_TYPE("(o)"),
                           G_DBUS_CALL_FLAGS_NONE, -1, cancellable_, on_reply, this);
  }

  PortalAnswer wait() {
    for (;;) {
      if (auto answer = take_answer()) return std::move(*answer);
      if (closed_ || g_dbus_connection_is_closed(connection_)) {
        // A Response sent just before the portal closed may still be queued.
        while (g_main_context_iteration(nullptr, FALSE)) {
        }
        if (auto answer = take_answer()) return std::move(*answer);
        throw Error(_("the portal went away while the request waited; nothing was granted"), kRequestFailed);
      }
      if (call_error_) throw Error(dbus_error_message(connection_, call_error_), kRequestFailed);
      if (!withdraw_reason_.empty()) {
        if (call_done_) {
          withdraw();
          continue;  // answered in the meantime
        }
        if (interrupts_ > 1)
          // TRANSLATORS: %s is why the wait ended: "interrupted",
          // "terminated", "hung up" or "no answer within 5 seconds".
          throw Error(format(_("%s before the portal named the request; it may still be waiting for an answer"),
                             withdraw_reason_.c_str()),
                      kRequestFailed);
      }
      g_main_context_iteration(nullptr, TRUE);
    }
  }

 private:
  std::optional<PortalAnswer> take_answer() {
    if (handle_.empty()) return std::nullopt;
    auto found = answers_.find(handle_);
    if (found == answers_.end()) return std::nullopt;
    std::optional<PortalAnswer> answer(std::move(found->second));
    answers_.erase(found);
    return answer;
  }

  // Close the request; returns only when its Response arrived meanwhile.
  void withdraw() {
    g_autoptr(GError) error = nullptr;
    g_autoptr(AirlockPortalRequest) request =
        airlock_portal_request_proxy_new_sync(connection_, kPlainProxy, nullptr, handle_.c_str(), nullptr, &error);
    if (request) {
      g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(request), kCloseTimeoutMs);
      airlock_portal_request_call_close_sync(request, nullptr, &error);
    }
    if (!error)
      // TRANSLATORS: %s is why the wait ended: "interrupted",
      // "terminated", "hung up" or "no answer within 5 seconds".
      throw Error(format(_("%s; the request was withdrawn and nothing was granted"), withdraw_reason_.c_str()),
                  kRequestFailed);
    // Close fails on a request that was answered just before it.
    while (g_main_context_iteration(nullptr, FALSE)) {
    }
    if (answers_.count(handle_)) return;
    // TRANSLATORS: the first %s is why the wait ended ("interrupted",
    // "no answer within 5 seconds"), the second the portal's error.
    throw Error(format(_("%s; withdrawing the request failed (%s), so it may still be answered: "
                         "'airlock-request grants' lists what this session holds"),
                       withdraw_reason_.c_str(), dbus_error_message(connection_, error).c_str()),
                kRequestFailed);
  }

  void interrupt(const char* what) {
    ++interrupts_;
    if (withdraw_reason_.empty()) withdraw_reason_ = what;
  }

  static void on_response(GDBusConnection*, const char*, const char* object_path, const char*, const char*,
                          GVariant* parameters, gpointer user_data) {
    auto* self = static_cast<RequestWait*>(user_data);
    if (!g_variant_is_of_type(parameters, G_VARIANT_TYPE("(ua{sv})"))) return;
    PortalAnswer answer;
    g_variant_get(parameters, "(u@a{sv})", &answer.response, &answer.results);
    self->answers_.emplace(object_path, std::move(answer));
  }

  static void on_reply(GObject* source, GAsyncResult* result, gpointer user_data) {
    auto* self = static_cast<RequestWait*>(user_data);
    g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &self->call_error_);
    if (reply) {
      const char* handle = nullptr;
      g_variant_get(reply, "(&o)", &handle);
      self->handle_ = handle;
    }
    self->call_done_ = true;
  }

  static void on_closed(GDBusConnection*, gboolean, GError*, gpointer user_data) {
    static_cast<RequestWait*>(user_data)->closed_ = true;
  }

  template <int kSignal>
  static gboolean on_signal(gpointer user_data) {
    // TRANSLATORS: why the wait for the portal's answer ended: a signal.
    static_cast<RequestWait*>(user_data)->interrupt(kSignal == SIGINT    ? _("interrupted")
                                                    : kSignal == SIGTERM ? _("terminated")
                                                                         : _("hung up"));
    return G_SOURCE_CONTINUE;
  }

  static gboolean on_timeout(gpointer user_data) {
    auto* self = static_cast<RequestWait*>(user_data);
    self->timeout_source_ = 0;
    if (self->withdraw_reason_.empty())
      self->withdraw_reason_ =
          format(n_("no answer within %u second", "no answer within %u seconds", self->timeout_seconds_),
                 self->timeout_seconds_);
    return G_SOURCE_REMOVE;
  }

  GDBusConnection* connection_;
  AccessKind kind_;
  GCancellable* cancellable_ = g_cancellable_new();
  guint subscription_ = 0;
  gulong closed_handler_ = 0;
  guint sources_[3] = {};
  guint timeout_source_ = 0;
  unsigned timeout_seconds_ = 0;
  bool call_done_ = true;
  bool closed_ = false;
  GError* call_error_ = nullptr;
  std::string handle_;
  std::map<std::string, PortalAnswer> answers_;
  std::string withdraw_reason_;
  int interrupts_ = 0;
};

}  // namespace

GDBusConnection* connect_to_portal() {
  const char* address = g_getenv(kPortalAddressVariable);
  if (!address || !*address)
    // TRANSLATORS: %s is an environment variable's name.
    throw Error(format(_("not inside an airlock sandbox: $%s is not set (airlock-request talks to the portal of the "
                         "session 'airlock run' started)"),
                       kPortalAddressVariable),
                kRequestFailed);
  // Peer-to-peer: the portal serves this one socket for this one session.
  // Asynchronous, so that a socket that accepts and never answers cannot
  // hold the agent forever.
  struct Connecting {
    GDBusConnection* connection = nullptr;
    GError* error = nullptr;
    bool done = false;
  } connecting;
  g_autoptr(GCancellable) cancellable = g_cancellable_new();
  g_dbus_connection_new_for_address(
      address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, nullptr, cancellable,
      [](GObject*, GAsyncResult* result, gpointer user_data) {
        auto* state = static_cast<Connecting*>(user_data);
        state->connection = g_dbus_connection_new_for_address_finish(result, &state->error);
        state->done = true;
      },
      &connecting);
  guint timer = g_timeout_add_seconds(
      kConnectTimeoutSeconds,
      [](gpointer user_data) {
        g_cancellable_cancel(static_cast<GCancellable*>(user_data));
        return G_SOURCE_REMOVE;
      },
      cancellable);
  while (!connecting.done) g_main_context_iteration(nullptr, TRUE);
  g_autoptr(GError) error = connecting.error;
  if (!g_cancellable_is_cancelled(cancellable)) g_source_remove(timer);
  if (!connecting.connection) {
    std::string why = g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                          ? format(n_("it did not answer within %u second", "it did not answer within %u seconds",
                                      kConnectTimeoutSeconds),
                                   kConnectTimeoutSeconds)
                          : error->message;
    // TRANSLATORS: the first %s is the portal's D-Bus address, the second
    // why it is not reachable.
    throw Error(format(_("the portal is not reachable for this session at %s (%s): it may have stopped; on the host, "
                         "'airlock ps' lists the running sessions"),
                       address, why.c_str()),
                kRequestFailed);
  }
  g_dbus_connection_set_exit_on_close(connecting.connection, FALSE);
  return connecting.connection;
}

std::string dbus_error_message(GDBusConnection* connection, GError* error) {
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CLOSED) || (connection && g_dbus_connection_is_closed(connection)))
    return _("the portal closed the connection; nothing was granted");
  g_dbus_error_strip_remote_error(error);
  return error->message;
}

PortalAnswer request_access(GDBusConnection* connection, AccessKind kind, const std::string& path,
                            GVariant* options, unsigned timeout_seconds) {
  RequestWait wait(connection, kind);
  wait.start(path, options, timeout_seconds);
  return wait.wait();
}

int retrieve_secret(GDBusConnection* connection, const std::string& grant) {
  g_autoptr(GError) error = nullptr;
  g_autoptr(GUnixFDList) fds = nullptr;
  g_autoptr(GVariant) reply = g_dbus_connection_call_with_unix_fd_list_sync(
      connection, nullptr, kPortalObjectPath, "org.airlock.portal.Secret", "RetrieveSecret",
      g_variant_new("(s)", grant.c_str()), G_VARIANT_TYPE("(h)"), G_DBUS_CALL_FLAGS_NONE, -1, nullptr, &fds, nullptr,
      &error);
  if (!reply) throw Error(dbus_error_message(connection, error), kRequestFailed);
  gint32 index = -1;
  g_variant_get(reply, "(h)", &index);
  int fd = fds ? g_unix_fd_list_get(fds, index, &error) : -1;
  if (fd < 0) throw Error(_("the portal sent no value: report this as a bug"), kRequestFailed);
  return fd;
}

}  // namespace airlock
