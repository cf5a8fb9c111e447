#include "proxy_request.h"

#include <gio/gio.h>

#include <algorithm>
#include <charconv>
#include <set>
#include <vector>

namespace airlock {

namespace {

bool is_token_char(char c) {
  if (g_ascii_isalnum(c)) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), is_token_char);
}

bool has_control_chars(std::string_view text, bool allow_tab) {
  return std::any_of(text.begin(), text.end(), [allow_tab](char c) {
    auto byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && !(allow_tab && c == '\t')) || byte == 0x7f;
  });
}

std::string lower(std::string_view text) {
  std::string result(text);
  for (auto& c : result) c = g_ascii_tolower(c);
  return result;
}

bool parse_port(std::string_view text, uint16_t* port) {
  if (text.empty() || text.size() > 5) return false;
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) return false;
  *port = static_cast<uint16_t>(value);
  return true;
}

bool is_numeric_label(std::string_view label) {
  if (label.size() >= 2 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X')) {
    return std::all_of(label.begin() + 2, label.end(), [](char c) { return g_ascii_isxdigit(c); });
  }
  return !label.empty() && std::all_of(label.begin(), label.end(), [](char c) { return g_ascii_isdigit(c); });
}

// "host:port" or "[v6]:port"; without a port, DEFAULT_PORT (0: required).
bool parse_authority(std::string_view authority, uint16_t default_port, std::string* host, uint16_t* port,
                     std::string* error) {
  std::string_view host_part;
  std::string_view port_part;
  bool bracketed = false;
  if (!authority.empty() && authority[0] == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) {
      *error = "an IPv6 address without its closing bracket";
      return false;
    }
    host_part = authority.substr(1, close - 1);
    bracketed = true;
    auto rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') {
        *error = "text after the IPv6 address";
        return false;
      }
      port_part = rest.substr(1);
      if (port_part.empty()) port_part = "-";
    }
  } else {
    auto colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      host_part = authority.substr(0, colon);
      port_part = authority.substr(colon + 1);
      if (port_part.empty()) port_part = "-";
      if (host_part.find(':') != std::string_view::npos) {
        *error = "an IPv6 address must be written in brackets";
        return false;
      }
    } else {
      host_part = authority;
    }
  }
  if (port_part.empty()) {
    if (default_port == 0) {
      *error = "no port (write host:port)";
      return false;
    }
    *port = default_port;
  } else if (!parse_port(port_part, port)) {
    *error = "not a port between 1 and 65535";
    return false;
  }
  if (!normalize_proxy_host(host_part, host, error)) return false;
  if (bracketed && host->find(':') == std::string::npos) {
    *error = "brackets around something that is not an IPv6 address";
    return false;
  }
  return true;
}

struct Header {
  std::string_view name, value;
};

// The blank line that ends the head, or npos. Lines end in CRLF or LF.
size_t find_head_end(std::string_view buffer) {
  size_t pos = 0;
  while (true) {
    auto newline = buffer.find('\n', pos);
    if (newline == std::string_view::npos) return std::string_view::npos;
    auto line = buffer.substr(pos, newline - pos);
    if (line.empty() || line == "\r") {
      if (pos > 0) return newline + 1;
    }
    pos = newline + 1;
  }
}

std::vector<std::string_view> split_lines(std::string_view head) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos < head.size()) {
    auto newline = head.find('\n', pos);
    if (newline == std::string_view::npos) newline = head.size();
    auto line = head.substr(pos, newline - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    pos = newline + 1;
  }
  return lines;
}

ParseStatus bad(HttpProxyRequest* request, std::string error) {
  request->error = "airlock: bad proxy request: " + error;
  return ParseStatus::kBad;
}

// The request line: METHOD SP TARGET SP HTTP/1.x.
ParseStatus parse_request_line(std::string_view line, std::string_view* method, std::string_view* target,
                               std::string_view* version, HttpProxyRequest* request) {
  if (has_control_chars(line, false) ||
      std::any_of(line.begin(), line.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
    return bad(request, "control or non-ASCII characters in the request line");
  }
  auto first = line.find(' ');
  auto second = first == std::string_view::npos ? first : line.find(' ', first + 1);
  if (second == std::string_view::npos || line.find(' ', second + 1) != std::string_view::npos) {
    return bad(request, "the request line is not METHOD TARGET HTTP/1.1");
  }
  *method = line.substr(0, first);
  *target = line.substr(first + 1, second - first - 1);
  *version = line.substr(second + 1);
  if (!is_token(*method) || target->empty()) return bad(request, "the request line is not METHOD TARGET HTTP/1.1");
  if (*version != "HTTP/1.1" && *version != "HTTP/1.0") return bad(request, "only HTTP/1.0 and HTTP/1.1 are spoken");
  return ParseStatus::kDone;
}

bool is_hop_by_hop(const std::string& name, const std::set<std::string>& listed) {
  static const std::set<std::string> kHopByHop = {"connection", "keep-alive", "te", "upgrade", "host"};
  return name.starts_with("proxy-") || kHopByHop.count(name) != 0 || listed.count(name) != 0;
}

std::string trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return std::string(text);
}

