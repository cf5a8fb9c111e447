#include "policy_pattern.h"

#include <glib.h>

#include <bit>
#include <cstdint>
#include <optional>
#include <utility>

#include "error.h"

namespace airlock {

namespace pattern {

namespace {

constexpr const char* kSeeAlso = " (see airlock-policy(5))";

// A compiled pattern is matched with one bit per position in a 64-bit state
// set, so a pattern holds at most 63 components (or host labels).
constexpr size_t kMaxSegments = 63;

// ---------------------------------------------------------------------------
// Globs within one component. Byte-wise on purpose: fnmatch(3) depends on the
// locale and, in a UTF-8 locale, fails on names that are not valid UTF-8,
// which would let such a name slip past a deny rule.

unsigned char bracket_char(std::string_view pattern, size_t* pos) {
  if (pattern[*pos] == '\\' && *pos + 1 < pattern.size()) ++*pos;
  return static_cast<unsigned char>(pattern[(*pos)++]);
}

// Matches C against the bracket expression opening at pattern[OPEN]. Returns
// nullopt when it is malformed (unclosed, dangling backslash, reversed
// range); *END receives the index just past its ']'.
std::optional<bool> bracket_matches(std::string_view pattern, size_t open, unsigned char c, size_t* end) {
  size_t pos = open + 1;
  bool negate = pos < pattern.size() && (pattern[pos] == '!' || pattern[pos] == '^');
  if (negate) ++pos;
  bool matched = false;
  bool first = true;  // a ']' right after the opening is a member, as in POSIX
  while (pos < pattern.size() && (first || pattern[pos] != ']')) {
    first = false;
    if (pattern[pos] == '\\' && pos + 1 >= pattern.size()) return std::nullopt;
    unsigned char low = bracket_char(pattern, &pos);
    unsigned char high = low;
    if (pos + 1 < pattern.size() && pattern[pos] == '-' && pattern[pos + 1] != ']') {
      ++pos;
      if (pattern[pos] == '\\' && pos + 1 >= pattern.size()) return std::nullopt;
      high = bracket_char(pattern, &pos);
      if (high < low) return std::nullopt;
    }
    if (c >= low && c <= high) matched = true;
  }
  if (pos >= pattern.size()) return std::nullopt;
  *end = pos + 1;
  return matched != negate;
}

// PATTERN was validated by compile_segment(). Greedy with one backtrack
// point, so the cost stays linear in practice and never exponential.
bool glob_matches(std::string_view pattern, std::string_view text) {
  size_t p = 0;
  size_t t = 0;
  size_t star_p = std::string_view::npos;
  size_t star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size()) {
      char pc = pattern[p];
      if (pc == '*') {
        star_p = ++p;
        star_t = t;
        continue;
      }
      unsigned char tc = static_cast<unsigned char>(text[t]);
      size_t next = p + 1;
      bool ok = false;
      if (pc == '?') {
        ok = true;
      } else if (pc == '[') {
        ok = bracket_matches(pattern, p, tc, &next).value_or(false);
      } else if (pc == '\\') {
        ok = static_cast<unsigned char>(pattern[p + 1]) == tc;
        next = p + 2;
      } else {
        ok = static_cast<unsigned char>(pc) == tc;
      }
      if (ok) {
        p = next;
        ++t;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// Throws Error(WHERE: 'TEXT' PROBLEM).
[[noreturn]] void bad_pattern(const std::string& where, const std::string& text, const std::string& problem) {
  throw Error(where + ": '" + text + "' " + problem + kSeeAlso);
}

// One component of TEXT (the whole pattern, for messages).
Segment compile_segment(const std::string& part, const std::string& text, const std::string& where,
                        bool allow_any_depth) {
  if (allow_any_depth && part == "**") return {Segment::Type::kAnyDepth, ""};
  bool wild = false;
  std::string literal;
  for (size_t i = 0; i < part.size(); ++i) {
    char c = part[i];
    if (c == '\\') {
      if (i + 1 >= part.size()) bad_pattern(where, text, "ends in a lone backslash");
      literal += part[++i];
    } else if (c == '*') {
      if (allow_any_depth && i + 1 < part.size() && part[i + 1] == '*')
        bad_pattern(where, text, "has '**' inside a component: '**' must stand alone between slashes (a/**/b), "
                                 "'*' matches within one component");
      wild = true;
    } else if (c == '?') {
      wild = true;
    } else if (c == '[') {
      size_t end = 0;
      if (!bracket_matches(part, i, 0, &end))
        bad_pattern(where, text, "has a malformed [...] class (unclosed, or a reversed range)");
      i = end - 1;
      wild = true;
    } else {
      literal += c;
    }
  }
  if (wild) return {Segment::Type::kGlob, part};
  return {Segment::Type::kLiteral, literal};
}

void push_segment(Pattern* pattern, Segment segment, const std::string& where) {
  // "a/**/**/b" is "a/**/b"; merging keeps the state set small.
  if (segment.type == Segment::Type::kAnyDepth && !pattern->segments.empty() &&
      pattern->segments.back().type == Segment::Type::kAnyDepth)
    return;
  if (pattern->segments.size() == kMaxSegments)
    bad_pattern(where, pattern->text, "has more than " + std::to_string(kMaxSegments) + " components");
  pattern->segments.push_back(std::move(segment));
}

}  // namespace

Pattern compile_path_pattern(const std::string& text, const std::string& home, const std::string& where) {
  Pattern pattern;
  pattern.text = text;
  std::string rest = text;
  if (text.empty()) bad_pattern(where, text, "is empty");
  if (text == "~" || text.rfind("~/", 0) == 0) {
    if (home.empty() || home[0] != '/') bad_pattern(where, text, "uses ~ but the home directory is unknown");
    // The home directory is literal even when its name holds '*' or '['.
    g_auto(GStrv) parts = g_strsplit(home.c_str(), "/", -1);
    for (char** part = parts; *part; ++part)
      if (**part) push_segment(&pattern, {Segment::Type::kLiteral, *part}, where);
    rest = text.substr(1);
  } else if (text[0] == '~') {
    bad_pattern(where, text, "names another user's home: only ~ and ~/... are expanded; write the absolute path");
  } else if (text[0] != '/') {
    bad_pattern(where, text, "is not an absolute path: start it with / or ~/");
  }
  if (rest.empty() || rest == "/") return pattern;
  if (rest.back() == '/')
    bad_pattern(where, text, "ends in '/': write the folder itself (~/src), or the folder and all beneath it (~/src/**)");
  size_t start = 1;
  while (start <= rest.size()) {
    size_t slash = rest.find('/', start);
    if (slash == std::string::npos) slash = rest.size();
    std::string part = rest.substr(start, slash - start);
    if (part.empty()) bad_pattern(where, text, "has an empty component ('//')");
    if (part == "." || part == "..")
      bad_pattern(where, text, "has a '" + part + "' component; patterns match canonical paths, which have none");
    push_segment(&pattern, compile_segment(part, text, where, true), where);
    start = slash + 1;
  }
  return pattern;
}

namespace {

// "1".."65535", nothing else (no sign, no spaces, no leading zeros beyond "0").
std::optional<unsigned> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5 || text[0] == '0') return std::nullopt;
  unsigned value = 0;
  for (char c : text) {
    if (!g_ascii_isdigit(c)) return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value < 1 || value > 65535) return std::nullopt;
  return value;
}

bool valid_host_label_char(char c) { return g_ascii_isalnum(c) || c == '-' || c == '_'; }

bool valid_ipv6_literal(std::string_view host) {
  if (host.size() < 3 || host.front() != '[' || host.back() != ']') return false;
  for (char c : host.substr(1, host.size() - 2))
    if (!g_ascii_isxdigit(c) && c != ':' && c != '.') return false;
  return true;
}

}  // namespace

std::string ascii_lower(std::string_view text) {
  std::string lowered(text);
  for (char& c : lowered) c = g_ascii_tolower(c);
  return lowered;
}

// Host labels are kept last label first, so that "*.example.com" is a
// pattern over a prefix: [com, example, *, **].
Pattern compile_host_pattern(const std::string& text, const std::string& where) {
  Pattern pattern;
  pattern.text = text;
  std::string lowered = ascii_lower(text);
  std::string host = lowered;
  std::string port;
  bool has_port = false;
  if (!lowered.empty() && lowered[0] == '[') {
    size_t close = lowered.find(']');
    if (close == std::string::npos) bad_pattern(where, text, "opens an IPv6 address with '[' but never closes it");
    host = lowered.substr(0, close + 1);
    if (close + 1 < lowered.size()) {
      if (lowered[close + 1] != ':') bad_pattern(where, text, "has text after the IPv6 address that is not :PORT");
      port = lowered.substr(close + 2);
      has_port = true;
    }
    if (!valid_ipv6_literal(host)) bad_pattern(where, text, "is not an IPv6 address in brackets");
  } else {
    size_t colon = lowered.rfind(':');
    if (colon != std::string::npos) {
      host = lowered.substr(0, colon);
      port = lowered.substr(colon + 1);
      has_port = true;
      if (host.find(':') != std::string::npos)
        bad_pattern(where, text, "has several ':'; write IPv6 addresses in brackets, [2001:db8::1]:443");
    }
  }
  if (has_port && port != "*") {
    auto value = parse_port(port);
    if (!value) bad_pattern(where, text, "has a port that is not a number from 1 to 65535 or '*'");
    pattern.port = *value;
  }
  if (host.empty()) bad_pattern(where, text, "names no host");
  if (host == "*") {
    push_segment(&pattern, {Segment::Type::kAnyDepth, ""}, where);
    return pattern;
  }
  if (host[0] == '[') {
    push_segment(&pattern, {Segment::Type::kLiteral, host}, where);
    return pattern;
  }
  g_auto(GStrv) labels = g_strsplit(host.c_str(), ".", -1);
  guint count = g_strv_length(labels);
  for (guint i = count; i-- > 0;) {
    std::string label = labels[i];
    if (label.empty()) bad_pattern(where, text, "has an empty label (a leading, trailing or doubled '.')");
    bool wild = false;
    for (char c : label) {
      if (c == '*' || c == '?')
        wild = true;
      else if (!valid_host_label_char(c))
        bad_pattern(where, text, "has '" + std::string(1, c) + "', which no host name holds");
    }
    if (label.find("**") != std::string::npos)
      bad_pattern(where, text, "has '**': a leading '*.' already matches subdomains at any depth");
    if (i == 0 && label == "*" && count > 1) {
      // "*.example.com": one label or more in front of example.com.
      push_segment(&pattern, {Segment::Type::kGlob, "*"}, where);
      push_segment(&pattern, {Segment::Type::kAnyDepth, ""}, where);
    } else {
      push_segment(&pattern, {wild ? Segment::Type::kGlob : Segment::Type::kLiteral, label}, where);
    }
  }
  return pattern;
}

Pattern compile_secret_pattern(const std::string& text, const std::string& where) {
  Pattern pattern;
  pattern.text = text;
  // Secret names are flat: '*' matches anything, '/' included.
  push_segment(&pattern, compile_segment(text, text, where, false), where);
  return pattern;
}

namespace {

// ---------------------------------------------------------------------------
// Matching a compiled pattern against a split resource.

bool segment_matches(const Segment& segment, std::string_view part) {
  switch (segment.type) {
    case Segment::Type::kLiteral: return segment.text == part;
    case Segment::Type::kGlob: return glob_matches(segment.text, part);
    case Segment::Type::kAnyDepth: return true;
    default: return false;
  }
}

// Adds to STATES the positions reachable by letting a '**' match nothing.
uint64_t any_depth_closure(const std::vector<Segment>& segments, uint64_t states) {
  for (size_t k = 0; k < segments.size(); ++k)
    if ((states >> k & 1u) != 0 && segments[k].type == Segment::Type::kAnyDepth) states |= uint64_t{1} << (k + 1);
  return states;
}

}  // namespace

// A set-of-positions simulation: no backtracking, and it tells whether the
// whole of PARTS was consumed with pattern left over, which is what "could
// match beneath this folder" means.
Relation relate(const std::vector<Segment>& segments, const std::vector<std::string_view>& parts) {
  uint64_t states = any_depth_closure(segments, 1u);
  for (std::string_view part : parts) {
    uint64_t next = 0;
    for (uint64_t rest = states; rest != 0; rest &= rest - 1) {
      auto k = static_cast<size_t>(std::countr_zero(rest));
      if (k >= segments.size()) continue;
      const Segment& segment = segments[k];
      if (segment.type == Segment::Type::kAnyDepth)
        next |= uint64_t{1} << k;
      else if (segment_matches(segment, part))
        next |= uint64_t{1} << (k + 1);
    }
    states = any_depth_closure(segments, next);
    if (states == 0) return {};
  }
  uint64_t end = uint64_t{1} << segments.size();
  return {(states & end) != 0, (states & (end - 1)) != 0};
}

// Canonical means what realpath() returns: absolute, no empty, "." or ".."
// component, no trailing slash. Anything else is refused, not normalised:
// the portal resolves paths before asking, so a mismatch is a bug or an
// attack.
bool split_canonical_path(std::string_view path, std::vector<std::string_view>* parts) {
  if (path.empty() || path[0] != '/' || path.find('\0') != std::string_view::npos) return false;
  if (path.size() == 1) return true;
  size_t start = 1;
  for (;;) {
    size_t slash = path.find('/', start);
    std::string_view part = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    parts->push_back(part);
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

// LOWERED is "host:port" or "[v6]:port" in lower case; labels come out last
// first, as compile_host_pattern() stores them.
bool split_host_port(std::string_view lowered, std::vector<std::string_view>* labels, unsigned* port) {
  size_t colon = lowered.rfind(':');
  if (colon == std::string_view::npos) return false;
  auto value = parse_port(lowered.substr(colon + 1));
  if (!value) return false;
  *port = *value;
  std::string_view host = lowered.substr(0, colon);
  if (!host.empty() && host[0] == '[') {
    if (!valid_ipv6_literal(host)) return false;
    labels->push_back(host);
    return true;
  }
  if (host.empty()) return false;
  size_t end = host.size();
  for (;;) {
    size_t dot = host.rfind('.', end - 1);
    size_t start = dot == std::string_view::npos ? 0 : dot + 1;
    std::string_view label = host.substr(start, end - start);
    if (label.empty()) return false;
    for (char c : label)
      if (!valid_host_label_char(c)) return false;
    labels->push_back(label);
    if (dot == std::string_view::npos) return true;
    if (dot == 0) return false;
    end = dot;
  }
}

}  // namespace pattern

bool path_pattern_matches(const std::string& pattern, const std::string& path, const std::string& home) {
  pattern::Pattern compiled = pattern::compile_path_pattern(pattern, home, "pattern");
  std::vector<std::string_view> parts;
  if (!pattern::split_canonical_path(path, &parts)) return false;
  return pattern::relate(compiled.segments, parts).full;
}

bool host_pattern_matches(const std::string& pattern, const std::string& host_port) {
  pattern::Pattern compiled = pattern::compile_host_pattern(pattern, "pattern");
  std::string lowered = pattern::ascii_lower(host_port);
  std::vector<std::string_view> labels;
  unsigned port = 0;
  if (!pattern::split_host_port(lowered, &labels, &port)) return false;
  if (compiled.port != 0 && compiled.port != port) return false;
  return pattern::relate(compiled.segments, labels).full;
}

}  // namespace airlock
