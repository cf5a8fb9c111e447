#include "portal.h"

#include <gio/gunixfdlist.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <utility>

#include "airlock-dbus.h"
#include "dbus_names.h"
#include "error.h"
#include "decision.h"
#include "file_access.h"
#include "network_access.h"
#include "profile.h"
#include "secret_access.h"

namespace airlock {

namespace {

constexpr size_t kMaxTaskBytes = 1024;
// How long a record nobody waits for may wait for others to share its write.
constexpr unsigned kAuditBatchMs = 200;

std::string text_of(GVariant* dict, const char* key, size_t max_bytes, std::string* why) {
  g_autoptr(GVariant) value = g_variant_lookup_value(dict, key, nullptr);
  if (!value) return "";
  if (!g_variant_is_of_type(value, G_VARIANT_TYPE_STRING)) {
    *why = std::string("'") + key + "' must be a string (s)";
    return "";
  }
  std::string text = g_variant_get_string(value, nullptr);
  if (text.size() > max_bytes) *why = std::string("'") + key + "' is longer than " + std::to_string(max_bytes) + " bytes";
  return text;
}

std::string new_session_id() {
  char id[9];
  g_snprintf(id, sizeof id, "%08x", g_random_int());
  return id;
}

}  // namespace

GVariant* grant_variant(const GrantRecord& grant, const std::string& session) {
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
  if (!session.empty()) g_variant_builder_add(&b, "{sv}", "session", g_variant_new_string(session.c_str()));
  g_variant_builder_add(&b, "{sv}", "id", g_variant_new_string(grant.id.c_str()));
  g_variant_builder_add(&b, "{sv}", "kind", g_variant_new_string(grant.kind.c_str()));
  g_variant_builder_add(&b, "{sv}", "resource", g_variant_new_string(grant.resource.c_str()));
  g_variant_builder_add(&b, "{sv}", "access", g_variant_new_string(grant.access.c_str()));
  g_variant_builder_add(&b, "{sv}", "scope", g_variant_new_string(grant.scope.c_str()));
  g_variant_builder_add(&b, "{sv}", "decided-by", g_variant_new_string(grant.decided_by.c_str()));
  g_variant_builder_add(&b, "{sv}", "since", g_variant_new_int64(grant.since));
  g_variant_builder_add(&b, "{sv}", "expires", g_variant_new_int64(grant.expires));
  if (!grant.host.empty()) {
    g_variant_builder_add(&b, "{sv}", "host", g_variant_new_string(grant.host.c_str()));
    g_variant_builder_add(&b, "{sv}", "header", g_variant_new_string(grant.header.c_str()));
  }
  return g_variant_builder_end(&b);
}

Portal::Portal(GDBusConnection* bus, PortalConfig config)
    : bus_(bus),
      config_(std::move(config)),
      store_(config_.data_dir + "/permissions.db"),
      audit_(config_.data_dir + "/audit.db") {
  manager_ = airlock_manager_skeleton_new();
  PromptBroker::Listener listener;
  listener.added = [this](const std::string& id, GVariant* details) {
    airlock_manager_emit_request_added(manager_, id.c_str(), details);
  };
  listener.removed = [this](const std::string& id) { airlock_manager_emit_request_removed(manager_, id.c_str()); };
  prompts_ = std::make_unique<PromptBroker>(bus_, config_.prompt_timeout, listener);
  files_ = std::make_unique<FileAccess>(this);
  network_ = std::make_unique<NetworkAccess>(this);
  secrets_ = std::make_unique<SecretAccess>(this);
  g_signal_connect(manager_, "handle-register-session", G_CALLBACK(handle_register_session), this);
  g_signal_connect(manager_, "handle-list-sessions", G_CALLBACK(handle_list_sessions), this);
  g_signal_connect(manager_, "handle-list-grants", G_CALLBACK(handle_list_grants), this);
  g_signal_connect(manager_, "handle-revoke", G_CALLBACK(handle_revoke), this);
  g_signal_connect(manager_, "handle-list-always", G_CALLBACK(handle_list_always), this);
  g_signal_connect(manager_, "handle-forget", G_CALLBACK(handle_forget), this);
  g_signal_connect(manager_, "handle-list-pending", G_CALLBACK(handle_list_pending), this);
  g_signal_connect(manager_, "handle-answer", G_CALLBACK(handle_answer), this);
  g_signal_connect(manager_, "handle-audit-log", G_CALLBACK(handle_audit_log), this);
  g_signal_connect(manager_, "handle-verify-log", G_CALLBACK(handle_verify_log), this);
  g_signal_connect(manager_, "handle-register-prompter", G_CALLBACK(handle_register_prompter), this);
  g_signal_connect(manager_, "handle-unlock-secrets", G_CALLBACK(handle_unlock_secrets), this);
  g_autoptr(GError) error = nullptr;
  if (!g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(manager_), bus_, kManagerPath, &error))
    throw Error(std::string("cannot export the Manager: ") + error->message);
}

