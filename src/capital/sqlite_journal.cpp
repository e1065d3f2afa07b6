#include "capital/sqlite_journal.hpp"

#include <sqlite3.h>

#include <sched.h>

#include <algorithm>
#include <cstring>
#include <chrono>
#include <system_error>
#include <thread>
#include <utility>

namespace twinstar::detail {

namespace {

constexpr const char* kFormatName = "twinstar capital ledger";

// Amounts are stored as integers in units of 1e-8 (Money::raw), never as REAL.
constexpr const char* kSchema = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE journal(
  seq     INTEGER PRIMARY KEY,
  time_ns INTEGER NOT NULL,
  op      TEXT NOT NULL,
  bot     TEXT NOT NULL,
  symbol  TEXT NOT NULL,
  ref     INTEGER NOT NULL,
  amount  INTEGER NOT NULL,
  pnl     INTEGER NOT NULL,
  fees    INTEGER NOT NULL,
  owner   INTEGER NOT NULL);
CREATE TABLE owners(
  owner       INTEGER PRIMARY KEY,
  pid         INTEGER NOT NULL,
  start_ticks INTEGER NOT NULL,
  host        TEXT NOT NULL,
  boot_id     TEXT NOT NULL,
  opened_ns   INTEGER NOT NULL,
  closed_ns   INTEGER);
INSERT INTO meta(key, value) VALUES('format', 'twinstar capital ledger');
PRAGMA user_version = 1;
)sql";

constexpr const char* kJournalColumns = "seq, time_ns, op, bot, symbol, ref, amount, pnl, fees, owner";

std::int64_t to_ns(Timestamp t) { return t.time_since_epoch().count(); }
Timestamp from_ns(std::int64_t ns) { return Timestamp(Duration(ns)); }

std::string_view column_text(sqlite3_stmt* s, int i) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p == nullptr ? std::string_view() : std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(s, i)));
}

