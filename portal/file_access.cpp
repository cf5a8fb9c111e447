#include "file_access.h"

#include <algorithm>
#include <optional>
#include <cstring>
#include <utility>

#include "airlock-dbus.h"
#include "dbus_names.h"
#include "decision.h"
#include "error.h"
#include "portal.h"
#include "request_handle.h"

namespace airlock {

namespace {

// Longest reason an agent may give, in bytes.
constexpr size_t kMaxReasonBytes = 1024;

struct FileAccessObjects {
  FileAccess* files;
  std::string session;
};

// The requested path as the policy and the audit log need it: valid UTF-8,
// absolute, no ".", ".." or empty components. A trailing '/' is dropped.
// Returns "" with *WHY set when it is not.
std::string checked_path(GVariant* path, std::string* why) {
  gsize size = 0;
  const char* bytes = static_cast<const char*>(g_variant_get_fixed_array(path, &size, 1));
  if (size > 0 && bytes[size - 1] == '\0') --size;  // as g_variant_new_bytestring() sends it
  if (size > kMaxResourceBytes) {
    *why = "the path is " + std::to_string(size) + " bytes long; the longest a path can be is " +
           std::to_string(kMaxResourceBytes);
    return "";
  }
  std::string text(bytes ? bytes : "", size);
  if (text.find('\0') != std::string::npos) {
    *why = "the path contains a NUL byte";
    return "";
  }
  if (!g_utf8_validate(text.data(), static_cast<gssize>(text.size()), nullptr)) {
    *why = "the path is not valid UTF-8; airlock grants only paths that can be shown to a person as they are";
    return "";
  }
  if (text.empty() || text[0] != '/') {
    *why = "the path '" + text + "' is not absolute: give the full path, starting with /";
    return "";
  }
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  for (size_t start = 1; start < text.size();) {
    size_t end = text.find('/', start);
    if (end == std::string::npos) end = text.size();
    std::string_view part(text.data() + start, end - start);
    if (part.empty() || part == "." || part == "..") {
      *why = "the path '" + text + "' contains '" + (part.empty() ? std::string("//") : std::string(part)) +
             "': ask for the folder itself, by its plain absolute path";
      return "";
    }
    start = end + 1;
  }
  for (unsigned char c : text)
    if (c < 0x20 || c == 0x7f) {
      *why = "the path contains a control character";
      return "";
    }
  return text;
}

struct RequestOptions {
  bool writable = false;
  std::string reason;
};

// Every key is known and of its type, or the request is refused.
bool parse_options(GVariant* options, RequestOptions* parsed, std::string* why) {
  GVariantIter iter;
  const char* key = nullptr;
  GVariant* value = nullptr;
  g_variant_iter_init(&iter, options);
  while (g_variant_iter_loop(&iter, "{&sv}", &key, &value)) {
    if (strcmp(key, "writable") == 0) {
      if (!g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN)) {
        *why = "the option 'writable' must be a boolean (b)";
        return false;
      }
      parsed->writable = g_variant_get_boolean(value);
    } else if (strcmp(key, "reason") == 0) {
      if (!g_variant_is_of_type(value, G_VARIANT_TYPE_STRING)) {
        *why = "the option 'reason' must be a string (s)";
        return false;
      }
      parsed->reason = g_variant_get_string(value, nullptr);
      if (parsed->reason.size() > kMaxReasonBytes) {
        *why = "the reason is longer than " + std::to_string(kMaxReasonBytes) + " bytes: say it in fewer words";
        return false;
      }
    } else {
      *why = std::string("unknown option '") + key + "' (known: writable, reason)";
      return false;
    }
  }
  return true;
}

const char* kind_word(RequestKind kind) { return kind == RequestKind::kFolder ? "folder" : "file"; }

}  // namespace

struct FileAccess::InFlight {
  std::string key;
  std::string session;
  GDBusConnection* connection = nullptr;
  AirlockPortalRequest* object = nullptr;
  std::string handle;
  RequestKind kind = RequestKind::kFolder;
  std::string requested;
  HostPath host;
  Access access = Access::kRead;
  std::string reason;
  PolicyResult policy;
  std::string prompt;  // the prompt it waits for, if any