Portal::~Portal() {
  // The proxies first: closing their connections audits them.
  network_.reset();
  flush_audit();
  // Requests next: their answers reach into the sessions.
  secrets_.reset();
  files_.reset();
  prompts_.reset();
  sessions_.clear();
  g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(manager_));
  g_object_unref(manager_);
}

SandboxSession* Portal::session(const std::string& id) {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second.get();
}

bool Portal::audit(AuditEvent event, const SandboxSession* session) {
  if (session) {
    event.session = session->info().id;
    event.profile = session->info().profile;
    event.workspace = session->info().workspace;
    event.task = session->info().task;
  }
  try {
    AuditLog::check(event);
  } catch (const Error& error) {
    g_warning("an audit event is invalid: %s", error.what());
    return false;
  }
  audit_queue_.push_back(std::move(event));
  schedule_flush(false);
  return true;
}

// A flush in the next turn of the loop (SOON) or after kAuditBatchMs: each
// write to disk waits for an fsync in the main loop, so records nobody
// waits for (a proxied connection's, as it closes) are gathered, and
// connections set up meanwhile do not wait behind a disk write each.
void Portal::schedule_flush(bool soon) {
  if (flush_source_ && (flush_soon_ || !soon)) return;
  if (flush_source_) g_source_remove(flush_source_);
  auto flush = [](gpointer data) -> gboolean {
    auto* self = static_cast<Portal*>(data);
    self->flush_source_ = 0;
    self->flush_audit();
    return G_SOURCE_REMOVE;
  };
  flush_soon_ = soon;
  flush_source_ = soon ? g_idle_add_full(G_PRIORITY_DEFAULT, flush, this, nullptr)
                       : g_timeout_add_full(G_PRIORITY_DEFAULT, kAuditBatchMs, flush, this, nullptr);
}

void Portal::after_audit(std::function<void(bool)> then) {
  if (audit_queue_.empty()) return then(true);
  after_audit_.push_back(std::move(then));
  schedule_flush(true);
}

bool Portal::flush_audit() {
  if (flush_source_) g_source_remove(std::exchange(flush_source_, 0));
  std::vector<AuditEvent> events = std::move(audit_queue_);
  std::vector<std::function<void(bool)>> waiting = std::move(after_audit_);
  audit_queue_.clear();
  after_audit_.clear();
  bool written = true;
  if (!events.empty()) {
    try {
      audit_.append_all(events);
    } catch (const Error& error) {
      g_warning("cannot write the audit log: %s", error.what());
      written = false;
    }
  }
  for (auto& then : waiting) then(written);
  return written;
}

void Portal::add_grant(SandboxSession* session, const GrantRecord& grant) {
  session->grants().push_back(grant);
  airlock_manager_emit_grant_added(manager_, session->info().id.c_str(), grant_variant(grant, session->info().id));
}

