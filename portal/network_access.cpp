#include "network_access.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "airlock-dbus.h"
#include "dbus_names.h"
#include "decision.h"
#include "error.h"
#include "intercepted_tunnel.h"
#include "network_proxy.h"
#include "proxy_request.h"
#include "request_handle.h"
#include "secret_access.h"
#include "helper_program.h"
#include "session_ca.h"
#include "permission_store.h"
#include "portal.h"

namespace airlock {

namespace {

constexpr size_t kMaxHostBytes = 255;

std::string address_resource(GInetAddress* address, uint16_t port) {
  g_autofree char* text = g_inet_address_to_string(address);
  bool v6 = g_inet_address_get_family(address) == G_SOCKET_FAMILY_IPV6;
  return (v6 ? "[" + std::string(text) + "]" : std::string(text)) + ":" + std::to_string(port);
}

std::string target_resource(const ProxyTarget& target) {
  std::string host = target.host.find(':') != std::string::npos ? "[" + target.host + "]" : target.host;
  return host + ":" + std::to_string(target.port);
}

}  // namespace

std::string canonical_host(const std::string& text, std::string* why) {
  if (text.empty() || text.size() > kMaxHostBytes || !g_utf8_validate(text.c_str(), -1, nullptr)) {
    *why = "give HOST:PORT, at most " + std::to_string(kMaxHostBytes) + " bytes, e.g. pypi.org:443";
    return "";
  }
  std::string host, port;
  if (text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      *why = "'" + text + "': write an IPv6 address in brackets with its port, e.g. [2001:db8::1]:443";
      return "";
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon) {
      *why = "'" + text + "' has no port, or several ':': give HOST:PORT, e.g. pypi.org:443";
      return "";
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  char* end = nullptr;
  unsigned long number = strtoul(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || number == 0 || number > 65535) {
    *why = "'" + text + "' has no port from 1 to 65535";
    return "";
  }
  // Spelled as the proxy spells what a client connects to, so that a grant
  // and a connection meet: lower case, addresses in their canonical form.
  std::string normalized, error;
  if (!normalize_proxy_host(host, &normalized, &error)) {
    *why = "'" + text + "': " + error;
    return "";
  }
  return format_host_port(normalized, static_cast<uint16_t>(number));
}

// One session's side of the proxy: its decisions, its explicit addresses,
// its audit rows.
class NetworkAccess::SessionDecider : public ProxyDecider {
 public:
  SessionDecider(Portal* portal, std::string session, std::unique_ptr<SessionCa> ca, GTlsDatabase* origin_roots,
                 std::string origin_roots_error)
      : portal_(portal),
        session_(std::move(session)),
        ca_(std::move(ca)),
        origin_roots_(origin_roots),
        origin_roots_error_(std::move(origin_roots_error)),
        proxy_(this) {}

  bool serve(int listener, GError** error) { return proxy_.serve(listener, error); }
  void close_grant(const std::string& grant) { proxy_.close_grant(grant); }

  // Also used by RequestHost: decides RESOURCE (canonical) and, when
  // allowed, records the grant; DONE(verdict, grant id) once its rows are
  // written.
  // Returns the prompt's id when a person is asked.
  static std::string decide_host(Portal* portal, const std::string& session_id, const std::string& resource,
                                 const std::string& reason,
                                 std::function<void(const Verdict&, const GrantRecord*)> done) {
    SandboxSession* session = portal->session(session_id);
    if (!session) {
      Verdict gone;
      gone.outcome = "error";
      gone.message = "the session ended";
      done(gone, nullptr);
      return "";
    }
    // A host already granted is no new decision: the connection goes ahead
    // at once (its 'use' row records it when it ends), without waiting for
    // the disk.
    for (const auto& held : session->grants())
      if (held.kind == "host" && resource_covers(RequestKind::kHost, held.resource, resource)) {
        Verdict already;
        already.allow = true;
        already.outcome = "granted";
        already.response = kResponseGranted;
        already.scope = held.scope;
        already.decided_by = held.decided_by;
        done(already, &held);
        return "";
      }
    portal->audit({.event = "request", .kind = "host", .resource = resource, .access = "read"}, session);
    return airlock::decide(portal, session, {.kind = RequestKind::kHost, .resource = resource, .reason = reason},
                    [portal, session_id, resource, done](const Verdict& verdict) {
                      SandboxSession* asker = portal->session(session_id);
                      if (!verdict.allow || !asker) {
                        Verdict refusal = verdict;
                        if (!asker) refusal.allow = false;
                        return portal->after_audit([done, refusal](bool) { done(refusal, nullptr); });
                      }
                      // Connections that waited for the same prompt share its grant,
                      // so that one revoke takes the host away.
                      for (const auto& held : asker->grants())
                        if (held.kind == "host" && held.resource == resource) {
                          GrantRecord copy = held;
                          return portal->after_audit([done, verdict, copy](bool) { done(verdict, &copy); });
                        }
                      GrantRecord record{.id = asker->next_grant_id(), .kind = "host", .resource = resource,
                                         .access = "read", .scope = verdict.scope, .decided_by = verdict.decided_by,
                                         .since = g_get_real_time(), .names_host = verdict.names_resource};
                      portal->add_grant(asker, record);
                      portal->audit({.event = "grant", .kind = "host", .resource = resource, .access = "read",
                                     .scope = verdict.scope, .decided_by = verdict.decided_by, .outcome = "allow"},
                                    asker);
                      portal->after_audit([done, verdict, record](bool written) {
                        if (written) return done(verdict, &record);
                        Verdict failed;
                        failed.outcome = "error";
                        failed.message = "the audit log cannot be written, so nothing can be granted";
                        done(failed, nullptr);
                      });
                    });
  }

  std::string decide(const ProxyTarget& target, Decided done) override {
    std::string why;
    std::string resource = canonical_host(target_resource(target), &why);
    if (resource.empty()) {
      done(false, why, "", nullptr);
      return "";
    }
    std::string host = target.host;
    return decide_host(portal_, session_, resource, "",
                       [this, done, resource, host](const Verdict& verdict, const GrantRecord* grant) {
                         if (!verdict.allow || !grant)
                           return done(false, "airlock: " + verdict.message, "", nullptr);
                         with_secret(resource, host, grant->id, done);
                       });
  }

  // The host RESOURCE is allowed (by GRANT): when a secret is granted for
  // it, its value is read now, for this connection only, and the connection
  // is intercepted; when that value cannot be had, the connection is refused
  // rather than sent on without it.
  void with_secret(const std::string& resource, const std::string& host, const std::string& grant, Decided done) {
    SandboxSession* session = portal_->session(session_);
    if (!session) return done(false, "airlock: the session ended", "", nullptr);
    const GrantRecord* secret = nullptr;
    for (const auto& held : session->grants())
      if (held.kind == "secret" && held.host == resource && (held.expires == 0 || g_get_real_time() < held.expires)) {
        secret = &held;
        break;
      }
    if (!secret) return done(true, "", grant, nullptr);
    std::string problem = origin_roots_error_;
    g_autoptr(GError) error = nullptr;
    g_autoptr(GTlsCertificate) certificate = nullptr;
    if (problem.empty() && InterceptedTunnel::tls_available(&problem) &&
        !(certificate = ca_->server_certificate(host, &error)))
      problem = error->message;
    if (!problem.empty())
      return done(false, "airlock: the secret for " + resource + " cannot be put into its requests: " + problem, "",
                  nullptr);
    auto interception = std::make_shared<ProxyInterception>();
    interception->certificate = G_TLS_CERTIFICATE(g_steal_pointer(&certificate));
    interception->origin_database = origin_roots_ ? G_TLS_DATABASE(g_object_ref(origin_roots_)) : nullptr;
    interception->injection.header = secret->header;
    interception->injection.placeholder = secret->placeholder;
    interception->grant = secret->id;
    std::string name = secret->resource, session_id = session_;
    Portal* portal = portal_;
    portal_->secrets().lookup(name, [portal, session_id, name, resource, grant, interception, done](
                                        SecretLookup got, SecretBytes value, const std::string& lookup_error) {
      SandboxSession* s = portal->session(session_id);
      if (!s) return done(false, "airlock: the session ended", "", nullptr);
      if (got != SecretLookup::kFound) {
        portal->audit({.event = "use", .kind = "secret", .resource = name, .access = "read",
                       .rule = "for " + resource + ": cannot be read", .outcome = "error"},
                      s);
        return done(false, "airlock: the secret " + name + " for " + resource + " cannot be read" +
                               (lookup_error.empty() ? std::string() : ": " + lookup_error),
                    "", nullptr);
      }
      interception->injection.value = std::make_shared<const SecretBytes>(std::move(value));
      done(true, "", grant, interception);
    });
  }

  void withdraw(const std::string& prompt) override { portal_->prompts().withdraw(prompt); }

  // A forbidden address is used only when a grant names it (or, for
  // localhost, the loopback it stands for), not merely a name that
  // resolves to it: DNS rebinding cannot reach the host's loopback or LAN.
  bool address_granted(const ProxyTarget& target, GInetAddress* address) override {
    SandboxSession* session = portal_->session(session_);
    if (!session) return false;
    std::vector<std::string> names = {address_resource(address, target.port)};
    if (g_inet_address_get_is_loopback(address)) names.push_back("localhost:" + std::to_string(target.port));
    for (const auto& name : names) {
      for (const auto& held : session->grants())
        if (held.kind == "host" && held.names_host && resource_covers(RequestKind::kHost, held.resource, name))
          return true;
      PolicyResult policy = session->policy().evaluate(
          {.kind = RequestKind::kHost, .resource = name, .profile = session->info().profile});
      if (policy.decision == Decision::kAllow && policy.literal) return true;
    }
    return false;
  }

  void report(const ProxyReport& report) override {
    SandboxSession* session = portal_->session(session_);
    // "Once" is one connection: its grants, the host's and the secret's, end with it.
    for (const std::string& id : {report.grant, report.secret_grant}) {
      if (!session || id.empty()) continue;
      for (const auto& held : session->grants())
        if (held.id == id && held.scope == "once") {
          std::string unused;
          portal_->revoke(session, held.id, &unused, "expire");
          break;
        }
    }
    std::string why;
    std::string resource = canonical_host(target_resource(report.target), &why);
    if (!session || resource.empty()) return;
    std::string detail = (report.address.empty() ? std::string() : "address " + report.address + ", ") +
                         std::to_string(report.bytes_up) + " bytes up, " + std::to_string(report.bytes_down) +
                         " bytes down, " + std::to_string(report.duration_us / 1000) + " ms";
    std::string outcome = report.outcome == "allow" ? "allow" : (report.outcome == "deny" ? "deny" : "error");
    portal_->audit({.event = "use", .kind = "host", .resource = resource, .access = "read", .rule = detail,
                    .outcome = outcome},
                   session);
    if (!report.secret_grant.empty())
      portal_->audit({.event = "use", .kind = "secret", .resource = secret_name_of(report.secret_grant, session),
                      .access = "read", .rule = "put into the requests to " + resource, .outcome = outcome},
                     session);
  }

  const std::string& ca_pem() const { return ca_->certificate_pem(); }

 private:
  static std::string secret_name_of(const std::string& grant, SandboxSession* session) {
    for (const auto& held : session->grants())
      if (held.id == grant) return held.resource;
    return "(grant " + grant + ")";
  }

  Portal* portal_;
  std::string session_;
  std::unique_ptr<SessionCa> ca_;
  GTlsDatabase* origin_roots_;  // borrowed from NetworkAccess; nullptr: the system's
  std::string origin_roots_error_;  // why no origin can be verified: intercept nothing
  SessionProxy proxy_;
};

NetworkAccess::NetworkAccess(Portal* portal)
    : portal_(portal), ca_helper_(helper_program("airlock-session-ca")) {
  // For tests: the roots that verify the origins of intercepted hosts, in
  // place of the system's.
  if (const char* roots = g_getenv("AIRLOCK_INTERCEPT_ROOTS")) {
    g_autoptr(GError) error = nullptr;
    origin_roots_ = InterceptedTunnel::database_from_pem_file(roots, &error);
    if (!origin_roots_) origin_roots_error_ = std::string("AIRLOCK_INTERCEPT_ROOTS: ") + error->message;
    if (!origin_roots_) g_warning("%s: no intercepted host will be reached", origin_roots_error_.c_str());
  }
  // The portal has just been started, most likely by a session about to
  // register: its CA is on its way already.
  next_ca_ = std::make_unique<SessionCa::Ahead>(ca_helper_);
}

// The next one a second after a session started: by then its sandbox has
// started, and the helper does not compete with it for the CPU.
void NetworkAccess::make_next_ca_soon() {
  if (next_ca_source_) return;
  next_ca_source_ = g_timeout_add_seconds_full(
      G_PRIORITY_LOW, 1,
      [](gpointer data) -> gboolean {
        auto* self = static_cast<NetworkAccess*>(data);
        self->next_ca_source_ = 0;
        if (!self->next_ca_) self->next_ca_ = std::make_unique<SessionCa::Ahead>(self->ca_helper_);
        return G_SOURCE_REMOVE;
      },
      this, nullptr);
}

NetworkAccess::~NetworkAccess() {
  if (next_ca_source_) g_source_remove(next_ca_source_);
  sessions_.clear();
  g_clear_object(&origin_roots_);
}

bool NetworkAccess::start_session(SandboxSession* session, int listener, GError** error) {
  // Taken in every case: a session whose proxy does not start has no one
  // listening, so its sandbox's connections are refused at once instead of
  // waiting in the backlog for an accept that never comes.
  UniqueFd owned(listener);
  // The session's own certificate authority, trusted inside its sandbox
  // only, for the hosts its secrets are put into: the one made ahead (made
  // again when it waited more than a day, so that every session's lasts
  // about 30 days; made now when sessions start in quick succession).
  constexpr gint64 kMaxAheadUs = 24 * G_TIME_SPAN_HOUR;
  if (!next_ca_ || next_ca_->age() > kMaxAheadUs)
    next_ca_ = std::make_unique<SessionCa::Ahead>(ca_helper_);
  std::unique_ptr<SessionCa> ca = next_ca_->take(error);
  next_ca_.reset();
  make_next_ca_soon();
  if (!ca) return false;
  SecretBytes pem = SecretBytes::copy_of(ca->certificate_pem());
  UniqueFd memfd(pem.to_sealed_memfd());
  std::string message;
  int failed = memfd ? session->trust(memfd.get(), &message) : errno;
  if (failed != 0) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot give the sandbox its certificate authority: %s",
                message.empty() ? g_strerror(failed) : message.c_str());
    return false;
  }
  auto decider = std::make_unique<SessionDecider>(portal_, session->info().id, std::move(ca), origin_roots_,
                                                  origin_roots_error_);
  if (!decider->serve(owned.release(), error)) return false;
  sessions_[session->info().id] = std::move(decider);
  return true;
}