  ~InFlight() {
    if (object) {
      g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(object));
      g_object_unref(object);
    }
    if (connection) g_object_unref(connection);
  }
};

FileAccess::FileAccess(Portal* portal) : portal_(portal) {}
FileAccess::~FileAccess() = default;

void FileAccess::export_on(GDBusConnection* connection, SandboxSession* session) {
  auto* objects = new FileAccessObjects{this, session->info().id};
  AirlockPortalFileAccess* files = airlock_portal_file_access_skeleton_new();
  g_signal_connect(files, "handle-request-folder", G_CALLBACK(handle_request_folder), objects);
  g_signal_connect(files, "handle-request-file", G_CALLBACK(handle_request_file), objects);
  AirlockPortalSession* info = airlock_portal_session_skeleton_new();
  g_signal_connect(info, "handle-get-info",
                   G_CALLBACK(+[](AirlockPortalSession* object, GDBusMethodInvocation* invocation, gpointer data) {
                     auto* o = static_cast<FileAccessObjects*>(data);
                     SandboxSession* s = o->files->portal_->session(o->session);
                     if (!s) {
                       g_dbus_method_invocation_return_error_literal(invocation, G_DBUS_ERROR, G_DBUS_ERROR_FAILED,
                                                                     "the session has ended");
                       return TRUE;
                     }
                     GVariantBuilder b;
                     g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
                     g_variant_builder_add(&b, "{sv}", "id", g_variant_new_string(s->info().id.c_str()));
                     g_variant_builder_add(&b, "{sv}", "profile", g_variant_new_string(s->info().profile.c_str()));
                     g_variant_builder_add(&b, "{sv}", "task", g_variant_new_string(s->info().task.c_str()));
                     g_variant_builder_add(&b, "{sv}", "workspace", g_variant_new_string(s->info().workspace.c_str()));
                     airlock_portal_session_complete_get_info(object, invocation, g_variant_builder_end(&b));
                     return TRUE;
                   }),
                   objects);
  g_signal_connect(info, "handle-list-grants",
                   G_CALLBACK(+[](AirlockPortalSession* object, GDBusMethodInvocation* invocation, gpointer data) {
                     auto* o = static_cast<FileAccessObjects*>(data);
                     SandboxSession* s = o->files->portal_->session(o->session);
                     GVariantBuilder b;
                     g_variant_builder_init(&b, G_VARIANT_TYPE("aa{sv}"));
                     if (s)
                       for (const auto& grant : s->grants()) g_variant_builder_add_value(&b, grant_variant(grant, ""));
                     airlock_portal_session_complete_list_grants(object, invocation, g_variant_builder_end(&b));
                     return TRUE;
                   }),
                   objects);
  g_autoptr(GError) error = nullptr;
  if (!g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(files), connection, kPortalObjectPath, &error) ||
      !g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(info), connection, kPortalObjectPath, &error))
    g_warning("cannot serve a sandbox connection: %s", error->message);
  // An agent that goes away withdraws what it was waiting for. (FileAccess
  // lives as long as the portal's main loop runs, which dispatches this.)
  g_signal_connect(connection, "closed",
                   G_CALLBACK(+[](GDBusConnection* closed, gboolean, GError*, gpointer data) {
                     static_cast<FileAccess*>(data)->withdraw_all(closed);
                   }),
                   this);
  // The objects live as long as the connection.
  g_object_set_data_full(G_OBJECT(connection), "airlock-file-access", files, g_object_unref);
  g_object_set_data_full(G_OBJECT(connection), "airlock-session-info", info, g_object_unref);
  g_object_set_data_full(G_OBJECT(connection), "airlock-objects", objects,
                         [](gpointer p) { delete static_cast<FileAccessObjects*>(p); });
}

