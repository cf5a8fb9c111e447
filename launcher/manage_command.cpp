#include "manage_command.h"

#include <glib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "airlock-dbus.h"
#include "dbus_names.h"
#include "error.h"
#include "host_path.h"
#include "json_output.h"
#include "text_table.h"
#include "translate.h"

namespace airlock {

namespace {

// How often `airlock log --follow` asks for new rows: the Manager has no
// signal for them.
constexpr unsigned kFollowIntervalUs = 1000 * 1000;

// The command line of one command: options parsed, the rest in `args`.
struct CommandLine {
  std::vector<std::string> args;
};

// PARAMETERS, SUMMARY and the ENTRIES' texts are untranslated (N_()):
// GOptionContext translates them in airlock's domain.
CommandLine parse_command_line(int argc, char** argv, const char* name, const char* parameters, const char* summary,
                               GOptionEntry* entries) {
  g_auto(GStrv) rest = nullptr;
  std::vector<GOptionEntry> all;
  for (GOptionEntry* entry = entries; entry && entry->long_name; ++entry) all.push_back(*entry);
  all.push_back({G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, nullptr, nullptr});
  all.push_back({});

  std::string prgname = std::string("airlock ") + name;
  g_set_prgname(prgname.c_str());
  g_autoptr(GOptionContext) context = g_option_context_new(parameters);
  g_option_context_set_summary(context, summary);
  g_option_context_set_description(context, N_("The commands that speak to the portal are described in airlock(1)."));
  add_translated_entries(context, all.data());
  g_autoptr(GError) error = nullptr;
  if (!g_option_context_parse(context, &argc, &argv, &error))
    // TRANSLATORS: the first %s is GLib's message about the options, the
    // second a command such as "grants".
    throw Error(format(_("%s (see 'airlock %s --help')"), error->message, name));
  CommandLine line;
  for (char** arg = rest; arg && *arg; ++arg) line.args.emplace_back(*arg);
  // "--" ends the options, so that an id may begin with a dash.
  if (!line.args.empty() && line.args[0] == "--") line.args.erase(line.args.begin());
  return line;
}

// What a failed call to the portal means for a person; ERROR's D-Bus name
// is never shown.
std::string portal_failure(const GError* error) {
  g_autofree char* remote = g_dbus_error_get_remote_error(error);
  std::string name = remote ? remote : "";
  g_autoptr(GError) stripped = g_error_copy(error);
  g_dbus_error_strip_remote_error(stripped);
  std::string message = terminal_safe(stripped->message);
  if (name == "org.freedesktop.DBus.Error.ServiceUnknown" || name == "org.freedesktop.DBus.Error.NameHasNoOwner")
    // TRANSLATORS: %s is the portal's D-Bus name, org.airlock.Portal.
    return format(_("the airlock portal (%s) is not running and cannot be started: no D-Bus service file names it. "
                    "Is airlock installed?"),
                  kPortalBusName);
  if (g_str_has_prefix(name.c_str(), "org.freedesktop.DBus.Error.Spawn."))
    // TRANSLATORS: %s says why D-Bus could not start the portal; keep the
    // command 'journalctl --user -e' as it is.
    return format(_("the airlock portal failed to start (%s): see the session's log, 'journalctl --user -e'"),
                  message.c_str());
  if (name == "org.freedesktop.DBus.Error.NoReply" || name == "org.freedesktop.DBus.Error.Timeout" ||
      name == "org.freedesktop.DBus.Error.TimedOut" || g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    // TRANSLATORS: keep the command 'journalctl --user -e' as it is.
    return _("the airlock portal did not answer in time: see the session's log, 'journalctl --user -e'");
  if (name == "org.freedesktop.DBus.Error.UnknownMethod" || name == "org.freedesktop.DBus.Error.UnknownInterface" ||
      name == "org.freedesktop.DBus.Error.UnknownObject")
    // TRANSLATORS: %s is the D-Bus error; keep the command
    // 'systemctl --user restart' as it is.
    return format(_("the airlock portal that is running does not match this airlock (%s): end it with "
                    "'systemctl --user restart' or log out, or reinstall airlock"),
                  message.c_str());
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CLOSED))
    return _("the session bus closed the connection: try again");
  return message;
}

struct ManagerDeleter {
  void operator()(AirlockManager* manager) const { g_object_unref(manager); }
};
using ManagerPtr = std::unique_ptr<AirlockManager, ManagerDeleter>;

// The portal's Manager on the session bus. Calling it starts the portal
// when it is not running (D-Bus activation).
ManagerPtr connect_manager() {
  g_autoptr(GError) error = nullptr;
  g_autoptr(GDBusConnection) bus = g_bus_get_sync(G_BUS_TYPE_SESSION, nullptr, &error);
  if (!bus)
    // TRANSLATORS: %s is GLib's error; DBUS_SESSION_BUS_ADDRESS is an
    // environment variable, which keeps its name.
    throw Error(format(_("cannot connect to the session bus, where the airlock portal runs (%s): run airlock in a "
                         "desktop session, or set DBUS_SESSION_BUS_ADDRESS to the bus's address"),
                       terminal_safe(error->message).c_str()));
  auto flags = static_cast<GDBusProxyFlags>(G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES |
                                            G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS |
                                            G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START_AT_CONSTRUCTION);
  AirlockManager* manager =
      airlock_manager_proxy_new_sync(bus, flags, kPortalBusName, kManagerPath, nullptr, &error);
  if (!manager)
    // TRANSLATORS: %s says why, in one of the messages about the portal.
    throw Error(format(_("cannot reach the airlock portal: %s"), portal_failure(error).c_str()));
  return ManagerPtr(manager);
}

using VariantPtr = std::unique_ptr<GVariant, decltype(&g_variant_unref)>;

VariantPtr adopt(GVariant* value) { return VariantPtr(value, g_variant_unref); }

// DICT's string KEY, or "" when it has none.
std::string text_of(GVariant* dict, const char* key) {
  const char* value = nullptr;
  if (!g_variant_lookup(dict, key, "&s", &value)) return "";
  return value;
}

// DICT's integer KEY, of whichever integer type the portal sent.
std::optional<std::int64_t> number_of(GVariant* dict, const char* key) {
  g_autoptr(GVariant) value = g_variant_lookup_value(dict, key, nullptr);
  if (!value) return std::nullopt;
  if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT64)) return g_variant_get_int64(value);
  if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT64))
    return static_cast<std::int64_t>(g_variant_get_uint64(value));
  if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32)) return g_variant_get_uint32(value);
  if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT32)) return g_variant_get_int32(value);
  return std::nullopt;
}

