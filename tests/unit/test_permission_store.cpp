#include <glib.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "temp_dir.h"
#include "audit_log.h"
#include "error.h"
#include "permission_store.h"
#include "sqlite_db.h"

namespace airlock {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

using test::TempDir;

class PermissionStoreTest : public ::testing::Test {
 protected:
  std::string db_path() const { return dir_.path() + "/data/airlock/permissions.db"; }
  TempDir dir_;
};

AlwaysGrantKey folder(const std::string& profile, const std::string& workspace, const std::string& path) {
  return {.profile = profile, .workspace = workspace, .kind = "folder", .resource = path};
}

std::string error_of(PermissionStore& store, const AlwaysGrantKey& key, const std::string& access = "read") {
  try {
    store.add(key, access);
  } catch (const Error& error) {
    return error.what();
  }
  return "no error";
}

TEST_F(PermissionStoreTest, AddsListsLooksUpAndForgets) {
  PermissionStore store(db_path());
  std::int64_t src = store.add(folder("claude", "/home/alice/proj", "/home/alice/proj/src"), "write");
  std::int64_t host = store.add(
      {.profile = "claude", .workspace = "/home/alice/proj", .kind = "host", .resource = "pypi.org:443"}, "read");
  store.add({.profile = "codex", .kind = "secret", .resource = "GITHUB_TOKEN"}, "read");
  EXPECT_NE(src, host);

  std::vector<AlwaysGrant> all = store.list();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].profile, "claude");
  EXPECT_EQ(all[0].kind, "folder");
  EXPECT_EQ(all[0].resource, "/home/alice/proj/src");
  EXPECT_EQ(all[0].workspace, "/home/alice/proj");
  EXPECT_EQ(all[0].access, "write");
  EXPECT_EQ(all[0].id, src);
  EXPECT_GT(all[0].created, 0);
  EXPECT_EQ(all[1].kind, "host");
  EXPECT_EQ(all[2].profile, "codex");
  EXPECT_EQ(all[2].workspace, "");
  EXPECT_EQ(store.list("codex").size(), 1u);
  EXPECT_THAT(store.list("nobody"), IsEmpty());

  EXPECT_TRUE(store.lookup(folder("claude", "/home/alice/proj", "/home/alice/proj/src"), "write"));
  EXPECT_FALSE(store.lookup(folder("claude", "/home/alice/proj", "/home/alice/proj/doc"), "read"));
  EXPECT_TRUE(store.lookup({.profile = "codex", .kind = "secret", .resource = "GITHUB_TOKEN"}, "read"));

  EXPECT_TRUE(store.forget(src));
  EXPECT_FALSE(store.forget(src));
  EXPECT_FALSE(store.lookup(folder("claude", "/home/alice/proj", "/home/alice/proj/src"), "read"));
  EXPECT_TRUE(store.forget({.profile = "codex", .kind = "secret", .resource = "GITHUB_TOKEN"}));
  EXPECT_FALSE(store.forget({.profile = "codex", .kind = "secret", .resource = "GITHUB_TOKEN"}));
  ASSERT_EQ(store.list().size(), 1u);
  EXPECT_EQ(store.list()[0].id, host);
}

// An "always" given to one agent in one project must never become a rule
// for another agent, or for the same agent in another project.
TEST_F(PermissionStoreTest, AlwaysGrantsAreScopedToProfileAndWorkspace) {
  PermissionStore store(db_path());
  store.add(folder("claude", "/w", "/w/src"), "write");
  store.add(folder("claude", "", "/data"), "read");

  std::vector<AlwaysGrant> in_w = store.for_session("claude", "/w");
  ASSERT_EQ(in_w.size(), 1u);
  EXPECT_EQ(in_w[0].resource, "/w/src");
  EXPECT_THAT(store.for_session("codex", "/w"), IsEmpty());
  EXPECT_THAT(store.for_session("claude", "/v"), IsEmpty());
  // Stored without a workspace: applies to sessions without one, only.
  std::vector<AlwaysGrant> none = store.for_session("claude", "");
  ASSERT_EQ(none.size(), 1u);
  EXPECT_EQ(none[0].resource, "/data");
  EXPECT_THAT(store.for_session("codex", ""), IsEmpty());

  EXPECT_FALSE(store.lookup(folder("codex", "/w", "/w/src"), "read"));
  EXPECT_FALSE(store.lookup(folder("claude", "/v", "/w/src"), "read"));
  EXPECT_FALSE(store.lookup(folder("claude", "", "/w/src"), "read"));
  EXPECT_FALSE(store.lookup(folder("claude", "/w", "/data"), "read"));
  EXPECT_TRUE(store.lookup(folder("claude", "/w", "/w/src"), "read"));

  // Forgetting in one scope leaves the others.
  store.add(folder("codex", "/w", "/w/src"), "read");
  EXPECT_FALSE(store.forget(folder("claude", "/v", "/w/src")));
  EXPECT_TRUE(store.forget(folder("codex", "/w", "/w/src")));
  EXPECT_TRUE(store.lookup(folder("claude", "/w", "/w/src"), "write"));
}