gboolean FileAccess::handle_request_folder(GObject* skeleton, GDBusMethodInvocation* invocation, GVariant* path,
                                           GVariant* options, gpointer data) {
  auto* o = static_cast<FileAccessObjects*>(data);
  return o->files->handle_request(RequestKind::kFolder, skeleton, invocation, path, options);
}

gboolean FileAccess::handle_request_file(GObject* skeleton, GDBusMethodInvocation* invocation, GVariant* path,
                                         GVariant* options, gpointer data) {
  auto* o = static_cast<FileAccessObjects*>(data);
  return o->files->handle_request(RequestKind::kFile, skeleton, invocation, path, options);
}

gboolean FileAccess::handle_request(RequestKind kind, GObject*, GDBusMethodInvocation* invocation, GVariant* path,
                                    GVariant* options) {
  GDBusConnection* connection = g_dbus_method_invocation_get_connection(invocation);
  auto* objects = static_cast<FileAccessObjects*>(g_object_get_data(G_OBJECT(connection), "airlock-objects"));
  SandboxSession* session = admit_request(portal_, objects ? objects->session : "", invocation);
  if (!session) return TRUE;
  std::string why;
  std::string requested = checked_path(path, &why);
  RequestOptions parsed;
  if (requested.empty() || !parse_options(options, &parsed, &why)) {
    portal_->audit({.event = "request", .outcome = "error"}, session);
    g_dbus_method_invocation_return_error(invocation, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS, "%s", why.c_str());
    return TRUE;
  }

  auto request = std::make_unique<InFlight>();
  request->session = session->info().id;
  request->key = request->session + "/" + session->next_request_id();
  request->connection = G_DBUS_CONNECTION(g_object_ref(connection));
  request->handle = std::string(kRequestPathPrefix) + request->key.substr(request->key.find('/') + 1);
  request->kind = kind;
  request->requested = requested;
  request->access = parsed.writable ? Access::kWrite : Access::kRead;
  request->reason = parsed.reason;
  request->object = airlock_portal_request_skeleton_new();
  g_autoptr(GError) error = nullptr;
  if (!g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(request->object), connection,
                                        request->handle.c_str(), &error)) {
    g_dbus_method_invocation_return_gerror(invocation, error);
    return TRUE;
  }
  g_signal_connect(request->object, "handle-close",
                   G_CALLBACK(+[](AirlockPortalRequest* object, GDBusMethodInvocation* call, gpointer data) {
                     auto* files = static_cast<FileAccess*>(data);
                     const char* key = static_cast<const char*>(g_object_get_data(G_OBJECT(object), "airlock-key"));
                     airlock_portal_request_complete_close(object, call);
                     auto it = files->in_flight_.find(key ? key : "");
                     if (it == files->in_flight_.end()) return TRUE;
                     files->portal_->audit({.event = "decision",
                                            .kind = kind_word(it->second->kind),
                                            .resource = it->second->requested,
                                            .access = access_name(it->second->access),
                                            .outcome = "cancelled"},
                                           files->portal_->session(it->second->session));
                     // Not destroyed inside its own handler: after it.
                     auto* closed = it->second.release();
                     files->in_flight_.erase(it);
                     if (!closed->prompt.empty()) files->portal_->prompts().withdraw(closed->prompt);
                     g_idle_add(
                         [](gpointer doomed) -> gboolean {
                           delete static_cast<InFlight*>(doomed);
                           return G_SOURCE_REMOVE;
                         },
                         closed);
                     return TRUE;
                   }),
                   this);
  g_object_set_data_full(G_OBJECT(request->object), "airlock-key", g_strdup(request->key.c_str()), g_free);
  g_dbus_method_invocation_return_value(invocation, g_variant_new("(o)", request->handle.c_str()));
  InFlight* raw = request.get();
  in_flight_[request->key] = std::move(request);
  decide(raw);
  return TRUE;
}