std::string number_text(GVariant* dict, const char* key) {
  auto number = number_of(dict, key);
  return number ? std::to_string(*number) : "";
}

bool flag_of(GVariant* dict, const char* key) {
  gboolean value = FALSE;
  return g_variant_lookup(dict, key, "b", &value) && value;
}

// Microseconds since the epoch, in local time.
std::string local_time(std::optional<std::int64_t> usec) {
  if (!usec || *usec <= 0) return "";
  g_autoptr(GDateTime) time = g_date_time_new_from_unix_local(*usec / G_USEC_PER_SEC);
  if (!time) return "?";
  g_autofree char* text = g_date_time_format(time, "%Y-%m-%d %H:%M:%S");
  return text ? text : "?";
}

// Paths are shown with ~ for the home directory; the portal's paths are
// canonical, so the home directory is too.
class PathDisplay {
 public:
  PathDisplay() {
    std::unique_ptr<char, decltype(&free)> canonical(realpath(g_get_home_dir(), nullptr), free);
    home_ = canonical ? canonical.get() : g_get_home_dir();
  }
  std::string path(const std::string& path) const { return path.empty() ? path : display_path(path, home_); }
  // A resource of KIND: folders and files are paths, hosts and secrets names.
  std::string resource(const std::string& kind, const std::string& resource) const {
    return kind == "folder" || kind == "file" ? path(resource) : resource;
  }

 private:
  std::string home_;
};

void print_json(const std::string& json) { fputs(json.c_str(), stdout); }

