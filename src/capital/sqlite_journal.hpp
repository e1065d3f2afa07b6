#pragma once
// The durable journal: one SQLite file in WAL mode holding the append-only journal of every
// ledger change and the table of ledger instances (owners) that hold reservations.
// Internal to the capital module; CapitalLedger is the public face.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "capital/ledger_types.hpp"
#include "core/process_identity.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace twinstar::detail {

inline constexpr int kLedgerSchemaVersion = 1;

// The SQLite VFS ledgers are opened with: the default one, writing each WAL frame with one
// pwrite (see sqlite_journal.cpp). Registers it on first use; null if that failed (ledgers
// then use the default VFS, only slower).
const char* ledger_vfs();

struct OwnerRecord {
  std::int64_t owner = 0;
  ProcessIdentity process;
  Timestamp opened{};
  std::optional<Timestamp> closed;
};

// A prepared statement, finalized on destruction.
class Statement {
 public:
  Statement() = default;
  Statement(sqlite3_stmt* s) noexcept : stmt_(s) {}
  Statement(Statement&& o) noexcept : stmt_(std::exchange(o.stmt_, nullptr)) {}
  Statement& operator=(Statement&& o) noexcept;
  ~Statement();
  sqlite3_stmt* get() const noexcept { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// Thread: not thread-safe; the ledger serialises access with its mutex.
class SqliteJournal {
 public:
  enum class Mode : std::uint8_t { read_write, read_only };

  // Opens (or, with create_if_missing, creates) the ledger file. Never writes to a file that
  // is not already an empty database or a twinstar ledger.
  // Errors: not_found (missing, create_if_missing false), io_error (not SQLite, wrong schema,
  // newer schema, corrupt, permissions), unavailable (locked past busy_timeout).
  static Result<std::unique_ptr<SqliteJournal>> open(const std::filesystem::path& path, Mode mode,
                                                     bool create_if_missing, Durability durability,
                                                     std::chrono::milliseconds busy_timeout);
  ~SqliteJournal();
  SqliteJournal(const SqliteJournal&) = delete;
  SqliteJournal& operator=(const SqliteJournal&) = delete;

  // BEGIN IMMEDIATE: takes the file's write lock, waiting up to the busy timeout.
  // Errors: unavailable (still locked), io_error.
  Status begin_write();
  // BEGIN (deferred): a consistent read snapshot.
  Status begin_read();
  Status commit();
  void rollback() noexcept;
  // SQLite's data version of the file for this connection: it changes with every commit, this
  // connection's or another's (the latter seen when a transaction starts). Equal values mean
  // no other connection has written in between.
  std::uint32_t data_version() const noexcept;

  // Calls `row` for every journal row with seq > after, in seq order; stops at its first error.
  Status read_since(std::int64_t after, const std::function<Status(const JournalEntry&)>& row);
  Status append(const JournalEntry& e);
  // The newest `limit` rows, oldest first.
  Result<std::vector<JournalEntry>> newest(std::size_t limit);

  Status put_owner(const OwnerRecord& o);
  Status close_owner(std::int64_t owner, Timestamp when);
  Status delete_owner(std::int64_t owner);
  Result<std::vector<OwnerRecord>> owners();

  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  SqliteJournal(std::filesystem::path path, sqlite3* db, std::chrono::milliseconds busy_timeout)
      : path_(std::move(path)), db_(db), busy_timeout_(busy_timeout), busy_timeout_ms_(busy_timeout.count()) {}
  Status check_or_create_schema(Mode mode);
  Status exec(const char* sql, const char* what);
  Result<Statement> prepare(const char* sql, const char* what);
  // The first column of the first row as an int. Errors: io_error naming `what`.
  Result<int> read_int(const char* sql, const char* what);
  Status step_done(Statement& s, const char* what);
  std::unexpected<Error> error(int rc, const char* what) const;
  Result<JournalEntry> read_row(sqlite3_stmt* s) const;

  std::filesystem::path path_;
  sqlite3* db_ = nullptr;
  std::chrono::milliseconds busy_timeout_;
  std::int64_t busy_timeout_ms_;  // read by the busy handler
  Statement begin_write_;
  Statement begin_read_;
  Statement commit_;
  Statement rollback_;
  Statement read_since_;
  Statement append_;
  bool in_transaction_ = false;
};

}  // namespace twinstar::detail
