#include "prompt_command.h"

#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <string>

#include "error.h"
#include "terminal_prompter.h"
#include "unique_fd.h"

namespace airlock {

namespace {

struct PromptOptions {
  std::string session;
  std::optional<PromptScript> script;
  int timeout = 0;  // seconds; 0 for none
};

constexpr const char* kHelpHint = " (see 'airlock prompt --help')";

bool one_of(const std::string& value, std::initializer_list<const char*> allowed) {
  for (const char* candidate : allowed)
    if (value == candidate) return true;
  return false;
}

// Everything is checked here, before the bus is touched.
PromptOptions parse_options(int argc, char** argv) {
  g_autofree char* session = nullptr;
  g_autofree char* answer = nullptr;
  g_autofree char* scope = nullptr;
  g_autofree char* kind = nullptr;
  g_autofree char* resource = nullptr;
  g_auto(GStrv) rest = nullptr;
  // GOptionContext leaves an int alone when its option is absent: the
  // sentinels tell "--count=1" from nothing.
  int count = G_MININT, timeout = G_MININT, ttl = G_MININT;
  GOptionEntry entries[] = {
      {"session", 's', 0, G_OPTION_ARG_STRING, &session, "Answer only this session's requests", "ID"},
      {"answer", 0, 0, G_OPTION_ARG_STRING, &answer, "Answer from a script, without asking anyone", "allow|deny"},
      {"scope", 0, 0, G_OPTION_ARG_STRING, &scope, "The scope of a scripted answer (default: once)", "once|task|always"},
      {"ttl", 0, 0, G_OPTION_ARG_INT, &ttl, "With --scope=task, a secret's grant ends after SECONDS", "SECONDS"},
      {"kind", 0, 0, G_OPTION_ARG_STRING, &kind, "Answer only requests of this kind", "folder|file|host|secret"},
      {"resource", 0, 0, G_OPTION_ARG_STRING, &resource, "Answer only requests whose resource matches GLOB", "GLOB"},
      {"count", 0, 0, G_OPTION_ARG_INT, &count, "Answer N matching requests, then exit (default: 1; 0: for ever)", "N"},
      {"timeout", 0, 0, G_OPTION_ARG_INT, &timeout, "Exit 1 when the answers are not all given within SECONDS", "SECONDS"},
      {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, nullptr, nullptr},
      {},
  };
  g_set_prgname("airlock prompt");
  g_autoptr(GOptionContext) context = g_option_context_new(nullptr);
  g_option_context_set_summary(context,
                               "Answer the agents' requests for folders, files, hosts and secrets in this terminal,\n"
                               "or, with --answer, from a script.");
  g_option_context_set_description(
      context,
      "Without --answer, each request is shown here and asked one at a time: [o]nce,\n"
      "[t]ask (until the session ends), [a]lways (remembered for the profile), or [N]o.\n"
      "Ctrl-C stops; requests still open are then dismissed.\n"
      "\n"
      "With --answer, the next N requests that match --kind and --resource are answered,\n"
      "others are dismissed; 'airlock prompt: ready' is printed once registered.\n"
      "\n"
      "Exit status: 0 when done, 1 on --timeout, 125 when airlock fails. See airlock-prompt(1).");
  g_option_context_add_main_entries(context, entries, nullptr);
  g_autoptr(GError) error = nullptr;
  if (!g_option_context_parse(context, &argc, &argv, &error)) throw Error(std::string(error->message) + kHelpHint);
  if (rest && rest[0]) throw Error(std::string("unexpected argument '") + rest[0] + "'" + kHelpHint);
  bool count_given = count != G_MININT, timeout_given = timeout != G_MININT, ttl_given = ttl != G_MININT;

  PromptOptions options;
  if (session) {
    if (!*session) throw Error("--session needs a session id, as 'airlock ps' lists them");
    options.session = session;
  }
  if (!answer) {
    const char* scripted_only = scope           ? "--scope"
                                : kind          ? "--kind"
                                : resource      ? "--resource"
                                : count_given   ? "--count"
                                : timeout_given ? "--timeout"
                                : ttl_given     ? "--ttl"
                                                : nullptr;
    if (scripted_only)
      throw Error(std::string(scripted_only) + " is for scripted answers: add --answer=allow or --answer=deny" +
                  kHelpHint);
    return options;
  }
  PromptScript script;
  if (!one_of(answer, {"allow", "deny"}))
    throw Error(std::string("--answer must be allow or deny, not '") + answer + "'");
  script.allow = g_str_equal(answer, "allow");
  if (scope) {
    if (!one_of(scope, {"once", "task", "always"}))
      throw Error(std::string("--scope must be once, task or always, not '") + scope + "'");
    script.scope = scope;
  }
  if (kind) {
    if (!one_of(kind, {"folder", "file", "host", "secret"}))
      throw Error(std::string("--kind must be folder, file, host or secret, not '") + kind + "'");
    script.kind = kind;
  }
  if (resource) {
    if (!*resource) throw Error("--resource needs a pattern, e.g. --resource='/home/*/src/*'");
    script.resource_glob = resource;
  }
  if (ttl_given && (ttl <= 0 || ttl > 7 * 24 * 3600 || script.scope != "task"))
    throw Error("--ttl is a number of seconds from 1 to 604800 (7 days), with --scope=task");
  script.ttl = ttl_given ? static_cast<uint32_t>(ttl) : 0;
  if (count_given && count < 0) throw Error("--count must be 0 (for ever) or more, not " + std::to_string(count));
  script.count = count_given ? count : 1;
  if (timeout_given && timeout <= 0)
    throw Error("--timeout must be a number of seconds above 0, not " + std::to_string(timeout));
  options.timeout = timeout_given ? timeout : 0;
  options.script = std::move(script);
  return options;
}

// The terminal the person answers on: the one on standard input, else the
// controlling terminal.
UniqueFd open_terminal() {
  if (isatty(STDIN_FILENO)) {
    const char* name = ttyname(STDIN_FILENO);
    UniqueFd fd(name ? open(name, O_RDWR | O_CLOEXEC | O_NOCTTY) : -1);
    if (fd) return fd;
    return UniqueFd(fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3));
  }
  UniqueFd fd(open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY));
  if (fd) return fd;
  throw Error("no terminal to ask on (standard input is not one, and there is no /dev/tty): "
              "to answer requests from a script, use --answer=allow|deny" + std::string(kHelpHint));
}