// "folder ~/src/foo (write)", for a person: the kind and access are the
// portal's words, as the tables show them.
std::string describe_grant(GVariant* grant, const PathDisplay& paths) {
  std::string kind = text_of(grant, "kind");
  std::string text = kind + " " + paths.resource(kind, text_of(grant, "resource"));
  std::string access = text_of(grant, "access");
  if (!access.empty()) text += " (" + access + ")";
  return terminal_safe(text);
}

void require_no_arguments(const CommandLine& line, const char* usage) {
  if (!line.args.empty())
    // TRANSLATORS: %s is the argument, the second %s how the command is
    // typed (airlock ps [--json]).
    throw Error(format(_("unexpected argument '%s': usage: %s"), terminal_safe(line.args[0]).c_str(), usage));
}

int ps_command(int argc, char** argv) {
  gboolean json = FALSE;
  GOptionEntry entries[] = {
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON for scripts"), nullptr},
      {},
  };
  CommandLine line = parse_command_line(argc, argv, "ps", nullptr, N_("List the running sessions."), entries);
  require_no_arguments(line, "airlock ps [--json]");

  ManagerPtr manager = connect_manager();
  g_autoptr(GError) error = nullptr;
  GVariant* reply = nullptr;
  if (!airlock_manager_call_list_sessions_sync(manager.get(), &reply, nullptr, &error))
    throw Error(format(_("cannot list the sessions: %s"), portal_failure(error).c_str()));
  VariantPtr sessions = adopt(reply);
  if (json) {
    print_json(json_lines_array(sessions.get()));
    return 0;
  }
  if (g_variant_n_children(sessions.get()) == 0) {
    fputs(_("no running sessions\n"), stdout);
    return 0;
  }
  // TRANSLATORS: the headings of the table of 'airlock ps'.
  TextTable table({{_("ID")}, {_("PROFILE")}, {_("STARTED")}, {_("PID"), true}, {_("GRANTS"), true},
                   {_("PENDING"), true}, {_("FLAGGED")}, {_("TASK")}});
  GVariantIter iter;
  g_variant_iter_init(&iter, sessions.get());
  while (GVariant* raw = g_variant_iter_next_value(&iter)) {
    VariantPtr session = adopt(raw);
    table.add_row({text_of(raw, "id"), text_of(raw, "profile"), local_time(number_of(raw, "started")),
                   number_text(raw, "pid"), number_text(raw, "grants"), number_text(raw, "pending"),
                   // TRANSLATORS: in the FLAGGED column of 'airlock ps'.
                   flag_of(raw, "flagged") ? _("flagged") : "", text_of(raw, "task")});
  }
  table.print(stdout);
  return 0;
}

void print_always_grants(AirlockManager* manager, bool json) {
  g_autoptr(GError) error = nullptr;
  GVariant* reply = nullptr;
  if (!airlock_manager_call_list_always_sync(manager, &reply, nullptr, &error))
    throw Error(format(_("cannot list the always-grants: %s"), portal_failure(error).c_str()));
  VariantPtr grants = adopt(reply);
  if (json) {
    print_json(json_lines_array(grants.get()));
    return;
  }
  if (g_variant_n_children(grants.get()) == 0) {
    fputs(_("no always-grants\n"), stdout);
    return;
  }
  PathDisplay paths;
  // TRANSLATORS: the headings of the table of 'airlock grants --always'.
  TextTable table({{_("ID"), true}, {_("PROFILE")}, {_("WORKSPACE")}, {_("KIND")}, {_("RESOURCE")}, {_("ACCESS")},
                   {_("CREATED")}});
  GVariantIter iter;
  g_variant_iter_init(&iter, grants.get());
  while (GVariant* raw = g_variant_iter_next_value(&iter)) {
    VariantPtr grant = adopt(raw);
    std::string kind = text_of(raw, "kind");
    table.add_row({number_text(raw, "id"), text_of(raw, "profile"), paths.path(text_of(raw, "workspace")), kind,
                   paths.resource(kind, text_of(raw, "resource")), text_of(raw, "access"),
                   local_time(number_of(raw, "created"))});
  }
  table.print(stdout);
}

