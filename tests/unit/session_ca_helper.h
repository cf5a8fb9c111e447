// The built airlock-session-ca, which meson test names in the environment.
#pragma once

#include <glib.h>

#include <string>

namespace airlock::test {

inline std::string session_ca_helper() {
  const char* path = g_getenv("AIRLOCK_SESSION_CA_BIN");
  return path ? path : "AIRLOCK_SESSION_CA_BIN is not set (run through meson test)";
}

}  // namespace airlock::test
