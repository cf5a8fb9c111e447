// Which addresses the network proxy refuses to reach unless a grant names
// them: everything that is not the public Internet (DESIGN.md, "Network
// grants": no LAN, no metadata service, no host loopback).
#pragma once

#include <gio/gio.h>

namespace airlock {

// The class ADDRESS belongs to when the proxy refuses it without an explicit
// grant ("loopback", "private", "link-local"...), for messages; nullptr when
// it is a public address.
const char* forbidden_address_class(GInetAddress* address);

// Loopback, link-local (169.254/16 with the cloud metadata service, fe80::/10),
// private (10/8, 172.16/12, 192.168/16, fc00::/7), CGNAT (100.64/10),
// multicast, unspecified, 0/8, reserved and broadcast (240/4), and the same
// behind IPv4-mapped, IPv4-compatible, NAT64 and 6to4 IPv6 addresses.
bool address_is_forbidden(GInetAddress* address);

}  // namespace airlock
