// AuditLog: every session start and end, request, decision (and who made
// it), grant, use, revoke and forgotten always-grant, in SQLite, hash-chained
// so that `airlock log --verify` finds a row that was edited, deleted,
// inserted or moved.
//
// What the chain does not prove: the chain and its anchor live in the same
// file, so someone who can write that file and knows this format can rewrite
// every row from some point on, rehash them and update the anchor, or empty
// the log and reset the anchor; verify() then passes. Only a record of the
// head kept elsewhere (AuditVerification::head_hash, noted down or shipped to
// another machine) shows that. A key held outside the file (an HMAC) would
// not help against the same user, who can read that key too. The sandbox
// never gets the file at all: its folder is on the deny list.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sqlite_db.h"

namespace airlock {

// One thing that happened. Every field is a word from a closed vocabulary,
// or names a thing (a path, a host, a secret's name, a profile, a rule). There is
// deliberately no field for a value and no free text: a secret's value
// (invariant 5) and an agent's stated reason have nowhere to go. Every member
// has an initializer so that a designated initializer can leave it out.
struct AuditEvent {
  // session-start | session-end | request | decision | grant | use | revoke |
  // expire | forget
  std::string event{};
  std::string session{};     // the session's id
  std::string profile{};     // the agent profile
  std::string workspace{};   // canonical path, or ""
  std::string task{};        // what the session is for, as the person named it
  std::string kind{};        // "" | folder | file | host | secret
  std::string resource{};    // canonical path, host:port or secret name; "" when kind is ""
  std::string access{};      // "", or an access of kind (see access_is_valid())
  std::string scope{};       // "" | once | task | always
  std::string decided_by{};  // "" | policy | person | store (an always-grant)
  // When the policy decided: which rule, as PolicyResult::reason names it
  // ("[Rule projects] in /etc/airlock/airlock.policy"): names, never values.
  std::string rule{};
  std::string outcome{};  // "" | allow | deny | ask | timeout | error | cancelled | throttled
};

struct AuditRecord : AuditEvent {
  std::int64_t seq = 0;     // 1, 2, 3... without gaps
  std::int64_t time = 0;    // microseconds since the epoch
  std::string prev_hash{};  // the previous row's hash; kGenesisHash for row 1
  std::string hash{};       // row_hash() of this row
};

struct AuditQuery {
  std::string session{};       // "" for every session
  std::int64_t since = 0;      // only rows with time >= since (microseconds)
  std::int64_t after_seq = 0;  // only rows with seq > after_seq, to follow the log
  std::size_t limit = 0;       // only the newest LIMIT matching rows; 0 for all
};

struct AuditVerification {
  bool ok = true;
  std::int64_t rows = 0;     // rows read
  std::int64_t bad_seq = 0;  // the first row that cannot be trusted (rows before it can); 0 when ok
  std::string reason{};      // what is wrong there, for a person
  // The head of the chain: the last row airlock wrote, as the anchor records
  // it. Noted down, it detects a later rewrite of everything up to it.
  std::int64_t head_seq = 0;
  std::string head_hash{};
};

class AuditLog {
 public:
  // The first row's prev_hash.
  static constexpr std::string_view kGenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";

  // Opens (creating when missing) the log in PATH, e.g.
  // ~/.local/share/airlock/audit.db. It may share a file with the
  // PermissionStore.
  explicit AuditLog(const std::string& path);

  // Appends EVENT, stamped with the time now, and returns its seq. The row is
  // on disk when this returns. Several processes may append at once: each
  // append is one write transaction, so the chain stays a line. Throws Error,
  // writing nothing, when a field is invalid; a caller that cannot log must
  // not grant.
  std::int64_t append(const AuditEvent& event);
  // Appends EVENTS in one transaction (one write to disk for them all) and
  // returns the last one's seq; all or none are written.
  std::int64_t append_all(const std::vector<AuditEvent>& events);
  // Throws Error, as append() would, when a field of EVENT is invalid.
  static void check(const AuditEvent& event);

  // Matching rows, oldest first.
  std::vector<AuditRecord> query(const AuditQuery& filter = {});

  // Walks the whole chain and its anchor, in one snapshot.
  AuditVerification verify();

  // SHA-256, hex, over a length-prefixed serialization of RECORD's seq, time,
  // fields and prev_hash (its hash field is ignored): no field's boundary can
  // be moved into another without changing it.
  static std::string row_hash(const AuditRecord& record);

  const std::string& path() const { return db_.path(); }

 private:
  Database db_;
};

}  // namespace airlock