int grants_command(int argc, char** argv) {
  gboolean json = FALSE, always = FALSE;
  GOptionEntry entries[] = {
      {"always", 'a', 0, G_OPTION_ARG_NONE, &always,
       N_("List the always-grants instead, with the ids 'airlock forget' takes"), nullptr},
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON for scripts"), nullptr},
      {},
  };
  // TRANSLATORS: SESSION is named in the summary that follows, and stays
  // the same in both.
  CommandLine line = parse_command_line(argc, argv, "grants", N_("[SESSION]"),
                                        N_("List the grants of SESSION, or of every running session."), entries);
  if (line.args.size() > 1)
    // TRANSLATORS: %s is the argument; the commands after "usage:" are
    // typed as shown.
    throw Error(format(_("unexpected argument '%s': usage: airlock grants [--json] [SESSION], or airlock grants "
                         "--always [--json]"),
                       terminal_safe(line.args[1]).c_str()));
  if (always && !line.args.empty())
    // TRANSLATORS: --always is an option; the command after "usage:" is
    // typed as shown.
    throw Error(_("--always lists the always-grants of every profile and takes no SESSION: usage: airlock grants "
                  "--always [--json]"));
  std::string session = line.args.empty() ? "" : line.args[0];
  if (!line.args.empty() && session.empty())
    // TRANSLATORS: ID is a heading of the table of 'airlock ps'.
    throw Error(_("the session's id is empty: see the ID column of 'airlock ps'"));

  ManagerPtr manager = connect_manager();
  if (always) {
    print_always_grants(manager.get(), json);
    return 0;
  }
  g_autoptr(GError) error = nullptr;
  GVariant* reply = nullptr;
  if (!airlock_manager_call_list_grants_sync(manager.get(), session.c_str(), &reply, nullptr, &error))
    throw Error(session.empty()
                    ? format(_("cannot list the grants: %s"), portal_failure(error).c_str())
                    // TRANSLATORS: the first %s is the session's id, the second says why.
                    : format(_("cannot list the grants of session %s: %s"), terminal_safe(session).c_str(),
                             portal_failure(error).c_str()));
  VariantPtr grants = adopt(reply);
  if (json) {
    print_json(json_lines_array(grants.get()));
    return 0;
  }
  if (g_variant_n_children(grants.get()) == 0) {
    if (session.empty()) fputs(_("no grants\n"), stdout);
    else printf(_("session %s has no grants\n"), terminal_safe(session).c_str());
    return 0;
  }
  PathDisplay paths;
  // TRANSLATORS: the headings of the table of 'airlock grants'.
  TextTable table({{_("SESSION")}, {_("ID")}, {_("KIND")}, {_("RESOURCE")}, {_("ACCESS")}, {_("SCOPE")}, {_("SINCE")},
                   {_("DECIDED-BY")}});
  GVariantIter iter;
  g_variant_iter_init(&iter, grants.get());
  while (GVariant* raw = g_variant_iter_next_value(&iter)) {
    VariantPtr grant = adopt(raw);
    std::string kind = text_of(raw, "kind");
    table.add_row({text_of(raw, "session").empty() ? session : text_of(raw, "session"), text_of(raw, "id"), kind,
                   paths.resource(kind, text_of(raw, "resource")), text_of(raw, "access"), text_of(raw, "scope"),
                   local_time(number_of(raw, "since")), text_of(raw, "decided-by")});
  }
  table.print(stdout);
  return 0;
}

