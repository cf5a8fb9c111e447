// What a client of the network proxy asks for, parsed from untrusted bytes:
// an HTTP CONNECT or absolute-URI request head, or a SOCKS5 greeting and
// request. Pure functions; the proxy's event loop feeds them what it has read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace airlock {

struct ProxyTarget {
  std::string host;  // lower-cased name, or an address literal (IPv6 without brackets)
  uint16_t port = 0;
  std::string protocol;  // connect | http | socks5
};

enum class ParseStatus { kIncomplete, kDone, kBad, kTooLarge };

struct HttpProxyRequest {
  ProxyTarget target;
  size_t head_length = 0;     // bytes of the request head, blank line included
  std::string upstream_head;  // plain HTTP: the head to send the origin (origin-form)
  std::string error;          // kBad: why, for the 400's body
};

// The head at the start of BUFFER. kTooLarge when it exceeds MAX_HEAD bytes;
// kBad as soon as the request line is known to be wrong.
ParseStatus parse_http_request(std::string_view buffer, size_t max_head, HttpProxyRequest* request);

// A host as a client names it, checked and made canonical: lower case, one
// trailing dot removed, address literals in their canonical form. False with
// *ERROR for anything else, including numeric shorthands such as 2130706433
// or 0x7f.1 that resolvers turn into addresses.
bool normalize_proxy_host(std::string_view host, std::string* normalized, std::string* error);

// SOCKS5 (RFC 1928) replies.
enum SocksReply : uint8_t {
  kSocksSucceeded = 0x00,
  kSocksGeneralFailure = 0x01,
  kSocksNotAllowed = 0x02,
  kSocksNetworkUnreachable = 0x03,
  kSocksHostUnreachable = 0x04,
  kSocksConnectionRefused = 0x05,
  kSocksTtlExpired = 0x06,
  kSocksCommandNotSupported = 0x07,
  kSocksAddressNotSupported = 0x08,
};

// The greeting: version 5 and its methods. *LENGTH is its size; *NO_AUTH
// whether "no authentication" is among the methods.
ParseStatus parse_socks_greeting(std::string_view buffer, size_t* length, bool* no_auth);

struct SocksRequest {
  ProxyTarget target;
  size_t length = 0;
  SocksReply reply = kSocksGeneralFailure;  // kBad: the reply to send
  std::string error;
};

// The CONNECT request that follows the greeting (domain name, IPv4, IPv6).
ParseStatus parse_socks_request(std::string_view buffer, SocksRequest* request);

// "host:port" for messages, with IPv6 in brackets.
std::string format_host_port(const std::string& host, uint16_t port);

}  // namespace airlock
