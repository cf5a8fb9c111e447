// airlock-request secret: ask for a named secret and hand its value to one
// command (in its environment or a descriptor), or print it when asked to
// (DESIGN.md, "Secrets"). The value arrives as a sealed memfd. With --exec
// this process never reads it: the child does, between fork and exec, so
// the value is in no process but the command's, and never in an argv.
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "dbus_names.h"
#include "error.h"
#include "request_portal.h"
#include "request_secret_command.h"
#include "secret_bytes.h"
#include "translate.h"
#include "unique_fd.h"

extern char** environ;

namespace airlock {

namespace {

struct SecretOptions {
  std::string name, reason, env_name, host, header;
  int fd = -1;
  bool print = false;
  unsigned timeout_seconds = 0;
  std::vector<std::string> command;
};

// NAME as an environment variable: GITHUB_TOKEN for github-token.
std::string default_env_name(const std::string& name) {
  std::string var;
  for (char c : name) var += g_ascii_isalnum(c) ? g_ascii_toupper(c) : '_';
  if (g_ascii_isdigit(var[0])) var = "_" + var;
  return var;
}

bool valid_env_name(const std::string& var) {
  if (var.empty() || g_ascii_isdigit(var[0])) return false;
  for (char c : var)
    if (!g_ascii_isalnum(c) && c != '_') return false;
  return true;
}

SecretOptions parse(int argc, char** argv) {
  // Everything after "--" is the command, untouched by option parsing.
  std::vector<std::string> command;
  for (int i = 1; i < argc; ++i)
    if (strcmp(argv[i], "--") == 0) {
      for (int j = i + 1; j < argc; ++j) command.emplace_back(argv[j]);
      argc = i;
      break;
    }
  gboolean exec = FALSE, print = FALSE;
  gchar* reason = nullptr;
  gchar* env_name = nullptr;
  gchar* host = nullptr;
  gchar* header = nullptr;
  gint fd = -1, timeout = 0;
  g_auto(GStrv) rest = nullptr;
  GOptionEntry entries[] = {
      {"reason", 0, 0, G_OPTION_ARG_STRING, &reason, N_("Why the agent needs it, shown to the person"), N_("TEXT")},
      {"exec", 0, 0, G_OPTION_ARG_NONE, &exec, N_("Run the COMMAND after -- with the value"), nullptr},
      {"env-name", 0, 0, G_OPTION_ARG_STRING, &env_name,
       N_("The environment variable COMMAND finds the value in (default: NAME in upper case, '-' and '.' as '_')"),
       N_("VAR")},
      {"fd", 0, 0, G_OPTION_ARG_INT, &fd, N_("Give COMMAND the value on descriptor N (a sealed memfd) instead"),
       N_("N")},
      {"print", 0, 0, G_OPTION_ARG_NONE, &print, N_("Print the value on standard output"), nullptr},
      {"host", 0, 0, G_OPTION_ARG_STRING, &host,
       N_("Ask for the proxy to put the value into requests to HOST[:PORT] (443); the agent gets a placeholder"),
       N_("HOST")},
      {"header", 0, 0, G_OPTION_ARG_STRING, &header,
       // TRANSLATORS: Authorization is an HTTP header's name.
       N_("With --host, the header the value goes in (default: Authorization)"), N_("NAME")},
      {"timeout", 0, 0, G_OPTION_ARG_INT, &timeout, N_("Give up after SECONDS (default: wait for the portal's answer)"),
       N_("SECONDS")},
      {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, nullptr, nullptr},
      {}};
  g_set_prgname("airlock-request secret");
  g_autoptr(GOptionContext) context =
      // TRANSLATORS: keep the options (--exec, --env-name, --fd, --print) as
      // they are.
      g_option_context_new(N_("NAME (--exec [--env-name VAR | --fd N] -- COMMAND... | --print)"));
  g_option_context_set_summary(context,
                               N_("Ask the person at the host, through the portal, for the secret NAME, and hand its\n"
                                  "value to COMMAND, or print it. The value is never put on a command line."));
  add_translated_entries(context, entries);
  g_autoptr(GError) error = nullptr;
  bool parsed = g_option_context_parse(context, &argc, &argv, &error);
  SecretOptions options;
  if (reason) options.reason = reason;
  if (env_name) options.env_name = env_name;
  if (host) options.host = host;
  if (header) options.header = header;
  g_free(reason);
  g_free(env_name);
  g_free(host);
  g_free(header);
  // TRANSLATORS: %s is GLib's message about the command line.
  if (!parsed) throw Error(format(_("%s (see 'airlock-request secret --help')"), error->message), kRequestFailed);
  if (!rest || !rest[0] || rest[1])
    throw Error(_("give one secret NAME (see 'airlock-request secret --help')"), kRequestFailed);
  options.name = rest[0];
  options.print = print;
  options.fd = fd;
  options.command = std::move(command);
  if (timeout < 0) throw Error(_("--timeout is a number of seconds, 0 or more"), kRequestFailed);
  options.timeout_seconds = static_cast<unsigned>(timeout);
  if (exec == print)
    throw Error(_("say where the value goes: --exec [--env-name VAR | --fd N] -- COMMAND, or --print "
                  "(see 'airlock-request secret --help')"),
                kRequestFailed);
  if (exec && options.command.empty())
    throw Error(_("--exec needs a COMMAND after -- (see 'airlock-request secret --help')"), kRequestFailed);
  if (!exec && (!options.command.empty() || !options.env_name.empty() || fd >= 0))
    throw Error(_("--env-name, --fd and a COMMAND go with --exec (see 'airlock-request secret --help')"),
                kRequestFailed);
  if (!options.env_name.empty() && fd >= 0)
    throw Error(_("--env-name or --fd, not both: the value goes one way (see 'airlock-request secret --help')"),
                kRequestFailed);
  if (!options.header.empty() && options.host.empty())
    throw Error(_("--header goes with --host (see 'airlock-request secret --help')"), kRequestFailed);
  if (fd >= 0 && fd <= 2) throw Error(_("--fd 0, 1 and 2 are the standard streams: choose 3 or more"), kRequestFailed);
  if (exec && fd < 0) {
    if (options.env_name.empty()) options.env_name = default_env_name(options.name);
    if (!valid_env_name(options.env_name))
      throw Error(format(_("'%s' is not an environment variable's name (A-Z, 0-9, _)"),
                         terminal_safe(options.env_name).c_str()),
                  kRequestFailed);
  }
  return options;
}

// The child's messages, translated before fork: the child does no more than
// it must.
struct ChildMessages {
  std::string nul_byte, cannot_run;
};

// In the child, between fork and exec: the value goes where it was asked
// to, and nowhere else. Only async-signal-safe work after the read.
[[noreturn]] void exec_with_value(const SecretOptions& options, int memfd, const ChildMessages& messages) {
  std::vector<char*> argv;
  for (const auto& arg : options.command) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  SecretBytes assignment;
  std::vector<char*> envp;
  if (options.fd >= 0) {
    if (memfd == options.fd ? fcntl(memfd, F_SETFD, 0) < 0 : dup2(memfd, options.fd) < 0) _exit(126);
    for (char** e = environ; *e; ++e) envp.push_back(*e);
  } else {
    SecretBytes value;
    if (lseek(memfd, 0, SEEK_SET) < 0 || !SecretBytes::read_fd(memfd, kMaxSecretBytes, &value)) _exit(126);
    if (memchr(value.data(), '\0', value.size())) {
      fprintf(stderr, "airlock-request: %s\n", messages.nul_byte.c_str());
      _exit(126);
    }
    std::string prefix = options.env_name + "=";
    assignment = SecretBytes(prefix.size() + value.size() + 1);
    memcpy(assignment.data(), prefix.data(), prefix.size());
    memcpy(assignment.data() + prefix.size(), value.data(), value.size());
    for (char** e = environ; *e; ++e)
      if (strncmp(*e, prefix.c_str(), prefix.size()) != 0) envp.push_back(*e);
    envp.push_back(assignment.data());
    close(memfd);
  }
  envp.push_back(nullptr);
  execvpe(argv[0], argv.data(), envp.data());
  int saved = errno;
  fprintf(stderr, "airlock-request: %s: %s\n", messages.cannot_run.c_str(), strerror(saved));
  _exit(saved == ENOENT ? 127 : 126);
}

}  // namespace

int request_secret_command(int argc, char** argv) {
  SecretOptions options = parse(argc, argv);
  // This process may hold the value (--print): no core dump, no ptrace.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  GVariantBuilder builder;
  g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
  if (!options.reason.empty())
    g_variant_builder_add(&builder, "{sv}", "reason", g_variant_new_string(options.reason.c_str()));
  if (!options.host.empty()) g_variant_builder_add(&builder, "{sv}", "host", g_variant_new_string(options.host.c_str()));
  if (!options.header.empty())
    g_variant_builder_add(&builder, "{sv}", "header", g_variant_new_string(options.header.c_str()));
  g_autoptr(GVariant) request_options = g_variant_ref_sink(g_variant_builder_end(&builder));
  g_autoptr(GDBusConnection) connection = connect_to_portal();
  PortalAnswer answer =
      request_access(connection, AccessKind::kSecret, options.name, request_options, options.timeout_seconds);
  const char* message = nullptr;
  g_variant_lookup(answer.results, "message", "&s", &message);
  if (answer.response != kResponseGranted) {
    const char* outcome = nullptr;
    g_variant_lookup(answer.results, "outcome", "&s", &outcome);
    std::string why =
        message && *message ? terminal_safe(message) : format(_("%s was not granted"), options.name.c_str());
    bool refused = answer.response == kResponseDenied ||
                   (outcome && (strcmp(outcome, "denied") == 0 || strcmp(outcome, "timeout") == 0));
    if (!refused) throw Error(why, kRequestFailed);
    std::string line =
        format(outcome && strcmp(outcome, "timeout") == 0 ? _("timed out: %s") : _("denied: %s"), why.c_str());
    fprintf(stderr, "airlock-request: %s\n", line.c_str());
    return kRequestRefused;
  }
  const char* grant = nullptr;
  if (!g_variant_lookup(answer.results, "grant", "&s", &grant))
    throw Error(_("the portal granted the secret but named no grant: report this as a bug"), kRequestFailed);
  // For the proxy's use, the agent gets the placeholder, handed on the
  // same way as a value would be.
  const char* placeholder = nullptr;
  g_variant_lookup(answer.results, "placeholder", "&s", &placeholder);
  if (!options.host.empty() && !placeholder)
    throw Error(format(_("the portal granted the secret for %s but sent no placeholder: report this as a bug"),
                       options.host.c_str()),
                kRequestFailed);
  UniqueFd memfd(placeholder ? SecretBytes::copy_of(placeholder).to_sealed_memfd() : retrieve_secret(connection, grant));
  if (!memfd) throw Error(errno_message(_("cannot make a memfd")), kRequestFailed);
  g_clear_object(&connection);

  if (options.print) {
    SecretBytes value;
    if (!SecretBytes::read_fd(memfd.get(), kMaxSecretBytes, &value))
      throw Error(errno_message(_("cannot read the value")), kRequestFailed);
    size_t done = 0;
    while (done < value.size()) {
      ssize_t n = write(STDOUT_FILENO, value.data() + done, value.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw Error(errno_message(_("cannot write the value to standard output")), kRequestFailed);
      done += static_cast<size_t>(n);
    }
    if (isatty(STDOUT_FILENO)) (void)!write(STDOUT_FILENO, "\n", 1);
    return kRequestGranted;
  }
  ChildMessages messages{_("the value holds a NUL byte and cannot be an environment variable: use --fd"),
                         format(_("cannot run %s"), options.command[0].c_str())};
  fflush(nullptr);
  pid_t child = fork();
  if (child < 0) throw Error(errno_message(format(_("cannot start %s"), options.command[0].c_str())), kRequestFailed);
  if (child == 0) exec_with_value(options, memfd.get(), messages);
  memfd.reset();
  int status = 0;
  while (waitpid(child, &status, 0) < 0)
    if (errno != EINTR)
      throw Error(errno_message(format(_("cannot wait for %s"), options.command[0].c_str())), kRequestFailed);
  return exit_status_from_wait(status);
}

}  // namespace airlock
