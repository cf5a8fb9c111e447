#include "prompt_broker.h"

#include <algorithm>
#include <utility>

#include "dbus_names.h"

namespace airlock {

struct PromptBroker::Pending {
  PromptBroker* broker = nullptr;
  std::string id;
  PromptDetails details;
  int64_t since = 0;
  std::vector<Callback> waiters;
  size_t withdrawn = 0;
  std::string prompter;  // the bus name asked, "" while none is
  GCancellable* cancellable = nullptr;
  guint timeout = 0;
};

struct PromptBroker::Prompter {
  std::string name;
  std::string session;
  guint watch = 0;
};

namespace {

GVariant* details_variant(const PromptBroker::Pending& pending) {
  const PromptDetails& d = pending.details;
  GVariantBuilder builder;
  g_variant_builder_init(&builder, G_VARIANT_TYPE_VARDICT);
  auto text = [&](const char* key, const std::string& value) {
    g_variant_builder_add(&builder, "{sv}", key, g_variant_new_string(value.c_str()));
  };
  text("session", d.session);
  text("profile", d.profile);
  text("task", d.task);
  text("kind", d.kind);
  text("resource", d.resource);
  text("access", d.access);
  text("reason", d.reason);
  if (!d.host.empty()) {
    text("host", d.host);
    text("header", d.header);
  }
  g_variant_builder_add(&builder, "{sv}", "dangerous", g_variant_new_boolean(d.dangerous));
  g_variant_builder_add(&builder, "{sv}", "pid", g_variant_new_uint32(d.pid));
  std::vector<const char*> scopes;
  for (const auto& scope : d.scopes) scopes.push_back(scope.c_str());
  g_variant_builder_add(&builder, "{sv}", "scopes", g_variant_new_strv(scopes.data(), static_cast<gssize>(scopes.size())));
  return g_variant_builder_end(&builder);
}

// A person's "allow" with RESULTS (a prompter's reply, or Manager.Answer's
// options) for DETAILS. A scope that was not offered falls to less: "always"
// to "task", anything else to "once". A secret is "always" only when the
// prompter says the person confirmed it in a second step ("confirm-always"),
// because a secret remembered for good is not what a quick click should
// give (issue 5); and its "task" may end sooner ("ttl", in seconds).
PromptAnswer allow_answer(const PromptDetails& details, const std::string& asked_scope, GVariant* results) {
  PromptAnswer answer;
  answer.allow = true;
  answer.by_person = true;
  answer.outcome = "allow";
  std::string scope = asked_scope;
  const auto& offered = details.scopes;
  if (std::find(offered.begin(), offered.end(), scope) == offered.end()) scope = scope == "always" ? "task" : "once";
  bool secret = details.kind == "secret";
  gboolean confirmed = FALSE;
  if (secret && scope == "always" && !(results && g_variant_lookup(results, "confirm-always", "b", &confirmed) && confirmed))
    scope = "task";
  guint32 ttl = 0;
  if (secret && scope == "task" && results && g_variant_lookup(results, "ttl", "u", &ttl))
    answer.ttl = std::min(ttl, kMaxSecretTtlSeconds);
  answer.scope = scope;
  return answer;
}

bool same_request(const PromptDetails& a, const PromptDetails& b) {
  return a.session == b.session && a.kind == b.kind && a.resource == b.resource && a.access == b.access &&
         a.host == b.host && a.header == b.header;
}

}  // namespace

PromptBroker::PromptBroker(GDBusConnection* bus, unsigned timeout_seconds, Listener listener)
    : bus_(bus), timeout_seconds_(timeout_seconds), listener_(std::move(listener)) {
  // How the bus's callbacks find the broker, and find none once it is gone.
  g_object_set_data(G_OBJECT(bus_), "airlock-prompt-broker", this);
}

PromptBroker::~PromptBroker() {
  g_object_set_data(G_OBJECT(bus_), "airlock-prompt-broker", nullptr);
  for (auto& pending : pending_) {
    if (pending->timeout) g_source_remove(pending->timeout);
    if (pending->cancellable) {
      g_cancellable_cancel(pending->cancellable);
      g_object_unref(pending->cancellable);
    }
  }
  for (auto& prompter : prompters_) g_bus_unwatch_name(prompter->watch);
}

std::string PromptBroker::ask(const PromptDetails& details, Callback done) {
  for (auto& pending : pending_) {
    if (same_request(pending->details, details)) {
      pending->waiters.push_back(std::move(done));
      return pending->id;
    }
  }
  auto pending = std::make_unique<Pending>();
  pending->broker = this;
  pending->id = std::to_string(++counter_);
  pending->details = details;
  pending->since = g_get_real_time();
  pending->waiters.push_back(std::move(done));
  pending->timeout = g_timeout_add_seconds(timeout_seconds_, on_timeout, pending.get());
  Pending* raw = pending.get();
  pending_.push_back(std::move(pending));
  if (listener_.added) {
    g_autoptr(GVariant) variant = g_variant_ref_sink(details_variant(*raw));
    listener_.added(raw->id, variant);
  }
  dispatch(raw);
  return raw->id;
}

void PromptBroker::withdraw(const std::string& id) {
  auto it = std::find_if(pending_.begin(), pending_.end(), [&](const auto& pending) { return pending->id == id; });
  if (it == pending_.end() || ++(*it)->withdrawn < (*it)->waiters.size()) return;
  PromptAnswer answer;
  answer.outcome = "cancelled";
  answer.message = "the request was withdrawn";
  finish(id, answer);
}

// Picks who asks: the session's own prompter, else the newest one for all
// sessions, else (mode auto) the desktop's, which D-Bus starts. Mode tty
// waits for its own.
void PromptBroker::dispatch(Pending* pending) {
  const Prompter* chosen = nullptr;
  for (auto it = prompters_.rbegin(); it != prompters_.rend(); ++it)
    if ((*it)->session == pending->details.session) {
      chosen = it->get();
      break;
    }
  if (!chosen && pending->details.prompt_mode != "tty")
    for (auto it = prompters_.rbegin(); it != prompters_.rend(); ++it)
      if ((*it)->session.empty()) {
        chosen = it->get();
        break;
      }
  std::string name;
  if (chosen) name = chosen->name;
  else if (pending->details.prompt_mode != "tty") name = kPrompterBusName;
  else return;  // the session's prompter is still on its way

  pending->prompter = name;
  pending->cancellable = g_cancellable_new();
  g_dbus_connection_call(bus_, name.c_str(), kPrompterPath, "org.airlock.impl.Prompter", "Prompt",
                         g_variant_new("(s@a{sv})", pending->id.c_str(), details_variant(*pending)),
                         G_VARIANT_TYPE("(ua{sv})"),
                         chosen ? G_DBUS_CALL_FLAGS_NO_AUTO_START : G_DBUS_CALL_FLAGS_NONE, G_MAXINT,
                         pending->cancellable, on_prompt_reply, new std::string(pending->id));
}

void PromptBroker::on_prompt_reply(GObject* source, GAsyncResult* result, gpointer data) {
  std::unique_ptr<std::string> id(static_cast<std::string*>(data));
  g_autoptr(GError) error = nullptr;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) return;  // answered otherwise
  // The broker outlives every call it did not cancel.
  auto* broker = static_cast<PromptBroker*>(g_object_get_data(source, "airlock-prompt-broker"));
  if (!broker) return;
  auto it = std::find_if(broker->pending_.begin(), broker->pending_.end(),
                         [&](const auto& pending) { return pending->id == *id; });
  if (it == broker->pending_.end()) return;
  Pending* pending = it->get();
  PromptAnswer answer;
  if (!reply) {
    answer.outcome = "error";
    if (g_dbus_error_is_remote_error(error)) {
      g_autofree char* remote = g_dbus_error_get_remote_error(error);
      if (g_strcmp0(remote, "org.freedesktop.DBus.Error.ServiceUnknown") == 0 ||
          g_strcmp0(remote, "org.freedesktop.DBus.Error.NameHasNoOwner") == 0) {
        answer.message = "nobody can answer: no prompter is running. Start 'airlock prompt' in a terminal "
                         "(or airlock-gui), then ask again";
        broker->finish(pending->id, answer);
        return;
      }
    }
    g_dbus_error_strip_remote_error(error);
    answer.message = std::string("the prompter failed: ") + error->message;
    broker->finish(pending->id, answer);
    return;
  }
  guint32 response = 2;
  g_autoptr(GVariant) results = nullptr;
  g_variant_get(reply, "(u@a{sv})", &response, &results);
  const char* scope = nullptr;
  if (!g_variant_lookup(results, "scope", "&s", &scope)) scope = "once";
  answer.by_person = true;
  if (response == 0) {
    answer = allow_answer(pending->details, scope, results);
  } else {
    answer.outcome = response == 1 ? "deny" : "cancelled";
    answer.message = response == 1 ? "denied by the person" : "the person dismissed the request";
  }
  broker->finish(pending->id, answer);
}

