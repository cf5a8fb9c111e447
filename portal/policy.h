// The policy engine: keyfile rules that answer a request with allow, deny or
// ask before any person sees it, and the built-in deny list that no allow
// rule can open. The format is documented in airlock-policy(5).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace airlock {

enum class RequestKind { kFolder, kFile, kHost, kSecret };

// Write implies read: a write grant is a read-write grant.
enum class Access { kRead, kWrite };

enum class Decision { kAllow, kDeny, kAsk };

struct PolicyRequest {
  RequestKind kind = RequestKind::kFolder;
  // Canonical: an absolute path with every symlink resolved (folder, file),
  // HOST:PORT in lower case with IPv6 addresses in brackets (host), or the
  // secret's name. Anything else is denied, never guessed at.
  std::string resource;
  Access access = Access::kRead;
  std::string profile;  // the agent profile of the asking session, "" for none
};

struct PolicyResult {
  Decision decision = Decision::kAsk;
  // An Override=deny-list rule let a deny-listed path through to a person:
  // the prompt must show it as a warning.
  bool dangerous = false;
  // Hosts: the deciding rule names HOST:PORT itself, without a wildcard:
  // what "a grant names that address explicitly" means for the addresses
  // the network proxy refuses otherwise (loopback, private, link-local...).
  bool literal = false;
  std::string source;  // the layer of the deciding rule, "" when none decided
  std::string rule;    // its name (the NAME of [Rule NAME]), "" when none
  // For people and the audit log: "[Rule projects] in /etc/airlock/airlock.policy",
  // "no rule matched: ask", "built-in deny list: ~/.ssh".
  std::string reason;
};

// One policy file, or any other text in the same format (a profile's rules).
struct PolicyLayer {
  std::string source;  // named in explanations and errors: a file, "profile claude"
  std::string text;
};

// What "~" and the built-in deny list stand for; both canonical.
struct PolicyContext {
  std::string home;
  std::string runtime_dir;  // $XDG_RUNTIME_DIR, or ""
};

// A rule with its patterns compiled; defined in policy.cpp.
struct PolicyRule;

class Policy {
 public:
  // LAYERS in increasing precedence. Throws Error naming the source, the
  // group and the key of the first malformed, unknown or missing entry.
  Policy(const std::vector<PolicyLayer>& layers, PolicyContext context);
  Policy(Policy&& other) noexcept;
  Policy& operator=(Policy&& other) noexcept;
  ~Policy();

  // The built-in deny list first, then the last matching rule; no match
  // is kAsk. A folder request also answers to later deny and ask rules that
  // reach inside it (airlock-policy(5), EVALUATION). Patterns are compiled
  // by the constructor; this does no I/O and takes no lock, so several
  // threads may call it at once.
  PolicyResult evaluate(const PolicyRequest& request) const;

  size_t rule_count() const;

 private:
  std::vector<PolicyRule> rules_;  // every layer's rules, in precedence order
  PolicyContext context_;
};

// The standard policy files in increasing precedence: the installed
// default.policy ($AIRLOCK_DEFAULT_POLICY instead, when set),
// /etc/airlock/airlock.policy, then airlock.policy in $XDG_CONFIG_HOME/airlock
// (~/.config/airlock). They need not exist.
std::vector<std::string> policy_search_files(const std::string& home);

// Reads FILES (a missing one is skipped, an unreadable one is an error) and
// appends EXTRA (such as a profile's rules) after them.
Policy load_policy(const std::vector<std::string>& files, const PolicyContext& context,
                   const std::vector<PolicyLayer>& extra = {});

// Names as the policy format and `airlock policy check` spell them.
const char* request_kind_name(RequestKind kind);
const char* access_name(Access access);
const char* decision_name(Decision decision);
std::optional<RequestKind> parse_request_kind(const std::string& name);
std::optional<Access> parse_access(const std::string& name);

}  // namespace airlock
