#include "portal_client.h"

#include <fcntl.h>
#include <gio/gunixfdlist.h>
#include <unistd.h>

#include <cstdio>

#include "dbus_names.h"
#include "translate.h"

namespace airlock {

namespace {

// A portal that restarts is tried this many times, a second apart.
constexpr int kReregisterAttempts = 10;

}  // namespace

PortalLink::~PortalLink() {
  if (watch_) g_bus_unwatch_name(watch_);
  if (retry_) g_source_remove(retry_);
  if (bus_) g_object_unref(bus_);
}

GVariant* PortalLink::registration(GUnixFDList** fds, GError** error) const {
  *fds = g_unix_fd_list_new();
  int control_index = g_unix_fd_list_append(*fds, control_.get(), error);
  int listener_index = control_index < 0 ? -1 : g_unix_fd_list_append(*fds, listener_.get(), error);
  int proxy_index = listener_index < 0 || !proxy_ ? -1 : g_unix_fd_list_append(*fds, proxy_.get(), error);
  if (listener_index < 0 || (proxy_ && proxy_index < 0)) {
    g_clear_object(fds);
    return nullptr;
  }
  GVariantBuilder info;
  g_variant_builder_init(&info, G_VARIANT_TYPE_VARDICT);
  auto text = [&](const char* key, const std::string& value) {
    g_variant_builder_add(&info, "{sv}", key, g_variant_new_string(value.c_str()));
  };
  text("profile", description_.profile);
  text("profile-file", description_.profile_file);
  text("task", description_.task);
  text("workspace", description_.workspace);
  text("command", description_.command);
  text("prompt", description_.prompt);
  if (!id_.empty()) text("id", id_);  // registering again
  if (proxy_) g_variant_builder_add(&info, "{sv}", "proxy", g_variant_new_handle(proxy_index));
  g_variant_builder_add(&info, "{sv}", "pid", g_variant_new_uint32(static_cast<guint32>(getpid())));
  return g_variant_new("(hh@a{sv})", control_index, listener_index, g_variant_builder_end(&info));
}

bool PortalLink::register_session(int control_fd, int listener_fd, const SessionDescription& description,
                                  std::string* why, int proxy_fd) {
  g_autoptr(GError) error = nullptr;
  bus_ = g_bus_get_sync(G_BUS_TYPE_SESSION, nullptr, &error);
  if (!bus_) {
    // TRANSLATORS: %s is GLib's error; the text is put in "no portal for
    // this session (%s)".
    *why = format(_("no session bus (%s)"), error->message);
    return false;
  }
  // The agent outlives a session bus that goes away.
  g_dbus_connection_set_exit_on_close(bus_, FALSE);
  control_.reset(fcntl(control_fd, F_DUPFD_CLOEXEC, 3));
  listener_.reset(fcntl(listener_fd, F_DUPFD_CLOEXEC, 3));
  if (proxy_fd >= 0) proxy_.reset(fcntl(proxy_fd, F_DUPFD_CLOEXEC, 3));
  description_ = description;
  g_autoptr(GUnixFDList) fds = nullptr;
  GVariant* args = registration(&fds, &error);
  g_autoptr(GVariant) reply =
      args ? g_dbus_connection_call_with_unix_fd_list_sync(bus_, kPortalBusName, kManagerPath, "org.airlock.Manager",
                                                           "RegisterSession", args, G_VARIANT_TYPE("(s)"),
                                                           G_DBUS_CALL_FLAGS_NONE, -1, fds, nullptr, nullptr, &error)
           : nullptr;
  if (!reply) {
    g_dbus_error_strip_remote_error(error);
    *why = error->message;
    control_.reset();
    listener_.reset();
    proxy_.reset();
    return false;
  }
  const char* id = nullptr;
  g_variant_get(reply, "(&s)", &id);
  id_ = id;
  // A portal that dies leaves the session's grants in place; the session
  // registers again with the next one, which revokes them (it cannot know
  // their scopes) and applies the always-grants anew.
  watch_ = g_bus_watch_name_on_connection(bus_, kPortalBusName, G_BUS_NAME_WATCHER_FLAGS_NONE, nullptr, on_vanished,
                                          this, nullptr);
  return true;
}

void PortalLink::on_vanished(GDBusConnection*, const char*, gpointer data) {
  auto* self = static_cast<PortalLink*>(data);
  if (self->retry_ || self->attempts_ > 0) return;  // already on it
  self->retry_ = g_timeout_add(100, reregister, self);
}

gboolean PortalLink::reregister(gpointer data) {
  auto* self = static_cast<PortalLink*>(data);
  self->retry_ = 0;
  ++self->attempts_;
  g_autoptr(GError) error = nullptr;
  g_autoptr(GUnixFDList) fds = nullptr;
  GVariant* args = self->registration(&fds, &error);
  if (!args) return G_SOURCE_REMOVE;
  g_dbus_connection_call_with_unix_fd_list(
      self->bus_, kPortalBusName, kManagerPath, "org.airlock.Manager", "RegisterSession", args, G_VARIANT_TYPE("(s)"),
      G_DBUS_CALL_FLAGS_NONE, -1, fds, nullptr,
      +[](GObject* source, GAsyncResult* result, gpointer user) {
        auto* link = static_cast<PortalLink*>(user);
        g_autoptr(GError) failure = nullptr;
        g_autoptr(GVariant) reply =
            g_dbus_connection_call_with_unix_fd_list_finish(G_DBUS_CONNECTION(source), nullptr, result, &failure);
        if (reply) {
          link->attempts_ = 0;
          return;
        }
        if (link->attempts_ < kReregisterAttempts) {
          link->retry_ = g_timeout_add_seconds(1, reregister, link);
          return;
        }
        g_dbus_error_strip_remote_error(failure);
        fprintf(stderr,
                // TRANSLATORS: %s is the D-Bus error.
                _("airlock: warning: the portal stopped and did not come back (%s): the agent cannot ask for "
                  "anything more in this session\n"),
                failure->message);
        link->listener_.reset();
        link->proxy_.reset();
      },
      self);
  return G_SOURCE_REMOVE;
}

}  // namespace airlock