// The target of the request line: CONNECT's authority, or an absolute
// http:// URI whose origin-form goes to *PATH.
ParseStatus parse_target(std::string_view method, std::string_view target, HttpProxyRequest* request,
                         std::string* path_out) {
  std::string error;
  if (method == "CONNECT") {
    request->target.protocol = "connect";
    if (!parse_authority(target, 0, &request->target.host, &request->target.port, &error)) {
      return bad(request, "CONNECT " + std::string(target) + ": " + error);
    }
    return ParseStatus::kDone;
  }

  request->target.protocol = "http";
  if (target[0] == '/' || target == "*") {
    return bad(request, "this is a proxy: ask for an absolute http:// URI, or use CONNECT");
  }
  static constexpr std::string_view kScheme = "http://";
  if (target.size() < kScheme.size() || lower(target.substr(0, kScheme.size())) != kScheme) {
    return bad(request, "only http:// URIs are forwarded; use CONNECT for https and anything else");
  }
  auto rest = target.substr(kScheme.size());
  auto authority_end = rest.find_first_of("/?#");
  auto authority = rest.substr(0, authority_end);
  if (authority.find('@') != std::string_view::npos) return bad(request, "user information in the URI");
  if (!parse_authority(authority, 80, &request->target.host, &request->target.port, &error)) {
    return bad(request, std::string(target) + ": " + error);
  }
  std::string path(authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end));
  if (auto hash = path.find('#'); hash != std::string::npos) path.erase(hash);
  if (path.empty() || path[0] != '/') path.insert(0, "/");
  *path_out = std::move(path);
  return ParseStatus::kDone;
}

}  // namespace

std::string format_host_port(const std::string& host, uint16_t port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

bool normalize_proxy_host(std::string_view host, std::string* normalized, std::string* error) {
  if (host.empty()) {
    *error = "an empty host";
    return false;
  }
  if (host.size() > 254) {
    *error = "a host name longer than 253 characters";
    return false;
  }
  std::string text = lower(host);
  if (text.find('%') == std::string::npos) {
    g_autoptr(GInetAddress) address = g_inet_address_new_from_string(text.c_str());
    if (address != nullptr) {
      g_autofree char* canonical = g_inet_address_to_string(address);
      *normalized = canonical;
      return true;
    }
  }
  if (text.back() == '.') text.pop_back();
  if (text.empty() || text.size() > 253) {
    *error = "not a valid host name";
    return false;
  }
  bool all_numeric = true;
  size_t pos = 0;
  std::string_view last_label;
  while (pos <= text.size()) {
    auto dot = text.find('.', pos);
    if (dot == std::string::npos) dot = text.size();
    std::string_view label(text.data() + pos, dot - pos);
    if (label.empty() || label.size() > 63 ||
        !std::all_of(label.begin(), label.end(), [](char c) { return g_ascii_isalnum(c) || c == '-' || c == '_'; })) {
      *error = "'" + text + "' is not a valid host name";
      return false;
    }
    all_numeric = all_numeric && is_numeric_label(label);
    last_label = label;
    pos = dot + 1;
  }
  // No top-level domain is numeric: these are address shorthands.
  if (all_numeric || is_numeric_label(last_label)) {
    *error = "'" + text + "' is not a host name; write addresses as a.b.c.d or [v6]";
    return false;
  }
  *normalized = text;
  return true;
}

ParseStatus parse_http_request(std::string_view buffer, size_t max_head, HttpProxyRequest* request) {
  auto first_newline = buffer.find('\n');
  std::string_view method, target, version;
  std::string path;
  if (first_newline != std::string_view::npos) {
    // A wrong request line or target is answered at once, headers or not.
    auto line = buffer.substr(0, first_newline);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (parse_request_line(line, &method, &target, &version, request) != ParseStatus::kDone ||
        parse_target(method, target, request, &path) != ParseStatus::kDone) {
      return ParseStatus::kBad;
    }
  } else if (buffer.size() > max_head) {
    return ParseStatus::kTooLarge;
  } else if (has_control_chars(buffer.substr(0, buffer.find('\r')), false)) {
    return bad(request, "binary data where a request line was expected");
  }
  auto end = find_head_end(buffer);
  if (end == std::string_view::npos) return buffer.size() > max_head ? ParseStatus::kTooLarge : ParseStatus::kIncomplete;
  if (end > max_head) return ParseStatus::kTooLarge;
  request->head_length = end;

  auto lines = split_lines(buffer.substr(0, end));
  std::vector<Header> headers;
  for (size_t i = 1; i < lines.size(); ++i) {
    auto line = lines[i];
    if (line.empty()) break;
    if (line[0] == ' ' || line[0] == '\t') return bad(request, "folded header lines are not accepted");
    auto colon = line.find(':');
    if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) {
      return bad(request, "a header line is not Name: value");
    }
    auto value = line.substr(colon + 1);
    if (has_control_chars(value, true)) return bad(request, "control characters in a header");
    headers.push_back({line.substr(0, colon), value});
  }

  if (method == "CONNECT") return ParseStatus::kDone;

  // Hop-by-hop headers stay here: the Proxy-* ones, Connection and what it
  // names. Connection: close makes one proxy connection carry one origin.
  std::set<std::string> listed;
  for (const auto& header : headers) {
    if (lower(header.name) != "connection") continue;
    g_auto(GStrv) tokens = g_strsplit(std::string(header.value).c_str(), ",", -1);
    for (auto* token = tokens; *token != nullptr; ++token) listed.insert(lower(trim(*token)));
  }
  std::string head = std::string(method) + " " + path + " " + std::string(version) + "\r\n";
  head += "Host: " + (request->target.port == 80 ? (request->target.host.find(':') != std::string::npos
                                                         ? "[" + request->target.host + "]"
                                                         : request->target.host)
                                                   : format_host_port(request->target.host, request->target.port));
  head += "\r\n";
  for (const auto& header : headers) {
    if (is_hop_by_hop(lower(header.name), listed)) continue;
    head += std::string(header.name) + ": " + trim(header.value) + "\r\n";
  }
  head += "Connection: close\r\n\r\n";
  request->upstream_head = std::move(head);
  return ParseStatus::kDone;
}