// Resets a statement when the scope ends, so it never holds a read lock open.
struct ResetOnExit {
  sqlite3_stmt* s;
  ~ResetOnExit() {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
};

// SQLite's own busy handler sleeps 1, 2, 5 ... 100 ms between tries, so two processes that
// take turns on the write lock every few microseconds would mostly sleep. This one yields,
// then backs off from 20 us to 1 ms. It measures the wait on the steady clock: it bounds an
// OS lock wait, it is not engine time (which comes only from the injected Clock).
int busy_backoff(void* timeout_ms, int count) {
  using Steady = std::chrono::steady_clock;
  thread_local Steady::time_point started;
  if (count == 0) started = Steady::now();
  const auto limit = std::chrono::milliseconds(*static_cast<const std::int64_t*>(timeout_ms));
  if (Steady::now() - started >= limit) return 0;
  if (count < 8) {
    sched_yield();
  } else {
    const int shift = std::min(count - 8, 6);
    std::this_thread::sleep_for(std::chrono::microseconds(20 << shift));
  }
  return 1;
}

// A VFS over the default one that writes each WAL frame with one pwrite instead of two.
// SQLite appends a frame as its 24-byte header, then the page right after it; on this VM a
// syscall costs ~2 us, a tenth of a transaction. Only a header written at the end of what
// this connection has written so far (an append) is held back, and sent with the page that
// SQLite writes next; a header rewritten in place (SQLite rewrites checksums at the end of
// a commit that overwrote its own frames) goes out at once, so no commit returns with a
// byte still held. Anything else on the file sends a held header first, so the bytes and
// their order on disk are SQLite's own. Locking and the WAL index are untouched (they live
// on the database file), so processes using plain SQLite share the file as before.
constexpr int kWalFrameHeader = 24;
constexpr sqlite3_int64 kWalFileHeader = 32;

sqlite3_vfs* g_base_vfs = nullptr;

struct WalFile {
  sqlite3_file base;  // first: SQLite sees a WalFile as a sqlite3_file
  sqlite3_file* real;
  unsigned char* buffer;
  int buffer_size;
  bool held;
  sqlite3_int64 held_offset;
  sqlite3_int64 end;  // the end of this connection's furthest write; a WAL header write resets it
  unsigned char header[kWalFrameHeader];
};
constexpr int kWalFileSize = static_cast<int>((sizeof(WalFile) + 15) / 16 * 16);

WalFile* wal(sqlite3_file* f) { return reinterpret_cast<WalFile*>(f); }
const sqlite3_io_methods& real_io(WalFile* f) { return *f->real->pMethods; }

int wal_write_through(WalFile* f, const void* data, int amount, sqlite3_int64 offset) {
  // A new WAL header (offset 0) starts the file over: appends begin right after it.
  f->end = offset == 0 ? amount : std::max(f->end, offset + amount);
  return real_io(f).xWrite(f->real, data, amount, offset);
}

int wal_flush(WalFile* f) {
  if (!f->held) return SQLITE_OK;
  f->held = false;
  return wal_write_through(f, f->header, kWalFrameHeader, f->held_offset);
}

int wal_close(sqlite3_file* p) {
  WalFile* f = wal(p);
  const int rc = wal_flush(f);
  const int closed = real_io(f).xClose(f->real);
  sqlite3_free(f->buffer);
  f->buffer = nullptr;
  return rc != SQLITE_OK ? rc : closed;
}

int wal_read(sqlite3_file* p, void* out, int amount, sqlite3_int64 offset) {
  WalFile* f = wal(p);
  if (const int rc = wal_flush(f); rc != SQLITE_OK) return rc;
  return real_io(f).xRead(f->real, out, amount, offset);
}

int wal_write(sqlite3_file* p, const void* data, int amount, sqlite3_int64 offset) {
  WalFile* f = wal(p);
  if (f->held && offset == f->held_offset + kWalFrameHeader && amount > 0) {
    const int total = kWalFrameHeader + amount;
    if (total > f->buffer_size) {
      auto* grown = static_cast<unsigned char*>(sqlite3_realloc(f->buffer, total));
      if (grown == nullptr) {
        if (const int rc = wal_flush(f); rc != SQLITE_OK) return rc;
        return wal_write_through(f, data, amount, offset);
      }
      f->buffer = grown;
      f->buffer_size = total;
    }
    std::memcpy(f->buffer, f->header, kWalFrameHeader);
    std::memcpy(f->buffer + kWalFrameHeader, data, static_cast<std::size_t>(amount));
    f->held = false;
    return wal_write_through(f, f->buffer, total, f->held_offset);
  }
  if (const int rc = wal_flush(f); rc != SQLITE_OK) return rc;
  if (amount == kWalFrameHeader && offset >= kWalFileHeader && offset == f->end) {
    std::memcpy(f->header, data, kWalFrameHeader);
    f->held_offset = offset;
    f->held = true;
    return SQLITE_OK;
  }
  return wal_write_through(f, data, amount, offset);
}

int wal_truncate(sqlite3_file* p, sqlite3_int64 size) {
  WalFile* f = wal(p);
  if (const int rc = wal_flush(f); rc != SQLITE_OK) return rc;
  return real_io(f).xTruncate(f->real, size);
}

int wal_sync(sqlite3_file* p, int flags) {
  WalFile* f = wal(p);
  if (const int rc = wal_flush(f); rc != SQLITE_OK) return rc;
  return real_io(f).xSync(f->real, flags);
}

int wal_file_size(sqlite3_file* p, sqlite3_int64* size) {
  WalFile* f = wal(p);
  if (const int rc = wal_flush(f); rc != SQLITE_OK) return rc;
  return real_io(f).xFileSize(f->real, size);
}

int wal_lock(sqlite3_file* p, int level) { return real_io(wal(p)).xLock(wal(p)->real, level); }
int wal_unlock(sqlite3_file* p, int level) { return real_io(wal(p)).xUnlock(wal(p)->real, level); }
int wal_check_reserved(sqlite3_file* p, int* out) { return real_io(wal(p)).xCheckReservedLock(wal(p)->real, out); }

int wal_file_control(sqlite3_file* p, int op, void* arg) {
  WalFile* f = wal(p);
  if (const int rc = wal_flush(f); rc != SQLITE_OK) return rc;
  return real_io(f).xFileControl(f->real, op, arg);
}

int wal_sector_size(sqlite3_file* p) { return real_io(wal(p)).xSectorSize(wal(p)->real); }
int wal_device(sqlite3_file* p) { return real_io(wal(p)).xDeviceCharacteristics(wal(p)->real); }

// Version 1: a WAL file is never memory-mapped and holds no WAL index.
const sqlite3_io_methods kWalMethods = {
    1,          wal_close,          wal_read,         wal_write,       wal_truncate, wal_sync, wal_file_size,
    wal_lock,   wal_unlock,         wal_check_reserved, wal_file_control, wal_sector_size, wal_device,
    nullptr,    nullptr,            nullptr,          nullptr,         nullptr,      nullptr};

int vfs_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  // Every other file is the base VFS's own object, opened in place.
  if ((flags & SQLITE_OPEN_WAL) == 0) return g_base_vfs->xOpen(g_base_vfs, name, file, flags, out_flags);
  WalFile* f = wal(file);
  f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kWalFileSize);
  f->buffer = nullptr;
  f->buffer_size = 0;
  f->held = false;
  f->held_offset = 0;
  f->end = -1;  // unknown until SQLite writes the WAL header or appends after its own write
  const int rc = g_base_vfs->xOpen(g_base_vfs, name, f->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    if (f->real->pMethods != nullptr) f->real->pMethods->xClose(f->real);
    f->base.pMethods = nullptr;
    return rc;
  }
  f->base.pMethods = &kWalMethods;
  return SQLITE_OK;
}

