#include "policy_pattern.h"

#include <arpa/inet.h>
#include <glib.h>
#include <netinet/in.h>

#include <algorithm>
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

// A port list holds at most this many items.
constexpr size_t kMaxPortItems = 32;

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

// An IPv4-mapped IPv6 address becomes the IPv4 address it stands for.
Address unmapped(const Address& address) {
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (!address.v6 || !std::equal(std::begin(kMapped), std::end(kMapped), address.bytes.begin())) return address;
  Address v4;
  std::copy(address.bytes.begin() + 12, address.bytes.end(), v4.bytes.begin());
  return v4;
}

// Strict inet_pton(3): dotted-quad IPv4 without leading zeros, or IPv6
// without brackets or a zone. Mapped addresses come out as IPv4.
std::optional<Address> parse_address(const std::string& text, bool v6) {
  Address address;
  address.v6 = v6;
  if (inet_pton(v6 ? AF_INET6 : AF_INET, text.c_str(), address.bytes.data()) != 1) return std::nullopt;
  return unmapped(address);
}

std::string address_text(const Address& address) {
  char buffer[INET6_ADDRSTRLEN] = {};
  if (!inet_ntop(address.v6 ? AF_INET6 : AF_INET, address.bytes.data(), buffer, sizeof buffer)) return "?";
  return address.v6 ? "[" + std::string(buffer) + "]" : std::string(buffer);
}

unsigned address_bits(const Address& address) { return address.v6 ? 128 : 32; }

// ADDRESS with every bit past PREFIX cleared.
Address masked(Address address, unsigned prefix) {
  for (unsigned byte = 0; byte < 16; ++byte) {
    unsigned kept = prefix > byte * 8 ? std::min(prefix - byte * 8, 8u) : 0u;
    address.bytes[byte] &= static_cast<unsigned char>(0xff00u >> kept);
  }
  return address;
}

bool network_contains(const Network& network, const Address& address) {
  return network.address.v6 == address.v6 && masked(address, network.prefix).bytes == network.address.bytes;
}

