#include "sqlite_db.h"

#include <fcntl.h>
#include <glib.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>

#include "error.h"
#include "unique_fd.h"

namespace airlock {

namespace {

// Long enough for another airlock process (the CLI forgetting a grant while
// the portal appends to the log) to finish a transaction, short enough that
// a stuck one is reported instead of hanging a request.
constexpr std::int64_t kBusyTimeoutUs = 10 * G_USEC_PER_SEC;
constexpr int kBusyMinSleepUs = 200;
constexpr int kBusyMaxSleepUs = 1000;

// SQLite's own busy handler backs off to sleeps of 100 ms, which a request
// waiting behind another process's write would pay in full. Transactions
// here last about one fsync, so short sleeps keep the wait near the time the
// lock is really held; the jitter keeps two waiters from retrying in step.
int on_busy(void* /*unused*/, int count) {
  constexpr std::int64_t kAverageSleepUs = (kBusyMinSleepUs + kBusyMaxSleepUs) / 2;
  if (std::int64_t{count} * kAverageSleepUs >= kBusyTimeoutUs) return 0;
  g_usleep(static_cast<gulong>(g_random_int_range(kBusyMinSleepUs, kBusyMaxSleepUs)));
  return 1;
}

// What a person can do about the common failures.
std::string hint(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return " (another airlock process is holding the database: try again)";
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return " (the file is damaged or not an airlock database: move it away to start afresh)";
    case SQLITE_FULL:
      return " (the disk is full)";
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
      return " (check that the file and its folder belong to you and are writable)";
    default:
      return "";
  }
}

[[noreturn]] void throw_sqlite(sqlite3* db, std::string_view path, std::string_view what, int rc) {
  // The message never holds a bound value: only our SQL text, with its
  // placeholders, and SQLite's own description.
  std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  throw Error(std::string(path) + ": " + std::string(what) + ": " + detail + hint(rc));
}

std::string describe(std::string_view sql) {
  constexpr std::size_t kShown = 60;
  std::string shown(sql.substr(0, kShown));
  for (char& c : shown)
    if (c == '\n') c = ' ';
  return "cannot run '" + shown + (sql.size() > kShown ? "...'" : "'");
}

// Creates PATH as an empty private file when it does not exist, so that
// SQLite, which gives its -wal and -shm files the main file's mode, never
// makes any of them readable by others. An existing file is only looked at,
// never opened: POSIX locks belong to the process, and closing any
// descriptor of the file would drop the locks of a connection this process
// already has on it; another process could then reset the WAL under it and
// lose committed transactions.
void create_private_file(const std::string& path) {
  g_autofree char* dir = g_path_get_dirname(path.c_str());
  if (g_mkdir_with_parents(dir, 0700) != 0) throw Error(errno_message(std::string("cannot create the folder ") + dir));
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0) {
    if (S_ISLNK(st.st_mode)) throw Error(path + " is a symbolic link: airlock keeps its databases in plain files only");
    if (!S_ISREG(st.st_mode)) throw Error(path + " is not a regular file: move it away");
    return;
  }
  if (errno != ENOENT) throw Error(errno_message("cannot look at " + path));
  // O_EXCL: a file just created here is one no connection has open yet.
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd && errno != EEXIST) throw Error(errno_message("cannot create " + path));
}

}  // namespace

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::fail(std::string_view what, int rc) const {
  sqlite3* db = sqlite3_db_handle(stmt_);
  const char* file = sqlite3_db_filename(db, "main");
  throw_sqlite(db, file != nullptr ? file : "", what, rc);
}

Statement& Statement::bind(int index, std::string_view text) {
  // SQLITE_TRANSIENT: SQLite copies the text, so a temporary string_view is
  // safe to pass.
  int rc = sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) fail("cannot bind parameter " + std::to_string(index), rc);
  return *this;
}

Statement& Statement::bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) fail("cannot bind parameter " + std::to_string(index), rc);
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(describe(sqlite3_sql(stmt_)), rc);
}

