// Database: one SQLite connection opened the way the portal's stores need it
// (WAL, synchronous=FULL, a busy timeout, a private file), with prepared
// statements and transactions that clean up after themselves. Every failure
// throws airlock::Error naming the file.
#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace airlock {

class Database;

// A prepared statement, finalized when it goes out of scope. Parameters are
// numbered from 1 as in SQLite; columns from 0.
class Statement {
 public:
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}
  Statement& operator=(Statement&& other) noexcept;
  ~Statement();

  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, std::int64_t value);
  // Binds ARGS to parameters 1, 2, ... in order.
  template <typename... Args>
  Statement& bind_all(const Args&... args) {
    int index = 0;
    (bind(++index, args), ...);
    return *this;
  }

  // True when a row is available, false when the statement is done.
  bool step();
  // Steps a statement that returns no rows (INSERT, UPDATE, DELETE).
  void run();
  void reset();

  std::string text(int column) const;
  std::int64_t integer(int column) const;

 private:
  friend class Database;
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  [[noreturn]] void fail(std::string_view what, int rc) const;

  sqlite3_stmt* stmt_ = nullptr;
};

// One connection: use it from one thread at a time, and never across a
// fork (open a new one in the child).
class Database {
 public:
  // Opens PATH, creating it (mode 0600) and its parent folder (mode 0700)
  // when missing; symlinks are refused, so the store cannot be redirected
  // into a file someone else chose.
  explicit Database(const std::string& path);

  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_.get(); }

  // Runs SQL, which may hold several statements and no parameters.
  void exec(std::string_view sql);
  Statement prepare(std::string_view sql);
  // Rows changed by the last INSERT, UPDATE or DELETE.
  int changes() const;

  // Brings COMPONENT's tables up to date: runs STEPS[v], STEPS[v + 1], ...
  // where v is the version recorded for COMPONENT, in one transaction, and
  // records STEPS.size(). Versions are kept per component in a small table
  // rather than in PRAGMA user_version, which exists once per file: two
  // stores sharing a file would otherwise skip each other's migrations.
  // Refuses a file written by a newer airlock.
  void migrate(std::string_view component, std::span<const std::string_view> steps);

  [[noreturn]] void fail(std::string_view what, int rc) const;

 private:
  struct Closer {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };

  std::string path_;
  std::unique_ptr<sqlite3, Closer> db_;
};

// A transaction that rolls back unless commit() was reached, so an exception
// halfway through leaves nothing behind.
class Transaction {
 public:
  enum class Mode {
    // BEGIN IMMEDIATE: takes the write lock at once, so two processes that
    // read and then write (the audit chain's tail) are serialized rather
    // than failing with SQLITE_BUSY at the write.
    kWrite,
    // BEGIN DEFERRED: every read sees one snapshot, whatever others commit.
    kRead,
  };

  explicit Transaction(Database& db, Mode mode = Mode::kWrite);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  // With synchronous=FULL the change is on disk when this returns.
  void commit();

 private:
  Database& db_;
  bool open_ = true;
};

// Throws Error unless VALUE is valid UTF-8 of at most MAX_BYTES bytes without
// control characters (what a terminal would interpret), non-empty unless
// ALLOW_EMPTY. The message names FIELD and never repeats VALUE, which may be
// anything an agent sent. Every text column goes through this, so the CLI
// can print what the stores hold.
void check_text(std::string_view field, std::string_view value, std::size_t max_bytes, bool allow_empty);

}  // namespace airlock
