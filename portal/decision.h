// The decision every request goes through, whatever it asks for (a folder,
// a file, a host): the policy first; for "ask", the person's earlier
// answers in this session and the always-grants, unless the person revoked
// it since; then a person, through the prompt broker. Every step is audited.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "policy.h"

namespace airlock {

class Portal;
class SandboxSession;

struct Question {
  RequestKind kind = RequestKind::kFolder;
  std::string resource;  // canonical
  Access access = Access::kRead;
  std::string reason;  // the agent's words, for the person
  // A secret for the proxy to put into HEADER of the agent's requests to
  // HOST (HOST:PORT, canonical), while the agent holds a placeholder; ""
  // for a secret handed over.
  std::string host{}, header{};
};

struct Verdict {
  bool allow = false;
  std::string scope;       // once | task | always, when allowed
  std::string decided_by;  // policy | person | store, when allowed
  uint32_t ttl = 0;        // a secret's task grant ends after this many seconds (0: with the task)
  // Someone named the resource itself: a person (who saw it), or a policy
  // rule without a wildcard (PolicyResult::literal).
  bool names_resource = false;
  unsigned response = 2;   // the Response code of a refusal
  std::string outcome;     // the Response's: granted | denied | timeout | error
  std::string message;     // why not, for the agent
};

// Decides QUESTION for SESSION and calls DONE exactly once, at once or when
// a person answers. Returns the prompt's id when a person is asked, for
// PromptBroker::withdraw().
std::string decide(Portal* portal, SandboxSession* session, const Question& question,
                   std::function<void(const Verdict&)> done);

// Whether a grant or answer for HELD covers RESOURCE: a folder covers what
// lies beneath it; localhost, 127.0.0.1 and [::1] are one host.
bool resource_covers(RequestKind kind, const std::string& held, const std::string& resource);

}  // namespace airlock