ParseStatus parse_socks_greeting(std::string_view buffer, size_t* length, bool* no_auth) {
  if (buffer.empty()) return ParseStatus::kIncomplete;
  if (buffer[0] != 0x05) return ParseStatus::kBad;
  if (buffer.size() < 2) return ParseStatus::kIncomplete;
  auto count = static_cast<unsigned char>(buffer[1]);
  if (count == 0) return ParseStatus::kBad;
  if (buffer.size() < 2u + count) return ParseStatus::kIncomplete;
  *length = 2u + count;
  auto methods = buffer.substr(2, count);
  *no_auth = methods.find('\0') != std::string_view::npos;
  return ParseStatus::kDone;
}

ParseStatus parse_socks_request(std::string_view buffer, SocksRequest* request) {
  auto fail = [request](SocksReply reply, std::string error) {
    request->reply = reply;
    request->error = "airlock: bad SOCKS5 request: " + std::move(error);
    return ParseStatus::kBad;
  };
  if (buffer.size() < 4) return ParseStatus::kIncomplete;
  const auto* bytes = reinterpret_cast<const unsigned char*>(buffer.data());
  if (bytes[0] != 0x05) return fail(kSocksGeneralFailure, "not version 5");
  if (bytes[1] != 0x01) return fail(kSocksCommandNotSupported, "only CONNECT is supported");
  size_t address_length = 0;
  size_t offset = 4;
  switch (bytes[3]) {
    case 0x01:
      address_length = 4;
      break;
    case 0x04:
      address_length = 16;
      break;
    case 0x03:
      if (buffer.size() < 5) return ParseStatus::kIncomplete;
      address_length = bytes[4];
      offset = 5;
      if (address_length == 0) return fail(kSocksGeneralFailure, "an empty host name");
      break;
    default:
      return fail(kSocksAddressNotSupported, "unknown address type");
  }
  if (buffer.size() < offset + address_length + 2) return ParseStatus::kIncomplete;
  request->length = offset + address_length + 2;
  auto port = static_cast<uint16_t>((bytes[offset + address_length] << 8) | bytes[offset + address_length + 1]);
  if (port == 0) return fail(kSocksGeneralFailure, "port 0");
  request->target.port = port;
  request->target.protocol = "socks5";
  if (bytes[3] == 0x03) {
    std::string error;
    if (!normalize_proxy_host(buffer.substr(offset, address_length), &request->target.host, &error)) {
      return fail(kSocksGeneralFailure, error);
    }
  } else {
    g_autoptr(GInetAddress) address = g_inet_address_new_from_bytes(
        bytes + offset, address_length == 4 ? G_SOCKET_FAMILY_IPV4 : G_SOCKET_FAMILY_IPV6);
    g_autofree char* text = g_inet_address_to_string(address);
    request->target.host = text;
  }
  return ParseStatus::kDone;
}

}  // namespace airlock
