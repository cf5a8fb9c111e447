// What a session CA makes leaf certificates for: a DNS name (letters,
// digits, hyphens, labels of 1 to 63, at most 253 in all, no wildcard) or
// an IPv4 or IPv6 literal without brackets. Checked by the portal before it
// asks airlock-session-ca for a leaf, and by the helper again.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string>

namespace airlock {

inline bool is_certificate_host(const std::string& host) {
  unsigned char address[16];
  if (inet_pton(AF_INET, host.c_str(), address) == 1 || inet_pton(AF_INET6, host.c_str(), address) == 1)
    return true;
  if (host.empty() || host.size() > 253 || host.find('\0') != std::string::npos) return false;
  size_t label = 0;
  for (size_t i = 0; i <= host.size(); ++i) {
    if (i == host.size() || host[i] == '.') {
      if (label == 0 || label > 63) return false;
      if (host[i - 1] == '-' || host[i - label] == '-') return false;
      label = 0;
      continue;
    }
    const char c = host[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && c != '-') return false;
    ++label;
  }
  return true;
}

}  // namespace airlock
