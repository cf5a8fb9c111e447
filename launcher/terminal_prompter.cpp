#include "terminal_prompter.h"

#include <glib-unix.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <deque>
#include <string_view>
#include <utility>
#include <vector>

#include "airlock-dbus.h"
#include "dbus_names.h"
#include "error.h"
#include "terminal_text.h"
#include "translate.h"

namespace airlock {

namespace {

// What a Prompt call asks, read from its details.
struct Request {
  std::string id;
  std::string session, profile, task, kind, resource, access, reason;
  std::string host, header;  // a secret the proxy puts into HEADER of requests to HOST
  bool dangerous = false;
  std::vector<std::string> scopes;  // those offered, in the order of kScopes
  guint32 pid = 0;
  GDBusMethodInvocation* invocation = nullptr;  // owned until completed
};

constexpr const char* kScopes[] = {"once", "task", "always"};

// "90s", "15m", "2h" or "30" (minutes) as seconds; 0 when it is none, or
// longer than a secret may be given for.
uint32_t parse_duration(const std::string& text) {
  char* end = nullptr;
  unsigned long number = strtoul(text.c_str(), &end, 10);
  if (end == text.c_str() || number == 0) return 0;
  std::string unit = end;
  unsigned long factor = unit.empty() || unit == "m" ? 60 : unit == "s" ? 1 : unit == "h" ? 3600 : 0;
  if (factor == 0 || number > 7UL * 24 * 3600 / factor) return 0;
  return static_cast<uint32_t>(number * factor);
}

bool offers(const Request& request, const std::string& scope) {
  return std::find(request.scopes.begin(), request.scopes.end(), scope) != request.scopes.end();
}

// Reads DETAILS into REQUEST; false with *PROBLEM set when a key has the
// wrong type or a needed one is missing. Unknown keys are for newer
// prompters, and are left alone.
bool read_details(GVariant* details, Request* request, std::string* problem) {
  struct StringKey {
    const char* key;
    std::string* target;
    bool needed;
  };
  const StringKey strings[] = {
      {"session", &request->session, false}, {"profile", &request->profile, false},
      {"task", &request->task, false},       {"kind", &request->kind, true},
      {"resource", &request->resource, true}, {"access", &request->access, false},
      {"reason", &request->reason, false},   {"host", &request->host, false},
      {"header", &request->header, false},
  };
  for (const auto& entry : strings) {
    g_autoptr(GVariant) value = g_variant_lookup_value(details, entry.key, nullptr);
    if (!value) {
      if (entry.needed) {
        *problem = std::string("details lack \"") + entry.key + "\"";
        return false;
      }
      continue;
    }
    if (!g_variant_is_of_type(value, G_VARIANT_TYPE_STRING)) {
      *problem = std::string("details: \"") + entry.key + "\" is not a string";
      return false;
    }
    *entry.target = g_variant_get_string(value, nullptr);
  }
  g_autoptr(GVariant) dangerous = g_variant_lookup_value(details, "dangerous", nullptr);
  if (dangerous) {
    if (!g_variant_is_of_type(dangerous, G_VARIANT_TYPE_BOOLEAN)) {
      *problem = "details: \"dangerous\" is not a boolean";
      return false;
    }
    request->dangerous = g_variant_get_boolean(dangerous);
  }
  g_autoptr(GVariant) pid = g_variant_lookup_value(details, "pid", nullptr);
  if (pid) {
    if (!g_variant_is_of_type(pid, G_VARIANT_TYPE_UINT32)) {
      *problem = "details: \"pid\" is not a uint32";
      return false;
    }
    request->pid = g_variant_get_uint32(pid);
  }
  std::vector<std::string> offered(std::begin(kScopes), std::end(kScopes));
  g_autoptr(GVariant) scopes = g_variant_lookup_value(details, "scopes", nullptr);
  if (scopes) {
    if (!g_variant_is_of_type(scopes, G_VARIANT_TYPE_STRING_ARRAY)) {
      *problem = "details: \"scopes\" is not an array of strings";
      return false;
    }
    g_autofree const char** names = g_variant_get_strv(scopes, nullptr);
    offered.clear();
    for (const char* scope : kScopes)
      for (const char** name = names; *name; ++name)
        if (g_strcmp0(*name, scope) == 0) {
          offered.emplace_back(scope);
          break;
        }
  }
  // A deny-list override is never remembered, whatever the portal offers.
  if (request->dangerous) std::erase(offered, std::string("always"));
  request->scopes = std::move(offered);
  return true;
}

// A cell of text that is ours, not the request's (all ASCII).
TerminalCell ascii_cell(std::string text) {
  int width = static_cast<int>(text.size());
  return {std::move(text), width};
}

// CELLS broken into lines of at most WIDTH columns, at a space when there
// is one in the second half of the line. Wrapping is done here, not by the
// terminal, so that every line can carry its own prefix.
std::vector<std::string> wrap(const std::vector<TerminalCell>& cells, int width) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < cells.size()) {
    int used = 0;
    size_t end = start;
    while (end < cells.size() && used + cells[end].width <= width) used += cells[end++].width;
    if (end == start) end = start + 1;  // one cell wider than the line
    if (end < cells.size()) {
      for (size_t space = end; space > start + (end - start) / 2; --space)
        if (cells[space - 1].text == " ") {
          end = space;
          break;
        }
    }
    std::string line;
    for (size_t i = start; i < end; ++i) line += cells[i].text;
    lines.push_back(std::move(line));
    start = end;
  }
  if (lines.empty()) lines.emplace_back();
  return lines;
}

