// store-writer DIR FIRST COUNT: stores always-grants and audit rows numbered
// FIRST, FIRST + 1, ... in DIR/permissions.db and DIR/audit.db, and prints
// "committed K" once both of K's commits have returned. The durability test
// kills it with SIGKILL at some point and then checks that every K it
// printed is still there: what the portal reports as decided must survive.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "audit_log.h"
#include "error.h"
#include "permission_store.h"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: store-writer DIR FIRST COUNT\n");
    return 2;
  }
  std::string dir = argv[1];
  long long first = std::atoll(argv[2]);
  long long count = std::atoll(argv[3]);
  try {
    airlock::PermissionStore store(dir + "/permissions.db");
    airlock::AuditLog log(dir + "/audit.db");
    for (long long k = first; k < first + count; ++k) {
      std::string resource = "/work/file-" + std::to_string(k);
      store.add({.profile = "writer", .workspace = "/work", .kind = "file", .resource = resource}, "read");
      log.append({.event = "grant",
                  .session = "writer",
                  .profile = "writer",
                  .workspace = "/work",
                  .kind = "file",
                  .resource = resource,
                  .access = "read",
                  .scope = "always",
                  .decided_by = "person",
                  .outcome = "allow"});
      std::printf("committed %lld\n", k);
      std::fflush(stdout);
    }
  } catch (const airlock::Error& error) {
    std::fprintf(stderr, "store-writer: %s\n", error.what());
    return 125;
  }
  return 0;
}