int revoke_command(int argc, char** argv) {
  GOptionEntry entries[] = {{}};
  // TRANSLATORS: SESSION and GRANT are named in the summary that follows,
  // and stay the same in both.
  CommandLine line = parse_command_line(
      argc, argv, "revoke", N_("SESSION GRANT"),
      N_("Take the grant GRANT of SESSION away, at once. 'airlock grants' lists both ids."), entries);
  if (line.args.size() != 2)
    // TRANSLATORS: the command after "usage:" is typed as shown.
    throw Error(_("usage: airlock revoke SESSION GRANT (the ids 'airlock grants' lists)"));
  const std::string& session = line.args[0];
  const std::string& grant_id = line.args[1];
  if (session.empty() || grant_id.empty())
    // TRANSLATORS: SESSION and ID are headings of the table of 'airlock grants'.
    throw Error(_("the session's or the grant's id is empty: see the SESSION and ID columns of 'airlock grants'"));
  std::string shown_session = terminal_safe(session), shown_grant = terminal_safe(grant_id);

  ManagerPtr manager = connect_manager();
  // What the grant was, to say so once it is gone.
  std::string description;
  g_autoptr(GError) error = nullptr;
  GVariant* reply = nullptr;
  if (!airlock_manager_call_list_grants_sync(manager.get(), session.c_str(), &reply, nullptr, &error))
    // TRANSLATORS: the first %s is the grant's id, the second the session's, the third says why.
    throw Error(format(_("cannot revoke grant %s of session %s: %s"), shown_grant.c_str(), shown_session.c_str(),
                       portal_failure(error).c_str()));
  VariantPtr grants = adopt(reply);
  PathDisplay paths;
  GVariantIter iter;
  g_variant_iter_init(&iter, grants.get());
  while (GVariant* raw = g_variant_iter_next_value(&iter)) {
    VariantPtr grant = adopt(raw);
    if (text_of(raw, "id") == grant_id) description = describe_grant(raw, paths);
  }
  if (!airlock_manager_call_revoke_sync(manager.get(), session.c_str(), grant_id.c_str(), nullptr, &error))
    throw Error(format(_("cannot revoke grant %s of session %s: %s"), shown_grant.c_str(), shown_session.c_str(),
                       portal_failure(error).c_str()));
  if (description.empty())
    printf(_("revoked grant %s of session %s\n"), shown_grant.c_str(), shown_session.c_str());
  else
    // TRANSLATORS: the third %s is what the grant was, in the portal's
    // words: "folder ~/src/foo (write)".
    printf(_("revoked grant %s of session %s: %s\n"), shown_grant.c_str(), shown_session.c_str(), description.c_str());
  return 0;
}

int forget_command(int argc, char** argv) {
  GOptionEntry entries[] = {{}};
  // TRANSLATORS: ID... is named in the summary that follows, and stays the
  // same in both.
  CommandLine line = parse_command_line(argc, argv, "forget", N_("ID..."),
                                        N_("Remove the always-grants ID... ('airlock grants --always' lists them):\n"
                                           "later requests for the same things go through the policy and prompts "
                                           "again."),
                                        entries);
  if (line.args.empty())
    // TRANSLATORS: the command after "usage:" is typed as shown.
    throw Error(_("usage: airlock forget ID... (the ids 'airlock grants --always' lists)"));
  std::vector<std::int64_t> ids;
  for (const auto& arg : line.args) {
    guint64 id = 0;
    if (!g_ascii_string_to_unsigned(arg.c_str(), 10, 1, G_MAXINT64, &id, nullptr))
      // TRANSLATORS: %s is what was given; ID is a heading of the table of
      // 'airlock grants --always'.
      throw Error(format(_("'%s' is not an always-grant id: give a number from the ID column of 'airlock grants "
                           "--always'"),
                         terminal_safe(arg).c_str()));
    ids.push_back(static_cast<std::int64_t>(id));
  }

  ManagerPtr manager = connect_manager();
  // What each grant was, to say so once it is gone.
  g_autoptr(GError) error = nullptr;
  GVariant* reply = nullptr;
  if (!airlock_manager_call_list_always_sync(manager.get(), &reply, nullptr, &error))
    throw Error(format(_("cannot forget always-grants: %s"), portal_failure(error).c_str()));
  VariantPtr grants = adopt(reply);
  PathDisplay paths;
  int status = 0;
  for (std::int64_t id : ids) {
    // What the grant was: "folder ~/src/foo (write)", its profile and workspace.
    std::string description, profile, workspace;
    GVariantIter iter;
    g_variant_iter_init(&iter, grants.get());
    while (GVariant* raw = g_variant_iter_next_value(&iter)) {
      VariantPtr grant = adopt(raw);
      if (number_of(raw, "id") != id) continue;
      description = describe_grant(raw, paths);
      profile = terminal_safe(text_of(raw, "profile"));
      workspace = terminal_safe(paths.path(text_of(raw, "workspace")));
    }
    // Like rm: each id on its own, a failure reported and the rest still done.
    if (!airlock_manager_call_forget_sync(manager.get(), id, nullptr, &error)) {
      fflush(stdout);
      // TRANSLATORS: %lld is the always-grant's id, %s says why.
      fprintf(stderr, _("airlock: cannot forget always-grant %lld: %s\n"), static_cast<long long>(id),
              portal_failure(error).c_str());
      g_clear_error(&error);
      status = kExitAirlockFailed;
      continue;
    }
    long long shown_id = id;
    if (description.empty())
      printf(_("forgot always-grant %lld\n"), shown_id);
    else if (workspace.empty())
      // TRANSLATORS: %lld is the always-grant's id, the first %s what it
      // was, in the portal's words ("folder ~/src/foo (write)"), the second
      // its profile.
      printf(_("forgot always-grant %lld: %s, profile %s\n"), shown_id, description.c_str(), profile.c_str());
    else
      // TRANSLATORS: as the message before, and the third %s is the
      // workspace, a folder.
      printf(_("forgot always-grant %lld: %s, profile %s, workspace %s\n"), shown_id, description.c_str(),
             profile.c_str(), workspace.c_str());
  }
  return status;
}