// The agent's reason is shown up to this many characters; the rest is
// counted, not shown, so a flood cannot scroll the question away.
constexpr size_t kReasonShown = 600;

// What the request wants, shown after "wants"; the resource follows on the
// next line.
std::string what_is_asked(const Request& request) {
  bool write = request.access == "write", read = request.access == "read";
  // TRANSLATORS: what an agent asks for, shown after the label "wants"; the
  // folder's or file's path follows on the next line.
  if (request.kind == "folder") return write ? _("read-write access to the folder")
                                       : read ? _("read-only access to the folder")
                                              : _("access to the folder");
  if (request.kind == "file") return write ? _("read-write access to the file")
                                     : read ? _("read-only access to the file")
                                            : _("access to the file");
  // TRANSLATORS: shown after the label "wants"; the host and port follow on
  // the next line.
  if (request.kind == "host") return _("a network connection to");
  // TRANSLATORS: shown after the label "wants"; the secret's name follows on
  // the next line.
  if (request.kind == "secret") return _("the secret");
  // TRANSLATORS: shown after the label "wants"; %s is a kind of request this
  // prompter does not know, as the portal names it; the resource follows on
  // the next line.
  return format(_("access (%s) to"), terminal_safe(request.kind).c_str());
}

// What an answer did, for the terminal and the log.
std::string answered_with(bool allow, const std::string& scope) {
  if (scope == "task") return allow ? _("allowed for this task") : _("denied for this task");
  if (scope == "always") return allow ? _("allowed always") : _("denied always");
  return allow ? _("allowed once") : _("denied once");
}

// "folder /home/me/src (read) [session s1, request r1]", for logs: the kind
// and the access are the portal's words, not translated.
std::string summary(const Request& request) {
  std::string text = terminal_safe(request.kind) + " " + terminal_safe(request.resource);
  if (!request.access.empty()) text += " (" + terminal_safe(request.access) + ")";
  if (request.session.empty())
    // TRANSLATORS: %s is the request's id.
    return text + " " + format(_("[request %s]"), terminal_safe(request.id).c_str());
  // TRANSLATORS: the ids of the session and of the request.
  return text + " " + format(_("[session %s, request %s]"), terminal_safe(request.session).c_str(),
                             terminal_safe(request.id).c_str());
}

void write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the terminal went away; reading it says so
    done += static_cast<size_t>(n);
  }
}

std::string lowercase_trimmed(const std::string& text) {
  g_autofree char* copy = g_strdup(text.c_str());
  g_strstrip(copy);
  g_autofree char* lower = g_ascii_strdown(copy, -1);
  return lower;
}

void log_line(const std::string& text) {
  std::string line = "airlock prompt: " + text + "\n";
  fputs(line.c_str(), stderr);
  fflush(stderr);
}

}  // namespace

struct TerminalPrompter::State {
  GDBusConnection* bus;
  std::string session;
  int tty_fd;
  std::optional<PromptScript> script;

