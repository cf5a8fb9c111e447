// airlock-request's side of the in-sandbox portal: the peer-to-peer
// connection to $AIRLOCK_PORTAL_ADDRESS, and one request carried through
// the Request/Response pattern of xdg-desktop-portal.
#pragma once

#include <gio/gio.h>

#include <string>

#include "terminal_text.h"

namespace airlock {

// Exit statuses of airlock-request.
enum RequestExit : int {
  kRequestGranted = 0,
  kRequestRefused = 1,  // denied, by a person or the policy, or timed out
  kRequestFailed = 2,   // usage, connection, D-Bus or portal error
};

// The session's portal, connected without a bus. Throws Error (exit 2) when
// outside a sandbox or when nothing answers on the socket.
GDBusConnection* connect_to_portal();

// A D-Bus error as the person should read it: without the remote error name.
std::string dbus_error_message(GDBusConnection* connection, GError* error);

enum class AccessKind { kFolder, kFile, kHost, kSecret };

struct PortalAnswer {
  guint32 response = 0;
  GVariant* results = nullptr;  // a{sv}, owned
  PortalAnswer() = default;
  PortalAnswer(const PortalAnswer&) = delete;
  PortalAnswer& operator=(const PortalAnswer&) = delete;
  PortalAnswer(PortalAnswer&& other) noexcept : response(other.response), results(other.results) {
    other.results = nullptr;
  }
  PortalAnswer& operator=(PortalAnswer&&) = delete;
  ~PortalAnswer() {
    if (results) g_variant_unref(results);
  }
};

// Calls RequestFolder, RequestFile, RequestHost or RequestSecret and waits for the Response of the
// request it returns. SIGINT, SIGTERM, SIGHUP and, when timeout_seconds is
// not 0, the client-side timeout withdraw the request (Close) and throw
// Error (exit 2); so do D-Bus errors and the portal going away.
PortalAnswer request_access(GDBusConnection* connection, AccessKind kind, const std::string& path,
                            GVariant* options, unsigned timeout_seconds);

// RetrieveSecret: the value of secret grant GRANT, as the sealed memfd the
// portal sent (owned by the caller). Throws Error (exit 2).
int retrieve_secret(GDBusConnection* connection, const std::string& grant);

}  // namespace airlock