GDBusConnection* session_bus() {
  g_autoptr(GError) error = nullptr;
  GDBusConnection* bus = g_bus_get_sync(G_BUS_TYPE_SESSION, nullptr, &error);
  if (!bus)
    throw Error(std::string("cannot connect to the session bus, where airlock-portal answers: ") + error->message +
                "; run airlock prompt in your desktop session, or set DBUS_SESSION_BUS_ADDRESS");
  return bus;
}

// The terminal shows what it can; a failure to write is seen as a failure
// to read.
void say(int fd, const std::string& text) {
  if (write(fd, text.data(), text.size()) < 0) return;
}

struct Loop {
  GMainLoop* loop = g_main_loop_new(nullptr, FALSE);
  int signal = 0;
  bool timed_out = false;
  ~Loop() { g_main_loop_unref(loop); }
};

gboolean on_signal(Loop* loop, int signo) {
  loop->signal = signo;
  g_main_loop_quit(loop->loop);
  return G_SOURCE_CONTINUE;
}

}  // namespace

int prompt_command(int argc, char** argv) {
  PromptOptions options = parse_options(argc, argv);
  UniqueFd tty;
  if (!options.script) tty = open_terminal();
  g_autoptr(GDBusConnection) bus = session_bus();

  Loop loop;
  guint sources[] = {
      g_unix_signal_add(SIGINT, [](gpointer data) { return on_signal(static_cast<Loop*>(data), SIGINT); }, &loop),
      g_unix_signal_add(SIGTERM, [](gpointer data) { return on_signal(static_cast<Loop*>(data), SIGTERM); }, &loop),
      g_unix_signal_add(SIGHUP, [](gpointer data) { return on_signal(static_cast<Loop*>(data), SIGHUP); }, &loop),
      0,
  };
  int answered = 0;
  {
    TerminalPrompter prompter(bus, options.session, tty.get(), options.script);
    prompter.on_done([&loop] { g_main_loop_quit(loop.loop); });
    if (!options.script) {
      std::string hello = "airlock prompt: answering the requests of " +
                          (options.session.empty() ? std::string("every session") : "session " + options.session) +
                          " here.\n";
      say(tty.get(), hello);
    }
    prompter.start();
    if (options.script) {
      fputs("airlock prompt: ready\n", stdout);
      fflush(stdout);
    }
    if (options.timeout > 0)
      sources[3] = g_timeout_add_seconds(
          static_cast<guint>(options.timeout),
          [](gpointer data) -> gboolean {
            auto* self = static_cast<Loop*>(data);
            self->timed_out = true;
            g_main_loop_quit(self->loop);
            return G_SOURCE_REMOVE;
          },
          &loop);
    g_main_loop_run(loop.loop);
    answered = prompter.answered();
  }
  // The dismissals of the requests still open go out before we leave the bus.
  g_dbus_connection_flush_sync(bus, nullptr, nullptr);
  for (guint source : sources)
    if (source && !(source == sources[3] && loop.timed_out)) g_source_remove(source);

  if (!options.script) {
    say(tty.get(), loop.signal ? "\nairlock prompt: stopped; the requests still open were dismissed.\n"
                               : "airlock prompt: end of input; stopped.\n");
    return 0;
  }
  if (loop.timed_out) {
    int wanted = options.script->count;
    std::string within = " within " + std::to_string(options.timeout) + (options.timeout == 1 ? " second" : " seconds");
    if (answered == 0) throw Error("no matching request arrived" + within, 1);
    if (wanted > 0)
      throw Error("only " + std::to_string(answered) + " of " + std::to_string(wanted) + " matching requests arrived" +
                      within,
                  1);
    return 0;  // --count=0: answer for the time given
  }
  if (loop.signal) return 128 + loop.signal;
  return 0;
}

}  // namespace airlock
