#include "network_access.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "airlock-dbus.h"
#include "dbus_names.h"
#include "decision.h"
#include "error.h"
#include "network_proxy.h"
#include "proxy_request.h"
#include "request_handle.h"
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
  SessionDecider(Portal* portal, std::string session) : portal_(portal), session_(std::move(session)), proxy_(this) {}

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

  void decide(const ProxyTarget& target,
              std::function<void(bool allow, const std::string& reason, const std::string& grant)> done) override {
    std::string why;
    std::string resource = canonical_host(target_resource(target), &why);
    if (resource.empty()) return done(false, why, "");
    decide_host(portal_, session_, resource, "", [done](const Verdict& verdict, const GrantRecord* grant) {
      done(verdict.allow && grant, "airlock: " + verdict.message, grant ? grant->id : "");
    });
  }

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
    // "Once" is one connection: its grant ends with it.
    if (session && !report.grant.empty())
      for (const auto& held : session->grants())
        if (held.id == report.grant && held.kind == "host" && held.scope == "once") {
          std::string unused;
          portal_->revoke(session, held.id, &unused, "expire");
          break;
        }
    std::string why;
    std::string resource = canonical_host(target_resource(report.target), &why);
    if (!session || resource.empty()) return;
    std::string detail = (report.address.empty() ? std::string() : "address " + report.address + ", ") +
                         std::to_string(report.bytes_up) + " bytes up, " + std::to_string(report.bytes_down) +
                         " bytes down, " + std::to_string(report.duration_us / 1000) + " ms";
    portal_->audit({.event = "use", .kind = "host", .resource = resource, .access = "read", .rule = detail,
                    .outcome = report.outcome == "allow" ? "allow" : (report.outcome == "deny" ? "deny" : "error")},
                   session);
  }

 private:
  Portal* portal_;
  std::string session_;
  SessionProxy proxy_;
};

NetworkAccess::NetworkAccess(Portal* portal) : portal_(portal) {}
NetworkAccess::~NetworkAccess() = default;

bool NetworkAccess::start_session(SandboxSession* session, int listener, GError** error) {
  auto decider = std::make_unique<SessionDecider>(portal_, session->info().id);
  if (!decider->serve(listener, error)) return false;
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
        SandboxSession* asker = ctx->portal->session(ctx->session);
        if (!asker) {
          g_dbus_method_invocation_return_error_literal(invocation, G_DBUS_ERROR, G_DBUS_ERROR_FAILED,
                                                        "the session has ended");
          return TRUE;
        }
        if (!asker->admit_request()) {
          g_dbus_method_invocation_return_dbus_error(
              invocation, "org.airlock.Error.Throttled",
              "too many requests from this session: it is throttled, and flagged for the person to see; slow down");
          return TRUE;
        }
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
