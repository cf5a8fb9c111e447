#include "secret_access.h"

#include <gio/gunixfdlist.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <utility>

#include "airlock-dbus.h"
#include "dbus_names.h"
#include "decision.h"
#include "network_access.h"
#include "portal.h"
#include "request_handle.h"
#include "sandbox_session.h"

namespace airlock {

namespace {

// What RequestSecret and RetrieveSecret's handlers need: the portal's side
// and which session the connection belongs to.
struct Context {
  SecretAccess* access;
  Portal* portal;
  std::string session;
  uint64_t counter = 0;
};

GrantRecord* find_grant(SandboxSession* session, const std::string& id) {
  for (auto& grant : session->grants())
    if (grant.kind == "secret" && grant.id == id) return &grant;
  return nullptr;
}

bool expired(const GrantRecord& grant) { return grant.expires != 0 && g_get_real_time() >= grant.expires; }

std::string missing_message(SecretLookup got, const std::string& name, const std::string& error) {
  switch (got) {
    case SecretLookup::kMissing:
      return "there is no secret named " + name + ": the person can add it with 'airlock secret add " + name + "'";
    case SecretLookup::kLocked:
      return "the file store of secrets is locked: the person can unlock it with 'airlock secret unlock'";
    case SecretLookup::kError:
      return "the secret " + name + " cannot be read: " + error;
    case SecretLookup::kFound:
    default:
      break;
  }
  return "";
}

GVariant* response_results(const std::string& name, const Verdict& verdict, const GrantRecord* grant) {
  GVariantBuilder results;
  g_variant_builder_init(&results, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add(&results, "{sv}", "outcome", g_variant_new_string(grant ? "granted" : verdict.outcome.c_str()));
  g_variant_builder_add(&results, "{sv}", "name", g_variant_new_string(name.c_str()));
  if (grant) {
    g_variant_builder_add(&results, "{sv}", "grant", g_variant_new_string(grant->id.c_str()));
    g_variant_builder_add(&results, "{sv}", "scope", g_variant_new_string(grant->scope.c_str()));
    g_variant_builder_add(&results, "{sv}", "decided-by", g_variant_new_string(grant->decided_by.c_str()));
    g_variant_builder_add(&results, "{sv}", "expires", g_variant_new_int64(grant->expires));
    if (!grant->host.empty()) {
      g_variant_builder_add(&results, "{sv}", "host", g_variant_new_string(grant->host.c_str()));
      g_variant_builder_add(&results, "{sv}", "header", g_variant_new_string(grant->header.c_str()));
      g_variant_builder_add(&results, "{sv}", "placeholder", g_variant_new_string(grant->placeholder.c_str()));
    }
  } else {
    g_variant_builder_add(&results, "{sv}", "message", g_variant_new_string(verdict.message.c_str()));
  }
  return g_variant_builder_end(&results);
}

// What is wrong with HEADER as the one the proxy puts a secret into: a
// field name of HTTP that does not frame or route the message.
std::string injection_header_problem(const std::string& header) {
  for (char c : header)
    if (!g_ascii_isalnum(c) && c != '-') return "the option 'header' is a header's name, such as Authorization";
  for (const char* framing : {"host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer",
                              "proxy-authorization", "proxy-connection", "keep-alive"})
    if (g_ascii_strcasecmp(header.c_str(), framing) == 0)
      return "the proxy puts secrets into request headers such as Authorization, not into " + header;
  return "";
}

// What the agent holds instead of the value: unique, and useless anywhere
// but in this session's proxy.
std::string new_placeholder() {
  unsigned char random[16];
  if (getrandom(random, sizeof random, 0) != static_cast<ssize_t>(sizeof random)) g_error("getrandom failed");
  std::string text = "airlock-placeholder-";
  for (unsigned char byte : random) {
    static const char kHex[] = "0123456789abcdef";
    text += kHex[byte >> 4];
    text += kHex[byte & 15];
  }
  return text;
}

Verdict failure(const std::string& message) {
  Verdict verdict;
  verdict.response = kResponseOther;
  verdict.outcome = "error";
  verdict.message = message;
  return verdict;
}

}  // namespace

SecretAccess::SecretAccess(Portal* portal) : portal_(portal), files_(SecretFileStore::default_dir()) {}

SecretAccess::~SecretAccess() {
  for (guint timer : timers_) g_source_remove(timer);
}

bool SecretAccess::unlock(SecretBytes key, std::string* error) {
  if (!files_.check_key(key, error)) return false;
  file_key_ = std::move(key);
  return true;
}

void SecretAccess::lookup(const std::string& name,
                          std::function<void(SecretLookup, SecretBytes, const std::string&)> done) {
  secret_service::lookup(name, [this, name, done](SecretLookup got, SecretBytes value, const std::string& error) {
    if (got == SecretLookup::kFound) return done(got, std::move(value), "");
    // Not in the Secret Service (or there is none): the file store, whose
    // key the Secret Service may keep.
    if (got == SecretLookup::kError) g_debug("secret %s: %s", name.c_str(), error.c_str());
    if (file_key_.empty() && files_.has(name) && files_.key_in_keyring()) {
      secret_service::lookup_key(files_.dir(), [this, name, done](SecretLookup found, SecretBytes key, const std::string&) {
        std::string unused;
        if (found == SecretLookup::kFound && files_.check_key(key, &unused)) file_key_ = std::move(key);
        read_file_store(name, done);
      });
      return;
    }
    read_file_store(name, done);
  });
}

void SecretAccess::read_file_store(const std::string& name,
                                   const std::function<void(SecretLookup, SecretBytes, const std::string&)>& done) {
  std::string error;
  SecretBytes value;
  SecretLookup got = files_.get(file_key_, name, &value, &error);
  if (got == SecretLookup::kLocked && files_.key_in_keyring()) {
    got = SecretLookup::kError;
    error = "the file store's key is not in the Secret Service, or the keyring is locked";
  }
  done(got, std::move(value), error);
}

void SecretAccess::expire_after(const std::string& session, const std::string& id, unsigned seconds) {
  struct Expiry {
    SecretAccess* access;
    std::string session, id;
    guint timer = 0;
  };
  auto* expiry = new Expiry{this, session, id};
  expiry->timer = g_timeout_add_seconds_full(
      G_PRIORITY_DEFAULT, seconds,
      +[](gpointer data) -> gboolean {
        auto* e = static_cast<Expiry*>(data);
        std::erase(e->access->timers_, e->timer);
        if (SandboxSession* s = e->access->portal_->session(e->session)) {
          std::string message;
          if (find_grant(s, e->id)) e->access->portal_->revoke(s, e->id, &message, "expire");
        }
        return G_SOURCE_REMOVE;
      },
      expiry, [](gpointer data) { delete static_cast<Expiry*>(data); });
  timers_.push_back(expiry->timer);
}

gboolean SecretAccess::handle_request_secret(GObject* skeleton, GDBusMethodInvocation* invocation, const char* name,
                                             GVariant* options, gpointer) {
  auto* ctx = static_cast<Context*>(g_object_get_data(skeleton, "airlock-context"));
  Portal* portal = ctx->portal;
  SandboxSession* asker = admit_request(portal, ctx->session, invocation);
  if (!asker) return TRUE;
  std::string reason, host_option, header;
  std::string why = secret_name_problem(name);
  if (why.empty())
    why = parse_string_options(options,
                               {{"reason", &reason, kMaxReasonBytes}, {"host", &host_option, 261}, {"header", &header, 64}});
  std::string host;
  if (why.empty() && !host_option.empty()) {
    // A host without a port is HTTPS's, the only scheme the proxy puts secrets into.
    host = canonical_host(host_option, &why);
    std::string unused;
    if (host.empty() && !(host = canonical_host(host_option + ":443", &unused)).empty()) why.clear();
    if (header.empty()) header = "Authorization";
    if (why.empty()) why = injection_header_problem(header);
  } else if (why.empty() && !header.empty()) {
    why = "the option 'header' goes with 'host': the proxy puts the secret into that header of requests to that host";
  }
  if (!why.empty()) {
    g_dbus_method_invocation_return_error(invocation, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS, "%s", why.c_str());
    return TRUE;
  }
  std::string handle = std::string(kRequestPathPrefix) + "secret" + std::to_string(++ctx->counter);
  g_autoptr(GError) error = nullptr;
  std::shared_ptr<RequestHandle> request =
      RequestHandle::create(portal, g_dbus_method_invocation_get_connection(invocation), handle, &error);
  if (!request) {
    g_dbus_method_invocation_return_gerror(invocation, error);
    return TRUE;
  }
  g_dbus_method_invocation_return_value(invocation, g_variant_new("(o)", handle.c_str()));

  std::string secret = name;
  std::string session_id = ctx->session;
  // A grant of it that is still good answers at once.
  for (const auto& held : asker->grants())
    if (held.kind == "secret" && held.resource == secret && held.host == host && held.header == header &&
        !expired(held)) {
      Verdict already;
      already.outcome = "granted";
      request->respond(kResponseGranted, response_results(secret, already, &held));
      return TRUE;
    }
  portal->audit({.event = "request", .kind = "secret", .resource = secret, .access = "read"}, asker);
  // Nobody is asked for a secret that is not there.
  ctx->access->lookup(secret, [portal, request, secret, session_id, reason, host, header](
                                  SecretLookup got, SecretBytes, const std::string& lookup_error) {
    SandboxSession* session = portal->session(session_id);
    if (!session || request->closed()) return;
    if (got != SecretLookup::kFound) {
      std::string message = missing_message(got, secret, lookup_error);
      portal->audit({.event = "decision", .kind = "secret", .resource = secret, .access = "read",
                     .rule = got == SecretLookup::kLocked ? "the file store is locked" : "no such secret",
                     .outcome = "error"},
                    session);
      return request->respond(kResponseOther, response_results(secret, failure(message), nullptr));
    }
    Question question{.kind = RequestKind::kSecret, .resource = secret, .reason = reason, .host = host, .header = header};
    request->set_prompt(decide(portal, session, question, [portal, request, secret, session_id, host, header](const Verdict& verdict) {
      SandboxSession* asker_now = portal->session(session_id);
      if (!verdict.allow || !asker_now) {
        Verdict refusal = asker_now ? verdict : failure("the session ended; nothing was granted");
        return portal->after_audit(
            [request, secret, refusal](bool) { request->respond(refusal.response, response_results(secret, refusal, nullptr)); });
      }
      GrantRecord record{.id = asker_now->next_grant_id(), .kind = "secret", .resource = secret, .access = "read",
                         .scope = verdict.scope, .decided_by = verdict.decided_by, .since = g_get_real_time()};
      if (verdict.ttl > 0) record.expires = record.since + int64_t{verdict.ttl} * G_USEC_PER_SEC;
      if (!host.empty()) {
        record.host = host;
        record.header = header;
        record.placeholder = new_placeholder();
      }
      portal->add_grant(asker_now, record);
      if (verdict.ttl > 0) portal->secrets().expire_after(session_id, record.id, verdict.ttl);
      portal->audit({.event = "grant", .kind = "secret", .resource = secret, .access = "read", .scope = verdict.scope,
                     .decided_by = verdict.decided_by,
                     .rule = (host.empty() ? std::string() : "for the proxy, in " + header + " to " + host + "; ") +
                             (verdict.ttl > 0 ? "for " + std::to_string(verdict.ttl) + " s" : ""),
                     .outcome = "allow"},
                    asker_now);
      portal->after_audit([request, secret, verdict, record](bool written) {
        if (written) return request->respond(kResponseGranted, response_results(secret, verdict, &record));
        Verdict failed = failure("the audit log cannot be written, so nothing can be granted");
        request->respond(failed.response, response_results(secret, failed, nullptr));
      });
    }));
  });
  return TRUE;
}

gboolean SecretAccess::handle_retrieve_secret(GObject* skeleton, GDBusMethodInvocation* invocation, GUnixFDList*,
                                              const char* grant_id, gpointer) {
  auto* ctx = static_cast<Context*>(g_object_get_data(skeleton, "airlock-context"));
  Portal* portal = ctx->portal;
  SandboxSession* session = portal->session(ctx->session);
  GrantRecord* grant = session ? find_grant(session, grant_id) : nullptr;
  if (grant && expired(*grant)) {
    std::string unused;
    portal->revoke(session, grant->id, &unused, "expire");
    grant = nullptr;
  }
  if (!grant) {
    g_dbus_method_invocation_return_dbus_error(
        invocation, "org.airlock.Error.NotGranted",
        "no such secret grant in this session (it was used once, expired or revoked): ask again with RequestSecret");
    return TRUE;
  }
  if (!grant->host.empty()) {
    g_dbus_method_invocation_return_dbus_error(
        invocation, "org.airlock.Error.NotGranted",
        ("this grant is for the proxy, which puts the value into requests to " + grant->host +
         "; the agent holds its placeholder, never the value")
            .c_str());
    return TRUE;
  }
  std::string name = grant->resource, id = grant->id, session_id = ctx->session;
  g_object_ref(invocation);
  ctx->access->lookup(name, [portal, invocation, name, id, session_id](SecretLookup got, SecretBytes value,
                                                                       const std::string& error) {
    g_autoptr(GDBusMethodInvocation) call = invocation;  // the reference taken below
    SandboxSession* s = portal->session(session_id);
    GrantRecord* still = s ? find_grant(s, id) : nullptr;
    if (!still) {
      g_dbus_method_invocation_return_dbus_error(call, "org.airlock.Error.NotGranted",
                                                 "the grant ended while the secret was read; nothing was handed over");
      return;
    }
    if (got != SecretLookup::kFound) {
      portal->audit({.event = "use", .kind = "secret", .resource = name, .access = "read", .outcome = "error"}, s);
      g_dbus_method_invocation_return_dbus_error(call, "org.airlock.Error.Failed",
                                                 missing_message(got, name, error).c_str());
      return;
    }
    int fd = value.to_sealed_memfd();
    g_autoptr(GUnixFDList) fds = g_unix_fd_list_new();
    g_autoptr(GError) gerror = nullptr;
    if (fd < 0 || g_unix_fd_list_append(fds, fd, &gerror) < 0) {
      if (fd >= 0) close(fd);
      g_dbus_method_invocation_return_dbus_error(call, "org.airlock.Error.Failed", "cannot hand the value over");
      return;
    }
    close(fd);
    std::string scope = still->scope;
    portal->audit({.event = "use", .kind = "secret", .resource = name, .access = "read", .scope = scope,
                   .outcome = "allow"},
                  s);
    // "Once" is one retrieval.
    if (scope == "once") {
      std::string unused;
      portal->revoke(s, id, &unused, "expire");
    }
    g_dbus_method_invocation_return_value_with_unix_fd_list(g_steal_pointer(&call), g_variant_new("(h)", 0), fds);
  });
  return TRUE;
}

void SecretAccess::export_on(GDBusConnection* connection, SandboxSession* session) {
  AirlockPortalSecret* secret = airlock_portal_secret_skeleton_new();
  g_object_set_data_full(G_OBJECT(secret), "airlock-context", new Context{this, portal_, session->info().id},
                         [](gpointer p) { delete static_cast<Context*>(p); });
  g_signal_connect(secret, "handle-request-secret", G_CALLBACK(handle_request_secret), nullptr);
  g_signal_connect(secret, "handle-retrieve-secret", G_CALLBACK(handle_retrieve_secret), nullptr);
  g_autoptr(GError) error = nullptr;
  if (!g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(secret), connection, kPortalObjectPath, &error))
    g_warning("cannot serve the secret requests of a sandbox connection: %s", error->message);
  g_object_set_data_full(G_OBJECT(connection), "airlock-secret", secret, g_object_unref);
}

}  // namespace airlock
