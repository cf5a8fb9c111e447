#include "request_access_command.h"

#include <glib.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "dbus_names.h"
#include "error.h"
#include "request_portal.h"
#include "translate.h"

namespace airlock {

namespace {

struct AccessOptions {
  AccessKind kind = AccessKind::kFolder;
  std::string path;
  bool writable = false;
  std::string reason;
  bool has_reason = false;
  unsigned timeout_seconds = 0;
};

AccessOptions parse_options(int argc, char** argv) {
  AccessOptions options;
  options.kind = strcmp(argv[0], "file") == 0   ? AccessKind::kFile
                 : strcmp(argv[0], "host") == 0 ? AccessKind::kHost
                                                : AccessKind::kFolder;
  bool host = options.kind == AccessKind::kHost;

  gboolean rw = FALSE;
  g_autofree char* reason = nullptr;
  int timeout = 0;
  g_auto(GStrv) paths = nullptr;
  GOptionEntry entries[] = {
      {"rw", 0, host ? G_OPTION_FLAG_HIDDEN : 0, G_OPTION_ARG_NONE, &rw,
       N_("Ask for write access too (the default is read-only)"), nullptr},
      {"reason", 'r', 0, G_OPTION_ARG_STRING, &reason, N_("Why the agent needs it, shown to the person as such"),
       N_("TEXT")},
      {"timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
       N_("Withdraw the request after SECONDS without an answer (default: no limit)"), N_("SECONDS")},
      {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &paths, nullptr, nullptr},
      {},
  };
  g_autofree char* prgname = g_strconcat("airlock-request ", argv[0], nullptr);
  g_set_prgname(prgname);
  g_autoptr(GOptionContext) context = g_option_context_new(host ? N_("HOST[:PORT]") : N_("PATH"));
  const char* summary = options.kind == AccessKind::kHost
                            ? N_("Ask ahead of time, through the portal, to reach HOST:PORT (443 when no port is\n"
                                 "given) through this sandbox's proxy, and wait for the answer. Without asking\n"
                                 "ahead, the proxy asks on the first connection, and the connection waits.")
                        : options.kind == AccessKind::kFile
                            ? N_("Ask the person at the host, through the portal, for the host file PATH, and wait\n"
                                 "for the answer. A relative PATH is taken from the working directory. When it is\n"
                                 "granted, the file appears in this sandbox at once, at the path printed.")
                            : N_("Ask the person at the host, through the portal, for the host folder PATH, and wait\n"
                                 "for the answer. A relative PATH is taken from the working directory. When it is\n"
                                 "granted, the folder appears in this sandbox at once, at the path printed.");
  g_option_context_set_summary(context, summary);
  g_option_context_set_description(context, N_("Exit status: 0 granted, 1 denied or timed out, 2 any other failure.\n"
                                               "See airlock-request(1)."));
  add_translated_entries(context, entries);
  g_autoptr(GError) error = nullptr;
  if (!g_option_context_parse(context, &argc, &argv, &error))
    // TRANSLATORS: the first %s is GLib's message about the command line,
    // the second the command, such as "airlock-request folder".
    throw Error(format(_("%s (see '%s --help')"), error->message, prgname), kRequestFailed);

  guint count = paths ? g_strv_length(paths) : 0;
  if (count == 0)
    // TRANSLATORS: in these messages, PATH and HOST stand for what the
    // person typed, as in the usage text; %s is the command, such as
    // "airlock-request folder".
    throw Error(format(options.kind == AccessKind::kHost   ? _("which host? Give a HOST (see '%s --help')")
                       : options.kind == AccessKind::kFile ? _("which file? Give a PATH (see '%s --help')")
                                                           : _("which folder? Give a PATH (see '%s --help')"),
                       prgname),
                kRequestFailed);
  if (count > 1)
    throw Error(format(host ? _("one HOST at a time, not %u (see '%s --help')")
                            : _("one PATH at a time, not %u (see '%s --help')"),
                       count, prgname),
                kRequestFailed);
  if (!*paths[0])
    throw Error(format(host ? _("HOST is empty (see '%s --help')") : _("PATH is empty (see '%s --help')"), prgname),
                kRequestFailed);
  if (host && rw)
    throw Error(
        format(_("--rw is for folders and files; a host grant lets the agent connect (see '%s --help')"), prgname),
        kRequestFailed);
  if (timeout < 0)
    throw Error(format(_("--timeout takes a number of seconds (0: no limit) (see '%s --help')"), prgname),
                kRequestFailed);

  options.path = paths[0];
  options.writable = rw;
  if (reason) {
    options.reason = reason;
    options.has_reason = true;
  }
  options.timeout_seconds = static_cast<unsigned>(timeout);
  return options;
}

// A relative path made absolute against the working directory, which
// getcwd() gives without symlinks: "." components go and a leading ".."
// climbs the working directory, both exact without looking at the file
// system. A ".." after a component the person named could cross a symlink,
// so it is kept and the portal refuses it. Absolute paths are sent as given:
// the portal resolves and judges, never this client.
std::string absolute_path(const std::string& path) {
  if (path[0] == '/') return path;
  g_autofree char* cwd = getcwd(nullptr, 0);
  if (!cwd)
    throw Error(errno_message(format(_("cannot tell the working directory, to make %s absolute"), path.c_str())),
                kRequestFailed);

  std::vector<std::string> components;
  g_auto(GStrv) cwd_parts = g_strsplit(cwd, "/", -1);
  for (char** part = cwd_parts; *part; ++part)
    if (**part) components.emplace_back(*part);
  size_t from_cwd = components.size();

  g_auto(GStrv) parts = g_strsplit(path.c_str(), "/", -1);
  for (char** part = parts; *part; ++part) {
    if (!**part || strcmp(*part, ".") == 0) continue;
    if (strcmp(*part, "..") == 0 && components.size() == from_cwd) {
      if (from_cwd > 0) {  // at the root, ".." is the root
        components.pop_back();
        --from_cwd;
      }
      continue;
    }
    components.emplace_back(*part);
  }
  std::string absolute;
  for (const auto& component : components) absolute += "/" + component;
  return absolute.empty() ? "/" : absolute;
}

// Null when missing or not a string; otherwise lives as long as results.
const char* lookup_string(GVariant* results, const char* key) {
  const char* value = nullptr;
  return g_variant_lookup(results, key, "&s", &value) ? value : nullptr;
}

int report(const AccessOptions& options, const std::string& requested, const PortalAnswer& answer) {
  const char* outcome = lookup_string(answer.results, "outcome");
  const char* message = lookup_string(answer.results, "message");
  std::string shown = terminal_safe(requested.c_str());
  if (answer.response == kResponseGranted && options.kind == AccessKind::kHost) {
    const char* host = lookup_string(answer.results, "host");
    printf("%s\n", terminal_safe(host ? host : requested.c_str()).c_str());
    return kRequestGranted;
  }
  if (answer.response == kResponseGranted) {
    const char* path = lookup_string(answer.results, "path");
    if (!path || !*path)
      throw Error(
          format(_("the portal granted %s but did not say where it is visible: report this as a bug"), shown.c_str()),
          kRequestFailed);
    gboolean writable = FALSE;
    g_variant_lookup(answer.results, "writable", "b", &writable);
    if (options.writable && !writable)
      fprintf(stderr, "airlock-request: %s\n",
              format(_("%s was granted read-only, not read-write"), terminal_safe(path).c_str()).c_str());
    // Exactly the path, for $(airlock-request folder ...).
    printf("%s\n", path);
    return kRequestGranted;
  }
  bool timed_out = outcome && strcmp(outcome, "timeout") == 0;
  bool denied = answer.response == kResponseDenied || (outcome && strcmp(outcome, "denied") == 0);
  if (answer.response != kResponseDenied && answer.response != kResponseOther)
    throw Error(format(_("the portal answered with an unknown response code %u; nothing was granted"), answer.response),
                kRequestFailed);
  if (denied || timed_out) {
    std::string why = message && *message ? terminal_safe(message)
                      : timed_out         ? format(_("nobody answered for %s; nothing was granted"), shown.c_str())
                                          : format(_("%s was not granted"), shown.c_str());
    // TRANSLATORS: %s says why: the portal's message, or a sentence such as
    // "/home/ann/notes was not granted".
    std::string line = format(timed_out ? _("timed out: %s") : _("denied: %s"), why.c_str());
    fprintf(stderr, "airlock-request: %s\n", line.c_str());
    return kRequestRefused;
  }
  throw Error(message && *message
                  ? terminal_safe(message)
                  : format(_("the portal could not answer the request for %s; nothing was granted"), shown.c_str()),
              kRequestFailed);
}

}  // namespace

int request_access_command(int argc, char** argv) {
  AccessOptions options = parse_options(argc, argv);
  // A host without a port means HTTPS's.
  std::string path = options.kind != AccessKind::kHost ? absolute_path(options.path)
                     : (options.path.find(':') == std::string::npos || options.path.back() == ']') ? options.path + ":443"
                                                                                                    : options.path;

  GVariantBuilder builder;
  g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
  if (options.writable) g_variant_builder_add(&builder, "{sv}", "writable", g_variant_new_boolean(TRUE));
  if (options.has_reason)
    g_variant_builder_add(&builder, "{sv}", "reason", g_variant_new_string(options.reason.c_str()));
  g_autoptr(GVariant) request_options = g_variant_ref_sink(g_variant_builder_end(&builder));

  g_autoptr(GDBusConnection) connection = connect_to_portal();
  PortalAnswer answer = request_access(connection, options.kind, path, request_options, options.timeout_seconds);
  return report(options, path, answer);
}

}  // namespace airlock
