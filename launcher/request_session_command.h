// `airlock-request grants` and `airlock-request info`: what this session
// holds and is, from org.airlock.portal.Session.
#pragma once

namespace airlock {

// argv[0] is "grants" or "info". Returns the exit status (RequestExit).
int request_session_command(int argc, char** argv);

}  // namespace airlock