bool Portal::revoke(SandboxSession* session, const std::string& grant_id, std::string* message,
                    const std::string& event) {
  auto& grants = session->grants();
  auto it = std::find_if(grants.begin(), grants.end(), [&](const GrantRecord& g) { return g.id == grant_id; });
  if (it == grants.end()) {
    *message = "session " + session->info().id + " has no grant " + grant_id + " (see 'airlock grants " +
               session->info().id + "')";
    return false;
  }
  GrantRecord revoked = *it;
  RequestKind kind = parse_request_kind(revoked.kind).value_or(RequestKind::kFolder);
  bool mounted = kind == RequestKind::kFolder || kind == RequestKind::kFile;
  if (mounted) {
    int error = session->unmount(revoked.resource, message);
    if (error != 0 && error != ENOENT && error != EINVAL) return false;
  }
  // A detached mount takes every grant beneath it along; a host grant is
  // one host.
  auto goes = [&](const GrantRecord& grant) {
    return mounted ? (grant.kind == "folder" || grant.kind == "file") && path_is_within(grant.resource, revoked.resource)
                   : grant.id == revoked.id;
  };
  std::vector<GrantRecord> gone;
  std::copy_if(grants.begin(), grants.end(), std::back_inserter(gone), goes);
  std::erase_if(grants, goes);
  // A revoke sticks: the next request for it asks the person again.
  bool by_person = event == "revoke";
  if (by_person) {
    std::erase_if(session->task_answers, [&](const SandboxSession::TaskAnswer& a) {
      return a.kind == revoked.kind && resource_covers(kind, revoked.resource, a.resource);
    });
    session->revoked.push_back(revoked.resource);
  }
  for (const auto& grant : gone) {
    audit({.event = by_person ? "revoke" : "expire", .kind = grant.kind, .resource = grant.resource,
           .access = grant.access, .scope = grant.scope, .decided_by = by_person ? "person" : ""},
          session);
    airlock_manager_emit_grant_removed(manager_, session->info().id.c_str(), grant.id.c_str());
    // A person's revoke cuts the host's open connections; an expiry lets
    // them finish.
    if (by_person) network_->revoked(session->info().id, grant);
  }
  return true;
}