// --since: "2026-11-03", "2026-11-03 14:00[:SS]" (local time, or with a
// zone), or an age: 90s, 10m, 2h, 3d, 1w.
std::int64_t parse_since(const std::string& text) {
  // TRANSLATORS: %s is what was given to --since; the times and ages are
  // typed as shown (the letters s, m, h, d, w are the units).
  std::string error_text = format(_("cannot read --since '%s': give a local time like 2026-11-03 or '2026-11-03 "
                                    "14:00', or an age like 10m, 2h or 3d"),
                                  terminal_safe(text).c_str());
  if (text.size() >= 2 && g_ascii_isdigit(text[0])) {
    std::string number = text.substr(0, text.size() - 1);
    std::int64_t unit = 0;
    switch (text.back()) {
      case 's': unit = 1; break;
      case 'm': unit = 60; break;
      case 'h': unit = 3600; break;
      case 'd': unit = 86400; break;
      case 'w': unit = 7 * 86400; break;
      default: break;
    }
    guint64 count = 0;
    if (unit != 0 && g_ascii_string_to_unsigned(number.c_str(), 10, 0, G_MAXINT64 / G_USEC_PER_SEC / unit, &count,
                                                nullptr))
      return std::max<std::int64_t>(1, g_get_real_time() - static_cast<std::int64_t>(count) * unit * G_USEC_PER_SEC);
  }
  std::string iso = text;
  if (iso.size() == 10) iso += "T00:00:00";
  if (iso.size() > 10 && iso[10] == ' ') iso[10] = 'T';
  if (iso.size() == 16) iso += ":00";  // no seconds
  g_autoptr(GTimeZone) local = g_time_zone_new_local();
  g_autoptr(GDateTime) time = g_date_time_new_from_iso8601(iso.c_str(), local);
  if (!time) throw Error(error_text);
  return g_date_time_to_unix(time) * G_USEC_PER_SEC;
}

class AuditLogTable {
 public:
  AuditLogTable()
      // TRANSLATORS: the headings of the table of 'airlock log'.
      : table_({{_("TIME")}, {_("SEQ"), true}, {_("EVENT")}, {_("SESSION")}, {_("PROFILE")}, {_("KIND")},
                {_("RESOURCE")}, {_("ACCESS")}, {_("SCOPE")}, {_("DECIDED-BY")}, {_("OUTCOME")}, {_("RULE")}}) {}