TEST_F(PermissionStoreTest, WriteCoversReadButReadDoesNotCoverWrite) {
  PermissionStore store(db_path());
  store.add(folder("claude", "/w", "/w/rw"), "write");
  store.add(folder("claude", "/w", "/w/ro"), "read");
  EXPECT_TRUE(store.lookup(folder("claude", "/w", "/w/rw"), "read"));
  EXPECT_TRUE(store.lookup(folder("claude", "/w", "/w/rw"), "write"));
  EXPECT_TRUE(store.lookup(folder("claude", "/w", "/w/ro"), "read"));
  EXPECT_FALSE(store.lookup(folder("claude", "/w", "/w/ro"), "write"));
  EXPECT_TRUE(access_covers("write", "read"));
  EXPECT_FALSE(access_covers("read", "write"));
  EXPECT_TRUE(access_is_valid("host", "read"));
  EXPECT_FALSE(access_is_valid("host", "write"));
  EXPECT_FALSE(access_is_valid("secret", "write"));
}

TEST_F(PermissionStoreTest, TheLatestAnswerReplacesTheAccessAndKeepsTheId) {
  PermissionStore store(db_path());
  std::int64_t id = store.add(folder("claude", "/w", "/w/src"), "write");
  EXPECT_EQ(store.add(folder("claude", "/w", "/w/src"), "read"), id);
  ASSERT_EQ(store.list().size(), 1u);
  EXPECT_EQ(store.list()[0].access, "read");
  EXPECT_FALSE(store.lookup(folder("claude", "/w", "/w/src"), "write"));
}

TEST_F(PermissionStoreTest, IdsAreNeverReused) {
  PermissionStore store(db_path());
  std::int64_t first = store.add(folder("claude", "/w", "/w/a"), "read");
  EXPECT_TRUE(store.forget(first));
  std::int64_t second = store.add(folder("claude", "/w", "/w/b"), "read");
  EXPECT_NE(first, second);
  EXPECT_FALSE(store.forget(first));
  EXPECT_EQ(store.list().size(), 1u);
}

