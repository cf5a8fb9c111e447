#include "audit_log.h"

#include <glib.h>

#include <algorithm>
#include <initializer_list>
#include <optional>

#include "error.h"
#include "permission_store.h"

namespace airlock {

namespace {

constexpr std::string_view kEvents[] = {
    "session-start", "session-end", "request", "decision", "grant", "use", "revoke", "expire", "forget",
};
constexpr std::string_view kScopes[] = {"once", "task", "always"};
constexpr std::string_view kDeciders[] = {"policy", "person", "store"};
constexpr std::string_view kOutcomes[] = {"allow", "deny", "ask", "timeout", "error", "cancelled", "throttled"};

// Longest task description and rule, in bytes.
constexpr std::size_t kMaxTaskBytes = 1024;
constexpr std::size_t kMaxRuleBytes = 2 * kMaxResourceBytes;

// The UPDATE and DELETE triggers stop a mistaken `sqlite3 audit.db` edit;
// anyone can drop them, so they are a guard rail, not the protection (that
// is the chain). The anchor holds the tail of the chain, updated in the
// same transaction as each row, so that deleting the newest rows is seen.
constexpr std::string_view kMigrations[] = {
    R"sql(
    CREATE TABLE audit (
      seq INTEGER PRIMARY KEY,
      time INTEGER NOT NULL,
      event TEXT NOT NULL,
      session TEXT NOT NULL DEFAULT '',
      profile TEXT NOT NULL DEFAULT '',
      workspace TEXT NOT NULL DEFAULT '',
      task TEXT NOT NULL DEFAULT '',
      kind TEXT NOT NULL DEFAULT '',
      resource TEXT NOT NULL DEFAULT '',
      access TEXT NOT NULL DEFAULT '',
      scope TEXT NOT NULL DEFAULT '',
      decided_by TEXT NOT NULL DEFAULT '',
      rule TEXT NOT NULL DEFAULT '',
      outcome TEXT NOT NULL DEFAULT '',
      prev_hash TEXT NOT NULL,
      hash TEXT NOT NULL
    ) STRICT;
    CREATE INDEX audit_by_session ON audit (session, seq);
    CREATE INDEX audit_by_time ON audit (time);
    CREATE TABLE audit_anchor (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      last_seq INTEGER NOT NULL,
      last_hash TEXT NOT NULL
    ) STRICT;
    INSERT INTO audit_anchor (id, last_seq, last_hash)
      VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
      BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
      BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_anchor_no_delete BEFORE DELETE ON audit_anchor
      BEGIN SELECT RAISE(ABORT, 'the audit anchor cannot be deleted'); END;
    )sql",
};

static_assert(kMigrations[0].find(AuditLog::kGenesisHash) != std::string_view::npos,
              "the anchor starts at the genesis hash");

constexpr std::string_view kColumns =
    "seq, time, event, session, profile, workspace, task, kind, resource, access, scope, decided_by, rule, outcome, "
    "prev_hash, hash";

template <std::size_t N>
void check_word(std::string_view field, std::string_view value, const std::string_view (&known)[N], bool allow_empty) {
  if (value.empty() && allow_empty) return;
  if (std::find(std::begin(known), std::end(known), value) != std::end(known)) return;
  std::string list;
  for (std::string_view word : known) list += (list.empty() ? "" : ", ") + std::string(word);
  throw Error("audit: unknown " + std::string(field) + ": it is one of " + list + (allow_empty ? ", or empty" : ""));
}

void check_event(const AuditEvent& event) {
  check_word("event", event.event, kEvents, false);
  check_text("audit: the session", event.session, kMaxNameBytes, true);
  if (!event.profile.empty()) check_profile(event.profile);
  check_workspace(event.workspace);
  check_text("audit: the task", event.task, kMaxTaskBytes, true);
  if (event.kind.empty()) {
    if (!event.resource.empty() || !event.access.empty()) throw Error("audit: a resource or an access needs a kind");
  } else {
    check_resource(event.kind, event.resource);
    if (!event.access.empty() && !access_is_valid(event.kind, event.access))
      throw Error("audit: unknown access for a " + event.kind + " grant");
  }
  check_word("scope", event.scope, kScopes, true);
  check_word("decided_by", event.decided_by, kDeciders, true);
  check_text("audit: the rule", event.rule, kMaxRuleBytes, true);
  check_word("outcome", event.outcome, kOutcomes, true);
}

AuditRecord read_record(const Statement& row) {
  AuditRecord record;
  record.seq = row.integer(0);
  record.time = row.integer(1);
  record.event = row.text(2);
  record.session = row.text(3);
  record.profile = row.text(4);
  record.workspace = row.text(5);
  record.task = row.text(6);
  record.kind = row.text(7);
  record.resource = row.text(8);
  record.access = row.text(9);
  record.scope = row.text(10);
  record.decided_by = row.text(11);
  record.rule = row.text(12);
  record.outcome = row.text(13);
  record.prev_hash = row.text(14);
  record.hash = row.text(15);
  return record;
}

// Netstring framing: "<length>:<bytes>,". A field cannot absorb part of its
// neighbour, and "" differs from any other value.
void add_field(GChecksum* checksum, std::string_view value) {
  std::string length = std::to_string(value.size()) + ":";
  g_checksum_update(checksum, reinterpret_cast<const guchar*>(length.data()), static_cast<gssize>(length.size()));
  g_checksum_update(checksum, reinterpret_cast<const guchar*>(value.data()), static_cast<gssize>(value.size()));
  g_checksum_update(checksum, reinterpret_cast<const guchar*>(","), 1);
}

struct Anchor {
  std::int64_t last_seq = 0;
  std::string last_hash;
};

std::optional<Anchor> read_anchor(Database& db) {
  Statement select = db.prepare("SELECT last_seq, last_hash FROM audit_anchor WHERE id = 1");
  if (!select.step()) return std::nullopt;
  return Anchor{select.integer(0), select.text(1)};
}

std::string row_name(std::int64_t seq) { return "row " + std::to_string(seq); }

AuditVerification bad(AuditVerification result, std::int64_t seq, std::string reason) {
  result.ok = false;
  result.bad_seq = seq;
  result.reason = std::move(reason);
  return result;
}

}  // namespace

