#include "policy.h"

#include <glib.h>

#include <cstring>
#include <set>
#include <string_view>
#include <utility>

#include "config.h"
#include "error.h"
#include "host_path.h"
#include "policy_pattern.h"

namespace airlock {

namespace {

using pattern::compile_host_pattern;
using pattern::compile_path_pattern;
using pattern::compile_secret_pattern;
using pattern::host_matches;
using pattern::HostResource;
using pattern::names_one_host_port;
using pattern::parse_host_resource;
using pattern::Pattern;
using pattern::Relation;
using pattern::relate;
using pattern::split_canonical_path;
using pattern::split_host_labels;

constexpr const char* kSeeAlso = " (see airlock-policy(5))";

constexpr unsigned kind_bit(RequestKind kind) {
  switch (kind) {
    case RequestKind::kFolder: return 1u;
    case RequestKind::kFile: return 2u;
    case RequestKind::kHost: return 4u;
    case RequestKind::kSecret: return 8u;
    default: return 0u;
  }
}
constexpr unsigned kPathKinds = kind_bit(RequestKind::kFolder) | kind_bit(RequestKind::kFile);

}  // namespace

struct PolicyRule {
  std::string source;
  std::string name;
  unsigned kinds = 0;  // kind_bit()s
  Access access = Access::kRead;
  Decision decision = Decision::kAsk;
  bool override_deny_list = false;
  std::vector<std::string> profiles;  // empty: every profile
  std::vector<Pattern> patterns;
};

namespace {

// ---------------------------------------------------------------------------
// Parsing policy files.

constexpr const char* kRulePrefix = "Rule ";
constexpr const char* kKnownKeys[] = {"Kind", "Match", "Access", "Decision", "Profile", "Override"};

std::string trimmed(const char* value) {
  std::string text = value ? value : "";
  size_t first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  size_t last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

// GKeyFile silently merges a group that appears twice, so that two rules
// copied under one name would become one; find that in the text itself.
void check_duplicate_groups(const PolicyLayer& layer) {
  std::set<std::string> seen;
  g_auto(GStrv) lines = g_strsplit(layer.text.c_str(), "\n", -1);
  for (char** line = lines; *line; ++line) {
    std::string text = trimmed(g_strchomp(*line));
    if (text.empty() || text[0] != '[') continue;
    size_t close = text.rfind(']');
    if (close == std::string::npos) continue;  // GKeyFile reports it
    std::string group = text.substr(1, close - 1);
    if (!seen.insert(group).second)
      throw Error("policy " + layer.source + ", [" + group + "]: the group appears twice; give each rule its own name" +
                  kSeeAlso);
  }
}

class RuleParser {
 public:
  RuleParser(GKeyFile* keyfile, const PolicyLayer& layer, const char* group, const PolicyContext& context)
      : keyfile_(keyfile), layer_(layer), group_(group), context_(context) {}

  PolicyRule parse() {
    std::string group = group_;
    std::string name = group.rfind(kRulePrefix, 0) == 0 ? trimmed(group.c_str() + strlen(kRulePrefix)) : "";
    if (name.empty())
      throw Error("policy " + layer_.source + ", [" + group + "]: unknown group; every group is a rule, [Rule NAME]" +
                  kSeeAlso);
    check_keys();
    for (const char* key : {"Kind", "Match", "Decision"})
      if (!has(key)) throw missing(key);

    PolicyRule rule;
    rule.source = layer_.source;
    rule.name = name;
    rule.kinds = parse_kinds();
    rule.decision = parse_decision();
    bool paths = (rule.kinds & kPathKinds) != 0;
    if (has("Access")) {
      if (!paths) throw Error(where("Access") + ": applies to folder and file rules only" + kSeeAlso);
      std::string value = required_string("Access");
      auto access = parse_access(value);
      if (!access) throw Error(where("Access") + ": '" + value + "' is not read or write" + kSeeAlso);
      rule.access = *access;
    }
    if (has("Profile")) {
      rule.profiles = list("Profile");
      if (rule.profiles.empty())
        throw Error(where("Profile") + ": is empty; remove it to apply the rule to every profile" + kSeeAlso);
    }
    if (has("Override")) {
      std::string value = required_string("Override");
      if (value != "deny-list") throw Error(where("Override") + ": '" + value + "' is not deny-list" + kSeeAlso);
      if (rule.decision != Decision::kAsk)
        throw Error(where("Override") + ": needs Decision=ask; a deny-listed path is never granted without a person "
                                        "confirming it" + kSeeAlso);
      if (!paths) throw Error(where("Override") + ": applies to folder and file rules only" + kSeeAlso);
      rule.override_deny_list = true;
    }
    std::vector<std::string> patterns = list("Match");
    if (patterns.empty()) throw Error(where("Match") + ": is empty; a rule needs at least one pattern" + kSeeAlso);
    for (const auto& text : patterns) {
      if (paths)
        rule.patterns.push_back(compile_path_pattern(text, context_.home, where("Match")));
      else if (rule.kinds == kind_bit(RequestKind::kHost))
        rule.patterns.push_back(compile_host_pattern(text, where("Match")));
      else
        rule.patterns.push_back(compile_secret_pattern(text, where("Match")));
    }
    return rule;
  }

 private:
  std::string where(const char* key) const { return "policy " + layer_.source + ", [" + group_ + "] " + key; }

  Error missing(const char* key) const {
    return Error("policy " + layer_.source + ", [" + group_ + "]: no " + key +
                 " key; every rule needs Kind, Match and Decision" + kSeeAlso);
  }

  bool has(const char* key) const { return g_key_file_has_key(keyfile_, group_, key, nullptr); }

  void check_keys() const {
    std::set<std::string> seen;
    g_auto(GStrv) keys = g_key_file_get_keys(keyfile_, group_, nullptr, nullptr);
    for (char** key = keys; key && *key; ++key) {
      bool known = false;
      for (const char* candidate : kKnownKeys) known = known || g_str_equal(candidate, *key);
      if (!known) throw Error(where(*key) + ": unknown key" + kSeeAlso);
      // GKeyFile keeps the last of two equal keys; a rule with two Match
      // lines would silently lose the first.
      if (!seen.insert(*key).second) throw Error(where(*key) + ": given twice; write one list" + kSeeAlso);
    }
  }

  std::string required_string(const char* key) const {
    g_autoptr(GError) error = nullptr;
    g_autofree char* value = g_key_file_get_string(keyfile_, group_, key, &error);
    if (!value) throw Error(where(key) + ": " + error->message + kSeeAlso);
    return trimmed(value);
  }

  std::vector<std::string> list(const char* key) const {
    g_autoptr(GError) error = nullptr;
    g_auto(GStrv) values = g_key_file_get_string_list(keyfile_, group_, key, nullptr, &error);
    if (error) throw Error(where(key) + ": " + error->message + kSeeAlso);
    std::vector<std::string> result;
    for (char** value = values; value && *value; ++value) {
      std::string item = trimmed(*value);
      if (!item.empty()) result.push_back(item);
    }
    return result;
  }

  unsigned parse_kinds() const {
    unsigned kinds = 0;
    for (const auto& value : list("Kind")) {
      auto kind = parse_request_kind(value);
      if (!kind) throw Error(where("Kind") + ": '" + value + "' is not folder, file, host or secret" + kSeeAlso);
      kinds |= kind_bit(*kind);
    }
    if (kinds == 0) throw Error(where("Kind") + ": is empty" + kSeeAlso);
    // Paths, hosts and secret names are matched differently; one Match list
    // cannot mean all three.
    bool paths = (kinds & kPathKinds) != 0;
    bool host = (kinds & kind_bit(RequestKind::kHost)) != 0;
    bool secret = (kinds & kind_bit(RequestKind::kSecret)) != 0;
    if (int{paths} + int{host} + int{secret} > 1)
      throw Error(where("Kind") + ": mixes paths, hosts and secrets, whose patterns differ; write one rule for each" +
                  kSeeAlso);
    return kinds;
  }

  Decision parse_decision() const {
    std::string value = required_string("Decision");
    if (value == "allow") return Decision::kAllow;
    if (value == "deny") return Decision::kDeny;
    if (value == "ask") return Decision::kAsk;
    throw Error(where("Decision") + ": '" + value + "' is not allow, deny or ask" + kSeeAlso);
  }

  GKeyFile* keyfile_;
  const PolicyLayer& layer_;
  const char* group_;
  const PolicyContext& context_;
};

void parse_layer(const PolicyLayer& layer, const PolicyContext& context, std::vector<PolicyRule>* rules) {
  check_duplicate_groups(layer);
  g_autoptr(GKeyFile) keyfile = g_key_file_new();
  g_autoptr(GError) error = nullptr;
  if (!g_key_file_load_from_data(keyfile, layer.text.data(), layer.text.size(), G_KEY_FILE_NONE, &error))
    throw Error("policy " + layer.source + " is malformed: " + error->message + kSeeAlso);
  g_auto(GStrv) groups = g_key_file_get_groups(keyfile, nullptr);
  for (char** group = groups; *group; ++group)
    rules->push_back(RuleParser(keyfile, layer, *group, context).parse());
}

// ---------------------------------------------------------------------------
// Evaluation.

int strictness(Decision decision) {
  switch (decision) {
    case Decision::kAllow: return 0;
    case Decision::kAsk: return 1;
    case Decision::kDeny: return 2;
    default: return 2;
  }
}

// An allow rule grants up to its access: Access=read allows reading only.
// Deny and ask rules restrict from their access up: Access=read denies
// reading and therefore writing, Access=write denies writing and leaves
// reading to other rules. Either way the safe reading of a rule wins.
bool access_applies(const PolicyRule& rule, Access requested) {
  bool wants_write = requested == Access::kWrite;
  bool rule_write = rule.access == Access::kWrite;
  switch (rule.decision) {
    case Decision::kAllow: return rule_write || !wants_write;
    case Decision::kDeny:
    case Decision::kAsk: return wants_write || !rule_write;
    default: return false;
  }
}

bool rule_applies(const PolicyRule& rule, const PolicyRequest& request) {
  if ((rule.kinds & kind_bit(request.kind)) == 0) return false;
  if ((rule.kinds & kPathKinds) != 0 && !access_applies(rule, request.access)) return false;
  if (rule.profiles.empty()) return true;
  for (const auto& profile : rule.profiles)
    if (profile == request.profile) return true;
  return false;
}

struct RuleMatch {
  bool full = false;
  bool literal = false;              // a host pattern naming one host or address with one port matches
  const Pattern* beneath = nullptr;  // the first pattern that reaches beneath
};

// HOST is the request's when it is for a host, PARTS its labels.
RuleMatch match_rule(const PolicyRule& rule, const std::vector<std::string_view>& parts, const HostResource* host,
                     bool want_beneath) {
  RuleMatch match;
  for (const auto& pattern : rule.patterns) {
    if (host) {
      if (!host_matches(pattern, *host, parts)) continue;
      match.full = true;
      match.literal = names_one_host_port(pattern);
      if (match.literal) return match;
      continue;
    }
    Relation relation = relate(pattern.segments, parts);
    if (relation.full) {
      match.full = true;
      continue;
    }
    if (want_beneath && relation.beneath && !match.beneath) match.beneath = &pattern;
  }
  return match;
}

std::string rule_label(const PolicyRule& rule, const std::string& home) {
  return "[Rule " + rule.name + "] in " + display_path(rule.source, home);
}

PolicyResult refuse(const std::string& reason) {
  PolicyResult result;
  result.decision = Decision::kDeny;
  result.reason = reason;
  return result;
}

}  // namespace

Policy::Policy(const std::vector<PolicyLayer>& layers, PolicyContext context) : context_(std::move(context)) {
  for (const auto& layer : layers) parse_layer(layer, context_, &rules_);
}

Policy::Policy(Policy&& other) noexcept = default;
Policy& Policy::operator=(Policy&& other) noexcept = default;
Policy::~Policy() = default;

size_t Policy::rule_count() const { return rules_.size(); }

PolicyResult Policy::evaluate(const PolicyRequest& request) const {
  std::vector<std::string_view> parts;
  HostResource host;
  bool paths = false;
  switch (request.kind) {
    case RequestKind::kFolder:
    case RequestKind::kFile:
      paths = true;
      if (!split_canonical_path(request.resource, &parts))
        return refuse("not a canonical absolute path: refused without asking");
      break;
    case RequestKind::kHost:
      if (!parse_host_resource(request.resource, &host)) return refuse("not a HOST:PORT: refused without asking");
      split_host_labels(host, &parts);
      break;
    case RequestKind::kSecret:
      if (request.resource.empty() || request.resource.find('\0') != std::string::npos)
        return refuse("not a secret name: refused without asking");
      parts.emplace_back(request.resource);
      break;
    default:
      return refuse("unknown request kind: refused without asking");
  }

  std::optional<std::string> denied;
  if (paths) denied = deny_list_match(request.resource, context_.home, context_.runtime_dir);
  // Granting a folder grants all beneath it, so a deny or ask rule that
  // reaches inside the folder binds the request too, unless a rule that
  // matches the folder itself comes later and so overrides it.
  bool want_beneath = request.kind == RequestKind::kFolder;

  const PolicyRule* deciding = nullptr;
  bool deciding_literal = false;
  const PolicyRule* inside = nullptr;
  const Pattern* inside_pattern = nullptr;
  for (auto rule = rules_.rbegin(); rule != rules_.rend(); ++rule) {
    if (!rule_applies(*rule, request)) continue;
    // On the deny list only a deny rule or a confirmed override counts:
    // no allow rule, and no plain ask rule, can open it.
    if (denied && rule->decision != Decision::kDeny && !rule->override_deny_list) continue;
    RuleMatch match = match_rule(*rule, parts, request.kind == RequestKind::kHost ? &host : nullptr,
                                 want_beneath && rule->decision != Decision::kAllow);
    if (match.full) {
      deciding = &*rule;
      deciding_literal = match.literal;
      break;
    }
    if (match.beneath && (!inside || strictness(rule->decision) > strictness(inside->decision))) {
      inside = &*rule;
      inside_pattern = match.beneath;
    }
  }

  PolicyResult result;
  if (denied) {
    std::string entry = "built-in deny list: " + display_path(*denied, context_.home);
    if (deciding && deciding->decision == Decision::kAsk) {
      result.decision = Decision::kAsk;
      result.dangerous = true;
      result.source = deciding->source;
      result.rule = deciding->name;
      result.reason = entry + ", overridden by " + rule_label(*deciding, context_.home) + ": a person must confirm";
    } else {
      result.decision = Decision::kDeny;
      result.reason = entry;
    }
  } else if (deciding) {
    result.decision = deciding->decision;
    result.literal = deciding_literal;
    result.source = deciding->source;
    result.rule = deciding->name;
    result.reason = rule_label(*deciding, context_.home);
  } else {
    result.decision = Decision::kAsk;
    result.reason = "no rule matched: ask";
  }

  if (inside && strictness(inside->decision) > strictness(result.decision)) {
    result.decision = inside->decision;
    result.dangerous = false;
    result.source = inside->source;
    result.rule = inside->name;
    result.reason = rule_label(*inside, context_.home) + " covers " + inside_pattern->text + ", inside " +
                    display_path(request.resource, context_.home);
  }
  return result;
}

std::vector<std::string> policy_search_files(const std::string& home) {
  const char* config = g_getenv("XDG_CONFIG_HOME");
  // An uninstalled build (meson devenv, the tests) names the source tree's.
  const char* shipped = g_getenv("AIRLOCK_DEFAULT_POLICY");
  return {
      shipped && *shipped ? std::string(shipped) : std::string(AIRLOCK_POLICYDIR) + "/default.policy",
      "/etc/airlock/airlock.policy",
      (config && *config ? std::string(config) : home + "/.config") + "/airlock/airlock.policy",
  };
}

Policy load_policy(const std::vector<std::string>& files, const PolicyContext& context,
                   const std::vector<PolicyLayer>& extra) {
  std::vector<PolicyLayer> layers;
  for (const auto& file : files) {
    g_autofree char* contents = nullptr;
    gsize length = 0;
    g_autoptr(GError) error = nullptr;
    if (!g_file_get_contents(file.c_str(), &contents, &length, &error)) {
      if (g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT)) continue;
      throw Error("cannot read policy " + file + ": " + error->message);
    }
    layers.push_back({file, std::string(contents, length)});
  }
  layers.insert(layers.end(), extra.begin(), extra.end());
  return Policy(layers, context);
}

const char* request_kind_name(RequestKind kind) {
  switch (kind) {
    case RequestKind::kFolder: return "folder";
    case RequestKind::kFile: return "file";
    case RequestKind::kHost: return "host";
    case RequestKind::kSecret: return "secret";
    default: return "unknown";
  }
}

const char* access_name(Access access) {
  switch (access) {
    case Access::kRead: return "read";
    case Access::kWrite: return "write";
    default: return "unknown";
  }
}

const char* decision_name(Decision decision) {
  switch (decision) {
    case Decision::kAllow: return "allow";
    case Decision::kDeny: return "deny";
    case Decision::kAsk: return "ask";
    default: return "unknown";
  }
}

std::optional<RequestKind> parse_request_kind(const std::string& name) {
  for (RequestKind kind : {RequestKind::kFolder, RequestKind::kFile, RequestKind::kHost, RequestKind::kSecret})
    if (name == request_kind_name(kind)) return kind;
  return std::nullopt;
}

std::optional<Access> parse_access(const std::string& name) {
  for (Access access : {Access::kRead, Access::kWrite})
    if (name == access_name(access)) return access;
  return std::nullopt;
}

}  // namespace airlock
