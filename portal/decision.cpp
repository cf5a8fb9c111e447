#include "decision.h"

#include <algorithm>

#include "dbus_names.h"
#include "error.h"
#include "host_path.h"
#include "permission_store.h"
#include "portal.h"

namespace airlock {

namespace {

// One host, whichever of its names is used.
std::string loopback_alias(const std::string& host_port) {
  size_t colon = host_port.rfind(':');
  if (colon == std::string::npos) return host_port;
  std::string host = host_port.substr(0, colon);
  if (host == "localhost" || host == "127.0.0.1" || host == "[::1]") return "localhost" + host_port.substr(colon);
  return host_port;
}

// How an always-grant names what QUESTION asks for: a host by one of its
// names; a secret for the proxy with the host it goes to, which is another
// permission than the secret itself.
std::string stored_resource(const Question& question) {
  if (question.kind == RequestKind::kHost) return loopback_alias(question.resource);
  if (question.kind == RequestKind::kSecret && !question.host.empty()) return question.resource + "@" + question.host;
  return question.resource;
}

Verdict refused(unsigned response, const std::string& outcome, const std::string& message) {
  Verdict verdict;
  verdict.response = response;
  verdict.outcome = outcome;
  verdict.message = message;
  return verdict;
}

Verdict allowed(const std::string& scope, const std::string& decided_by, bool names_resource = true) {
  Verdict verdict;
  verdict.allow = true;
  verdict.names_resource = names_resource;
  verdict.scope = scope;
  verdict.decided_by = decided_by;
  verdict.response = kResponseGranted;
  verdict.outcome = "granted";
  return verdict;
}

}  // namespace

bool resource_covers(RequestKind kind, const std::string& held, const std::string& resource) {
  if (kind == RequestKind::kHost) return loopback_alias(held) == loopback_alias(resource);
  if (kind == RequestKind::kFolder || kind == RequestKind::kFile) return path_is_within(resource, held);
  return held == resource;
}

std::string decide(Portal* portal, SandboxSession* session, const Question& question,
                   std::function<void(const Verdict&)> done) {
  const char* kind = request_kind_name(question.kind);
  const char* access = access_name(question.access);
  const std::string& resource = question.resource;
  AuditEvent decision{.event = "decision", .kind = kind, .resource = resource, .access = access};

  // A person's revoke sticks for the session: what they took away is asked
  // for again, whatever would have allowed it.
  bool was_revoked = std::any_of(session->revoked.begin(), session->revoked.end(), [&](const std::string& held) {
    return resource_covers(question.kind, held, resource);
  });
  PolicyResult policy = session->policy().evaluate(
      {.kind = question.kind, .resource = resource, .access = question.access, .profile = session->info().profile});
  if (policy.decision == Decision::kDeny) {
    decision.decided_by = "policy";
    decision.rule = policy.reason;
    decision.outcome = "deny";
    portal->audit(decision, session);
    done(refused(kResponseOther, "denied", "denied by the policy: " + policy.reason));
    return "";
  }
  if (policy.decision == Decision::kAllow && !was_revoked) {
    decision.scope = "task";
    decision.decided_by = "policy";
    decision.rule = policy.reason;
    decision.outcome = "allow";
    portal->audit(decision, session);
    done(allowed("task", "policy", policy.literal));
    return "";
  }

  // Ask: unless the person already answered for this task, or for always.
  if (!policy.dangerous && !was_revoked) {
    for (const auto& answer : session->task_answers)
      if (answer.kind == kind && resource_covers(question.kind, answer.resource, resource) &&
          access_covers(answer.access, access)) {
        decision.scope = "task";
        decision.decided_by = "person";
        decision.rule = "allowed for this task earlier";
        decision.outcome = "allow";
        portal->audit(decision, session);
        done(allowed("task", "person"));
        return "";
      }
    AlwaysGrantKey key{.profile = session->info().profile, .workspace = session->info().workspace, .kind = kind,
                       .resource = stored_resource(question)};
    bool always = false;
    try {
      always = portal->store().lookup(key, access);
    } catch (const Error& error) {
      g_warning("cannot read the always-grants: %s", error.what());
    }
    if (always) {
      decision.scope = "always";
      decision.decided_by = "store";
      decision.outcome = "allow";
      portal->audit(decision, session);
      done(allowed("always", "store"));
      return "";
    }
  }
  if (session->info().prompt == "none") {
    decision.decided_by = "policy";
    decision.rule = policy.reason;
    decision.outcome = "deny";
    portal->audit(decision, session);
    done(refused(kResponseOther, "denied",
                 "the policy asks a person (" + policy.reason + "), and this session was started with --prompt=none"));
    return "";
  }
  if (portal->prompts().pending_for(session->info().id) >= kMaxPendingPrompts) {
    if (!session->flagged()) portal->audit({.event = "request", .kind = kind, .resource = resource, .outcome = "throttled"}, session);
    session->flag();
    done(refused(kResponseOther, "error",
                 "too many requests of this session wait for a person already: the session is throttled and "
                 "flagged; wait for the answers"));
    return "";
  }

  PromptDetails details;
  details.session = session->info().id;
  details.profile = session->info().profile;
  details.task = session->info().task;
  details.prompt_mode = session->info().prompt;
  details.kind = kind;
  details.resource = resource;
  details.access = access;
  details.reason = question.reason;
  details.host = question.host;
  details.header = question.header;
  details.dangerous = policy.dangerous;
  details.pid = session->info().pid;
  details.scopes = {"once", "task"};
  // An "always" never for a deny-list override (DESIGN.md).
  if (!policy.dangerous) details.scopes.emplace_back("always");
  std::string id = session->info().id;
  return portal->prompts().ask(details, [portal, id, question, done](const PromptAnswer& answer) {
    SandboxSession* asker = portal->session(id);
    if (!asker) return done(refused(kResponseOther, "error", "the session ended; nothing was granted"));
    const char* kind_name = request_kind_name(question.kind);
    const char* access_word = access_name(question.access);
    portal->audit({.event = "decision", .kind = kind_name, .resource = question.resource, .access = access_word,
                   .scope = answer.allow ? answer.scope : "", .decided_by = answer.by_person ? "person" : "",
                   .outcome = answer.allow ? "allow" : answer.outcome},
                  asker);
    if (!answer.allow)
      return done(refused(answer.by_person && answer.outcome == "deny" ? kResponseDenied : kResponseOther,
                          answer.outcome == "timeout" ? "timeout" : (answer.outcome == "error" ? "error" : "denied"),
                          answer.message));
    // The person's answer lifts their earlier revoke of it.
    std::erase_if(asker->revoked,
                  [&](const std::string& held) { return resource_covers(question.kind, question.resource, held); });
    // A secret's task answer is its grant, which may end sooner (a TTL):
    // when it is gone, the next request asks again.
    if (answer.scope == "task" && question.kind != RequestKind::kSecret)
      asker->task_answers.push_back({kind_name, question.resource, access_word});
    if (answer.scope == "always") {
      try {
        portal->store().add({.profile = asker->info().profile, .workspace = asker->info().workspace,
                             .kind = kind_name, .resource = stored_resource(question)},
                            access_word);
      } catch (const Error& error) {
        return done(refused(kResponseOther, "error", std::string("cannot remember the always-grant: ") + error.what()));
      }
    }
    Verdict verdict = allowed(answer.scope, "person");
    verdict.ttl = answer.ttl;
    done(verdict);
  });
}

}  // namespace airlock
