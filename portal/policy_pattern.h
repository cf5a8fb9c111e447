// The patterns of a policy rule's Match key: path, host and secret-name globs,
// compiled once and matched against canonical resources. The syntax is
// documented in airlock-policy(5), PATTERNS.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace airlock {

namespace pattern {

// One path component, host label or secret name of a pattern.
struct Segment {
  enum class Type { kLiteral, kGlob, kAnyDepth };
  Type type = Type::kLiteral;
  std::string text;  // kLiteral: unescaped; kGlob: as written
};

// A compiled pattern: at most 63 segments.
struct Pattern {
  std::string text;  // as written, for explanations
  std::vector<Segment> segments;
  unsigned port = 0;  // hosts: 0 matches every port
};

// How a pattern stands to a resource.
struct Relation {
  bool full = false;     // the pattern matches the resource itself
  bool beneath = false;  // it could match a path strictly beneath the resource
};

// Compile TEXT, a pattern as written in a policy file. "~" stands for HOME
// (paths only). Throw Error naming WHERE and the problem when TEXT is malformed.
Pattern compile_path_pattern(const std::string& text, const std::string& home, const std::string& where);
Pattern compile_host_pattern(const std::string& text, const std::string& where);
Pattern compile_secret_pattern(const std::string& text, const std::string& where);

// TEXT with A-Z lowered, byte-wise and independent of the locale.
std::string ascii_lower(std::string_view text);

// Whether SEGMENTS match PARTS, and whether they could match beneath them.
Relation relate(const std::vector<Segment>& segments, const std::vector<std::string_view>& parts);

// Split a canonical absolute path into its components, appended to PARTS
// (views into PATH). False when PATH is not canonical.
bool split_canonical_path(std::string_view path, std::vector<std::string_view>* parts);

// Split a lower-case "host:port" or "[v6]:port" into its labels, last first
// as host patterns keep them (views into LOWERED), and its port. False when
// LOWERED is not such a string.
bool split_host_port(std::string_view lowered, std::vector<std::string_view>* labels, unsigned* port);

}  // namespace pattern

// One pattern against one resource, compiled at each call: for tests and
// tools, not for the request path. Throw Error when PATTERN is malformed.
bool path_pattern_matches(const std::string& pattern, const std::string& path, const std::string& home);
bool host_pattern_matches(const std::string& pattern, const std::string& host_port);

}  // namespace airlock
