#include "portal_client.h"

#include <gio/gunixfdlist.h>
#include <unistd.h>

#include "airlock-dbus.h"
#include "dbus_names.h"

namespace airlock {

PortalLink::~PortalLink() {
  if (bus_) g_object_unref(bus_);
}

bool PortalLink::register_session(int control_fd, int listener_fd, const SessionDescription& description,
                                  std::string* why) {
  g_autoptr(GError) error = nullptr;
  bus_ = g_bus_get_sync(G_BUS_TYPE_SESSION, nullptr, &error);
  if (!bus_) {
    *why = std::string("no session bus (") + error->message + ")";
    return false;
  }
  g_autoptr(AirlockManager) manager = airlock_manager_proxy_new_sync(
      bus_, static_cast<GDBusProxyFlags>(G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES | G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS),
      kPortalBusName, kManagerPath, nullptr, &error);
  if (!manager) {
    *why = error->message;
    return false;
  }
  g_autoptr(GUnixFDList) fds = g_unix_fd_list_new();
  int control_index = g_unix_fd_list_append(fds, control_fd, &error);
  int listener_index = control_index < 0 ? -1 : g_unix_fd_list_append(fds, listener_fd, &error);
  if (listener_index < 0) {
    *why = error->message;
    return false;
  }
  GVariantBuilder info;
  g_variant_builder_init(&info, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add(&info, "{sv}", "profile", g_variant_new_string(description.profile.c_str()));
  g_variant_builder_add(&info, "{sv}", "profile-file", g_variant_new_string(description.profile_file.c_str()));
  g_variant_builder_add(&info, "{sv}", "task", g_variant_new_string(description.task.c_str()));
  g_variant_builder_add(&info, "{sv}", "workspace", g_variant_new_string(description.workspace.c_str()));
  g_variant_builder_add(&info, "{sv}", "command", g_variant_new_string(description.command.c_str()));
  g_variant_builder_add(&info, "{sv}", "prompt", g_variant_new_string(description.prompt.c_str()));
  g_variant_builder_add(&info, "{sv}", "pid", g_variant_new_uint32(static_cast<guint32>(getpid())));
  g_autofree char* id = nullptr;
  if (!airlock_manager_call_register_session_sync(manager, g_variant_new_handle(control_index),
                                                  g_variant_new_handle(listener_index), g_variant_builder_end(&info),
                                                  fds, &id, nullptr, nullptr, &error)) {
    g_dbus_error_strip_remote_error(error);
    *why = error->message;
    return false;
  }
  id_ = id;
  return true;
}

}  // namespace airlock
