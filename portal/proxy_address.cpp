#include "proxy_address.h"

#include <cstdint>
#include <cstring>

namespace airlock {

namespace {

const char* ipv4_class(const uint8_t* a) {
  if (a[0] == 0) return "unspecified (0.0.0.0/8)";
  if (a[0] == 127) return "loopback";
  if (a[0] == 10) return "private";
  if (a[0] == 172 && (a[1] & 0xf0) == 16) return "private";
  if (a[0] == 192 && a[1] == 168) return "private";
  if (a[0] == 169 && a[1] == 254) return "link-local (cloud metadata)";
  if (a[0] == 100 && (a[1] & 0xc0) == 64) return "shared (CGNAT)";
  if (a[0] == 192 && a[1] == 0 && a[2] == 0) return "IETF protocol (192.0.0.0/24)";
  if (a[0] == 198 && (a[1] & 0xfe) == 18) return "benchmarking (198.18.0.0/15)";
  if ((a[0] & 0xf0) == 224) return "multicast";
  if ((a[0] & 0xf0) == 240) return "reserved or broadcast";
  return nullptr;
}

bool all_zero(const uint8_t* bytes, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    if (bytes[i] != 0) return false;
  }
  return true;
}

const char* ipv6_class(const uint8_t* a) {
  static const uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static const uint8_t kNat64Prefix[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  // The IPv4 address behind a mapped or NAT64 address is what is reached.
  if (memcmp(a, kMappedPrefix, 12) == 0 || memcmp(a, kNat64Prefix, 12) == 0) return ipv4_class(a + 12);
  // ::/96 holds ::, ::1 and the deprecated IPv4-compatible addresses.
  if (all_zero(a, 12)) {
    if (all_zero(a + 12, 3) && a[15] == 0) return "unspecified";
    if (all_zero(a + 12, 3) && a[15] == 1) return "loopback";
    return "IPv4-compatible (deprecated)";
  }
  if (a[0] == 0 && a[1] == 0x64 && a[2] == 0xff && a[3] == 0x9b && a[4] == 0 && a[5] == 1) return "local NAT64";
  // 6to4 (2002::/16) tunnels to the IPv4 address in its next 32 bits.
  if (a[0] == 0x20 && a[1] == 0x02) return ipv4_class(a + 2);
  if ((a[0] & 0xfe) == 0xfc) return "private (unique local)";
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return "link-local";
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) return "site-local";
  if (a[0] == 0xff) return "multicast";
  return nullptr;
}

}  // namespace

const char* forbidden_address_class(GInetAddress* address) {
  if (address == nullptr) return "invalid";
  const auto* bytes = g_inet_address_to_bytes(address);
  switch (g_inet_address_get_family(address)) {
    case G_SOCKET_FAMILY_IPV4:
      return ipv4_class(bytes);
    case G_SOCKET_FAMILY_IPV6:
      return ipv6_class(bytes);
    case G_SOCKET_FAMILY_INVALID:
    case G_SOCKET_FAMILY_UNIX:
    default:
      return "invalid";
  }
}

bool address_is_forbidden(GInetAddress* address) { return forbidden_address_class(address) != nullptr; }

}  // namespace airlock
