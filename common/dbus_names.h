// Names on the session bus and inside the sandbox that more than one
// program must spell the same way. The interfaces are in data/.
#pragma once

namespace airlock {

// The portal on the session bus: org.airlock.Manager at kManagerPath.
inline constexpr const char* kPortalBusName = "org.airlock.Portal";
inline constexpr const char* kManagerPath = "/org/airlock/Manager";

// A prompter (airlock-gui, `airlock prompt`): org.airlock.impl.Prompter at
// kPrompterPath. The GUI also owns kPrompterBusName, to be D-Bus activated.
inline constexpr const char* kPrompterBusName = "org.airlock.Prompter";
inline constexpr const char* kPrompterPath = "/org/airlock/Prompter";

// Inside the sandbox: the session's private socket, peer-to-peer D-Bus with
// org.airlock.portal.FileAccess and .Session at kPortalObjectPath, and the
// Request objects beneath kRequestPathPrefix.
inline constexpr const char* kPortalSocketInside = "/run/airlock/portal.sock";
// The session's certificate authority, and the system's roots with it, as
// the supervisor writes them for the sandbox's TLS clients.
inline constexpr const char* kCaCertInside = "/run/airlock/session-ca.pem";
inline constexpr const char* kCaBundleInside = "/run/airlock/ca-bundle.pem";
inline constexpr const char* kPortalAddressVariable = "AIRLOCK_PORTAL_ADDRESS";
inline constexpr const char* kPortalObjectPath = "/org/airlock/portal";
inline constexpr const char* kRequestPathPrefix = "/org/airlock/portal/request/";

// Request/Response codes, as xdg-desktop-portal's.
enum PortalResponse : unsigned {
  kResponseGranted = 0,
  kResponseDenied = 1,  // by a person
  kResponseOther = 2,   // policy, timeout, error
};

}  // namespace airlock