// The PORTS of a host pattern: "*", N, N-M, or a comma-separated list of
// those last two.
void compile_ports(const std::string& ports, Pattern* pattern, const std::string& where) {
  const std::string& text = pattern->text;
  const char* kHowToWrite = ": write one port (443), a list (80,443), a range (8000-8999) or '*'";
  if (ports == "*") return;
  if (ports.empty()) bad_pattern(where, text, "has no port after ':'" + std::string(kHowToWrite));
  std::vector<std::string> items;
  size_t start = 0;
  for (;;) {
    size_t comma = ports.find(',', start);
    items.push_back(ports.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (items.size() > kMaxPortItems)
    bad_pattern(where, text, "has more than " + std::to_string(kMaxPortItems) +
                                 " ports in its list: join neighbours into ranges (8000-8999), or write several patterns");
  for (const auto& item : items) {
    if (item.empty())
      bad_pattern(where, text, "has an empty item in its port list (a leading, trailing or doubled ','): write 80,443");
    if (item == "*")
      bad_pattern(where, text, "has '*' in a port list: '*' alone means every port, write " +
                                   text.substr(0, text.size() - ports.size()) + "*");
    size_t dash = item.find('-');
    std::string first = item.substr(0, dash);
    std::string last = dash == std::string::npos ? first : item.substr(dash + 1);
    auto low = parse_port(first);
    auto high = parse_port(last);
    if (!low || !high) {
      std::string which = items.size() == 1 && dash == std::string::npos ? "" : " '" + item + "'";
      bad_pattern(where, text, "has a port" + which + " that is not a number from 1 to 65535" + kHowToWrite);
    }
    if (*low > *high)
      bad_pattern(where, text, "has a port range that ends before it starts ('" + item + "'): write " + last + "-" + first);
    pattern->ports.push_back({*low, *high});
  }
  pattern->single_port = items.size() == 1 && items[0].find('-') == std::string::npos;
}

// "/PREFIX" of an address range, the slash included in SUFFIX.
void compile_network(const std::string& address_part, const std::string& suffix, bool v6, Pattern* pattern,
                     const std::string& where) {
  const std::string& text = pattern->text;
  auto address = parse_address(address_part, v6);
  if (!address) {
    if (v6)
      bad_pattern(where, text, "is not an IPv6 address in brackets, such as [2001:db8::1] or [fd00::]/8");
    bad_pattern(where, text, "has '/' after something that is not an IPv4 address: a range of addresses is written "
                             "10.0.0.0/8, or [fd00::]/8 for IPv6, and a name takes none");
  }
  Network network;
  network.single = suffix.empty();
  unsigned written_bits = v6 ? 128 : 32;
  if (network.single) {
    network.prefix = address_bits(*address);
  } else {
    std::string digits = suffix.substr(1);
    bool ok = !digits.empty() && digits.size() <= 3 && (digits == "0" || digits[0] != '0');
    unsigned prefix = 0;
    for (char c : digits) {
      ok = ok && g_ascii_isdigit(c);
      if (ok) prefix = prefix * 10 + static_cast<unsigned>(c - '0');
    }
    if (!ok || prefix > written_bits)
      bad_pattern(where, text, "has a prefix length that is not a number from 0 to " + std::to_string(written_bits) +
                                   " (the bits of an " + (v6 ? "IPv6" : "IPv4") + " address)");
    // [::ffff:10.0.0.0]/104 is 10.0.0.0/8; a shorter prefix on a mapped
    // address keeps it as IPv6 and sets bits the check below refuses.
    if (v6 && !address->v6) {
      if (prefix >= 96) {
        prefix -= 96;
      } else {
        address = Address{true, {}};
        inet_pton(AF_INET6, address_part.c_str(), address->bytes.data());
      }
    }
    network.prefix = prefix;
  }
  Address kept = masked(*address, network.prefix);
  if (kept.bytes != address->bytes)
    bad_pattern(where, text, "has bits set past its " + suffix + " prefix: write " + address_text(kept) + "/" +
                                 std::to_string(network.prefix) + " for the range it falls in, or leave out " +
                                 suffix + " for the one address");
  network.address = kept;
  pattern->network = network;
}

}  // namespace

std::string ascii_lower(std::string_view text) {
  std::string lowered(text);
  for (char& c : lowered) c = g_ascii_tolower(c);
  return lowered;
}

// Host labels are kept last label first, so that "*.example.com" is a
// pattern over a prefix: [com, example, *, **]. Addresses and address
// ranges are compared by value instead, and IP-address resources only.
Pattern compile_host_pattern(const std::string& text, const std::string& where) {
  Pattern pattern;
  pattern.text = text;
  std::string lowered = ascii_lower(text);
  std::string host = lowered;
  std::string prefix;  // "/N" of an address range
  std::string ports;
  bool has_ports = false;
  bool v6 = false;
  if (!lowered.empty() && lowered[0] == '[') {
    v6 = true;
    size_t close = lowered.find(']');
    if (close == std::string::npos) bad_pattern(where, text, "opens an IPv6 address with '[' but never closes it");
    host = lowered.substr(1, close - 1);
    std::string rest = lowered.substr(close + 1);
    if (host.find('/') != std::string::npos)
      bad_pattern(where, text, "has its prefix length inside the brackets: write [fd00::]/8");
    if (!rest.empty() && rest[0] == '/') {
      size_t colon = rest.find(':');
      prefix = rest.substr(0, colon);
      rest = colon == std::string::npos ? "" : rest.substr(colon);
    }
    if (!rest.empty()) {
      if (rest[0] != ':')
        bad_pattern(where, text, "has text after the IPv6 address that is not /PREFIX or :PORT");
      ports = rest.substr(1);
      has_ports = true;
    }
  } else {
    size_t colon = lowered.rfind(':');
    if (colon != std::string::npos) {
      host = lowered.substr(0, colon);
      ports = lowered.substr(colon + 1);
      has_ports = true;
      if (host.find(':') != std::string::npos)
        bad_pattern(where, text, "has several ':'; write IPv6 addresses in brackets, [2001:db8::1]:443");
    }
    size_t slash = host.find('/');
    if (slash != std::string::npos) {
      prefix = host.substr(slash);
      host = host.substr(0, slash);
    }
  }
  if (has_ports) compile_ports(ports, &pattern, where);
  if (host.empty()) bad_pattern(where, text, v6 ? "has no address between its brackets" : "names no host");
  if (v6 || !prefix.empty()) {
    compile_network(host, prefix, v6, &pattern, where);
    return pattern;
  }
  if (host == "*") {
    push_segment(&pattern, {Segment::Type::kAnyDepth, ""}, where);
    return pattern;
  }
  if (parse_address(host, false)) {
    compile_network(host, "", false, &pattern, where);
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

bool parse_host_resource(std::string_view text, HostResource* resource) {
  std::string lowered = ascii_lower(text);
  size_t colon = lowered.rfind(':');
  if (colon == std::string::npos) return false;
  auto port = parse_port(std::string_view(lowered).substr(colon + 1));
  if (!port) return false;
  std::string host = lowered.substr(0, colon);
  if (host.empty()) return false;
  std::optional<Address> address;
  if (host[0] == '[') {
    if (host.size() < 3 || host.back() != ']') return false;
    address = parse_address(host.substr(1, host.size() - 2), true);
    if (!address) return false;
    host = address_text(*address);
  } else {
    size_t start = 0;
    for (;;) {
      size_t dot = host.find('.', start);
      size_t end = dot == std::string::npos ? host.size() : dot;
      if (end == start) return false;
      for (size_t i = start; i < end; ++i)
        if (!valid_host_label_char(host[i])) return false;
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    address = parse_address(host, false);
    // "127.1", "010.0.0.1", "0x7f000001": no address to inet_pton(3), but
    // the resolver's inet_aton(3) reads them as one and connects without
    // DNS. Neither a name nor an address, so that no range is walked around.
    in_addr shorthand{};
    if (!address && inet_aton(host.c_str(), &shorthand) != 0) return false;
  }
  resource->host = std::move(host);
  resource->port = *port;
  resource->address = address;
  return true;
}

// An IPv6 address is one label, brackets and all.
void split_host_labels(const HostResource& resource, std::vector<std::string_view>* labels) {
  std::string_view host = resource.host;
  if (!host.empty() && host[0] == '[') {
    labels->push_back(host);
    return;
  }
  size_t end = host.size();
  for (;;) {
    size_t dot = end == 0 ? std::string_view::npos : host.rfind('.', end - 1);
    size_t start = dot == std::string_view::npos ? 0 : dot + 1;
    labels->push_back(host.substr(start, end - start));
    if (dot == std::string_view::npos) return;
    end = dot;
  }
}

bool host_matches(const Pattern& pattern, const HostResource& resource, const std::vector<std::string_view>& labels) {
  if (!pattern.ports.empty() &&
      std::none_of(pattern.ports.begin(), pattern.ports.end(),
                   [&](const PortRange& range) { return resource.port >= range.first && resource.port <= range.last; }))
    return false;
  // A name never matches an address or a range, whatever it resolves to.
  if (pattern.network) return resource.address && network_contains(*pattern.network, *resource.address);
  return relate(pattern.segments, labels).full;
}

bool names_one_host_port(const Pattern& pattern) {
  if (!pattern.single_port) return false;
  if (pattern.network) return pattern.network->single;
  return !pattern.segments.empty() &&
         std::all_of(pattern.segments.begin(), pattern.segments.end(),
                     [](const Segment& segment) { return segment.type == Segment::Type::kLiteral; });
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
  pattern::HostResource resource;
  if (!pattern::parse_host_resource(host_port, &resource)) return false;
  std::vector<std::string_view> labels;
  pattern::split_host_labels(resource, &labels);
  return pattern::host_matches(compiled, resource, labels);
}

}  // namespace airlock