AuditLog::AuditLog(const std::string& path) : db_(path) { db_.migrate("audit-log", kMigrations); }

std::string AuditLog::row_hash(const AuditRecord& record) {
  g_autoptr(GChecksum) checksum = g_checksum_new(G_CHECKSUM_SHA256);
  // The version tag lets a later format hash differently without ambiguity.
  add_field(checksum, "airlock-audit-1");
  add_field(checksum, record.prev_hash);
  add_field(checksum, std::to_string(record.seq));
  add_field(checksum, std::to_string(record.time));
  for (const std::string* field :
       {&record.event, &record.session, &record.profile, &record.workspace, &record.task, &record.kind,
        &record.resource, &record.access, &record.scope, &record.decided_by, &record.rule, &record.outcome})
    add_field(checksum, *field);
  return g_checksum_get_string(checksum);
}

void AuditLog::check(const AuditEvent& event) { check_event(event); }

std::int64_t AuditLog::append(const AuditEvent& event) { return append_all({event}); }

std::int64_t AuditLog::append_all(const std::vector<AuditEvent>& events) {
  for (const auto& event : events) check_event(event);
  // IMMEDIATE: the tail is read and extended under the write lock, so two
  // processes appending at once cannot both chain to the same row.
  Transaction transaction(db_);
  std::optional<Anchor> anchor = read_anchor(db_);
  if (!anchor)
    throw Error(path() + ": the audit log's anchor is missing: it was tampered with; run 'airlock log --verify'");
  Statement last = db_.prepare("SELECT coalesce(max(seq), 0) FROM audit");
  std::int64_t last_seq = last.step() ? last.integer(0) : 0;

  AuditRecord record;
  // Chain to the anchor, not to whatever the table ends with: rows deleted
  // from the end stay a visible gap instead of being papered over, and a
  // row slipped in past the anchor stays a visible break. Either way the
  // log keeps working, so the portal can keep recording.
  record.seq = std::max(anchor->last_seq, last_seq);
  record.hash = anchor->last_hash;
  Statement insert = db_.prepare("INSERT INTO audit (" + std::string(kColumns) +
                                 ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  for (const auto& event : events) {
    std::int64_t seq = record.seq + 1;
    std::string prev_hash = record.hash;
    static_cast<AuditEvent&>(record) = event;
    record.seq = seq;
    record.prev_hash = prev_hash;
    record.time = g_get_real_time();
    record.hash = row_hash(record);
    insert.bind_all(record.seq, record.time, record.event, record.session, record.profile, record.workspace,
                    record.task, record.kind, record.resource, record.access, record.scope, record.decided_by,
                    record.rule, record.outcome, record.prev_hash, record.hash)
        .run();
    insert.reset();
  }
  db_.prepare("UPDATE audit_anchor SET last_seq = ?, last_hash = ? WHERE id = 1")
      .bind_all(record.seq, record.hash)
      .run();
  transaction.commit();
  return record.seq;
}

std::vector<AuditRecord> AuditLog::query(const AuditQuery& filter) {
  std::string sql = "SELECT " + std::string(kColumns) + " FROM audit WHERE time >= ? AND seq > ?";
  if (!filter.session.empty()) sql += " AND session = ?";
  // Newest first, so that LIMIT keeps the newest; reversed below.
  sql += " ORDER BY seq DESC LIMIT ?";
  Statement select = db_.prepare(sql);
  int index = 0;
  select.bind(++index, filter.since);
  select.bind(++index, filter.after_seq);
  if (!filter.session.empty()) select.bind(++index, filter.session);
  select.bind(++index, filter.limit == 0 ? std::int64_t{-1} : static_cast<std::int64_t>(filter.limit));
  std::vector<AuditRecord> records;
  while (select.step()) records.push_back(read_record(select));
  std::reverse(records.begin(), records.end());
  return records;
}

AuditVerification AuditLog::verify() {
  // One snapshot: rows appended by the portal meanwhile, and the anchor
  // that moves with them, are either both seen or both not.
  Transaction transaction(db_, Transaction::Mode::kRead);
  AuditVerification result;
  std::optional<Anchor> anchor = read_anchor(db_);
  if (anchor) {
    result.head_seq = anchor->last_seq;
    result.head_hash = anchor->last_hash;
  }

  Statement select = db_.prepare("SELECT " + std::string(kColumns) + " FROM audit ORDER BY seq");
  std::int64_t expected_seq = 1;
  std::string expected_prev(kGenesisHash);
  while (select.step()) {
    AuditRecord record = read_record(select);
    ++result.rows;
    if (record.seq < expected_seq)
      return bad(result, record.seq, row_name(record.seq) + " lies before the start of the chain: it was inserted");
    if (record.seq > expected_seq)
      return bad(result, expected_seq,
                 (record.seq == expected_seq + 1
                      ? row_name(expected_seq) + " is"
                      : "rows " + std::to_string(expected_seq) + " to " + std::to_string(record.seq - 1) + " are") +
                     " missing: deleted");
    if (row_hash(record) != record.hash)
      return bad(result, record.seq,
                 row_name(record.seq) + " was changed after it was written: its hash does not match");
    if (record.prev_hash != expected_prev) {
      if (record.seq == 1) return bad(result, 1, "row 1 does not start the chain: it was replaced");
      // Both rows hash correctly on their own, so one of them was rewritten
      // and rehashed (or rows were swapped and renumbered): neither can be
      // trusted, and the earlier one is where the doubt starts.
      return bad(
          result, record.seq - 1,
          row_name(record.seq) + " does not chain to " + row_name(record.seq - 1) + ": one of them was rewritten");
    }
    expected_prev = record.hash;
    ++expected_seq;
  }
  std::int64_t last_seq = expected_seq - 1;

  if (!anchor) return bad(result, last_seq + 1, "the anchor (the last row written) is missing: it was deleted");
  if (anchor->last_seq > last_seq)
    return bad(result, last_seq + 1,
               "the log ends at row " + std::to_string(last_seq) + " but airlock last wrote row " +
                   std::to_string(anchor->last_seq) + ": the newest rows were deleted");
  if (anchor->last_seq < last_seq)
    return bad(result, anchor->last_seq + 1,
               "airlock last wrote row " + std::to_string(anchor->last_seq) + " but the log goes on to row " +
                   std::to_string(last_seq) + ": rows were added by something else");
  if (anchor->last_hash != expected_prev) {
    if (last_seq == 0) return bad(result, 1, "the log is empty but its anchor was changed");
    return bad(result, last_seq, row_name(last_seq) + " is not the row airlock last wrote: it was rewritten");
  }
  return result;
}

}  // namespace airlock
