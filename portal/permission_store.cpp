#include "permission_store.h"

#include <glib.h>

#include <algorithm>
#include <array>

#include "error.h"

namespace airlock {

namespace {

struct KindSpec {
  std::string_view kind;
  std::array<std::string_view, 2> accesses;  // "" pads
  bool is_path;
};

constexpr KindSpec kKinds[] = {
    {"folder", {"read", "write"}, true},
    {"file", {"read", "write"}, true},
    {"host", {"read", ""}, false},
    {"secret", {"read", ""}, false},
};

const KindSpec* find_kind(std::string_view kind) {
  for (const KindSpec& spec : kKinds)
    if (spec.kind == kind) return &spec;
  return nullptr;
}

// The database holds the same rules (CHECK constraints, STRICT types), so a
// row that bypassed this code is refused by SQLite too.
constexpr std::string_view kMigrations[] = {
    R"sql(
    CREATE TABLE always_grants (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      profile TEXT NOT NULL CHECK (profile <> ''),
      workspace TEXT NOT NULL DEFAULT '',
      kind TEXT NOT NULL CHECK (kind IN ('folder', 'file', 'host', 'secret')),
      resource TEXT NOT NULL CHECK (resource <> ''),
      access TEXT NOT NULL CHECK (access IN ('read', 'write')),
      created INTEGER NOT NULL,
      UNIQUE (profile, workspace, kind, resource)
    ) STRICT;
    )sql",
};

constexpr std::string_view kColumns = "id, profile, workspace, kind, resource, access, created";

AlwaysGrant read_grant(const Statement& row) {
  AlwaysGrant grant;
  grant.id = row.integer(0);
  grant.profile = row.text(1);
  grant.workspace = row.text(2);
  grant.kind = row.text(3);
  grant.resource = row.text(4);
  grant.access = row.text(5);
  grant.created = row.integer(6);
  return grant;
}

std::vector<AlwaysGrant> read_grants(Statement& statement) {
  std::vector<AlwaysGrant> grants;
  while (statement.step()) grants.push_back(read_grant(statement));
  return grants;
}

// Canonical: absolute, no empty, "." or ".." component, no trailing slash.
// Two spellings of one folder would otherwise be two keys, and forgetting
// one would leave the other.
bool is_canonical_path(std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  if (path == "/") return true;
  if (path.back() == '/') return false;
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t end = std::min(path.find('/', start), path.size());
    std::string_view component = path.substr(start, end - start);
    if (component.empty() || component == "." || component == "..") return false;
    start = end + 1;
  }
  return true;
}

void check_key(const AlwaysGrantKey& key) {
  check_profile(key.profile);
  check_workspace(key.workspace);
  check_kind(key.kind);
  check_resource(key.kind, key.resource);
}

void check_access(std::string_view kind, std::string_view access) {
  if (!access_is_valid(kind, access)) {
    const KindSpec* spec = find_kind(kind);
    if (spec == nullptr) throw Error("unknown grant kind: it is folder, file, host or secret");
    std::string known(spec->accesses[0]);
    if (!spec->accesses[1].empty()) known += " or " + std::string(spec->accesses[1]);
    throw Error("unknown access for a " + std::string(kind) + " grant: it is " + known);
  }
}

}  // namespace

bool access_is_valid(std::string_view kind, std::string_view access) {
  const KindSpec* spec = find_kind(kind);
  if (spec == nullptr || access.empty()) return false;
  return std::find(spec->accesses.begin(), spec->accesses.end(), access) != spec->accesses.end();
}

bool access_covers(std::string_view granted, std::string_view requested) {
  return granted == requested || (granted == "write" && requested == "read");
}

void check_kind(std::string_view kind) {
  if (find_kind(kind) == nullptr) throw Error("unknown grant kind: it is folder, file, host or secret");
}

