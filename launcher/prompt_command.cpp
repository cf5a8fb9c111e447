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
#include "translate.h"
#include "unique_fd.h"

namespace airlock {

namespace {

struct PromptOptions {
  std::string session;
  std::optional<PromptScript> script;
  int timeout = 0;  // seconds; 0 for none
};

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
  // The arguments that are the words typed (allow|deny...) stay as they are;
  // the placeholders (SECONDS, GLOB, N) are translated with the descriptions
  // that name them.
  GOptionEntry entries[] = {
      {"session", 's', 0, G_OPTION_ARG_STRING, &session, N_("Answer only this session's requests"),
       // TRANSLATORS: the argument of --session, a session's id.
       N_("ID")},
      {"answer", 0, 0, G_OPTION_ARG_STRING, &answer, N_("Answer from a script, without asking anyone"), "allow|deny"},
      // TRANSLATORS: keep "once" as it is: it is typed.
      {"scope", 0, 0, G_OPTION_ARG_STRING, &scope, N_("The scope of a scripted answer (default: once)"),
       "once|task|always"},
      // TRANSLATORS: keep --scope=task as it is; SECONDS is the argument's
      // name, as translated.
      {"ttl", 0, 0, G_OPTION_ARG_INT, &ttl, N_("With --scope=task, a secret's grant ends after SECONDS"),
       // TRANSLATORS: an option's argument, a number of seconds.
       N_("SECONDS")},
      {"kind", 0, 0, G_OPTION_ARG_STRING, &kind, N_("Answer only requests of this kind"), "folder|file|host|secret"},
      // TRANSLATORS: GLOB is the argument's name, as translated.
      {"resource", 0, 0, G_OPTION_ARG_STRING, &resource, N_("Answer only requests whose resource matches GLOB"),
       // TRANSLATORS: an option's argument, a pattern with * and ?.
       N_("GLOB")},
      // TRANSLATORS: N is the argument's name, as translated.
      {"count", 0, 0, G_OPTION_ARG_INT, &count, N_("Answer N matching requests, then exit (default: 1; 0: for ever)"),
       // TRANSLATORS: an option's argument, a number.
       N_("N")},
      // TRANSLATORS: SECONDS is the argument's name, as translated.
      {"timeout", 0, 0, G_OPTION_ARG_INT, &timeout, N_("Exit 1 when the answers are not all given within SECONDS"),
       N_("SECONDS")},
      {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, nullptr, nullptr},
      {},
  };
  g_set_prgname("airlock prompt");
  g_autoptr(GOptionContext) context = g_option_context_new(nullptr);
  g_option_context_set_summary(
      context,
      // TRANSLATORS: keep --answer as it is, an option.
      N_("Answer the agents' requests for folders, files, hosts and secrets in this terminal,\n"
         "or, with --answer, from a script."));
  g_option_context_set_description(
      context,
      // TRANSLATORS: keep the options, "airlock prompt: ready" (printed as
      // it is, for scripts) and airlock-prompt(1) as they are. The letters
      // in brackets are the keys typed (o, t, a, n), as in the prompt's
      // "Allow? [o]nce / [t]ask / [a]lways / [N]o".
      N_("Without --answer, each request is shown here and asked one at a time: [o]nce,\n"
         "[t]ask (until the session ends), [a]lways (remembered for the profile), or [N]o.\n"
         "Ctrl-C stops; requests still open are then dismissed.\n"
         "\n"
         "With --answer, the next N requests that match --kind and --resource are answered,\n"
         "others are dismissed; 'airlock prompt: ready' is printed once registered.\n"
         "\n"
         "Exit status: 0 when done, 1 on --timeout, 125 when airlock fails. See airlock-prompt(1)."));
  add_translated_entries(context, entries);
  g_autoptr(GError) error = nullptr;
  if (!g_option_context_parse(context, &argc, &argv, &error))
    // TRANSLATORS: %s is what is wrong with the command line.
    throw Error(format(_("%s (see 'airlock prompt --help')"), error->message));
  if (rest && rest[0]) throw Error(format(_("unexpected argument '%s' (see 'airlock prompt --help')"), rest[0]));
  bool count_given = count != G_MININT, timeout_given = timeout != G_MININT, ttl_given = ttl != G_MININT;