std::string Portal::register_session(GUnixFDList* fds, GVariant* control_handle, GVariant* listener_handle,
                                     GVariant* info) {
  std::string why;
  SessionInfo session_info;
  session_info.profile = text_of(info, "profile", kMaxNameBytes, &why);
  session_info.profile_file = text_of(info, "profile-file", kMaxResourceBytes, &why);
  session_info.task = text_of(info, "task", kMaxTaskBytes, &why);
  session_info.workspace = text_of(info, "workspace", kMaxResourceBytes, &why);
  session_info.command = text_of(info, "command", kMaxResourceBytes, &why);
  session_info.prompt = text_of(info, "prompt", 8, &why);
  // Given only by a session registering again after a portal restart.
  std::string id = text_of(info, "id", kMaxNameBytes, &why);
  bool again = !id.empty();
  if (!why.empty()) throw Error("RegisterSession: " + why);
  if (session_info.prompt.empty()) session_info.prompt = "auto";
  if (session_info.prompt != "auto" && session_info.prompt != "tty" && session_info.prompt != "none")
    throw Error("RegisterSession: 'prompt' must be auto, tty or none");
  if (!g_variant_lookup(info, "pid", "u", &session_info.pid)) session_info.pid = 0;
  check_profile(session_info.profile.empty() ? "default" : session_info.profile);
  if (session_info.profile.empty()) session_info.profile = "default";
  check_workspace(session_info.workspace);
  if (!g_utf8_validate(session_info.task.c_str(), -1, nullptr)) throw Error("RegisterSession: the task is not valid UTF-8");
  if (id.empty()) {
    do id = new_session_id();
    while (sessions_.count(id));
  } else if (sessions_.count(id) || id.find_first_not_of("0123456789abcdef") != std::string::npos) {
    throw Error("RegisterSession: the id " + id + " is in use or malformed");
  }
  session_info.id = id;
  session_info.started = g_get_real_time();

  // The profile's own rules are the policy's last layer (airlock-policy(5)).
  std::vector<PolicyLayer> profile_layer;
  if (!session_info.profile_file.empty()) {
    Profile profile = load_profile(session_info.profile_file, config_.home);
    if (!profile.policy_rules.empty()) profile_layer.push_back({"profile " + profile.file, profile.policy_rules});
  }
  PolicyContext context{config_.home, config_.runtime_dir};
  Policy policy = load_policy(policy_search_files(config_.home), context, profile_layer);

  if (!fds || !g_variant_is_of_type(control_handle, G_VARIANT_TYPE_HANDLE) ||
      !g_variant_is_of_type(listener_handle, G_VARIANT_TYPE_HANDLE))
    throw Error("RegisterSession needs the control and the listening socket as file descriptors");
  g_autoptr(GError) error = nullptr;
  UniqueFd control(g_unix_fd_list_get(fds, g_variant_get_handle(control_handle), &error));
  if (!control) throw Error(std::string("RegisterSession: the control socket: ") + error->message);
  int listener = g_unix_fd_list_get(fds, g_variant_get_handle(listener_handle), &error);
  if (listener < 0) throw Error(std::string("RegisterSession: the listening socket: ") + error->message);
  int type = 0;
  socklen_t length = sizeof type;
  if (getsockopt(control.get(), SOL_SOCKET, SO_TYPE, &type, &length) != 0 || type != SOCK_SEQPACKET) {
    close(listener);
    throw Error("RegisterSession: the control socket is not a SOCK_SEQPACKET socket");
  }

  auto session = std::make_unique<SandboxSession>(session_info, std::move(control), std::move(policy));
  SandboxSession* raw = session.get();
  if (!raw->serve(listener,
                  [this, raw](GDBusConnection* connection) {
                    files_->export_on(connection, raw);
                    network_->export_on(connection, raw);
                    secrets_->export_on(connection, raw);
                  },
                  &error))
    throw Error(std::string("RegisterSession: cannot serve the sandbox's socket: ") + error->message);
  // The proxy's socket, unless the session has no proxied network.
  if (g_autoptr(GVariant) proxy = g_variant_lookup_value(info, "proxy", G_VARIANT_TYPE_HANDLE)) {
    int proxy_fd = g_unix_fd_list_get(fds, g_variant_get_handle(proxy), &error);
    if (proxy_fd < 0 || !network_->start_session(raw, proxy_fd, &error))
      throw Error(std::string("RegisterSession: cannot serve the sandbox's proxy: ") + error->message);
  }
  raw->watch_end([this, id]() { end_session(id); });
  sessions_[id] = std::move(session);
  if (again) {
    // What the previous portal granted, and for how long, died with it:
    // revoked, so that nothing stays granted that no portal knows of.
    std::string message;
    int failed = raw->unmount_all(&message);
    audit({.event = "session-start", .rule = "registered again after a portal restart"}, raw);
    audit({.event = "revoke", .rule = "every run-time grant of the previous portal", .outcome = failed ? "error" : ""},
          raw);
    if (failed != 0) {
      sessions_.erase(id);
      throw Error("RegisterSession: cannot revoke the previous portal's grants: " + message);
    }
  } else {
    audit({.event = "session-start"}, raw);
  }
  files_->apply_always_grants(raw);

  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add(&b, "{sv}", "profile", g_variant_new_string(session_info.profile.c_str()));
  g_variant_builder_add(&b, "{sv}", "task", g_variant_new_string(session_info.task.c_str()));
  airlock_manager_emit_session_added(manager_, id.c_str(), g_variant_builder_end(&b));
  return id;
}

void Portal::end_session(const std::string& id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  SandboxSession* session = it->second.get();
  files_->end_session(id);
  network_->end_session(id);
  prompts_->end_session(id);
  // The mounts went with the sandbox; the record of them goes now.
  for (const auto& grant : session->grants())
    audit({.event = "expire", .kind = grant.kind, .resource = grant.resource, .access = grant.access,
           .scope = grant.scope},
          session);
  audit({.event = "session-end"}, session);
  sessions_.erase(it);
  airlock_manager_emit_session_removed(manager_, id.c_str());
}

gboolean Portal::handle_register_session(AirlockManager* manager, GDBusMethodInvocation* invocation, GUnixFDList* fds,
                                         GVariant* control, GVariant* listener, GVariant* info, gpointer data) {
  auto* self = static_cast<Portal*>(data);
  try {
    std::string id = self->register_session(fds, control, listener, info);
    airlock_manager_complete_register_session(manager, invocation, nullptr, id.c_str());
  } catch (const Error& error) {
    g_dbus_method_invocation_return_error_literal(invocation, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS, error.what());
  }
  return TRUE;
}

