// airlock-portal: the only trusted decision maker (DESIGN.md). Owns
// org.airlock.Portal on the session bus, where D-Bus starts it on demand.
#include <glib-unix.h>
#include <gio/gio.h>
#include <locale.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "config.h"
#include "dbus_names.h"
#include "error.h"
#include "portal.h"

namespace {

struct Daemon {
  GMainLoop* loop = nullptr;
  std::unique_ptr<airlock::Portal> portal;
  airlock::PortalConfig config;
  int status = 0;
};

airlock::PortalConfig read_config() {
  airlock::PortalConfig config;
  g_autofree char* home = realpath(g_get_home_dir(), nullptr);
  config.home = home ? home : g_get_home_dir();
  if (const char* runtime = g_getenv("XDG_RUNTIME_DIR")) config.runtime_dir = runtime;
  config.data_dir = std::string(g_get_user_data_dir()) + "/airlock";
  if (g_mkdir_with_parents(config.data_dir.c_str(), 0700) != 0)
    throw airlock::Error(airlock::errno_message("cannot create " + config.data_dir));
  // For tests and people who want another wait: seconds.
  if (const char* timeout = g_getenv("AIRLOCK_PROMPT_TIMEOUT")) {
    char* end = nullptr;
    unsigned long seconds = strtoul(timeout, &end, 10);
    if (*timeout == '\0' || *end != '\0' || seconds == 0 || seconds > 86400)
      throw airlock::Error(std::string("AIRLOCK_PROMPT_TIMEOUT=") + timeout + ": give a number of seconds, 1 to 86400");
    config.prompt_timeout = static_cast<unsigned>(seconds);
  }
  return config;
}

}  // namespace

int main(int argc, char** argv) {
  setlocale(LC_ALL, "");
  // What the portal says goes into D-Bus replies that agents read, HTTP
  // refusals and the audit log: one language, English, like
  // xdg-desktop-portal's errors. airlock and airlock-gui translate their
  // own words around it.
  setlocale(LC_MESSAGES, "C");
  gboolean replace = FALSE, version = FALSE;
  GOptionEntry entries[] = {
      {"replace", 'r', 0, G_OPTION_ARG_NONE, &replace, "Replace a running airlock-portal", nullptr},
      {"version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version", nullptr},
      {},
  };
  g_autoptr(GOptionContext) context = g_option_context_new(nullptr);
  g_option_context_set_summary(context,
                               "The Airlock portal: decides what agents in airlock sandboxes may have.\n"
                               "Started by D-Bus when airlock run or airlock prompt first needs it.");
  g_option_context_add_main_entries(context, entries, nullptr);
  g_autoptr(GError) error = nullptr;
  if (!g_option_context_parse(context, &argc, &argv, &error)) {
    fprintf(stderr, "airlock-portal: %s (see 'airlock-portal --help')\n", error->message);
    return 2;
  }
  if (version) {
    printf("airlock-portal %s\n", AIRLOCK_VERSION);
    return 0;
  }

  // It reads secret values to hand them over: no core dump, and no ptrace or
  // /proc/PID/mem for the user's other processes (the agents' included).
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

  // Each proxied connection holds two to six descriptors; a session may have a
  // thousand open (issue 4). The soft limit goes up to the hard one.
  struct rlimit files {};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }

  Daemon daemon;
  try {
    daemon.config = read_config();
  } catch (const airlock::Error& failure) {
    fprintf(stderr, "airlock-portal: %s\n", failure.what());
    return 1;
  }
  g_autoptr(GDBusConnection) bus = g_bus_get_sync(G_BUS_TYPE_SESSION, nullptr, &error);
  if (!bus) {
    fprintf(stderr, "airlock-portal: cannot reach the session bus: %s\n", error->message);
    return 1;
  }
  try {
    daemon.portal = std::make_unique<airlock::Portal>(bus, daemon.config);
  } catch (const airlock::Error& failure) {
    fprintf(stderr, "airlock-portal: %s\n", failure.what());
    return 1;
  }
  daemon.loop = g_main_loop_new(nullptr, FALSE);
  auto flags = static_cast<GBusNameOwnerFlags>(G_BUS_NAME_OWNER_FLAGS_ALLOW_REPLACEMENT |
                                               (replace ? G_BUS_NAME_OWNER_FLAGS_REPLACE : 0));
  guint owner = g_bus_own_name_on_connection(
      bus, airlock::kPortalBusName, flags, nullptr,
      +[](GDBusConnection* connection, const char* name, gpointer data) {
        auto* d = static_cast<Daemon*>(data);
        if (!connection || g_dbus_connection_is_closed(connection)) {
          g_main_loop_quit(d->loop);  // the session ended
          return;
        }
        fprintf(stderr, "airlock-portal: %s is owned by another portal: exiting (--replace takes it over)\n", name);
        d->status = 1;
        g_main_loop_quit(d->loop);
      },
      &daemon, nullptr);
  auto quit = +[](gpointer data) -> gboolean {
    g_main_loop_quit(static_cast<Daemon*>(data)->loop);
    return G_SOURCE_CONTINUE;
  };
  g_unix_signal_add(SIGTERM, quit, &daemon);
  g_unix_signal_add(SIGINT, quit, &daemon);
  g_main_loop_run(daemon.loop);
  g_bus_unown_name(owner);
  daemon.portal.reset();
  g_main_loop_unref(daemon.loop);
  return daemon.status;
}
