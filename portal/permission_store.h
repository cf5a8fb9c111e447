// PermissionStore: the always-grants, the answers a person gave with the
// scope "always". Each is keyed by the agent profile it was given to, the
// workspace of the session it was given in, and the resource, so that an
// "always" never silently becomes a rule for every agent or every project.
// A grant is on disk when add() returns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sqlite_db.h"

namespace airlock {

// Longest resource or workspace, in bytes: PATH_MAX less its NUL.
inline constexpr std::size_t kMaxResourceBytes = 4095;
// Longest profile or session name, in bytes.
inline constexpr std::size_t kMaxNameBytes = 255;

// Every member has an initializer so that a designated initializer can
// leave it out.
struct AlwaysGrantKey {
  std::string profile{};    // the agent profile, e.g. "claude"; never empty
  std::string workspace{};  // canonical path of the session's workspace, "" when it named none
  std::string kind{};       // folder | file | host | secret
  std::string resource{};   // canonical path, host:port or secret name: never a secret's value
};

struct AlwaysGrant : AlwaysGrantKey {
  std::int64_t id = 0;       // never reused, so forget(id) cannot hit a newer grant
  std::string access{};      // see access_is_valid()
  std::int64_t created = 0;  // microseconds since the epoch
};

class PermissionStore {
 public:
  // Opens (creating when missing) the store in PATH, e.g.
  // ~/.local/share/airlock/permissions.db, which the deny list keeps out of
  // every sandbox. It may share a file with the AuditLog.
  explicit PermissionStore(const std::string& path);

  // Remembers KEY with ACCESS, replacing the access of an existing grant
  // with the same key (the person's latest answer wins). Returns its id.
  // Throws Error, and changes nothing, when a field is invalid.
  std::int64_t add(const AlwaysGrantKey& key, std::string_view access);

  // Every grant, or PROFILE's; ordered by profile, workspace, kind, resource.
  std::vector<AlwaysGrant> list(const std::optional<std::string>& profile = std::nullopt);

  // What to re-apply when a session of PROFILE in WORKSPACE starts: the
  // grants stored for exactly that profile and exactly that workspace. A
  // grant stored without a workspace applies only to sessions without one;
  // nothing stored for one project or one profile reaches another.
  std::vector<AlwaysGrant> for_session(std::string_view profile, std::string_view workspace);

  // Whether an always-grant for KEY covers ACCESS: a write grant covers
  // read; a read grant does not cover write. Matches the key exactly.
  bool lookup(const AlwaysGrantKey& key, std::string_view access);

  // Removes one grant; false when there was none.
  bool forget(std::int64_t id);
  bool forget(const AlwaysGrantKey& key);

  const std::string& path() const { return db_.path(); }

 private:
  Database db_;
};

// The accesses each kind knows, spelled as policy.h's access_name() does:
// folder and file: read, write; host and secret: read (to connect, to be
// handed the secret), since neither has a write.
bool access_is_valid(std::string_view kind, std::string_view access);
// Whether a grant of GRANTED satisfies a request for REQUESTED.
bool access_covers(std::string_view granted, std::string_view requested);

// Throw Error unless the field has the shape its kind needs: a known kind; a
// canonical absolute path for folder and file; no spaces in a host; valid
// UTF-8 without control characters, at most kMaxResourceBytes, in all. The
// messages never repeat the value.
void check_kind(std::string_view kind);
void check_resource(std::string_view kind, std::string_view resource);
void check_workspace(std::string_view workspace);
void check_profile(std::string_view profile);

}  // namespace airlock