  AirlockImplPrompter* skeleton = nullptr;
  bool exported = false;
  std::string portal;  // unique name of the portal we registered with
  guint watch = 0;
  GCancellable* cancellable = nullptr;  // the asynchronous registration after a portal restart

  std::deque<Request> queue;  // interactive: the front one is on the terminal
  bool asking = false;
  bool stopped = false;  // end of input, or the script is done
  bool hint_given = false;
  guint tty_source = 0;
  std::string input;
  int answered = 0;
  bool confirming_always = false;  // a secret's "always" waits for "yes"

  std::function<void()> done_callback;
  guint done_source = 0;

  // --- replies ---

  // TTL: seconds a secret's "task" answer lasts (0: the whole task). A
  // secret's "always" reaches this only once the person confirmed it.
  void reply(Request& request, PortalResponse response, const std::string& scope, uint32_t ttl = 0) {
    GVariantBuilder results;
    g_variant_builder_init(&results, G_VARIANT_TYPE_VARDICT);
    if (response != kResponseOther) g_variant_builder_add(&results, "{sv}", "scope", g_variant_new_string(scope.c_str()));
    if (response == kResponseGranted && request.kind == "secret") {
      if (ttl > 0) g_variant_builder_add(&results, "{sv}", "ttl", g_variant_new_uint32(ttl));
      if (scope == "always") g_variant_builder_add(&results, "{sv}", "confirm-always", g_variant_new_boolean(TRUE));
    }
    airlock_impl_prompter_complete_prompt(skeleton, request.invocation, response, g_variant_builder_end(&results));
    request.invocation = nullptr;
    if (response != kResponseOther) ++answered;
  }

  void dismiss_all() {
    for (auto& request : queue) reply(request, kResponseOther, "");
    queue.clear();
    asking = false;
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    if (tty_source) g_source_remove(std::exchange(tty_source, 0u));
    if (!done_source)
      done_source = g_idle_add(
          [](gpointer data) -> gboolean {
            auto* self = static_cast<State*>(data);
            self->done_source = 0;
            if (self->done_callback) self->done_callback();
            return G_SOURCE_REMOVE;
          },
          this);
  }

  // --- D-Bus ---

  // Checked in the handlers rather than in ::g-authorize-method, which GIO
  // runs in a worker thread.
  bool from_portal(GDBusMethodInvocation* invocation) {
    const char* sender = g_dbus_method_invocation_get_sender(invocation);
    if (!portal.empty() && g_strcmp0(sender, portal.c_str()) == 0) return true;
    g_dbus_method_invocation_return_error(invocation, G_DBUS_ERROR, G_DBUS_ERROR_ACCESS_DENIED,
                                          "only the airlock portal (%s) may call the prompter",
                                          kPortalBusName);
    return false;
  }

  static gboolean on_prompt(AirlockImplPrompter*, GDBusMethodInvocation* invocation, const char* id,
                            GVariant* details, gpointer data) {
    auto* self = static_cast<State*>(data);
    if (!self->from_portal(invocation)) return TRUE;
    Request request;
    request.id = id;
    request.invocation = invocation;
    std::string problem;
    if (!read_details(details, &request, &problem)) {
      // TRANSLATORS: %s are the request's id and what is wrong with it (in
      // English: it names the D-Bus keys of the request's details).
      log_line(format(_("refused request %s: %s"), terminal_safe(request.id).c_str(), terminal_safe(problem).c_str()));
      g_dbus_method_invocation_return_error(invocation, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS, "Prompt: %s",
                                            problem.c_str());
      return TRUE;
    }
    if (!self->session.empty() && request.session != self->session) {
      self->log(request, _("dismissed (another session's request)"));
      self->reply(request, kResponseOther, "");
      return TRUE;
    }
    if (self->stopped) {
      self->log(request, _("dismissed (this prompter is stopping)"));
      self->reply(request, kResponseOther, "");
      return TRUE;
    }
    if (self->script) {
      self->answer_from_script(request);
      return TRUE;
    }
    self->queue.push_back(std::move(request));
    if (!self->asking) self->ask_next();
    return TRUE;
  }

