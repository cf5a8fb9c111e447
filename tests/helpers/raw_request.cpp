// raw-request MODE [ARG]: inside a sandbox, talks to the portal's private
// socket the way airlock-request never would, to test what the portal does
// with it. Prints what happened on stdout; exit 0 unless the harness failed.
//   invalid-utf8          RequestFolder with a path that is not UTF-8
//   nul                   a path with a NUL byte inside
//   long BYTES            a path of BYTES bytes
//   wrong-type            options {"writable": <"yes">}
//   unknown-option        options {"colour": <true>}
//   flood N PREFIX        N requests for PREFIX/0 ... PREFIX/N-1, as fast as possible
//   manager               Manager.ListGrants and Manager.Answer on the private socket
//   bus ADDRESS           connect to a message bus at ADDRESS
//   retrieve-secret GRANT RetrieveSecret of GRANT, as another session might try
#include <gio/gio.h>
#include <gio/gunixfdlist.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

namespace {

GDBusConnection* portal() {
  const char* address = g_getenv("AIRLOCK_PORTAL_ADDRESS");
  g_autoptr(GError) error = nullptr;
  GDBusConnection* connection = g_dbus_connection_new_for_address_sync(
      address ? address : "", G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, nullptr, nullptr, &error);
  if (!connection) {
    printf("cannot connect: %s\n", error->message);
    exit(3);
  }
  return connection;
}

GVariant* request_args(const std::string& path, GVariant* options) {
  GVariant* bytes = g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, path.data(), path.size(), 1);
  if (!options) options = g_variant_new("a{sv}", nullptr);
  return g_variant_new("(@ay@a{sv})", bytes, options);
}

// Calls RequestFolder and reports the error, or the Response.
void one_request(GDBusConnection* connection, const std::string& path, GVariant* options) {
  g_autoptr(GError) error = nullptr;
  g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
      connection, nullptr, "/org/airlock/portal", "org.airlock.portal.FileAccess", "RequestFolder",
      request_args(path, options), G_VARIANT_TYPE("(o)"), G_DBUS_CALL_FLAGS_NONE, 10000, nullptr, &error);
  if (!reply) {
    g_autofree char* remote = g_dbus_error_get_remote_error(error);
    g_dbus_error_strip_remote_error(error);
    printf("error %s: %s\n", remote ? remote : "local", error->message);
    return;
  }
  printf("handle returned\n");
}

struct Flood {
  int outstanding = 0;
  int handles = 0;
  int throttled = 0;
  int errors = 0;
};

void on_flood_reply(GObject* source, GAsyncResult* result, gpointer data) {
  auto* flood = static_cast<Flood*>(data);
  g_autoptr(GError) error = nullptr;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
  --flood->outstanding;
  if (reply) {
    ++flood->handles;
    return;
  }
  g_autofree char* remote = g_dbus_error_get_remote_error(error);
  if (g_strcmp0(remote, "org.airlock.Error.Throttled") == 0) ++flood->throttled;
  else ++flood->errors;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  std::string mode = argv[1];
  if (mode == "bus") {
    g_autoptr(GError) error = nullptr;
    g_autoptr(GDBusConnection) bus = g_dbus_connection_new_for_address_sync(
        argc > 2 ? argv[2] : "",
        static_cast<GDBusConnectionFlags>(G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                          G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION),
        nullptr, nullptr, &error);
    printf(bus ? "connected to the bus\n" : "no bus: %s\n", bus ? "" : error->message);
    return 0;
  }
  g_autoptr(GDBusConnection) connection = portal();
  if (mode == "invalid-utf8") {
    one_request(connection, "/tmp/\xff\xfe-not-utf8", nullptr);
  } else if (mode == "nul") {
    one_request(connection, std::string("/tmp/a\0/etc", 11), nullptr);
  } else if (mode == "long" && argc > 2) {
    one_request(connection, "/" + std::string(strtoul(argv[2], nullptr, 10), 'a'), nullptr);
  } else if (mode == "wrong-type") {
    GVariantBuilder options;
    g_variant_builder_init(&options, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&options, "{sv}", "writable", g_variant_new_string("yes"));
    one_request(connection, "/tmp", g_variant_builder_end(&options));
  } else if (mode == "unknown-option") {
    GVariantBuilder options;
    g_variant_builder_init(&options, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&options, "{sv}", "colour", g_variant_new_boolean(TRUE));
    one_request(connection, "/tmp", g_variant_builder_end(&options));
  } else if (mode == "flood" && argc > 3) {
    Flood flood;
    int count = atoi(argv[2]);
    for (int i = 0; i < count; ++i) {
      ++flood.outstanding;
      g_dbus_connection_call(connection, nullptr, "/org/airlock/portal", "org.airlock.portal.FileAccess",
                             "RequestFolder", request_args(std::string(argv[3]) + "/" + std::to_string(i), nullptr),
                             G_VARIANT_TYPE("(o)"), G_DBUS_CALL_FLAGS_NONE, 60000, nullptr, on_flood_reply, &flood);
    }
    while (flood.outstanding > 0) g_main_context_iteration(nullptr, TRUE);
    printf("handles=%d throttled=%d errors=%d\n", flood.handles, flood.throttled, flood.errors);
  } else if (mode == "retrieve-secret" && argc > 2) {
    g_autoptr(GError) error = nullptr;
    g_autoptr(GVariant) reply = g_dbus_connection_call_with_unix_fd_list_sync(
        connection, nullptr, "/org/airlock/portal", "org.airlock.portal.Secret", "RetrieveSecret",
        g_variant_new("(s)", argv[2]), G_VARIANT_TYPE("(h)"), G_DBUS_CALL_FLAGS_NONE, 10000, nullptr, nullptr, nullptr,
        &error);
    if (reply) {
      printf("retrieved\n");
    } else {
      g_dbus_error_strip_remote_error(error);
      printf("refused: %s\n", error->message);
    }
  } else if (mode == "manager") {
    for (const char* method : {"ListGrants", "Answer"}) {
      g_autoptr(GError) error = nullptr;
      GVariant* args = strcmp(method, "Answer") == 0 ? g_variant_new("(sus@a{sv})", "1", 0u, "always", g_variant_new("a{sv}", nullptr)) : g_variant_new("(s)", "");
      g_autoptr(GVariant) reply = g_dbus_connection_call_sync(connection, nullptr, "/org/airlock/Manager",
                                                              "org.airlock.Manager", method, args, nullptr,
                                                              G_DBUS_CALL_FLAGS_NONE, 10000, nullptr, &error);
      g_autofree char* remote = reply ? nullptr : g_dbus_error_get_remote_error(error);
      printf("%s: %s\n", method, reply ? "answered" : (remote ? remote : error->message));
    }
  } else {
    return 2;
  }
  return 0;
}