gboolean Portal::handle_list_sessions(AirlockManager* manager, GDBusMethodInvocation* invocation, gpointer data) {
  auto* self = static_cast<Portal*>(data);
  GVariantBuilder list;
  g_variant_builder_init(&list, G_VARIANT_TYPE("aa{sv}"));
  for (const auto& [id, session] : self->sessions_) {
    const SessionInfo& info = session->info();
    GVariantBuilder b;
    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&b, "{sv}", "id", g_variant_new_string(info.id.c_str()));
    g_variant_builder_add(&b, "{sv}", "profile", g_variant_new_string(info.profile.c_str()));
    g_variant_builder_add(&b, "{sv}", "task", g_variant_new_string(info.task.c_str()));
    g_variant_builder_add(&b, "{sv}", "workspace", g_variant_new_string(info.workspace.c_str()));
    g_variant_builder_add(&b, "{sv}", "command", g_variant_new_string(info.command.c_str()));
    g_variant_builder_add(&b, "{sv}", "prompt", g_variant_new_string(info.prompt.c_str()));
    g_variant_builder_add(&b, "{sv}", "pid", g_variant_new_uint32(info.pid));
    g_variant_builder_add(&b, "{sv}", "started", g_variant_new_int64(info.started));
    g_variant_builder_add(&b, "{sv}", "grants", g_variant_new_uint32(static_cast<guint32>(session->grants().size())));
    g_variant_builder_add(&b, "{sv}", "pending", g_variant_new_uint32(self->prompts_->pending_for(id)));
    g_variant_builder_add(&b, "{sv}", "flagged", g_variant_new_boolean(session->flagged()));
    g_variant_builder_add_value(&list, g_variant_builder_end(&b));
  }
  airlock_manager_complete_list_sessions(manager, invocation, g_variant_builder_end(&list));
  return TRUE;
}

gboolean Portal::handle_list_grants(AirlockManager* manager, GDBusMethodInvocation* invocation, const char* session,
                                    gpointer data) {
  auto* self = static_cast<Portal*>(data);
  if (*session && !self->session(session)) {
    g_dbus_method_invocation_return_error(invocation, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                                          "no running session %s (see 'airlock ps')", session);
    return TRUE;
  }
  GVariantBuilder list;
  g_variant_builder_init(&list, G_VARIANT_TYPE("aa{sv}"));
  for (const auto& [id, held] : self->sessions_)
    if (!*session || id == session)
      for (const auto& grant : held->grants()) g_variant_builder_add_value(&list, grant_variant(grant, id));
  airlock_manager_complete_list_grants(manager, invocation, g_variant_builder_end(&list));
  return TRUE;
}

gboolean Portal::handle_revoke(AirlockManager* manager, GDBusMethodInvocation* invocation, const char* session_id,
                               const char* grant, gpointer data) {
  auto* self = static_cast<Portal*>(data);
  SandboxSession* session = self->session(session_id);
  std::string message;
  if (!session) message = std::string("no running session ") + session_id + " (see 'airlock ps')";
  if (session && self->revoke(session, grant, &message)) {
    g_object_ref(invocation);
    self->after_audit([manager, invocation](bool) {
      airlock_manager_complete_revoke(manager, invocation);
      g_object_unref(invocation);
    });
    return TRUE;
  }
  g_dbus_method_invocation_return_error_literal(invocation, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS, message.c_str());
  return TRUE;
}