TEST_F(PermissionStoreTest, RejectsInvalidFieldsWithoutRepeatingThemAndStoresNothing) {
  PermissionStore store(db_path());
  EXPECT_THAT(error_of(store, folder("", "/w", "/w/src")), HasSubstr("must name the agent profile"));
  EXPECT_THAT(error_of(store, folder("a/b", "/w", "/w/src")), HasSubstr("a name, not a path"));
  EXPECT_THAT(error_of(store, folder("claude", "/w", "/w/\xff\xfe")), HasSubstr("not valid UTF-8"));
  EXPECT_THAT(error_of(store, folder("claude", "/w", std::string("/w/a\0b", 6))), HasSubstr("not valid UTF-8"));
  EXPECT_THAT(error_of(store, folder("claude", "/w", "/w/a\nb")), HasSubstr("control character"));
  EXPECT_THAT(error_of(store, folder("claude", "/w", "/w/a\u009bb")), HasSubstr("control character"));
  std::string huge = "/" + std::string(1 << 20, 'x');
  std::string message = error_of(store, folder("claude", "/w", huge));
  EXPECT_THAT(message, HasSubstr("1048577 bytes long"));
  EXPECT_LT(message.size(), 200u);
  EXPECT_THAT(error_of(store, folder("claude", "/w", "/" + std::string(kMaxResourceBytes, 'x'))),
              HasSubstr("bytes long"));
  EXPECT_THAT(error_of(store, folder("claude", "/w", "")), HasSubstr("is empty"));
  EXPECT_THAT(error_of(store, folder("claude", "/w", "relative")), HasSubstr("canonical absolute path"));
  EXPECT_THAT(error_of(store, folder("claude", "/w", "/w/../etc")), HasSubstr("canonical absolute path"));
  EXPECT_THAT(error_of(store, folder("claude", "/w", "/w//src")), HasSubstr("canonical absolute path"));
  EXPECT_THAT(error_of(store, folder("claude", "/w", "/w/src/")), HasSubstr("canonical absolute path"));
  EXPECT_THAT(error_of(store, folder("claude", "w", "/w/src")), HasSubstr("the workspace must be"));
  EXPECT_THAT(error_of(store, {.profile = "claude", .kind = "device", .resource = "/dev/sda"}),
              HasSubstr("unknown grant kind"));
  EXPECT_THAT(error_of(store, {.profile = "claude", .kind = "host", .resource = "evil.com/x"}), HasSubstr("host:port"));
  EXPECT_THAT(error_of(store, folder("claude", "/w", "/w/src"), "execute"), HasSubstr("it is read or write"));
  EXPECT_THAT(error_of(store, {.profile = "claude", .kind = "host", .resource = "pypi.org:443"}, "write"),
              HasSubstr("it is read"));
  EXPECT_THAT(error_of(store, {.profile = "claude", .kind = "secret", .resource = "TOKEN"}, "write"),
              HasSubstr("it is read"));
  EXPECT_THAT(error_of(store, folder("claude", "/w", "/w/\xff")), Not(HasSubstr("\xff")));
  EXPECT_THAT(store.list(), IsEmpty());

  EXPECT_THROW(store.lookup(folder("", "/w", "/w/src"), "read"), Error);
  EXPECT_THROW(store.for_session("", "/w"), Error);
  EXPECT_THROW(store.for_session("claude", "w"), Error);
}

TEST_F(PermissionStoreTest, GrantsSurviveReopening) {
  std::int64_t id = 0;
  {
    PermissionStore store(db_path());
    id = store.add(folder("claude", "/w", "/w/src"), "write");
  }
  PermissionStore store(db_path());
  ASSERT_EQ(store.list().size(), 1u);
  EXPECT_EQ(store.list()[0].id, id);
  EXPECT_TRUE(store.lookup(folder("claude", "/w", "/w/src"), "write"));
}