void Statement::run() {
  while (step()) {
  }
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string Statement::text(int column) const {
  const unsigned char* data = sqlite3_column_text(stmt_, column);
  if (data == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(data),
                     static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::int64_t Statement::integer(int column) const { return sqlite3_column_int64(stmt_, column); }

Database::Database(const std::string& path) : path_(path) {
  create_private_file(path);
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, nullptr);
  // sqlite3_open_v2 hands back a handle even when it fails; it must be closed.
  db_.reset(raw);
  if (rc != SQLITE_OK) fail("cannot open the database", rc);
  sqlite3_extended_result_codes(db_.get(), 1);
  // Before the first statement: switching to WAL needs a lock that another
  // process opening the file at the same moment may hold.
  sqlite3_busy_handler(db_.get(), on_busy, nullptr);
  // A database file is input too: refuse the schema tricks (writable_schema,
  // functions with side effects in views and triggers) that an edited file
  // could use against the process that opens it.
  sqlite3_db_config(db_.get(), SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(db_.get(), SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);

  // Switching a new file to WAL takes an exclusive lock. When another
  // process opens the same new file at that moment, SQLite sees a deadlock
  // and answers SQLITE_BUSY at once, without calling the busy handler: wait
  // and retry here as the busy handler would.
  std::string mode;
  for (int attempt = 0;; ++attempt) {
    Statement journal = prepare("PRAGMA journal_mode=WAL");
    rc = sqlite3_step(journal.stmt_);
    if (rc == SQLITE_ROW) {
      mode = journal.text(0);
      break;
    }
    if ((rc & 0xff) != SQLITE_BUSY || !on_busy(nullptr, attempt))
      journal.fail("cannot switch to write-ahead logging", rc);
  }
  if (mode != "wal")
    throw Error(path_ + ": cannot use write-ahead logging (journal mode is '" + mode +
                "'): keep airlock's data on a local file system");
  // FULL: a commit is on disk, WAL included, when it returns; what the portal
  // reported as decided survives a crash or a power cut.
  // A small page cache: the portal idles most of its life, and its memory
  // budget is 10 MiB (DESIGN.md); the rows it reads back are few.
  exec("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-64;");
}

void Database::fail(std::string_view what, int rc) const { throw_sqlite(db_.get(), path_, what, rc); }

void Database::exec(std::string_view sql) {
  std::string text(sql);
  int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) fail(describe(sql), rc);
}

Statement Database::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()), 0, &stmt, &tail);
  Statement statement(stmt);
  if (rc != SQLITE_OK) fail(describe(sql), rc);
  if (stmt == nullptr) throw Error(path_ + ": " + describe(sql) + ": it holds no statement");
  // One statement per prepare(): a second one would be silently dropped.
  for (const char* p = tail; p < sql.data() + sql.size(); ++p)
    if (!g_ascii_isspace(*p) && *p != ';')
      throw Error(path_ + ": " + describe(sql) + ": it holds more than one statement");
  return statement;
}

int Database::changes() const { return sqlite3_changes(db_.get()); }

void Database::migrate(std::string_view component, std::span<const std::string_view> steps) {
  Transaction transaction(*this);
  exec(
      "CREATE TABLE IF NOT EXISTS schema_versions ("
      "  component TEXT PRIMARY KEY,"
      "  version INTEGER NOT NULL"
      ") STRICT");
  Statement read = prepare("SELECT version FROM schema_versions WHERE component = ?");
  read.bind(1, component);
  std::int64_t version = read.step() ? read.integer(0) : 0;
  auto known = static_cast<std::int64_t>(steps.size());
  if (version > known)
    throw Error(path_ + ": its " + std::string(component) + " tables are version " + std::to_string(version) +
                ", newer than this airlock knows (" + std::to_string(known) +
                "): use the newer airlock, or move the file away to start afresh");
  for (auto step = steps.begin() + version; step != steps.end(); ++step) exec(*step);
  prepare(
      "INSERT INTO schema_versions (component, version) VALUES (?, ?) "
      "ON CONFLICT (component) DO UPDATE SET version = excluded.version")
      .bind_all(component, known)
      .run();
  transaction.commit();
}

Transaction::Transaction(Database& db, Mode mode) : db_(db) {
  db_.exec(mode == Mode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
}

Transaction::~Transaction() {
  // Errors are ignored: after a failed COMMIT SQLite may already have rolled
  // back, and a destructor has no one to report to.
  if (open_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  db_.exec("COMMIT");
  open_ = false;
}

void check_text(std::string_view field, std::string_view value, std::size_t max_bytes, bool allow_empty) {
  std::string name(field);
  if (value.empty()) {
    if (allow_empty) return;
    throw Error(name + " is empty");
  }
  if (value.size() > max_bytes)
    throw Error(name + " is " + std::to_string(value.size()) + " bytes long, more than the " +
                std::to_string(max_bytes) + " allowed");
  const char* end = nullptr;
  if (!g_utf8_validate_len(value.data(), value.size(), &end))
    throw Error(name + " is not valid UTF-8 (at byte " + std::to_string(end - value.data()) + ")");
  for (const char* p = value.data(); p < value.data() + value.size(); p = g_utf8_next_char(p)) {
    // C0, DEL and C1: what a terminal showing `airlock log` would act on.
    if (g_unichar_iscntrl(g_utf8_get_char(p)))
      throw Error(name + " contains a control character (at byte " + std::to_string(p - value.data()) + ")");
  }
}

}  // namespace airlock