void FileAccess::decide(InFlight* request) {
  SandboxSession* session = portal_->session(request->session);
  const char* kind = kind_word(request->kind);
  const char* access = access_name(request->access);
  if (!portal_->audit({.event = "request", .kind = kind, .resource = request->requested, .access = access}, session))
    return respond(request, kResponseOther, "error", "the audit log cannot be written, so nothing can be granted");

  // Resolved now, before anyone decides: the person sees the canonical path,
  // and what is granted is the object this descriptor holds.
  try {
    request->host = resolve_host_path(request->requested);
  } catch (const Error& error) {
    return respond(request, kResponseOther, "error", error.what());
  }
  const std::string& canonical = request->host.canonical;
  if (canonical != request->requested)
    return respond(request, kResponseOther, "error",
                   request->requested + " leads through a symbolic link to " + canonical +
                       ": ask for that path itself if it is what you need");
  if (request->host.is_directory != (request->kind == RequestKind::kFolder))
    return respond(request, kResponseOther, "error",
                   canonical + (request->host.is_directory ? " is a folder: ask for it with RequestFolder"
                                                           : " is a file: ask for it with RequestFile"));
  std::string overlap = sandbox_overlap(canonical);
  if (!overlap.empty()) return respond(request, kResponseOther, "denied", "cannot grant " + canonical + ": " + overlap);

  // Already visible through a grant of this session.
  for (const auto& held : session->grants())
    if (path_is_within(canonical, held.resource) && access_covers(held.access, access)) {
      portal_->audit({.event = "decision", .kind = kind, .resource = canonical, .access = access, .scope = held.scope,
                      .decided_by = held.decided_by, .rule = "already granted: grant " + held.id, .outcome = "allow"},
                     session);
      return respond(request, kResponseGranted, "granted", "", &held);
    }

  std::string key = request->key;
  request->prompt = airlock::decide(
      portal_, session, {.kind = request->kind, .resource = canonical, .access = request->access, .reason = request->reason},
      [this, key](const Verdict& verdict) { on_verdict(key, verdict); });
}

void FileAccess::on_verdict(const std::string& key, const Verdict& verdict) {
  auto it = in_flight_.find(key);
  if (it == in_flight_.end()) return;  // closed, or its session ended
  InFlight* request = it->second.get();
  if (!verdict.allow) return respond(request, verdict.response, verdict.outcome, verdict.message);
  if (g_dbus_connection_is_closed(request->connection))
    return respond(request, kResponseOther, "error", "the agent stopped waiting; nothing was granted");
  if (!verdict.path.empty() && !narrow(request, verdict.path)) return;
  grant(request, verdict.scope, verdict.decided_by);
}

// The person chose CHOSEN instead of what the agent asked for. It is checked
// as the request was (a plain absolute path, no symlink on the way, of the
// same kind, clear of the sandbox's own paths), must lie within the
// request, and must be what the policy would let a person grant without a
// deny-list warning the person never saw. Anything else denies.
bool FileAccess::narrow(InFlight* request, const std::string& chosen) {
  SandboxSession* session = portal_->session(request->session);
  if (!session) {
    respond(request, kResponseOther, "error", "the session ended; nothing was granted");
    return false;
  }
  const std::string& asked = request->host.canonical;
  auto refuse = [&](const std::string& why) {
    g_message("session %s: request for %s: the prompter's answer named %s instead, which is not granted: %s",
              request->session.c_str(), asked.c_str(), chosen.c_str(), why.c_str());
    portal_->audit({.event = "grant", .kind = kind_word(request->kind), .resource = asked,
                    .access = access_name(request->access), .rule = "narrower path refused: " + why, .outcome = "deny"},
                   session);
    respond(request, kResponseOther, "denied",
            "the person's answer named " + chosen + " instead, which cannot be granted: " + why);
    return false;
  };
  g_autoptr(GVariant) bytes = g_variant_ref_sink(g_variant_new_bytestring(chosen.c_str()));
  std::string why;
  std::string path = checked_path(bytes, &why);
  if (path.empty()) return refuse(why);
  if (!path_is_within(path, asked)) return refuse("it is not " + asked + " or beneath it");
  HostPath host;
  try {
    host = resolve_host_path(path);
  } catch (const Error& error) {
    return refuse(error.what());
  }
  if (host.canonical != path) return refuse("it leads through a symbolic link to " + host.canonical);
  if (!path_is_within(host.canonical, asked)) return refuse("it is not " + asked + " or beneath it");
  if (host.is_directory != (request->kind == RequestKind::kFolder))
    return refuse(request->kind == RequestKind::kFolder ? "it is not a folder" : "it is not a file");
  std::string overlap = sandbox_overlap(host.canonical);
  if (!overlap.empty()) return refuse(overlap);
  PolicyResult policy = session->policy().evaluate(
      {.kind = request->kind, .resource = host.canonical, .access = request->access, .profile = session->info().profile});
  if (policy.decision == Decision::kDeny) return refuse("the policy denies it (" + policy.reason + ")");
  bool warned = session->policy()
                    .evaluate({.kind = request->kind, .resource = asked, .access = request->access,
                               .profile = session->info().profile})
                    .dangerous;
  if (policy.dangerous && !warned) return refuse("it is on the deny list, and the person was not warned about that");
  // What the person said yes to for the rest of the task is the narrower path.
  std::string access = access_name(request->access);
  for (auto& answer : session->task_answers)
    if (answer.kind == kind_word(request->kind) && answer.resource == asked && answer.access == access)
      answer.resource = host.canonical;
  g_message("session %s: the person granted %s instead of %s", request->session.c_str(), host.canonical.c_str(),
            asked.c_str());
  request->requested = host.canonical;
  request->host = std::move(host);
  return true;
}