gboolean Portal::handle_list_always(AirlockManager* manager, GDBusMethodInvocation* invocation, gpointer data) {
  auto* self = static_cast<Portal*>(data);
  GVariantBuilder list;
  g_variant_builder_init(&list, G_VARIANT_TYPE("aa{sv}"));
  try {
    for (const auto& grant : self->store_.list()) {
      GVariantBuilder b;
      g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add(&b, "{sv}", "id", g_variant_new_int64(grant.id));
      g_variant_builder_add(&b, "{sv}", "profile", g_variant_new_string(grant.profile.c_str()));
      g_variant_builder_add(&b, "{sv}", "workspace", g_variant_new_string(grant.workspace.c_str()));
      g_variant_builder_add(&b, "{sv}", "kind", g_variant_new_string(grant.kind.c_str()));
      g_variant_builder_add(&b, "{sv}", "resource", g_variant_new_string(grant.resource.c_str()));
      g_variant_builder_add(&b, "{sv}", "access", g_variant_new_string(grant.access.c_str()));
      g_variant_builder_add(&b, "{sv}", "created", g_variant_new_int64(grant.created));
      g_variant_builder_add_value(&list, g_variant_builder_end(&b));
    }
  } catch (const Error& error) {
    g_variant_builder_clear(&list);
    g_dbus_method_invocation_return_error_literal(invocation, G_DBUS_ERROR, G_DBUS_ERROR_FAILED, error.what());
    return TRUE;
  }
  airlock_manager_complete_list_always(manager, invocation, g_variant_builder_end(&list));
  return TRUE;
}

gboolean Portal::handle_forget(AirlockManager* manager, GDBusMethodInvocation* invocation, gint64 id, gpointer data) {
  auto* self = static_cast<Portal*>(data);
  try {
    auto all = self->store_.list();
    auto it = std::find_if(all.begin(), all.end(), [&](const AlwaysGrant& g) { return g.id == id; });
    if (it == all.end() || !self->store_.forget(id)) {
      g_dbus_method_invocation_return_error(invocation, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                                            "no always-grant %" G_GINT64_FORMAT " (see 'airlock grants --always')", id);
      return TRUE;
    }
    self->audit({.event = "forget", .profile = it->profile, .workspace = it->workspace, .kind = it->kind,
                 .resource = it->resource, .access = it->access, .scope = "always", .decided_by = "person"},
                nullptr);
  } catch (const Error& error) {
    g_dbus_method_invocation_return_error_literal(invocation, G_DBUS_ERROR, G_DBUS_ERROR_FAILED, error.what());
    return TRUE;
  }
  g_object_ref(invocation);
  self->after_audit([manager, invocation](bool) {
    airlock_manager_complete_forget(manager, invocation);
    g_object_unref(invocation);
  });
  return TRUE;
}

gboolean Portal::handle_list_pending(AirlockManager* manager, GDBusMethodInvocation* invocation, gpointer data) {
  auto* self = static_cast<Portal*>(data);
  airlock_manager_complete_list_pending(manager, invocation, self->prompts_->list_pending());
  return TRUE;
}

gboolean Portal::handle_answer(AirlockManager* manager, GDBusMethodInvocation* invocation, const char* id,
                               guint response, const char* scope, GVariant* results, gpointer data) {
  auto* self = static_cast<Portal*>(data);
  std::string error;
  if (response > 1) error = "the response must be 0 (allow) or 1 (deny)";
  else if (self->prompts_->answer(id, response == 0, scope, results, &error)) {
    airlock_manager_complete_answer(manager, invocation);
    return TRUE;
  }
  g_dbus_method_invocation_return_error_literal(invocation, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS, error.c_str());
  return TRUE;
}

gboolean Portal::handle_audit_log(AirlockManager* manager, GDBusMethodInvocation* invocation, GVariant* filter,
                                  gpointer data) {
  auto* self = static_cast<Portal*>(data);
  self->flush_audit();  // what happened so far is in the answer
  AuditQuery query;
  const char* session = nullptr;
  if (g_variant_lookup(filter, "session", "&s", &session)) query.session = session;
  gint64 number = 0;
  if (g_variant_lookup(filter, "since", "x", &number)) query.since = number;
  if (g_variant_lookup(filter, "after", "x", &number)) query.after_seq = number;
  guint32 limit = 0;
  if (g_variant_lookup(filter, "limit", "u", &limit)) query.limit = limit;
  GVariantBuilder list;
  g_variant_builder_init(&list, G_VARIANT_TYPE("aa{sv}"));
  try {
    for (const auto& row : self->audit_.query(query)) {
      GVariantBuilder b;
      g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add(&b, "{sv}", "seq", g_variant_new_int64(row.seq));
      g_variant_builder_add(&b, "{sv}", "time", g_variant_new_int64(row.time));
      const std::pair<const char*, const std::string*> fields[] = {
          {"event", &row.event},   {"session", &row.session},     {"profile", &row.profile},
          {"workspace", &row.workspace}, {"task", &row.task},     {"kind", &row.kind},
          {"resource", &row.resource}, {"access", &row.access},   {"scope", &row.scope},
          {"decided-by", &row.decided_by}, {"rule", &row.rule},   {"outcome", &row.outcome},
          {"hash", &row.hash},
      };
      for (const auto& [key, value] : fields) g_variant_builder_add(&b, "{sv}", key, g_variant_new_string(value->c_str()));
      g_variant_builder_add_value(&list, g_variant_builder_end(&b));
    }
  } catch (const Error& error) {
    g_variant_builder_clear(&list);
    g_dbus_method_invocation_return_error_literal(invocation, G_DBUS_ERROR, G_DBUS_ERROR_FAILED, error.what());
    return TRUE;
  }
  airlock_manager_complete_audit_log(manager, invocation, g_variant_builder_end(&list));
  return TRUE;
}