int vfs_delete(sqlite3_vfs*, const char* n, int s) { return g_base_vfs->xDelete(g_base_vfs, n, s); }
int vfs_access(sqlite3_vfs*, const char* n, int f, int* o) { return g_base_vfs->xAccess(g_base_vfs, n, f, o); }
int vfs_full_pathname(sqlite3_vfs*, const char* n, int s, char* o) {
  return g_base_vfs->xFullPathname(g_base_vfs, n, s, o);
}
void* vfs_dl_open(sqlite3_vfs*, const char* n) { return g_base_vfs->xDlOpen(g_base_vfs, n); }
void vfs_dl_error(sqlite3_vfs*, int n, char* m) { g_base_vfs->xDlError(g_base_vfs, n, m); }
void (*vfs_dl_sym(sqlite3_vfs*, void* h, const char* s))(void) { return g_base_vfs->xDlSym(g_base_vfs, h, s); }
void vfs_dl_close(sqlite3_vfs*, void* h) { g_base_vfs->xDlClose(g_base_vfs, h); }
int vfs_randomness(sqlite3_vfs*, int n, char* o) { return g_base_vfs->xRandomness(g_base_vfs, n, o); }
int vfs_sleep(sqlite3_vfs*, int us) { return g_base_vfs->xSleep(g_base_vfs, us); }
int vfs_current_time(sqlite3_vfs*, double* o) { return g_base_vfs->xCurrentTime(g_base_vfs, o); }
int vfs_last_error(sqlite3_vfs*, int n, char* o) { return g_base_vfs->xGetLastError(g_base_vfs, n, o); }
int vfs_current_time64(sqlite3_vfs*, sqlite3_int64* o) { return g_base_vfs->xCurrentTimeInt64(g_base_vfs, o); }

constexpr const char* kVfsName = "twinstar-wal1";

}  // namespace

const char* ledger_vfs() {
  static const char* const name = [] {
    static sqlite3_vfs vfs{};
    sqlite3_initialize();
    g_base_vfs = sqlite3_vfs_find(nullptr);
    if (g_base_vfs == nullptr || g_base_vfs->iVersion < 2) return static_cast<const char*>(nullptr);
    vfs.iVersion = 2;
    vfs.szOsFile = kWalFileSize + g_base_vfs->szOsFile;
    vfs.mxPathname = g_base_vfs->mxPathname;
    vfs.zName = kVfsName;
    vfs.xOpen = vfs_open;
    vfs.xDelete = vfs_delete;
    vfs.xAccess = vfs_access;
    vfs.xFullPathname = vfs_full_pathname;
    vfs.xDlOpen = vfs_dl_open;
    vfs.xDlError = vfs_dl_error;
    vfs.xDlSym = vfs_dl_sym;
    vfs.xDlClose = vfs_dl_close;
    vfs.xRandomness = vfs_randomness;
    vfs.xSleep = vfs_sleep;
    vfs.xCurrentTime = vfs_current_time;
    vfs.xGetLastError = vfs_last_error;
    vfs.xCurrentTimeInt64 = vfs_current_time64;
    if (sqlite3_vfs_register(&vfs, 0) != SQLITE_OK) return static_cast<const char*>(nullptr);
    return kVfsName;
  }();
  return name;
}