TEST_F(PermissionStoreTest, TheFileAndItsFolderArePrivate) {
  PermissionStore store(db_path());
  store.add(folder("claude", "/w", "/w/src"), "write");
  struct stat st {};
  ASSERT_EQ(stat(db_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat((db_path() + "-wal").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(stat((dir_.path() + "/data/airlock").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(PermissionStoreTest, UsesWriteAheadLoggingAndFullSync) {
  PermissionStore store(db_path());
  Database db(db_path());
  Statement mode = db.prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode.step());
  EXPECT_EQ(mode.text(0), "wal");
  Statement sync = db.prepare("PRAGMA synchronous");
  ASSERT_TRUE(sync.step());
  EXPECT_EQ(sync.integer(0), 2);  // FULL
}

TEST_F(PermissionStoreTest, RefusesASymlinkedDatabase) {
  std::string target = dir_.path() + "/elsewhere.db";
  std::string link = dir_.path() + "/permissions.db";
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
  try {
    PermissionStore store(link);
    FAIL() << "a symlinked database was opened";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("is a symbolic link"));
  }
  EXPECT_FALSE(std::filesystem::exists(target));
}

TEST_F(PermissionStoreTest, RefusesADatabaseFromANewerAirlock) {
  { PermissionStore store(db_path()); }
  {
    Database db(db_path());
    db.exec("UPDATE schema_versions SET version = 99 WHERE component = 'permission-store'");
  }
  try {
    PermissionStore store(db_path());
    FAIL() << "a newer schema was accepted";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("newer than this airlock knows"));
    EXPECT_THAT(error.what(), HasSubstr(db_path()));
  }
}

TEST_F(PermissionStoreTest, RefusesAFileThatIsNotADatabase) {
  ASSERT_TRUE(g_file_set_contents((dir_.path() + "/junk.db").c_str(), std::string(4096, 'j').c_str(), 4096, nullptr));
  try {
    PermissionStore store(dir_.path() + "/junk.db");
    FAIL() << "junk was opened";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("junk.db"));
    EXPECT_THAT(error.what(), HasSubstr("move it away"));
  }
}

// The database enforces the same rules, for rows that bypass the API.
TEST_F(PermissionStoreTest, TheSchemaRefusesWhatTheApiRefuses) {
  { PermissionStore store(db_path()); }
  Database db(db_path());
  EXPECT_THROW(db.exec("INSERT INTO always_grants (profile, kind, resource, access, created) "
                       "VALUES ('', 'folder', '/w', 'read', 0)"),
               Error);
  EXPECT_THROW(db.exec("INSERT INTO always_grants (profile, kind, resource, access, created) "
                       "VALUES ('claude', 'device', '/w', 'read', 0)"),
               Error);
  EXPECT_THROW(db.exec("INSERT INTO always_grants (profile, kind, resource, access, created) "
                       "VALUES ('claude', 'folder', '/w', 'read', 'yesterday')"),
               Error);
}

TEST_F(PermissionStoreTest, StoreAndAuditLogCanShareAFile) {
  PermissionStore store(db_path());
  AuditLog log(db_path());
  store.add(folder("claude", "/w", "/w/src"), "write");
  log.append({.event = "decision",
              .profile = "claude",
              .kind = "folder",
              .resource = "/w/src",
              .access = "write",
              .scope = "always",
              .decided_by = "person",
              .outcome = "allow"});
  EXPECT_EQ(store.list().size(), 1u);
  EXPECT_TRUE(log.verify().ok);
  PermissionStore reopened(db_path());
  EXPECT_EQ(reopened.list().size(), 1u);
}

// POSIX locks belong to the process: closing any descriptor of the file
// would drop those of a connection already open here. Another process
// closing its own connection would then think it the last one and remove
// the WAL under this one, losing what was committed.
TEST_F(PermissionStoreTest, OpeningTheFileAgainKeepsTheLocksOfTheFirstConnection) {
  const char* writer = std::getenv("AIRLOCK_STORE_WRITER_BIN");
  ASSERT_NE(writer, nullptr) << "AIRLOCK_STORE_WRITER_BIN is not set (run through meson test)";
  std::string db_dir = dir_.path() + "/data/airlock";
  PermissionStore store(db_dir + "/permissions.db");
  store.add(folder("claude", "/w", "/w/a"), "read");
  AuditLog log(db_dir + "/permissions.db");
  // A separate program (a forked child would share SQLite's view of this
  // process's locks) opens the file, writes nothing and closes it.
  const char* argv[] = {writer, db_dir.c_str(), "1", "0", nullptr};
  g_autoptr(GError) error = nullptr;
  int status = 0;
  ASSERT_TRUE(g_spawn_sync(nullptr, const_cast<char**>(argv), nullptr, G_SPAWN_DEFAULT, nullptr, nullptr, nullptr,
                           nullptr, &status, &error))
      << error->message;
  EXPECT_TRUE(g_spawn_check_wait_status(status, nullptr));
  EXPECT_TRUE(std::filesystem::exists(db_dir + "/permissions.db-wal"))
      << "another process removed the WAL of open connections";
  store.add(folder("claude", "/w", "/w/b"), "read");
  log.append({.event = "grant", .kind = "folder", .resource = "/w/b"});
  EXPECT_EQ(PermissionStore(db_dir + "/permissions.db").list().size(), 2u);
  EXPECT_EQ(AuditLog(db_dir + "/permissions.db").verify().rows, 1);
}

TEST_F(PermissionStoreTest, ATransactionRollsBackUnlessCommitted) {
  Database db(db_path());
  db.exec("CREATE TABLE t (x INTEGER) STRICT");
  try {
    Transaction transaction(db);
    db.exec("INSERT INTO t VALUES (1)");
    throw std::runtime_error("halfway");
  } catch (const std::runtime_error&) {
  }
  {
    Transaction transaction(db);
    db.exec("INSERT INTO t VALUES (2)");
    transaction.commit();
  }
  Statement select = db.prepare("SELECT x FROM t");
  std::vector<std::int64_t> rows;
  while (select.step()) rows.push_back(select.integer(0));
  EXPECT_THAT(rows, ElementsAre(2));
}

TEST_F(PermissionStoreTest, ErrorsNameTheFileAndTheStatement) {
  Database db(db_path());
  try {
    db.prepare("SELECT x FROM nowhere");
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr(db_path()));
    EXPECT_THAT(error.what(), HasSubstr("no such table: nowhere"));
  }
  EXPECT_THROW(db.prepare("SELECT 1; SELECT 2"), Error);
}

}  // namespace
}  // namespace airlock