  static gboolean on_close(AirlockImplPrompter* skeleton, GDBusMethodInvocation* invocation, const char* id,
                           gpointer data) {
    auto* self = static_cast<State*>(data);
    if (!self->from_portal(invocation)) return TRUE;
    auto it = std::find_if(self->queue.begin(), self->queue.end(), [&](const Request& r) { return r.id == id; });
    if (it != self->queue.end()) {
      bool on_screen = self->asking && it == self->queue.begin();
      if (on_screen)
        write_all(self->tty_fd,
                  _("\n-> Withdrawn: the request stopped waiting (it timed out, or its session ended).\n"));
      self->reply(*it, kResponseOther, "");
      self->queue.erase(it);
      if (on_screen) self->ask_next();
    }
    airlock_impl_prompter_complete_close(skeleton, invocation);
    return TRUE;
  }

  void log(const Request& request, const std::string& what) {
    if (script) log_line(what + ": " + summary(request));
  }

  // The portal restarted: register with the new one. When it went away,
  // the open requests went with it.
  static void on_portal_appeared(GDBusConnection*, const char*, const char* owner, gpointer data) {
    auto* self = static_cast<State*>(data);
    if (self->portal == owner) return;
    // The owner of the name is the portal: it may call as soon as it has
    // the registration, even before its reply reaches us.
    self->portal = owner;
    g_cancellable_cancel(self->cancellable);
    g_clear_object(&self->cancellable);
    self->cancellable = g_cancellable_new();
    g_dbus_connection_call(self->bus, owner, kManagerPath, "org.airlock.Manager", "RegisterPrompter",
                           g_variant_new("(@a{sv})", self->register_options()), G_VARIANT_TYPE_UNIT,
                           G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, self->cancellable, on_registered_again, self);
  }