Statement& Statement::operator=(Statement&& o) noexcept {
  if (this != &o) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    stmt_ = std::exchange(o.stmt_, nullptr);
  }
  return *this;
}

Statement::~Statement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

std::unexpected<Error> SqliteJournal::error(int rc, const char* what) const {
  const std::string msg = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return make_error(ErrorCode::unavailable,
                        "capital ledger {} is locked by another process (waited {} ms to {}); try again, or find "
                        "the process holding it",
                        path_.string(), busy_timeout_.count(), what);
    case SQLITE_NOTADB:
      return make_error(ErrorCode::io_error,
                        "{} is not a SQLite database, so not a capital ledger; it was left untouched: move it "
                        "away or choose another --data-dir",
                        path_.string());
    case SQLITE_CORRUPT:
      return make_error(ErrorCode::io_error,
                        "capital ledger {} is corrupt ({}); it was left untouched: restore it from a backup",
                        path_.string(), msg);
    case SQLITE_FULL:
      return make_error(ErrorCode::io_error, "capital ledger {}: disk full while trying to {}", path_.string(), what);
    default:
      return make_error(ErrorCode::io_error, "capital ledger {}: cannot {}: {}", path_.string(), what, msg);
  }
}

Result<std::unique_ptr<SqliteJournal>> SqliteJournal::open(const std::filesystem::path& path, Mode mode,
                                                           bool create_if_missing, Durability durability,
                                                           std::chrono::milliseconds busy_timeout) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  const bool exists = std::filesystem::exists(status);
  if (exists && !std::filesystem::is_regular_file(status)) {
    return make_error(ErrorCode::io_error, "capital ledger {} is not a regular file", path.string());
  }
  if (!exists && (mode == Mode::read_only || !create_if_missing)) {
    return make_error(ErrorCode::not_found, "no capital ledger at {}", path.string());
  }
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  flags |= mode == Mode::read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  if (!exists) flags |= SQLITE_OPEN_CREATE;
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, ledger_vfs());
  std::unique_ptr<SqliteJournal> j(new SqliteJournal(path, db, busy_timeout));
  if (rc != SQLITE_OK) return j->error(rc, exists ? "open it" : "create it");
  sqlite3_busy_handler(db, busy_backoff, &j->busy_timeout_ms_);

  if (auto s = j->check_or_create_schema(mode); !s) return std::unexpected(s.error());
  if (mode == Mode::read_write) {
    const char* sync = durability == Durability::full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL";
    if (auto s = j->exec(sync, "set synchronous"); !s) return std::unexpected(s.error());
  }

  struct Prepared {
    Statement* target;
    const char* sql;
  };
  const std::string read_since_sql = fmt::format("SELECT {} FROM journal WHERE seq > ?1 ORDER BY seq", kJournalColumns);
  const std::string append_sql = fmt::format("INSERT INTO journal({}) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)", kJournalColumns);
  for (const Prepared& p : {Prepared{&j->begin_write_, "BEGIN IMMEDIATE"}, Prepared{&j->begin_read_, "BEGIN"},
                            Prepared{&j->commit_, "COMMIT"}, Prepared{&j->rollback_, "ROLLBACK"},
                            Prepared{&j->read_since_, read_since_sql.c_str()}}) {
    auto st = j->prepare(p.sql, "prepare a statement");
    if (!st) return std::unexpected(st.error());
    *p.target = std::move(*st);
  }
  if (mode == Mode::read_write) {
    auto st = j->prepare(append_sql.c_str(), "prepare a statement");
    if (!st) return std::unexpected(st.error());
    j->append_ = std::move(*st);
  }
  return j;
}