gboolean Portal::handle_verify_log(AirlockManager* manager, GDBusMethodInvocation* invocation, gpointer data) {
  auto* self = static_cast<Portal*>(data);
  self->flush_audit();
  try {
    AuditVerification result = self->audit_.verify();
    GVariantBuilder b;
    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&b, "{sv}", "rows", g_variant_new_int64(result.rows));
    g_variant_builder_add(&b, "{sv}", "bad-seq", g_variant_new_int64(result.bad_seq));
    g_variant_builder_add(&b, "{sv}", "head-seq", g_variant_new_int64(result.head_seq));
    g_variant_builder_add(&b, "{sv}", "reason", g_variant_new_string(result.reason.c_str()));
    g_variant_builder_add(&b, "{sv}", "head-hash", g_variant_new_string(result.head_hash.c_str()));
    airlock_manager_complete_verify_log(manager, invocation, result.ok, g_variant_builder_end(&b));
  } catch (const Error& error) {
    g_dbus_method_invocation_return_error_literal(invocation, G_DBUS_ERROR, G_DBUS_ERROR_FAILED, error.what());
  }
  return TRUE;
}

gboolean Portal::handle_register_prompter(AirlockManager* manager, GDBusMethodInvocation* invocation,
                                          GVariant* options, gpointer data) {
  auto* self = static_cast<Portal*>(data);
  const char* session = "";
  g_autoptr(GVariant) value = g_variant_lookup_value(options, "session", nullptr);
  if (value && !g_variant_is_of_type(value, G_VARIANT_TYPE_STRING)) {
    g_dbus_method_invocation_return_error_literal(invocation, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                                                  "the option 'session' must be a string (s)");
    return TRUE;
  }
  if (value) session = g_variant_get_string(value, nullptr);
  if (*session && !self->session(session)) {
    g_dbus_method_invocation_return_error(invocation, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                                          "no running session %s (see 'airlock ps')", session);
    return TRUE;
  }
  self->prompts_->register_prompter(g_dbus_method_invocation_get_sender(invocation), session);
  airlock_manager_complete_register_prompter(manager, invocation);
  return TRUE;
}

}  // namespace airlock

namespace airlock {

gboolean Portal::handle_unlock_secrets(AirlockManager* manager, GDBusMethodInvocation* invocation, GUnixFDList* fds,
                                       GVariant* key, gpointer data) {
  auto* self = static_cast<Portal*>(data);
  g_autoptr(GError) error = nullptr;
  int fd = fds ? g_unix_fd_list_get(fds, g_variant_get_handle(key), &error) : -1;
  SecretBytes bytes;
  std::string problem;
  if (fd < 0) problem = "no key was passed (a memfd, as a file descriptor)";
  else if (!SecretBytes::read_fd(fd, 64, &bytes)) problem = "cannot read the key";
  if (fd >= 0) close(fd);
  if (problem.empty()) self->secrets_->unlock(std::move(bytes), &problem);
  if (!problem.empty()) {
    g_dbus_method_invocation_return_error_literal(invocation, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS, problem.c_str());
    return TRUE;
  }
  airlock_manager_complete_unlock_secrets(manager, invocation, nullptr);
  return TRUE;
}

}  // namespace airlock