  static void on_registered_again(GObject* source, GAsyncResult* result, gpointer data) {
    g_autoptr(GError) error = nullptr;
    g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) return;  // DATA may be gone
    auto* self = static_cast<State*>(data);
    if (!reply) {
      g_dbus_error_strip_remote_error(error);
      // TRANSLATORS: %s is the error, as D-Bus reports it.
      self->notice(format(_("the portal restarted, and registering with it again failed: %s"), error->message));
      return;
    }
    self->notice(_("the portal restarted; registered with it again"));
  }

  static void on_portal_vanished(GDBusConnection*, const char*, gpointer data) {
    auto* self = static_cast<State*>(data);
    if (self->portal.empty()) return;
    self->portal.clear();
    bool had_requests = !self->queue.empty();
    self->dismiss_all();
    self->notice(had_requests ? _("the portal went away, and its open requests with it; waiting for it to return")
                              : _("the portal went away; waiting for it to return"));
    if (had_requests && !self->script) self->ask_next();
  }

  void notice(const std::string& text) {
    if (script)
      log_line(text);
    else
      write_all(tty_fd, "\n(" + text + ")\n");
  }

  GVariant* register_options() {
    GVariantBuilder options;
    g_variant_builder_init(&options, G_VARIANT_TYPE_VARDICT);
    if (!session.empty()) g_variant_builder_add(&options, "{sv}", "session", g_variant_new_string(session.c_str()));
    return g_variant_builder_end(&options);
  }

  // --- scripted ---

  void answer_from_script(Request& request) {
    const PromptScript& s = *script;
    if (!s.kind.empty() && request.kind != s.kind) {
      // TRANSLATORS: keep --kind= as it is, an option; %s is a kind (folder, file, host, secret).
      log(request, format(_("dismissed (not --kind=%s)"), s.kind.c_str()));
      return reply(request, kResponseOther, "");
    }
    if (!s.resource_glob.empty() && !g_pattern_match_simple(s.resource_glob.c_str(), request.resource.c_str())) {
      // TRANSLATORS: keep --resource= as it is, an option; %s is its pattern.
      log(request, format(_("dismissed (not --resource=%s)"), terminal_safe(s.resource_glob).c_str()));
      return reply(request, kResponseOther, "");
    }
    if (!offers(request, s.scope)) {
      log(request, format(request.dangerous && s.scope == "always"
                              // TRANSLATORS: %s is the value of --scope, as typed: always.
                              ? _("dismissed (scope %s is not offered for a deny-list override)")
                              // TRANSLATORS: %s is the value of --scope, as typed: once, task or always.
                              : _("dismissed (scope %s is not offered)"),
                          s.scope.c_str()));
      return reply(request, kResponseOther, "");
    }
    log(request, answered_with(s.allow, s.scope));
    reply(request, s.allow ? kResponseGranted : kResponseDenied, s.scope, s.ttl);
    if (s.count > 0 && answered >= s.count) stop();
  }

  // --- interactive ---

  std::string question(const Request& request) const {
    if (request.scopes.empty()) return _("Nothing can be granted for this request. Press Enter to deny: ");
    // The letter in brackets is the key the person types, in every language.
    std::string answers;
    for (const auto& scope : request.scopes) {
      if (!answers.empty()) answers += " / ";
      if (scope == "once")
        // TRANSLATORS: an answer; the letter in brackets is the key typed,
        // which stays o in every language: write e.g. "[o] word".
        answers += _("[o]nce");
      else if (scope == "task")
        // TRANSLATORS: an answer (for the rest of the session's task); the
        // letter in brackets is the key typed, which stays t.
        answers += _("[t]ask");
      else
        // TRANSLATORS: an answer (remembered); the letter in brackets is
        // the key typed, which stays a.
        answers += _("[a]lways");
    }
    // TRANSLATORS: the answer that denies; the letter in brackets is the key
    // typed, which stays n (upper case: it is the default).
    answers += std::string(" / ") + _("[N]o");
    // TRANSLATORS: %s is the list of answers, "[o]nce / [t]ask / [a]lways / [N]o".
    std::string text = format(_("Allow? %s: "), answers.c_str());
    // TRANSLATORS: keep "t 15m" as it is: it is typed as shown.
    if (request.kind == "secret" && offers(request, "task")) text += _("(t 15m: for 15 minutes) ");
    return text;
  }

  int columns() const {
    struct winsize size {};
    if (ioctl(tty_fd, TIOCGWINSZ, &size) == 0 && size.ws_col >= 40) return size.ws_col;
    return 80;
  }

  std::string render(const Request& request) const {
    const int width = columns();
    bool escaped = false;
    size_t waiting = queue.size() - 1;
    // TRANSLATORS: the heading of a request; keep "airlock:" as it is.
    std::string text = waiting == 0 ? _("\n---- airlock: an agent asks for access ----\n")
                                    // TRANSLATORS: %zu requests wait their turn.
                                    : format(n_("\n---- airlock: an agent asks for access (%zu more waiting) ----\n",
                                                "\n---- airlock: an agent asks for access (%zu more waiting) ----\n",
                                                waiting),
                                             waiting);
    // Every value is wrapped here, each line under its label's column, so
    // that no value can start a line of its own. A label (at most 9
    // columns) is padded to 12, the column of the values.
    auto label = [](const char* name) {
      std::string padded = std::string("  ") + name;
      int used = cells_width(terminal_cells(padded));
      return padded + std::string(static_cast<size_t>(std::max(12 - used, 1)), ' ');
    };
    auto field = [&](const char* name, const std::string& value) {
      if (value.empty()) return;
      std::string padded = label(name);
      int indent = cells_width(terminal_cells(padded));
      auto lines = wrap(terminal_cells(value, false, &escaped), width - indent);
      for (size_t i = 0; i < lines.size(); ++i)
        text += (i == 0 ? padded : std::string(static_cast<size_t>(indent), ' ')) + lines[i] + "\n";
    };
    // The labels below stand in a column of their own.
    // TRANSLATORS: a label (at most 9 characters): what the agent asks for.
    text += label(_("wants")) + what_is_asked(request) + "\n";
    field("", request.resource);
    if (!request.host.empty()) {
      // TRANSLATORS: a secret the proxy puts into a request's header: the
      // first %s is the header's name (Authorization), the second the host.
      std::string use = format(
          _("the proxy to send in the %s header to %s; the agent gets a placeholder, never the value"),
          request.header.c_str(), request.host.c_str());
      // TRANSLATORS: a label (at most 9 characters): what the secret is for.
      field(_("for"), use);
    }
    // TRANSLATORS: a label (at most 9 characters): the agent's profile.
    field(_("profile"), request.profile);
    // TRANSLATORS: a label (at most 9 characters): the session's task.
    field(_("task"), request.task);
    std::string session_id = request.session;
    if (request.pid)
      // TRANSLATORS: %s is the session's id, %u the process id of "airlock
      // run" (a command: keep it as it is).
      session_id = format(_("%s (airlock run, pid %u)"), request.session.c_str(), request.pid);
    // TRANSLATORS: a label (at most 9 characters): the session's id.
    field(_("session"), session_id);
    // TRANSLATORS: a label (at most 9 characters): the request's id.
    field(_("request"), request.id);
    if (request.reason.empty()) {
      text += _("  The agent gave no reason.\n");
    } else {
      text += _("  The agent says (its own words, unverified):\n");
      std::vector<TerminalCell> cells = terminal_cells(request.reason, true, &escaped);
      size_t hidden = 0;
      if (cells.size() > kReasonShown) {
        hidden = cells.size() - kReasonShown;
        cells.resize(kReasonShown);
        cells.push_back(ascii_cell("..."));
      }
      cells.insert(cells.begin(), ascii_cell("\""));
      cells.push_back(ascii_cell("\""));
      const std::string gutter = "  | ";
      for (const auto& line : wrap(cells, width - static_cast<int>(gutter.size()))) text += gutter + line + "\n";
      if (hidden)
        text += format(n_("  (%zu more character of the reason not shown)\n",
                          "  (%zu more characters of the reason not shown)\n", hidden),
                       hidden);
    }
    if (escaped)
      // TRANSLATORS: keep \x.. and \u.... as they are: they are how the
      // characters are shown.
      text += _("  Note: the request holds control or invisible characters, shown as \\x.. or \\u....\n");
    if (request.dangerous)
      // TRANSLATORS: "always" is the answer typed a: name it as "[a]lways" does.
      text += _("  WARNING: this is on the deny list, which protects credentials and keys.\n"
                "  Allowing it overrides the deny list; \"always\" is not offered.\n");
    if (!hint_given)
      text += request.kind == "host"
                  // TRANSLATORS: what the answers mean, for a connection;
                  // once, task, always and n are the answers (typed o, t, a,
                  // n), as in "Allow? [o]nce / [t]ask / [a]lways / [N]o".
                  ? _("  (once: this connection; task: until the session ends; always: remembered\n"
                      "  for this profile in this workspace; Enter or n denies)\n")
                  // TRANSLATORS: as above, for a request that is not a connection.
                  : _("  (once: this request only; task: until the session ends; always: remembered\n"
                      "  for this profile in this workspace; Enter or n denies)\n");
    return text;
  }

  void ask_next() {
    asking = false;
    if (queue.empty()) {
      write_all(tty_fd, _("Waiting for requests (Ctrl-C to stop)...\n"));
      return;
    }
    asking = true;
    // What was typed before the question was on the screen answers nothing.
    if (isatty(tty_fd)) tcflush(tty_fd, TCIFLUSH);
    input.clear();
    write_all(tty_fd, render(queue.front()) + question(queue.front()));
    hint_given = true;
  }

  static gboolean on_tty(int, GIOCondition, gpointer data) {
    auto* self = static_cast<State*>(data);
    char buffer[512];
    ssize_t n = read(self->tty_fd, buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return G_SOURCE_CONTINUE;
    if (n <= 0) {
      self->tty_source = 0;
      self->end_of_input();
      return G_SOURCE_REMOVE;
    }
    self->input.append(buffer, static_cast<size_t>(n));
    size_t end;
    while ((end = self->input.find_first_of("\r\n")) != std::string::npos) {
      std::string line = self->input.substr(0, end);
      self->input.erase(0, end + 1);
      self->on_line(line);
      if (!self->asking) self->input.clear();
    }
    if (self->input.size() > 4096) {
      self->input.clear();
      if (self->asking) self->ask_again(_("That answer is far too long."));
    }
    return G_SOURCE_CONTINUE;
  }

  void ask_again(const std::string& why) {
    write_all(tty_fd, why + "\n" + question(queue.front()));
  }

  void on_line(const std::string& line) {
    std::string answer = lowercase_trimmed(line);
    if (!asking) {
      if (!answer.empty()) write_all(tty_fd, _("(No request is waiting for an answer.)\n"));
      return;
    }
    Request& request = queue.front();
    if (confirming_always) {
      confirming_always = false;
      if (answer != "yes") return ask_again(_("Not remembered."));
      reply(request, kResponseGranted, "always");
      write_all(tty_fd, _("-> Allowed always.\n"));
      queue.pop_front();
      return ask_next();
    }
    uint32_t ttl = 0;
    if (request.kind == "secret" && (answer.rfind("t ", 0) == 0 || answer.rfind("task ", 0) == 0)) {
      std::string duration = answer.substr(answer.find(' ') + 1);
      ttl = parse_duration(duration);
      if (ttl == 0)
        // TRANSLATORS: %s is what the person typed after "t"; keep the
        // examples as they are: they are typed as shown.
        return ask_again(format(_("\"%s\" is not a duration: write e.g. t 90s, t 15m or t 2h."), duration.c_str()));
      answer = "t";
    }
    // The answers are typed in English (o, t, a, n, yes) whatever the language.
    if (answer.empty() || answer == "n" || answer == "no" || answer == "d" || answer == "deny") {
      reply(request, kResponseDenied, "once");
      write_all(tty_fd, _("-> Denied.\n"));
    } else {
      std::string scope;
      for (const char* candidate : kScopes)
        if (answer == candidate || answer == std::string(candidate, 1)) scope = candidate;
      if (scope.empty()) {
        std::string letters;
        for (const auto& offered : request.scopes) letters += (letters.empty() ? "" : ", ") + offered.substr(0, 1);
        // TRANSLATORS: %s are the keys of the answers offered, "o, t, a";
        // keep n as it is: it is typed.
        if (!letters.empty()) return ask_again(format(_("Answer %s, or n (Enter denies)."), letters.c_str()));
        // TRANSLATORS: keep n as it is: it is typed.
        return ask_again(_("Answer n (Enter denies)."));
      }
      if (!offers(request, scope)) {
        if (scope == "always" && request.dangerous)
          // TRANSLATORS: "always" is the answer typed a: name it as "[a]lways" does.
          return ask_again(_("\"always\" is not offered: this request overrides the deny list."));
        // TRANSLATORS: %s is the answer typed: once, task or always.
        return ask_again(format(_("\"%s\" is not offered for this request."), scope.c_str()));
      }
      // A secret remembered for good takes a second, deliberate step.
      if (scope == "always" && request.kind == "secret") {
        confirming_always = true;
        // TRANSLATORS: %s are the secret's name and the profile's; keep
        // "yes" as it is: it is what the person types to confirm.
        write_all(tty_fd, format(_("Give the secret %s to the profile %s in this workspace from now on, without "
                                   "asking? Type yes to confirm: "),
                                 terminal_safe(request.resource).c_str(), terminal_safe(request.profile).c_str()));
        return;
      }
      reply(request, kResponseGranted, scope, ttl);
      if (ttl)  // a secret's "task" answer with a time
        write_all(tty_fd, format(n_("-> Allowed for this task for %u second.\n",
                                    "-> Allowed for this task for %u seconds.\n", ttl),
                                 ttl));
      else
        write_all(tty_fd, scope == "task"     ? _("-> Allowed for this task.\n")
                          : scope == "always" ? _("-> Allowed always.\n")
                                              : _("-> Allowed once.\n"));
    }
    queue.pop_front();
    ask_next();
  }

  // Nobody is left to ask: deny what is on the screen, dismiss the rest.
  void end_of_input() {
    if (asking && !queue.empty()) {
      reply(queue.front(), kResponseDenied, "once");
      queue.pop_front();
      write_all(tty_fd, _("\n-> Denied (end of input).\n"));
    }
    dismiss_all();
    stop();
  }
};