void check_resource(std::string_view kind, std::string_view resource) {
  const KindSpec* spec = find_kind(kind);
  if (spec == nullptr) check_kind(kind);  // throws
  std::string field = "the " + std::string(kind) + " of a grant";
  check_text(field, resource, kMaxResourceBytes, false);
  if (spec != nullptr && spec->is_path && !is_canonical_path(resource))
    throw Error(field + " must be a canonical absolute path (no '.', '..', '//' or trailing '/')");
  if (kind == "host" && resource.find_first_of(" /") != std::string_view::npos)
    throw Error(field + " must be host:port, without spaces or '/'");
}

void check_workspace(std::string_view workspace) {
  check_text("the workspace", workspace, kMaxResourceBytes, true);
  if (!workspace.empty() && !is_canonical_path(workspace))
    throw Error("the workspace must be a canonical absolute path (no '.', '..', '//' or trailing '/')");
}

void check_profile(std::string_view profile) {
  if (profile.empty()) throw Error("an always-grant must name the agent profile it is for; the profile is empty");
  check_text("the profile", profile, kMaxNameBytes, false);
  if (profile.find('/') != std::string_view::npos) throw Error("the profile must be a name, not a path");
}

PermissionStore::PermissionStore(const std::string& path) : db_(path) { db_.migrate("permission-store", kMigrations); }

std::int64_t PermissionStore::add(const AlwaysGrantKey& key, std::string_view access) {
  check_key(key);
  check_access(key.kind, access);
  Transaction transaction(db_);
  // RETURNING gives the id of the row inserted or updated alike.
  Statement insert = db_.prepare(
      "INSERT INTO always_grants (profile, workspace, kind, resource, access, created) "
      "VALUES (?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (profile, workspace, kind, resource) "
      "DO UPDATE SET access = excluded.access, created = excluded.created "
      "RETURNING id");
  insert.bind_all(key.profile, key.workspace, key.kind, key.resource, access, std::int64_t{g_get_real_time()});
  if (!insert.step()) throw Error(path() + ": the grant was not stored");
  std::int64_t id = insert.integer(0);
  insert.run();
  transaction.commit();
  return id;
}

std::vector<AlwaysGrant> PermissionStore::list(const std::optional<std::string>& profile) {
  std::string sql = "SELECT " + std::string(kColumns) + " FROM always_grants";
  if (profile) sql += " WHERE profile = ?";
  sql += " ORDER BY profile, workspace, kind, resource";
  Statement select = db_.prepare(sql);
  if (profile) select.bind(1, *profile);
  return read_grants(select);
}

std::vector<AlwaysGrant> PermissionStore::for_session(std::string_view profile, std::string_view workspace) {
  check_profile(profile);
  check_workspace(workspace);
  Statement select = db_.prepare("SELECT " + std::string(kColumns) +
                                 " FROM always_grants WHERE profile = ? AND workspace = ? ORDER BY kind, resource");
  select.bind_all(profile, workspace);
  return read_grants(select);
}

bool PermissionStore::lookup(const AlwaysGrantKey& key, std::string_view access) {
  check_key(key);
  check_access(key.kind, access);
  Statement select =
      db_.prepare("SELECT access FROM always_grants WHERE profile = ? AND workspace = ? AND kind = ? AND resource = ?");
  select.bind_all(key.profile, key.workspace, key.kind, key.resource);
  return select.step() && access_covers(select.text(0), access);
}

bool PermissionStore::forget(std::int64_t id) {
  Transaction transaction(db_);
  db_.prepare("DELETE FROM always_grants WHERE id = ?").bind_all(id).run();
  bool removed = db_.changes() > 0;
  transaction.commit();
  return removed;
}

bool PermissionStore::forget(const AlwaysGrantKey& key) {
  check_key(key);
  Transaction transaction(db_);
  db_.prepare("DELETE FROM always_grants WHERE profile = ? AND workspace = ? AND kind = ? AND resource = ?")
      .bind_all(key.profile, key.workspace, key.kind, key.resource)
      .run();
  bool removed = db_.changes() > 0;
  transaction.commit();
  return removed;
}

}  // namespace airlock