SqliteJournal::~SqliteJournal() {
  if (in_transaction_) rollback();
  for (Statement* s : {&begin_write_, &begin_read_, &commit_, &rollback_, &read_since_, &append_}) *s = Statement();
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

Status SqliteJournal::exec(const char* sql, const char* what) {
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return error(rc, what);
  return {};
}

Result<Statement> SqliteJournal::prepare(const char* sql, const char* what) {
  sqlite3_stmt* s = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
  if (rc != SQLITE_OK) {
    if (s != nullptr) sqlite3_finalize(s);
    return error(rc, what);
  }
  return Statement(s);
}

Status SqliteJournal::step_done(Statement& s, const char* what) {
  ResetOnExit reset{s.get()};
  const int rc = sqlite3_step(s.get());
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return error(rc, what);
  return {};
}

Result<int> SqliteJournal::read_int(const char* sql, const char* what) {
  auto st = prepare(sql, what);
  if (!st) return std::unexpected(st.error());
  ResetOnExit reset{st->get()};
  const int rc = sqlite3_step(st->get());
  if (rc != SQLITE_ROW) return error(rc, what);
  return sqlite3_column_int(st->get(), 0);
}

Status SqliteJournal::check_or_create_schema(Mode mode) {
  // Read-only probes first: nothing is written unless the file is an empty database. Both from
  // one snapshot: another process may be creating the schema at this instant.
  int user_version = 0;
  int table_count = 0;
  {
    if (auto s = exec("BEGIN", "read the schema"); !s) return s;
    struct EndRead {
      SqliteJournal* j;
      ~EndRead() { (void)j->exec("COMMIT", "read the schema"); }
    } end_read{this};
    auto version = read_int("PRAGMA user_version", "read the schema version");
    if (!version) return std::unexpected(version.error());
    user_version = *version;
    auto tables = read_int("SELECT count(*) FROM sqlite_master", "list its tables");
    if (!tables) return std::unexpected(tables.error());
    table_count = *tables;
  }
  if (user_version > kLedgerSchemaVersion) {
    return make_error(ErrorCode::io_error,
                      "capital ledger {} has schema version {}, newer than this build reads ({}); it was left "
                      "untouched: use a newer twinstar",
                      path_.string(), user_version, kLedgerSchemaVersion);
  }
  const bool fresh = user_version == 0 && table_count == 0;
  if (user_version == 0 && !fresh) {
    return make_error(ErrorCode::io_error,
                      "{} is a SQLite database but not a capital ledger ({} unrelated schema objects, no twinstar "
                      "schema version); it was left untouched: move it away or choose another --data-dir",
                      path_.string(), table_count);
  }
  if (fresh && mode == Mode::read_only) {
    return make_error(ErrorCode::not_found, "{} is an empty database, not yet a capital ledger", path_.string());
  }
  if (mode == Mode::read_write) {
    // WAL lets readers (status, `capital show`) work while a bot writes, and makes commits cheap.
    auto wal = prepare("PRAGMA journal_mode=WAL", "switch to WAL mode");
    if (!wal) return std::unexpected(wal.error());
    ResetOnExit reset{wal->get()};
    // The switch needs the file to itself, and SQLite answers BUSY at once (no busy handler) while
    // another process opens it: wait here, within the busy timeout.
    const auto until = std::chrono::steady_clock::now() + busy_timeout_;
    int rc = sqlite3_step(wal->get());
    while ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && std::chrono::steady_clock::now() < until) {
      sqlite3_reset(wal->get());
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      rc = sqlite3_step(wal->get());
    }
    if (rc != SQLITE_ROW) return error(rc, "switch to WAL mode");
    if (column_text(wal->get(), 0) != "wal") {
      return make_error(ErrorCode::io_error, "capital ledger {}: the file system does not support WAL mode (got {})",
                        path_.string(), column_text(wal->get(), 0));
    }
  }
  if (fresh) {
    // Two processes may create the same new file at once: re-check under the write lock.
    if (auto s = exec("BEGIN IMMEDIATE", "create the schema"); !s) return s;
    const bool still_fresh = read_int("PRAGMA user_version", "read the schema version").value_or(-1) == 0;
    if (still_fresh) {
      if (auto s = exec(kSchema, "create the schema"); !s) {
        (void)exec("ROLLBACK", "roll back");
        return s;
      }
    }
    if (auto s = exec("COMMIT", "create the schema"); !s) {
      (void)exec("ROLLBACK", "roll back");
      return s;
    }
  }
  // The expected tables and columns, and our format marker.
  auto format = prepare("SELECT value FROM meta WHERE key = 'format'", "read its format");
  bool ok = format.has_value();
  if (ok) {
    ResetOnExit reset{format->get()};
    ok = sqlite3_step(format->get()) == SQLITE_ROW && column_text(format->get(), 0) == kFormatName;
  }
  ok = ok && prepare(fmt::format("SELECT {} FROM journal LIMIT 0", kJournalColumns).c_str(), "check").has_value();
  ok = ok && prepare("SELECT owner, pid, start_ticks, host, boot_id, opened_ns, closed_ns FROM owners LIMIT 0", "check")
                 .has_value();
  if (!ok) {
    return make_error(ErrorCode::io_error,
                      "{} has schema version {} but not the capital ledger's tables; it was left untouched: move it "
                      "away or choose another --data-dir",
                      path_.string(), user_version);
  }
  return {};
}