void FileAccess::grant(InFlight* request, const std::string& scope, const std::string& decided_by) {
  SandboxSession* session = portal_->session(request->session);
  const std::string& canonical = request->host.canonical;
  const char* access = access_name(request->access);
  // A read grant of the same object becomes a write grant: replaced, not
  // stacked, so that a revoke takes exactly what it names.
  auto& grants = session->grants();
  auto same = std::find_if(grants.begin(), grants.end(), [&](const GrantRecord& g) { return g.resource == canonical; });
  if (same != grants.end()) {
    std::string unused;
    if (!portal_->revoke(session, same->id, &unused))
      return respond(request, kResponseOther, "error", "cannot replace the read-only grant of " + canonical + ": " + unused);
  }
  std::string message;
  int error = session->mount(canonical, request->host.fd.get(), request->access == Access::kRead, &message);
  if (error != 0) {
    portal_->audit({.event = "grant", .kind = kind_word(request->kind), .resource = canonical, .access = access,
                    .scope = scope, .outcome = "error"},
                   session);
    return respond(request, kResponseOther, "error", "cannot grant " + canonical + ": " + message);
  }
  GrantRecord record{.id = session->next_grant_id(), .kind = kind_word(request->kind), .resource = canonical,
                     .access = access, .scope = scope, .decided_by = decided_by, .since = g_get_real_time()};
  portal_->add_grant(session, record);
  portal_->audit({.event = "grant", .kind = record.kind, .resource = canonical, .access = access, .scope = scope,
                  .decided_by = decided_by, .outcome = "allow"},
                 session);
  respond(request, kResponseGranted, "granted", "", &record);
}

