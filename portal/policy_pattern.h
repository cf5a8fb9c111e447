// The patterns of a policy rule's Match key: path, host and secret-name globs,
// compiled once and matched against canonical resources. The syntax is
// documented in airlock-policy(5), PATTERNS.
#pragma once

#include <array>
#include <optional>
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

// An IP address. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is kept as
// the IPv4 address it stands for, in resources and in patterns alike.
struct Address {
  bool v6 = false;
  std::array<unsigned char, 16> bytes{};  // IPv4: the first 4
};

// Hosts: an address, or an address range in CIDR notation.
struct Network {
  Address address;  // its bits past PREFIX are zero
  unsigned prefix = 0;
  bool single = false;  // written without /PREFIX: exactly one address
};

// Hosts: FIRST..LAST, both included.
struct PortRange {
  unsigned first = 0;
  unsigned last = 0;
};

// A compiled pattern: at most 63 segments.
struct Pattern {
  std::string text;  // as written, for explanations
  std::vector<Segment> segments;  // empty for an address or range of addresses
  // Hosts only:
  std::optional<Network> network;  // matched against IP-address resources only
  std::vector<PortRange> ports;    // empty matches every port
  bool single_port = false;        // written as one number, not a list or range
};

// A HOST:PORT resource as host patterns see it.
struct HostResource {
  std::string host;  // lower case; an IPv4-mapped IPv6 address in its IPv4 form
  unsigned port = 0;
  std::optional<Address> address;  // HOST is an IP address
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

// Parse "host:port" or "[v6]:port", in any case. False when TEXT is not
// such a string (an IPv6 address in brackets must be a valid one).
bool parse_host_resource(std::string_view text, HostResource* resource);

// The labels of RESOURCE's host, last first as host patterns keep them
// (views into RESOURCE.host), appended to LABELS.
void split_host_labels(const HostResource& resource, std::vector<std::string_view>* labels);

// Whether host pattern PATTERN matches RESOURCE, whose labels are LABELS.
bool host_matches(const Pattern& pattern, const HostResource& resource, const std::vector<std::string_view>& labels);

// Whether host pattern PATTERN names one host, or one address, with one
// port: no wildcard, no range, no list. What "a grant names that address
// explicitly" means to the network proxy.
bool names_one_host_port(const Pattern& pattern);

}  // namespace pattern

// One pattern against one resource, compiled at each call: for tests and
// tools, not for the request path. Throw Error when PATTERN is malformed.
bool path_pattern_matches(const std::string& pattern, const std::string& path, const std::string& home);
bool host_pattern_matches(const std::string& pattern, const std::string& host_port);

}  // namespace airlock