  PromptOptions options;
  if (session) {
    // TRANSLATORS: keep --session and "airlock ps" (a command) as they are.
    if (!*session) throw Error(_("--session needs a session id, as 'airlock ps' lists them"));
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
      // TRANSLATORS: %s is an option (--scope); keep --answer=allow and
      // --answer=deny as they are.
      throw Error(format(_("%s is for scripted answers: add --answer=allow or --answer=deny (see 'airlock prompt "
                           "--help')"),
                         scripted_only));
    return options;
  }
  PromptScript script;
  if (!one_of(answer, {"allow", "deny"}))
    // TRANSLATORS: keep --answer, allow and deny as they are: they are typed.
    throw Error(format(_("--answer must be allow or deny, not '%s'"), answer));
  script.allow = g_str_equal(answer, "allow");
  if (scope) {
    if (!one_of(scope, {"once", "task", "always"}))
      // TRANSLATORS: keep --scope, once, task and always as they are: they are typed.
      throw Error(format(_("--scope must be once, task or always, not '%s'"), scope));
    script.scope = scope;
  }
  if (kind) {
    if (!one_of(kind, {"folder", "file", "host", "secret"}))
      // TRANSLATORS: keep --kind, folder, file, host and secret as they are: they are typed.
      throw Error(format(_("--kind must be folder, file, host or secret, not '%s'"), kind));
    script.kind = kind;
  }
  if (resource) {
    // TRANSLATORS: keep --resource='/home/*/src/*' as it is.
    if (!*resource) throw Error(_("--resource needs a pattern, e.g. --resource='/home/*/src/*'"));
    script.resource_glob = resource;
  }
  if (ttl_given && (ttl <= 0 || ttl > 7 * 24 * 3600 || script.scope != "task"))
    // TRANSLATORS: keep --ttl and --scope=task as they are.
    throw Error(_("--ttl is a number of seconds from 1 to 604800 (7 days), with --scope=task"));
  script.ttl = ttl_given ? static_cast<uint32_t>(ttl) : 0;
  // TRANSLATORS: keep --count as it is.
  if (count_given && count < 0) throw Error(format(_("--count must be 0 (for ever) or more, not %d"), count));
  script.count = count_given ? count : 1;
  if (timeout_given && timeout <= 0)
    // TRANSLATORS: keep --timeout as it is.
    throw Error(format(_("--timeout must be a number of seconds above 0, not %d"), timeout));
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
  // TRANSLATORS: keep /dev/tty and --answer=allow|deny as they are.
  throw Error(_("no terminal to ask on (standard input is not one, and there is no /dev/tty): "
                "to answer requests from a script, use --answer=allow|deny (see 'airlock prompt --help')"));
}

GDBusConnection* session_bus() {
  g_autoptr(GError) error = nullptr;
  GDBusConnection* bus = g_bus_get_sync(G_BUS_TYPE_SESSION, nullptr, &error);
  if (!bus)
    // TRANSLATORS: keep airlock-portal, "airlock prompt" (a command) and
    // DBUS_SESSION_BUS_ADDRESS as they are; %s is the error.
    throw Error(format(_("cannot connect to the session bus, where airlock-portal answers: %s; run airlock prompt in "
                         "your desktop session, or set DBUS_SESSION_BUS_ADDRESS"),
                       error->message));
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
      say(tty.get(), options.session.empty()
                         // TRANSLATORS: keep "airlock prompt:", the program's name, as it is.
                         ? _("airlock prompt: answering the requests of every session here.\n")
                         // TRANSLATORS: keep "airlock prompt:" as it is; %s is a session's id.
                         : format(_("airlock prompt: answering the requests of session %s here.\n"),
                                  options.session.c_str()));
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
    // TRANSLATORS: keep "airlock prompt:", the program's name, as it is.
    say(tty.get(), loop.signal ? _("\nairlock prompt: stopped; the requests still open were dismissed.\n")
                               // TRANSLATORS: keep "airlock prompt:", the program's name, as it is.
                               : _("airlock prompt: end of input; stopped.\n"));
    return 0;
  }
  if (loop.timed_out) {
    int wanted = options.script->count;
    auto seconds = static_cast<unsigned long>(options.timeout);
    if (answered == 0)
      throw Error(format(n_("no matching request arrived within %d second",
                            "no matching request arrived within %d seconds", seconds),
                         options.timeout),
                  1);
    if (wanted > 0)
      // TRANSLATORS: the requests answered, those wanted (--count) and the
      // seconds waited (--timeout).
      throw Error(format(n_("only %d of %d matching requests arrived within %d second",
                            "only %d of %d matching requests arrived within %d seconds", seconds),
                         answered, wanted, options.timeout),
                  1);
    return 0;  // --count=0: answer for the time given
  }
  if (loop.signal) return 128 + loop.signal;
  return 0;
}

}  // namespace airlock