namespace {

GVariant* results_variant(const std::string& outcome, const std::string& path, const GrantRecord* grant,
                          const std::string& message) {
  GVariantBuilder results;
  g_variant_builder_init(&results, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add(&results, "{sv}", "outcome", g_variant_new_string(outcome.c_str()));
  if (grant) {
    g_variant_builder_add(&results, "{sv}", "path", g_variant_new_string(path.c_str()));
    g_variant_builder_add(&results, "{sv}", "writable", g_variant_new_boolean(grant->access == "write"));
    g_variant_builder_add(&results, "{sv}", "grant", g_variant_new_string(grant->id.c_str()));
    g_variant_builder_add(&results, "{sv}", "scope", g_variant_new_string(grant->scope.c_str()));
    g_variant_builder_add(&results, "{sv}", "decided-by", g_variant_new_string(grant->decided_by.c_str()));
  }
  if (!message.empty()) g_variant_builder_add(&results, "{sv}", "message", g_variant_new_string(message.c_str()));
  return g_variant_builder_end(&results);
}

}  // namespace

// The answer goes out once its audit rows are on disk. A grant whose rows
// cannot be written is not on record, so it is undone and reported as an
// error.
void FileAccess::respond(InFlight* request, unsigned response, const std::string& outcome, const std::string& message,
                         const GrantRecord* grant) {
  auto it = in_flight_.find(request->key);
  std::shared_ptr<InFlight> owned(std::move(it->second));
  in_flight_.erase(it);
  std::optional<GrantRecord> granted;
  if (grant) granted = *grant;
  portal_->after_audit([this, owned, response, outcome, message, granted](bool written) {
    if (written || !granted) {
      airlock_portal_request_emit_response(owned->object, response,
                                           results_variant(outcome, owned->host.canonical, granted ? &*granted : nullptr, message));
      return;
    }
    std::string unused;
    if (SandboxSession* session = portal_->session(owned->session)) portal_->revoke(session, granted->id, &unused);
    airlock_portal_request_emit_response(
        owned->object, kResponseOther,
        results_variant("error", "", nullptr, "the audit log cannot be written, so nothing can be granted"));
  });
}

void FileAccess::apply_always_grants(SandboxSession* session) {
  std::vector<AlwaysGrant> stored;
  try {
    stored = portal_->store().for_session(session->info().profile, session->info().workspace);
  } catch (const Error& error) {
    g_warning("cannot read the always-grants: %s", error.what());
    return;
  }
  for (const auto& always : stored) {
    if (always.kind != "folder" && always.kind != "file") continue;
    AuditEvent failed{.event = "grant", .kind = always.kind, .resource = always.resource, .access = always.access,
                      .scope = "always", .decided_by = "store", .outcome = "error"};
    HostPath host;
    try {
      host = resolve_host_path(always.resource);
    } catch (const Error&) {
      portal_->audit(failed, session);  // moved or deleted since
      continue;
    }
    if (host.canonical != always.resource || host.is_directory != (always.kind == "folder") ||
        !sandbox_overlap(host.canonical).empty()) {
      portal_->audit(failed, session);
      continue;
    }
    auto access = parse_access(always.access);
    PolicyResult policy = session->policy().evaluate({.kind = always.kind == "folder" ? RequestKind::kFolder : RequestKind::kFile,
                                                      .resource = host.canonical,
                                                      .access = access.value_or(Access::kRead),
                                                      .profile = session->info().profile});
    if (policy.decision == Decision::kDeny || policy.dangerous) {
      failed.outcome = "deny";
      failed.rule = policy.reason;
      portal_->audit(failed, session);
      continue;
    }
    std::string message;
    if (session->mount(host.canonical, host.fd.get(), always.access != "write", &message) != 0) {
      portal_->audit(failed, session);
      continue;
    }
    GrantRecord record{.id = session->next_grant_id(), .kind = always.kind, .resource = host.canonical,
                       .access = always.access, .scope = "always", .decided_by = "store", .since = g_get_real_time()};
    portal_->add_grant(session, record);
    failed.outcome = "allow";
    portal_->audit(failed, session);
  }
}

void FileAccess::withdraw_all(GDBusConnection* connection) {
  std::vector<std::string> prompts;
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    if (it->second->connection != connection) {
      ++it;
      continue;
    }
    if (!it->second->prompt.empty()) prompts.push_back(it->second->prompt);
    it = in_flight_.erase(it);
  }
  for (const auto& prompt : prompts) portal_->prompts().withdraw(prompt);
}

void FileAccess::end_session(const std::string& session) {
  std::vector<std::string> keys;
  for (const auto& [key, request] : in_flight_)
    if (request->session == session) keys.push_back(key);
  for (const auto& key : keys)
    respond(in_flight_[key].get(), kResponseOther, "error", "the session ended; nothing was granted");
}

}  // namespace airlock