  // Adds ROWS (aa{sv}); returns the last seq among them, or 0.
  std::int64_t add(GVariant* rows) {
    std::int64_t last = 0;
    GVariantIter iter;
    g_variant_iter_init(&iter, rows);
    while (GVariant* raw = g_variant_iter_next_value(&iter)) {
      VariantPtr row = adopt(raw);
      std::string kind = text_of(raw, "kind");
      last = std::max(last, number_of(raw, "seq").value_or(0));
      table_.add_row({local_time(number_of(raw, "time")), number_text(raw, "seq"), text_of(raw, "event"),
                      text_of(raw, "session"), text_of(raw, "profile"), kind,
                      paths_.resource(kind, text_of(raw, "resource")), text_of(raw, "access"), text_of(raw, "scope"),
                      text_of(raw, "decided-by"), text_of(raw, "outcome"), text_of(raw, "rule")});
    }
    return last;
  }
  bool empty() const { return table_.empty(); }
  void print() { table_.print(stdout); }

 private:
  PathDisplay paths_;
  TextTable table_;
};

VariantPtr audit_rows(AirlockManager* manager, const std::string& session, std::int64_t since, std::int64_t after,
                      unsigned limit) {
  GVariantBuilder filter;
  g_variant_builder_init(&filter, G_VARIANT_TYPE_VARDICT);
  if (!session.empty()) g_variant_builder_add(&filter, "{sv}", "session", g_variant_new_string(session.c_str()));
  if (since > 0) g_variant_builder_add(&filter, "{sv}", "since", g_variant_new_int64(since));
  if (after > 0) g_variant_builder_add(&filter, "{sv}", "after", g_variant_new_int64(after));
  if (limit > 0) g_variant_builder_add(&filter, "{sv}", "limit", g_variant_new_uint32(limit));
  g_autoptr(GError) error = nullptr;
  GVariant* reply = nullptr;
  if (!airlock_manager_call_audit_log_sync(manager, g_variant_builder_end(&filter), &reply, nullptr, &error))
    throw Error(format(_("cannot read the audit log: %s"), portal_failure(error).c_str()));
  return adopt(reply);
}

int verify_log(AirlockManager* manager, bool json) {
  g_autoptr(GError) error = nullptr;
  gboolean ok = FALSE;
  GVariant* reply = nullptr;
  if (!airlock_manager_call_verify_log_sync(manager, &ok, &reply, nullptr, &error))
    throw Error(format(_("cannot verify the audit log: %s"), portal_failure(error).c_str()));
  VariantPtr result = adopt(reply);
  if (json) {
    std::string out = std::string("{\"ok\":") + (ok ? "true" : "false") + ",\"result\":" +
                      json_from_variant(result.get()) + "}\n";
    print_json(out);
  } else if (ok) {
    std::int64_t rows = number_of(result.get(), "rows").value_or(0);
    // TRANSLATORS: %lld is the number of rows; the head is the last row:
    // its sequence number and its hash.
    printf(n_("audit log verified: %lld row, head %s %s\n", "audit log verified: %lld rows, head %s %s\n",
              static_cast<unsigned long>(rows)),
           static_cast<long long>(rows), number_text(result.get(), "head-seq").c_str(),
           terminal_safe(text_of(result.get(), "head-hash")).c_str());
  } else {
    // TRANSLATORS: %s is the row's sequence number, the second %s says
    // what is wrong with it.
    printf(_("audit log DAMAGED at row %s: %s\n"), number_text(result.get(), "bad-seq").c_str(),
           terminal_safe(text_of(result.get(), "reason")).c_str());
  }
  return ok ? 0 : 1;
}