void NetworkAccess::end_session(const std::string& session) { sessions_.erase(session); }

void NetworkAccess::revoked(const std::string& session, const GrantRecord& grant) {
  auto it = sessions_.find(session);
  if (it != sessions_.end() && grant.kind == "host") it->second->close_grant(grant.id);
}

void NetworkAccess::export_on(GDBusConnection* connection, SandboxSession* session) {
  AirlockPortalNetwork* network = airlock_portal_network_skeleton_new();
  struct Context {
    Portal* portal;
    std::string session;
    uint64_t counter = 0;
  };
  auto* context = new Context{portal_, session->info().id};
  g_signal_connect(
      network, "handle-request-host",
      G_CALLBACK(+[](AirlockPortalNetwork*, GDBusMethodInvocation* invocation, const char* host, GVariant* options,
                     gpointer data) -> gboolean {
        auto* ctx = static_cast<Context*>(data);
        if (!admit_request(ctx->portal, ctx->session, invocation)) return TRUE;
        std::string why;
        std::string resource = canonical_host(host, &why);
        std::string reason;
        if (why.empty()) why = parse_reason_option(options, &reason);
        if (resource.empty() || !why.empty()) {
          g_dbus_method_invocation_return_error(invocation, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS, "%s", why.c_str());
          return TRUE;
        }
        GDBusConnection* peer = g_dbus_method_invocation_get_connection(invocation);
        std::string handle = std::string(kRequestPathPrefix) + "host" + std::to_string(++ctx->counter);
        g_autoptr(GError) error = nullptr;
        std::shared_ptr<RequestHandle> request = RequestHandle::create(ctx->portal, peer, handle, &error);
        if (!request) {
          g_dbus_method_invocation_return_gerror(invocation, error);
          return TRUE;
        }
        g_dbus_method_invocation_return_value(invocation, g_variant_new("(o)", handle.c_str()));
        request->set_prompt(SessionDecider::decide_host(
            ctx->portal, ctx->session, resource, reason, [request, resource](const Verdict& verdict, const GrantRecord* grant) {
              GVariantBuilder results;
              g_variant_builder_init(&results, G_VARIANT_TYPE_VARDICT);
              bool granted = verdict.allow && grant;
              g_variant_builder_add(&results, "{sv}", "outcome",
                                    g_variant_new_string(granted ? "granted" : verdict.outcome.c_str()));
              g_variant_builder_add(&results, "{sv}", "host", g_variant_new_string(resource.c_str()));
              if (granted) {
                g_variant_builder_add(&results, "{sv}", "grant", g_variant_new_string(grant->id.c_str()));
                g_variant_builder_add(&results, "{sv}", "scope", g_variant_new_string(grant->scope.c_str()));
                g_variant_builder_add(&results, "{sv}", "decided-by", g_variant_new_string(grant->decided_by.c_str()));
              } else {
                g_variant_builder_add(&results, "{sv}", "message", g_variant_new_string(verdict.message.c_str()));
              }
              request->respond(granted ? kResponseGranted : verdict.response, g_variant_builder_end(&results));
            }));
        return TRUE;
      }),
      context);
  g_autoptr(GError) error = nullptr;
  if (!g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(network), connection, kPortalObjectPath, &error))
    g_warning("cannot serve the network requests of a sandbox connection: %s", error->message);
  g_object_set_data_full(G_OBJECT(connection), "airlock-network", network, g_object_unref);
  g_object_set_data_full(G_OBJECT(connection), "airlock-network-context", context,
                         [](gpointer p) { delete static_cast<Context*>(p); });
}

}  // namespace airlock
