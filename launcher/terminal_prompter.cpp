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

std::string what_is_asked(const Request& request) {
  std::string access = request.access == "write" ? "read-write" : request.access == "read" ? "read-only" : "";
  if (request.kind == "folder" || request.kind == "file")
    return (access.empty() ? std::string("access") : access + " access") + " to the " + request.kind;
  if (request.kind == "host") return "a network connection to";
  if (request.kind == "secret") return "the secret";
  return "access (" + terminal_safe(request.kind) + ") to";
}

std::string scope_words(const std::string& scope) {
  if (scope == "task") return "for this task";
  if (scope == "always") return "always";
  return "once";
}

// "folder /home/me/src (read)", for logs.
std::string summary(const Request& request) {
  std::string text = terminal_safe(request.kind) + " " + terminal_safe(request.resource);
  if (!request.access.empty()) text += " (" + terminal_safe(request.access) + ")";
  text += " [";
  if (!request.session.empty()) text += "session " + terminal_safe(request.session) + ", ";
  return text + "request " + terminal_safe(request.id) + "]";
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
      log_line("refused request " + terminal_safe(request.id) + ": " + terminal_safe(problem));
      g_dbus_method_invocation_return_error(invocation, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS, "Prompt: %s",
                                            problem.c_str());
      return TRUE;
    }
    if (!self->session.empty() && request.session != self->session) {
      self->log(request, "dismissed (another session's request)");
      self->reply(request, kResponseOther, "");
      return TRUE;
    }
    if (self->stopped) {
      self->log(request, "dismissed (this prompter is stopping)");
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
        write_all(self->tty_fd, "\n-> Withdrawn: the request stopped waiting (it timed out, or its session ended).\n");
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
      self->notice(std::string("the portal restarted, and registering with it again failed: ") + error->message);
      return;
    }
    self->notice("the portal restarted; registered with it again");
  }

  static void on_portal_vanished(GDBusConnection*, const char*, gpointer data) {
    auto* self = static_cast<State*>(data);
    if (self->portal.empty()) return;
    self->portal.clear();
    bool had_requests = !self->queue.empty();
    self->dismiss_all();
    self->notice(had_requests ? "the portal went away, and its open requests with it; waiting for it to return"
                              : "the portal went away; waiting for it to return");
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
      log(request, "dismissed (not --kind=" + s.kind + ")");
      return reply(request, kResponseOther, "");
    }
    if (!s.resource_glob.empty() && !g_pattern_match_simple(s.resource_glob.c_str(), request.resource.c_str())) {
      log(request, "dismissed (not --resource=" + terminal_safe(s.resource_glob) + ")");
      return reply(request, kResponseOther, "");
    }
    if (!offers(request, s.scope)) {
      log(request, "dismissed (scope " + s.scope + " is not offered" +
                       (request.dangerous && s.scope == "always" ? " for a deny-list override" : "") + ")");
      return reply(request, kResponseOther, "");
    }
    log(request, s.allow ? "allowed " + scope_words(s.scope) : "denied " + scope_words(s.scope));
    reply(request, s.allow ? kResponseGranted : kResponseDenied, s.scope, s.ttl);
    if (s.count > 0 && answered >= s.count) stop();
  }

  // --- interactive ---

  std::string question(const Request& request) const {
    if (request.scopes.empty()) return "Nothing can be granted for this request. Press Enter to deny: ";
    std::string text = "Allow?";
    for (const auto& scope : request.scopes)
      text += (scope == request.scopes.front() ? " " : " / ") + ("[" + scope.substr(0, 1) + "]" + scope.substr(1));
    text += " / [N]o: ";
    if (request.kind == "secret" && offers(request, "task")) text += "(t 15m: for 15 minutes) ";
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
    std::string text = "\n---- airlock: an agent asks for access";
    if (queue.size() > 1) text += " (" + std::to_string(queue.size() - 1) + " more waiting)";
    text += " ----\n";
    // Every value is wrapped here, each line under its label's column, so
    // that no value can start a line of its own.
    auto field = [&](const char* label, const std::string& value) {
      if (value.empty()) return;
      std::string padded = std::string("  ") + label;
      padded += std::string(12 - padded.size(), ' ');
      auto lines = wrap(terminal_cells(value, false, &escaped), width - static_cast<int>(padded.size()));
      for (size_t i = 0; i < lines.size(); ++i)
        text += (i == 0 ? padded : std::string(padded.size(), ' ')) + lines[i] + "\n";
    };
    text += "  wants     " + what_is_asked(request) + "\n";
    field("", request.resource);
    if (!request.host.empty())
      field("for", "the proxy to send in the " + request.header + " header to " + request.host +
                       "; the agent gets a placeholder, never the value");
    field("profile", request.profile);
    field("task", request.task);
    field("session", request.session + (request.pid ? " (airlock run, pid " + std::to_string(request.pid) + ")" : ""));
    field("request", request.id);
    if (request.reason.empty()) {
      text += "  The agent gave no reason.\n";
    } else {
      text += "  The agent says (its own words, unverified):\n";
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
      if (hidden) text += "  (" + std::to_string(hidden) + " more characters of the reason not shown)\n";
    }
    if (escaped)
      text += "  Note: the request holds control or invisible characters, shown as \\x.. or \\u....\n";
    if (request.dangerous)
      text += "  WARNING: this is on the deny list, which protects credentials and keys.\n"
              "  Allowing it overrides the deny list; \"always\" is not offered.\n";
    if (!hint_given)
      text += std::string(request.kind == "host" ? "  (once: this connection; " : "  (once: this request only; ") +
              "task: until the session ends; always: remembered\n"
              "  for this profile in this workspace; Enter or n denies)\n";
    return text;
  }

  void ask_next() {
    asking = false;
    if (queue.empty()) {
      write_all(tty_fd, "Waiting for requests (Ctrl-C to stop)...\n");
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
      if (self->asking) self->ask_again("That answer is far too long.");
    }
    return G_SOURCE_CONTINUE;
  }

  void ask_again(const std::string& why) {
    write_all(tty_fd, why + "\n" + question(queue.front()));
  }

  void on_line(const std::string& line) {
    std::string answer = lowercase_trimmed(line);
    if (!asking) {
      if (!answer.empty()) write_all(tty_fd, "(No request is waiting for an answer.)\n");
      return;
    }
    Request& request = queue.front();
    if (confirming_always) {
      confirming_always = false;
      if (answer != "yes") return ask_again("Not remembered.");
      reply(request, kResponseGranted, "always");
      write_all(tty_fd, "-> Allowed always.\n");
      queue.pop_front();
      return ask_next();
    }
    uint32_t ttl = 0;
    if (request.kind == "secret" && (answer.rfind("t ", 0) == 0 || answer.rfind("task ", 0) == 0)) {
      std::string duration = answer.substr(answer.find(' ') + 1);
      ttl = parse_duration(duration);
      if (ttl == 0) return ask_again("\"" + duration + "\" is not a duration: write e.g. t 90s, t 15m or t 2h.");
      answer = "t";
    }
    if (answer.empty() || answer == "n" || answer == "no" || answer == "d" || answer == "deny") {
      reply(request, kResponseDenied, "once");
      write_all(tty_fd, "-> Denied.\n");
    } else {
      std::string scope;
      for (const char* candidate : kScopes)
        if (answer == candidate || answer == std::string(candidate, 1)) scope = candidate;
      if (scope.empty()) {
        std::string letters;
        for (const auto& offered : request.scopes) letters += offered.substr(0, 1) + ", ";
        return ask_again("Answer " + letters + "or n (Enter denies).");
      }
      if (!offers(request, scope)) {
        if (scope == "always" && request.dangerous)
          return ask_again("\"always\" is not offered: this request overrides the deny list.");
        return ask_again("\"" + scope + "\" is not offered for this request.");
      }
      // A secret remembered for good takes a second, deliberate step.
      if (scope == "always" && request.kind == "secret") {
        confirming_always = true;
        write_all(tty_fd, "Give the secret " + terminal_safe(request.resource) + " to the profile " +
                              terminal_safe(request.profile) +
                              " in this workspace from now on, without asking? Type yes to confirm: ");
        return;
      }
      reply(request, kResponseGranted, scope, ttl);
      write_all(tty_fd, "-> Allowed " + scope_words(scope) +
                            (ttl ? " for " + std::to_string(ttl) + " seconds" : std::string()) + ".\n");
    }
    queue.pop_front();
    ask_next();
  }

  // Nobody is left to ask: deny what is on the screen, dismiss the rest.
  void end_of_input() {
    if (asking && !queue.empty()) {
      reply(queue.front(), kResponseDenied, "once");
      queue.pop_front();
      write_all(tty_fd, "\n-> Denied (end of input).\n");
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
    throw Error(std::string("cannot serve the prompter at ") + kPrompterPath + " on the session bus: " +
                error->message);
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
      throw Error(std::string("cannot reach airlock-portal (") + kPortalBusName + ") on the session bus" +
                  (address ? std::string(" DBUS_SESSION_BUS_ADDRESS=") + address : std::string()) + ": " +
                  error->message + "; install airlock-portal with its D-Bus service file, or start it");
    }
    throw Error(std::string("the airlock portal refused to register this prompter: ") + error->message);
  }

  // Who answered is who may call us. A restart between the reply and this
  // lookup is caught by the watch below, which registers again.
  g_autoptr(GVariant) owner = g_dbus_connection_call_sync(
      s->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetNameOwner",
      g_variant_new("(s)", kPortalBusName), G_VARIANT_TYPE("(s)"), G_DBUS_CALL_FLAGS_NONE, -1, nullptr, &error);
  if (!owner)
    throw Error(std::string("the airlock portal left the session bus just after registering this prompter: ") +
                error->message + "; start airlock prompt again");
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