gboolean PromptBroker::on_timeout(gpointer data) {
  auto* pending = static_cast<Pending*>(data);
  pending->timeout = 0;
  PromptAnswer answer;
  answer.outcome = "timeout";
  answer.message = "nobody answered within " + std::to_string(pending->broker->timeout_seconds_) + " seconds";
  pending->broker->finish(pending->id, answer);
  return G_SOURCE_REMOVE;
}

void PromptBroker::finish(const std::string& id, const PromptAnswer& answer) {
  auto it = std::find_if(pending_.begin(), pending_.end(), [&](const auto& pending) { return pending->id == id; });
  if (it == pending_.end()) return;
  std::unique_ptr<Pending> pending = std::move(*it);
  pending_.erase(it);
  if (pending->timeout) g_source_remove(pending->timeout);
  if (pending->cancellable) {
    // Still on a screen: take it off.
    if (!g_cancellable_is_cancelled(pending->cancellable) && answer.outcome != "error" && !answer.by_person)
      g_dbus_connection_call(bus_, pending->prompter.c_str(), kPrompterPath, "org.airlock.impl.Prompter", "Close",
                             g_variant_new("(s)", pending->id.c_str()), nullptr, G_DBUS_CALL_FLAGS_NO_AUTO_START, -1,
                             nullptr, nullptr, nullptr);
    g_cancellable_cancel(pending->cancellable);
    g_object_unref(pending->cancellable);
  }
  if (listener_.removed) listener_.removed(pending->id);
  for (auto& waiter : pending->waiters) waiter(answer);
}