int log_command(int argc, char** argv) {
  g_autofree char* session = nullptr;
  g_autofree char* since_text = nullptr;
  g_autofree char* after_text = nullptr;
  g_autofree char* limit_text = nullptr;
  gboolean json = FALSE, verify = FALSE, follow = FALSE;
  GOptionEntry entries[] = {
      // TRANSLATORS: the placeholders ID, TIME, SEQ and N are also named in
      // the usage and the other messages of 'airlock log', and are headings
      // of its table (ID, TIME, SEQ): translate each the same in all.
      {"session", 's', 0, G_OPTION_ARG_STRING, &session, N_("Only the rows of this session"), N_("ID")},
      {"since", 0, 0, G_OPTION_ARG_STRING, &since_text,
       N_("Only rows from this time on: '2026-11-03 14:00', or an age: 2h"), N_("TIME")},
      {"after", 0, 0, G_OPTION_ARG_STRING, &after_text, N_("Only rows after this sequence number"), N_("SEQ")},
      {"limit", 'n', 0, G_OPTION_ARG_STRING, &limit_text, N_("Only the newest N rows"), N_("N")},
      {"follow", 'f', 0, G_OPTION_ARG_NONE, &follow, N_("Go on printing rows as they are written"), nullptr},
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON for scripts"), nullptr},
      {"verify", 0, 0, G_OPTION_ARG_NONE, &verify,
       N_("Check the log's hash chain instead; exit 1 when it is damaged"), nullptr},
      {},
  };
  CommandLine line =
      parse_command_line(argc, argv, "log", nullptr, N_("Show the audit log, oldest first, or verify it."), entries);
  // TRANSLATORS: how the command is typed, after "usage:"; the
  // placeholders ID, TIME and N as in the options' --help.
  require_no_arguments(line, _("airlock log [--session ID] [--since TIME] [--limit N] [--follow | --json], or "
                               "airlock log --verify [--json]"));
  if (verify && (session || since_text || after_text || limit_text || follow))
    // TRANSLATORS: the words that begin with -- are options.
    throw Error(_("--verify checks the whole log: it takes no --session, --since, --after, --limit or --follow"));
  if (follow && json)
    // TRANSLATORS: the words that begin with -- are options; JSON is data
    // for scripts.
    throw Error(_("--follow prints for people: use --after SEQ to fetch new rows as JSON"));
  if (session && !*session)
    // TRANSLATORS: --session is an option.
    throw Error(_("--session is empty: give an id from 'airlock ps'"));
  std::int64_t since = since_text ? parse_since(since_text) : 0;
  guint64 after = 0, limit = 0;
  if (after_text && !g_ascii_string_to_unsigned(after_text, 10, 0, G_MAXINT64, &after, nullptr))
    // TRANSLATORS: %s is what was given to the option --after; SEQ is a
    // heading of the table of 'airlock log'.
    throw Error(format(_("--after '%s' is not a sequence number: give the SEQ of a row"),
                       terminal_safe(after_text).c_str()));
  if (limit_text && !g_ascii_string_to_unsigned(limit_text, 10, 1, G_MAXUINT32, &limit, nullptr))
    // TRANSLATORS: %s is what was given to the option --limit.
    throw Error(format(_("--limit '%s' is not a number of rows: give a number from 1 on"),
                       terminal_safe(limit_text).c_str()));
  std::string session_id = session ? session : "";

  ManagerPtr manager = connect_manager();
  if (verify) return verify_log(manager.get(), json);
  VariantPtr rows = audit_rows(manager.get(), session_id, since, static_cast<std::int64_t>(after),
                               static_cast<unsigned>(limit));
  if (json) {
    print_json(json_lines_array(rows.get()));
    return 0;
  }
  AuditLogTable table;
  std::int64_t last = table.add(rows.get());
  if (table.empty() && !follow) {
    fputs(session || since_text || after_text ? _("no audit-log rows match\n") : _("the audit log is empty\n"), stdout);
    return 0;
  }
  table.print();
  while (follow) {
    g_usleep(kFollowIntervalUs);
    // Rows already shown are never fetched again.
    rows = audit_rows(manager.get(), session_id, since, std::max(last, static_cast<std::int64_t>(after)), 0);
    last = std::max(last, table.add(rows.get()));
    if (!table.empty()) table.print();
  }
  return 0;
}

}  // namespace

int manage_command(int argc, char** argv) {
  const char* command = argv[0];
  if (strcmp(command, "ps") == 0) return ps_command(argc, argv);
  if (strcmp(command, "grants") == 0) return grants_command(argc, argv);
  if (strcmp(command, "revoke") == 0) return revoke_command(argc, argv);
  if (strcmp(command, "forget") == 0) return forget_command(argc, argv);
  if (strcmp(command, "log") == 0) return log_command(argc, argv);
  throw Error(format(_("unknown command '%s' (see 'airlock --help')"), command));
}

}  // namespace airlock
