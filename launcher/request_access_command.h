// `airlock-request folder PATH` and `airlock-request file PATH`: ask the
// portal for a host folder or file, print where the grant is visible.
#pragma once

namespace airlock {

// argv[0] is "folder" or "file". Returns the exit status (RequestExit).
int request_access_command(int argc, char** argv);

}  // namespace airlock