void PromptBroker::register_prompter(const std::string& name, const std::string& session) {
  auto prompter = std::make_unique<Prompter>();
  prompter->name = name;
  prompter->session = session;
  prompter->watch = g_bus_watch_name_on_connection(
      bus_, name.c_str(), G_BUS_NAME_WATCHER_FLAGS_NONE, nullptr,
      +[](GDBusConnection* connection, const char* gone, gpointer) {
        // No connection: the bus itself went away, and the portal with it.
        if (!connection) return;
        auto* broker = static_cast<PromptBroker*>(g_object_get_data(G_OBJECT(connection), "airlock-prompt-broker"));
        if (!broker) return;
        auto& list = broker->prompters_;
        for (auto it = list.begin(); it != list.end(); ++it) {
          if ((*it)->name != gone) continue;
          g_bus_unwatch_name((*it)->watch);
          list.erase(it);
          break;
        }
      },
      nullptr, nullptr);
  prompters_.push_back(std::move(prompter));
  // Requests waiting for a prompter (mode tty) get this one if it fits.
  for (auto& pending : pending_)
    if (pending->prompter.empty()) dispatch(pending.get());
}

bool PromptBroker::answer(const std::string& id, bool allow, const std::string& scope, GVariant* results,
                          std::string* error) {
  auto it = std::find_if(pending_.begin(), pending_.end(), [&](const auto& pending) { return pending->id == id; });
  if (it == pending_.end()) {
    *error = "no request " + id + " is waiting (see Manager.ListPending)";
    return false;
  }
  const auto& offered = (*it)->details.scopes;
  if (allow && std::find(offered.begin(), offered.end(), scope) == offered.end()) {
    *error = "the scope '" + scope + "' is not offered for request " + id;
    return false;
  }
  PromptAnswer answer;
  if (allow) {
    answer = allow_answer((*it)->details, scope, results);
  } else {
    answer.outcome = "deny";
    answer.by_person = true;
    answer.message = "denied by the person";
  }
  // The prompter that showed it is told to close it.
  Pending* pending = it->get();
  if (pending->cancellable && !pending->prompter.empty())
    g_dbus_connection_call(bus_, pending->prompter.c_str(), kPrompterPath, "org.airlock.impl.Prompter", "Close",
                           g_variant_new("(s)", pending->id.c_str()), nullptr, G_DBUS_CALL_FLAGS_NO_AUTO_START, -1,
                           nullptr, nullptr, nullptr);
  if (pending->cancellable) g_cancellable_cancel(pending->cancellable);
  finish(id, answer);
  return true;
}

void PromptBroker::end_session(const std::string& session) {
  std::vector<std::string> ids;
  for (auto& pending : pending_)
    if (pending->details.session == session) ids.push_back(pending->id);
  PromptAnswer answer;
  answer.outcome = "cancelled";
  answer.message = "the session ended";
  for (const auto& id : ids) finish(id, answer);
}

GVariant* PromptBroker::list_pending() const {
  GVariantBuilder builder;
  g_variant_builder_init(&builder, G_VARIANT_TYPE("aa{sv}"));
  for (const auto& pending : pending_) {
    g_autoptr(GVariant) details = g_variant_ref_sink(details_variant(*pending));
    GVariantDict dict;
    g_variant_dict_init(&dict, details);
    g_variant_dict_insert(&dict, "id", "s", pending->id.c_str());
    g_variant_dict_insert(&dict, "since", "x", static_cast<gint64>(pending->since));
    g_variant_builder_add_value(&builder, g_variant_dict_end(&dict));
  }
  return g_variant_builder_end(&builder);
}

unsigned PromptBroker::pending_for(const std::string& session) const {
  return static_cast<unsigned>(
      std::count_if(pending_.begin(), pending_.end(), [&](const auto& pending) { return pending->details.session == session; }));
}

}  // namespace airlock