Status SqliteJournal::begin_write() {
  if (auto s = step_done(begin_write_, "take the write lock"); !s) return s;
  in_transaction_ = true;
  return {};
}

Status SqliteJournal::begin_read() {
  if (auto s = step_done(begin_read_, "start a read"); !s) return s;
  in_transaction_ = true;
  return {};
}

Status SqliteJournal::commit() {
  if (auto s = step_done(commit_, "commit"); !s) return s;
  in_transaction_ = false;
  return {};
}

void SqliteJournal::rollback() noexcept {
  if (!in_transaction_) return;
  ResetOnExit reset{rollback_.get()};
  (void)sqlite3_step(rollback_.get());
  in_transaction_ = sqlite3_get_autocommit(db_) == 0;
}

std::uint32_t SqliteJournal::data_version() const noexcept {
  unsigned int v = 0;
  // Reads the pager's counter; does no I/O. Cannot fail on an open "main" database.
  (void)sqlite3_file_control(db_, "main", SQLITE_FCNTL_DATA_VERSION, &v);
  return v;
}

Result<JournalEntry> SqliteJournal::read_row(sqlite3_stmt* s) const {
  JournalEntry e;
  e.seq = sqlite3_column_int64(s, 0);
  e.time = from_ns(sqlite3_column_int64(s, 1));
  auto op = parse_journal_op(column_text(s, 2));
  if (!op) {
    return make_error(ErrorCode::io_error, "capital ledger {}: journal row {} has an unknown op \"{}\"", path_.string(),
                      e.seq, column_text(s, 2));
  }
  e.op = *op;
  e.bot = std::string(column_text(s, 3));
  if (const auto sym = column_text(s, 4); !sym.empty()) {
    auto parsed = Symbol::parse(sym);
    if (!parsed) {
      return make_error(ErrorCode::io_error, "capital ledger {}: journal row {} has an invalid symbol: {}",
                        path_.string(), e.seq, parsed.error().message);
    }
    e.symbol = *parsed;
  }
  e.ref = sqlite3_column_int64(s, 5);
  e.amount = Money::from_raw(sqlite3_column_int64(s, 6));
  e.pnl = Money::from_raw(sqlite3_column_int64(s, 7));
  e.fees = Money::from_raw(sqlite3_column_int64(s, 8));
  e.owner = sqlite3_column_int64(s, 9);
  return e;
}

Status SqliteJournal::read_since(std::int64_t after, const std::function<Status(const JournalEntry&)>& row) {
  sqlite3_stmt* s = read_since_.get();
  ResetOnExit reset{s};
  sqlite3_bind_int64(s, 1, after);
  for (;;) {
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) return {};
    if (rc != SQLITE_ROW) return error(rc, "read the journal");
    auto e = read_row(s);
    if (!e) return std::unexpected(e.error());
    if (auto st = row(*e); !st) return st;
  }
}