TerminalPrompter::TerminalPrompter(GDBusConnection* bus, std::string session, int tty_fd,
                                   std::optional<PromptScript> script)
    : state_(std::make_unique<State>()) {
  state_->bus = bus;
  state_->session = std::move(session);
  state_->tty_fd = tty_fd;
  state_->script = std::move(script);
  state_->skeleton = airlock_impl_prompter_skeleton_new();
  g_signal_connect(state_->skeleton, "handle-prompt", G_CALLBACK(State::on_prompt), state_.get());
  g_signal_connect(state_->skeleton, "handle-close", G_CALLBACK(State::on_close), state_.get());
}

TerminalPrompter::~TerminalPrompter() {
  State* s = state_.get();
  if (s->watch) g_bus_unwatch_name(s->watch);
  g_cancellable_cancel(s->cancellable);
  g_clear_object(&s->cancellable);
  if (s->tty_source) g_source_remove(s->tty_source);
  if (s->done_source) g_source_remove(s->done_source);
  s->dismiss_all();
  if (s->exported) g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(s->skeleton));
  g_signal_handlers_disconnect_by_data(s->skeleton, s);
  g_object_unref(s->skeleton);
}

void TerminalPrompter::start() {
  State* s = state_.get();
  g_autoptr(GError) error = nullptr;
  if (!g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(s->skeleton), s->bus, kPrompterPath, &error))
    // TRANSLATORS: %s are the D-Bus object path and the error.
    throw Error(format(_("cannot serve the prompter at %s on the session bus: %s"), kPrompterPath, error->message));
  s->exported = true;

  g_autoptr(GVariant) registered = g_dbus_connection_call_sync(
      s->bus, kPortalBusName, kManagerPath, "org.airlock.Manager", "RegisterPrompter",
      g_variant_new("(@a{sv})", s->register_options()), G_VARIANT_TYPE_UNIT, G_DBUS_CALL_FLAGS_NONE, -1, nullptr,
      &error);
  if (!registered) {
    g_autofree char* remote = g_dbus_error_get_remote_error(error);
    g_dbus_error_strip_remote_error(error);
    bool unreachable = g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
                       g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER) ||
                       g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_EXEC_FAILED) ||
                       g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_CHILD_EXITED) ||
                       g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_FAILED) ||
                       g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SPAWN_SERVICE_NOT_FOUND) ||
                       g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY) ||
                       g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ||
                       g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CLOSED);
    if (unreachable) {
      const char* address = g_getenv("DBUS_SESSION_BUS_ADDRESS");
      if (address)
        // TRANSLATORS: keep airlock-portal and DBUS_SESSION_BUS_ADDRESS as
        // they are; %s are the portal's D-Bus name, the bus address and the
        // error.
        throw Error(format(_("cannot reach airlock-portal (%s) on the session bus DBUS_SESSION_BUS_ADDRESS=%s: %s; "
                             "install airlock-portal with its D-Bus service file, or start it"),
                           kPortalBusName, address, error->message));
      // TRANSLATORS: keep airlock-portal as it is; %s are the portal's D-Bus
      // name and the error.
      throw Error(format(_("cannot reach airlock-portal (%s) on the session bus: %s; install airlock-portal with its "
                           "D-Bus service file, or start it"),
                         kPortalBusName, error->message));
    }
    // TRANSLATORS: %s is the portal's error.
    throw Error(format(_("the airlock portal refused to register this prompter: %s"), error->message));
  }

  // Who answered is who may call us. A restart between the reply and this
  // lookup is caught by the watch below, which registers again.
  g_autoptr(GVariant) owner = g_dbus_connection_call_sync(
      s->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetNameOwner",
      g_variant_new("(s)", kPortalBusName), G_VARIANT_TYPE("(s)"), G_DBUS_CALL_FLAGS_NONE, -1, nullptr, &error);
  if (!owner)
    // TRANSLATORS: keep "airlock prompt" as it is, a command; %s is the error.
    throw Error(format(_("the airlock portal left the session bus just after registering this prompter: %s; start "
                         "airlock prompt again"),
                       error->message));
  const char* name = nullptr;
  g_variant_get(owner, "(&s)", &name);
  s->portal = name;
  s->watch = g_bus_watch_name_on_connection(s->bus, kPortalBusName, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                            State::on_portal_appeared, State::on_portal_vanished, s, nullptr);

  if (!s->script) {
    s->tty_source = g_unix_fd_add(s->tty_fd, static_cast<GIOCondition>(G_IO_IN | G_IO_HUP | G_IO_ERR),
                                  State::on_tty, s);
    s->ask_next();
  }
}

void TerminalPrompter::on_done(std::function<void()> callback) { state_->done_callback = std::move(callback); }

int TerminalPrompter::answered() const { return state_->answered; }

}  // namespace airlock
