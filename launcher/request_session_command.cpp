#include "request_session_command.h"

#include <glib.h>
#include <json-glib/json-glib.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "airlock-dbus.h"
#include "dbus_names.h"
#include "error.h"
#include "request_portal.h"
#include "translate.h"

namespace airlock {

namespace {

bool parse_options(int argc, char** argv) {
  const bool grants = strcmp(argv[0], "grants") == 0;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON, with the keys and types of the D-Bus API"), nullptr},
      {},
  };
  g_autofree char* prgname = g_strconcat("airlock-request ", argv[0], nullptr);
  g_set_prgname(prgname);
  g_autoptr(GOptionContext) context = g_option_context_new(nullptr);
  g_option_context_set_summary(context, grants ? N_("List the folders and files this session has been granted.")
                                               : N_("Show this session: its id, profile, task and workspace."));
  g_option_context_set_description(context, N_("Exit status: 0, or 2 on failure. See airlock-request(1)."));
  add_translated_entries(context, entries);
  g_autoptr(GError) error = nullptr;
  if (!g_option_context_parse(context, &argc, &argv, &error))
    // TRANSLATORS: the first %s is GLib's message about the command line,
    // the second the command, such as "airlock-request folder".
    throw Error(format(_("%s (see '%s --help')"), error->message, prgname), kRequestFailed);
  if (argc > 1)
    // TRANSLATORS: %s is the command, such as "airlock-request grants".
    throw Error(format(_("unexpected argument '%s' (see '%s --help')"), argv[1], prgname), kRequestFailed);
  return json;
}

AirlockPortalSession* session_proxy(GDBusConnection* connection) {
  g_autoptr(GError) error = nullptr;
  AirlockPortalSession* proxy = airlock_portal_session_proxy_new_sync(
      connection,
      static_cast<GDBusProxyFlags>(G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES |
                                   G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS | G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START),
      nullptr, kPortalObjectPath, nullptr, &error);
  if (!proxy) throw Error(dbus_error_message(connection, error), kRequestFailed);
  return proxy;
}

void print_json(GVariant* value) {
  g_autoptr(JsonNode) node = json_gvariant_serialize(value);
  g_autoptr(JsonGenerator) generator = json_generator_new();
  json_generator_set_pretty(generator, TRUE);
  json_generator_set_root(generator, node);
  g_autofree char* text = json_generator_to_data(generator, nullptr);
  printf("%s\n", text);
}

// A value of the portal's for a table: strings as they are, "-" when missing.
std::string shown_value(GVariant* dict, const char* key) {
  g_autoptr(GVariant) value = g_variant_lookup_value(dict, key, nullptr);
  if (!value) return "-";
  if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING)) return terminal_safe(g_variant_get_string(value, nullptr));
  g_autofree char* text = g_variant_print(value, FALSE);
  return terminal_safe(text);
}

std::string shown_since(GVariant* grant) {
  gint64 usec = 0;
  if (!g_variant_lookup(grant, "since", "x", &usec) || usec <= 0) return "-";
  g_autoptr(GDateTime) time = g_date_time_new_from_unix_local(usec / G_USEC_PER_SEC);
  if (!time) return "-";
  g_autofree char* text = g_date_time_format(time, "%Y-%m-%d %H:%M");
  return text;
}

size_t display_width(const std::string& text) {
  return static_cast<size_t>(g_utf8_strlen(text.c_str(), -1));
}

void print_grants_table(GVariant* grants) {
  if (g_variant_n_children(grants) == 0) {
    puts(_("This session holds no grants."));
    return;
  }
  // The resource comes last: its width varies most.
  constexpr size_t kColumns = 7;
  using Row = std::array<std::string, kColumns>;
  // TRANSLATORS: the headings of the table of grants, in capitals; its
  // rows show the portal's values (folder, rw, once...) as they are.
  std::vector<Row> rows = {{_("ID"), _("KIND"), _("ACCESS"), _("SCOPE"), _("SINCE"), _("DECIDED BY"), _("RESOURCE")}};
  GVariantIter iter;
  g_variant_iter_init(&iter, grants);
  while (GVariant* grant = g_variant_iter_next_value(&iter)) {
    rows.push_back({shown_value(grant, "id"), shown_value(grant, "kind"), shown_value(grant, "access"),
                    shown_value(grant, "scope"), shown_since(grant), shown_value(grant, "decided-by"),
                    shown_value(grant, "resource")});
    g_variant_unref(grant);
  }
  std::array<size_t, kColumns> widths{};
  for (const Row& row : rows)
    for (size_t column = 0; column < kColumns; ++column)
      widths[column] = std::max(widths[column], display_width(row[column]));
  for (const Row& row : rows) {
    std::string line;
    for (size_t column = 0; column < kColumns; ++column) {
      line += row[column];
      if (column + 1 == kColumns) break;
      line.append(widths[column] - display_width(row[column]) + 2, ' ');
    }
    puts(line.c_str());
  }
}

void print_info(GVariant* info) {
  // The documented keys first, in this order, then any the portal adds.
  static constexpr std::array<std::pair<const char*, const char*>, 4> kKnown = {{
      // TRANSLATORS: the labels of airlock-request info; other keys the
      // portal adds are shown as they are.
      {"id", N_("session")},
      {"profile", N_("profile")},
      {"task", N_("task")},
      {"workspace", N_("workspace")},
  }};
  std::vector<std::pair<std::string, std::string>> lines;
  for (const auto& [key, label] : kKnown) lines.emplace_back(_(label), shown_value(info, key));
  std::vector<std::string> others;
  GVariantIter iter;
  g_variant_iter_init(&iter, info);
  const char* key = nullptr;
  while (g_variant_iter_next(&iter, "{&sv}", &key, nullptr)) {
    bool known = std::any_of(kKnown.begin(), kKnown.end(), [key](const auto& k) { return strcmp(k.first, key) == 0; });
    if (!known) others.emplace_back(key);
  }
  std::sort(others.begin(), others.end());
  for (const auto& other : others) lines.emplace_back(terminal_safe(other.c_str()), shown_value(info, other.c_str()));
  size_t width = 0;
  for (const auto& line : lines) width = std::max(width, display_width(line.first));
  for (const auto& [label, value] : lines)
    printf("%s:%s%s\n", label.c_str(), std::string(width - display_width(label) + 1, ' ').c_str(), value.c_str());
}

}  // namespace

int request_session_command(int argc, char** argv) {
  const bool grants = strcmp(argv[0], "grants") == 0;
  const bool json = parse_options(argc, argv);
  g_autoptr(GDBusConnection) connection = connect_to_portal();
  g_autoptr(AirlockPortalSession) proxy = session_proxy(connection);
  g_autoptr(GVariant) value = nullptr;
  g_autoptr(GError) error = nullptr;
  bool ok = grants ? airlock_portal_session_call_list_grants_sync(proxy, &value, nullptr, &error)
                   : airlock_portal_session_call_get_info_sync(proxy, &value, nullptr, &error);
  if (!ok) throw Error(dbus_error_message(connection, error), kRequestFailed);
  if (json)
    print_json(value);
  else if (grants)
    print_grants_table(value);
  else
    print_info(value);
  return 0;
}

}  // namespace airlock