Status SqliteJournal::append(const JournalEntry& e) {
  sqlite3_stmt* s = append_.get();
  if (s == nullptr) return make_error(ErrorCode::io_error, "capital ledger {} was opened read-only", path_.string());
  const std::string_view op = to_string(e.op);
  const std::string_view sym = e.symbol.view();
  sqlite3_bind_int64(s, 1, e.seq);
  sqlite3_bind_int64(s, 2, to_ns(e.time));
  sqlite3_bind_text(s, 3, op.data(), static_cast<int>(op.size()), SQLITE_STATIC);
  sqlite3_bind_text(s, 4, e.bot.data(), static_cast<int>(e.bot.size()), SQLITE_STATIC);
  sqlite3_bind_text(s, 5, sym.data(), static_cast<int>(sym.size()), SQLITE_STATIC);
  sqlite3_bind_int64(s, 6, e.ref);
  sqlite3_bind_int64(s, 7, e.amount.raw());
  sqlite3_bind_int64(s, 8, e.pnl.raw());
  sqlite3_bind_int64(s, 9, e.fees.raw());
  sqlite3_bind_int64(s, 10, e.owner);
  Statement* st = &append_;
  return step_done(*st, "append to the journal");
}

Result<std::vector<JournalEntry>> SqliteJournal::newest(std::size_t limit) {
  auto st = prepare(fmt::format("SELECT {} FROM journal ORDER BY seq DESC LIMIT ?1", kJournalColumns).c_str(),
                    "read the journal");
  if (!st) return std::unexpected(st.error());
  ResetOnExit reset{st->get()};
  sqlite3_bind_int64(st->get(), 1, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
  std::vector<JournalEntry> rows;
  for (;;) {
    const int rc = sqlite3_step(st->get());
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return error(rc, "read the journal");
    auto e = read_row(st->get());
    if (!e) return std::unexpected(e.error());
    rows.push_back(std::move(*e));
  }
  std::reverse(rows.begin(), rows.end());
  return rows;
}

Status SqliteJournal::put_owner(const OwnerRecord& o) {
  auto st = prepare(
      "INSERT OR REPLACE INTO owners(owner, pid, start_ticks, host, boot_id, opened_ns, closed_ns) "
      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, NULL)",
      "register this process");
  if (!st) return std::unexpected(st.error());
  sqlite3_stmt* s = st->get();
  sqlite3_bind_int64(s, 1, o.owner);
  sqlite3_bind_int64(s, 2, o.process.pid);
  sqlite3_bind_int64(s, 3, o.process.start_ticks);
  sqlite3_bind_text(s, 4, o.process.host.c_str(), -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 5, o.process.boot_id.c_str(), -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 6, to_ns(o.opened));
  return step_done(*st, "register this process");
}

Status SqliteJournal::close_owner(std::int64_t owner, Timestamp when) {
  auto st = prepare("UPDATE owners SET closed_ns = ?2 WHERE owner = ?1", "mark this process closed");
  if (!st) return std::unexpected(st.error());
  sqlite3_bind_int64(st->get(), 1, owner);
  sqlite3_bind_int64(st->get(), 2, to_ns(when));
  return step_done(*st, "mark this process closed");
}

Status SqliteJournal::delete_owner(std::int64_t owner) {
  auto st = prepare("DELETE FROM owners WHERE owner = ?1", "forget a closed process");
  if (!st) return std::unexpected(st.error());
  sqlite3_bind_int64(st->get(), 1, owner);
  return step_done(*st, "forget a closed process");
}

Result<std::vector<OwnerRecord>> SqliteJournal::owners() {
  auto st = prepare("SELECT owner, pid, start_ticks, host, boot_id, opened_ns, closed_ns FROM owners", "read owners");
  if (!st) return std::unexpected(st.error());
  ResetOnExit reset{st->get()};
  std::vector<OwnerRecord> out;
  for (;;) {
    sqlite3_stmt* s = st->get();
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return error(rc, "read owners");
    OwnerRecord o;
    o.owner = sqlite3_column_int64(s, 0);
    o.process.pid = sqlite3_column_int64(s, 1);
    o.process.start_ticks = sqlite3_column_int64(s, 2);
    o.process.host = std::string(column_text(s, 3));
    o.process.boot_id = std::string(column_text(s, 4));
    o.opened = from_ns(sqlite3_column_int64(s, 5));
    if (sqlite3_column_type(s, 6) != SQLITE_NULL) o.closed = from_ns(sqlite3_column_int64(s, 6));
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace twinstar::detail
