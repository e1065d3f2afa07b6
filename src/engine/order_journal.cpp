#include "engine/order_journal.hpp"

#include <sqlite3.h>

#include <chrono>
#include <map>
#include <mutex>
#include <thread>

namespace twinstar {

namespace {

constexpr int kSchemaVersion = 1;

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS orders (
  client_id TEXT PRIMARY KEY,
  bot TEXT NOT NULL,
  account TEXT NOT NULL,
  exchange TEXT NOT NULL,
  market TEXT NOT NULL,
  symbol TEXT NOT NULL,
  side TEXT NOT NULL,
  type TEXT NOT NULL,
  purpose TEXT NOT NULL,
  quantity INTEGER NOT NULL,
  price INTEGER,
  trig INTEGER,
  stop_loss INTEGER,
  take_profit INTEGER,
  reduce_only INTEGER NOT NULL,
  decided_at INTEGER NOT NULL,
  status TEXT NOT NULL,
  filled INTEGER NOT NULL,
  average_price INTEGER NOT NULL,
  fees INTEGER NOT NULL,
  reason TEXT NOT NULL,
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_by_bot ON orders(bot, symbol, seq);
CREATE INDEX IF NOT EXISTS orders_open ON orders(status, seq);
PRAGMA user_version = 1;
)";

constexpr const char* kColumns =
    "client_id, bot, account, exchange, market, symbol, side, type, purpose, quantity, price, trig, stop_loss, "
    "take_profit, reduce_only, decided_at, status, filled, average_price, fees, reason, created, updated";

int rank(OrderStatus s) {
  switch (s) {
    case OrderStatus::submitted: return 0;
    case OrderStatus::open: return 1;
    case OrderStatus::partially_filled: return 2;
    case OrderStatus::filled:
    case OrderStatus::cancelled:
    case OrderStatus::rejected: return 3;
  }
  return 0;
}

Result<OrderStatus> parse_status(std::string_view s) {
  for (auto st : {OrderStatus::submitted, OrderStatus::open, OrderStatus::partially_filled, OrderStatus::filled,
                  OrderStatus::cancelled, OrderStatus::rejected}) {
    if (to_string(st) == s) return st;
  }
  return make_error(ErrorCode::parse_error, "unknown order status '{}'", s);
}

Result<OrderPurpose> parse_purpose(std::string_view s) {
  for (auto p : {OrderPurpose::entry, OrderPurpose::exit_signal, OrderPurpose::stop_loss, OrderPurpose::take_profit,
                 OrderPurpose::end_of_run}) {
    if (to_string(p) == s) return p;
  }
  return make_error(ErrorCode::parse_error, "unknown order purpose '{}'", s);
}

std::string_view type_name(OrderType t) { return t == OrderType::market ? "market" : "limit"; }

}  // namespace

struct OrderJournal::Impl {
  sqlite3* db = nullptr;
  std::mutex mutex;  // guards db and the statements
  std::int64_t next_seq = 1;
  // Prepared once: every order costs an insert, a lookup and an update or two, from several
  // sender threads; parsing the SQL each time was a third of a write.
  sqlite3_stmt* insert = nullptr;
  sqlite3_stmt* by_id = nullptr;
  sqlite3_stmt* update = nullptr;

  // Checkpoints: a commit that checkpoints inline (SQLite's default, every ~4 MB of log) fsyncs
  // the file while every other writer waits on `mutex`, the order path's worst tail.
  sqlite3* checkpointer = nullptr;  // opened by the first checkpoint()
  std::mutex checkpoint_mutex;      // guards checkpointer

  ~Impl() {
    for (sqlite3_stmt* s : {insert, by_id, update}) sqlite3_finalize(s);
    if (checkpointer != nullptr) sqlite3_close_v2(checkpointer);
    if (db != nullptr) sqlite3_close_v2(db);
  }

  // Resets a cached statement when the call is done with it.
  struct Reuse {
    sqlite3_stmt* s;
    ~Reuse() {
      sqlite3_reset(s);
      sqlite3_clear_bindings(s);
    }
  };

  Status prepare(const std::filesystem::path& path) {
    const std::string insert_sql =
        fmt::format("INSERT INTO orders ({}, seq) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", kColumns);
    const std::string by_id_sql = fmt::format("SELECT {} FROM orders WHERE client_id = ?", kColumns);
    const char* update_sql = "UPDATE orders SET status=?, filled=?, average_price=?, fees=?, reason=?, updated=? WHERE client_id=?";
    if (sqlite3_prepare_v3(db, insert_sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &insert, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v3(db, by_id_sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &by_id, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v3(db, update_sql, -1, SQLITE_PREPARE_PERSISTENT, &update, nullptr) != SQLITE_OK) {
      return fail(path, "prepare its statements");
    }
    return {};
  }

  std::unexpected<Error> fail(const std::filesystem::path& path, const char* what) const {
    return make_error(ErrorCode::io_error, "order journal {}: cannot {}: {}", path.string(), what, sqlite3_errmsg(db));
  }

  struct Stmt {
    sqlite3_stmt* s = nullptr;
    ~Stmt() { sqlite3_finalize(s); }
  };

  static void bind_opt(sqlite3_stmt* s, int i, const std::optional<Price>& p) {
    if (p) {
      sqlite3_bind_int64(s, i, p->raw());
    } else {
      sqlite3_bind_null(s, i);
    }
  }
  static std::optional<Price> col_opt(sqlite3_stmt* s, int i) {
    if (sqlite3_column_type(s, i) == SQLITE_NULL) return std::nullopt;
    return Price::from_raw(sqlite3_column_int64(s, i));
  }
  static std::string col_text(sqlite3_stmt* s, int i) {
    const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
    return t == nullptr ? std::string() : std::string(t);
  }

  static Result<OrderRecord> read_row(sqlite3_stmt* s) {
    OrderRecord r;
    r.client_id = col_text(s, 0);
    r.bot = col_text(s, 1);
    r.account = col_text(s, 2);
    auto ex = parse_exchange(col_text(s, 3));
    auto mk = parse_market(col_text(s, 4));
    auto sym = Symbol::parse(col_text(s, 5));
    auto purpose = parse_purpose(col_text(s, 8));
    auto status = parse_status(col_text(s, 16));
    if (!ex || !mk || !sym || !purpose || !status) {
      return make_error(ErrorCode::parse_error, "order {}: a damaged row (exchange, market, symbol, purpose or status)", r.client_id);
    }
    r.exchange = *ex;
    r.market = *mk;
    r.request.client_id = r.client_id;
    r.request.symbol = *sym;
    r.request.side = col_text(s, 6) == "sell" ? Side::sell : Side::buy;
    r.request.type = col_text(s, 7) == "limit" ? OrderType::limit : OrderType::market;
    r.request.purpose = *purpose;
    r.request.quantity = Quantity::from_raw(sqlite3_column_int64(s, 9));
    r.request.price = col_opt(s, 10);
    r.request.trigger = col_opt(s, 11);
    r.request.stop_loss = col_opt(s, 12);
    r.request.take_profit = col_opt(s, 13);
    r.request.reduce_only = sqlite3_column_int(s, 14) != 0;
    r.request.decided_at = from_epoch_ms(sqlite3_column_int64(s, 15));
    r.status = *status;
    r.filled = Quantity::from_raw(sqlite3_column_int64(s, 17));
    r.average_price = Price::from_raw(sqlite3_column_int64(s, 18));
    r.fees = Money::from_raw(sqlite3_column_int64(s, 19));
    r.reason = col_text(s, 20);
    r.created = Timestamp(std::chrono::nanoseconds(sqlite3_column_int64(s, 21)));
    r.updated = Timestamp(std::chrono::nanoseconds(sqlite3_column_int64(s, 22)));
    return r;
  }

  Status insert_locked(const std::filesystem::path& path, const OrderRecord& r);
  Result<bool> update_locked(const std::filesystem::path& path, const OrderUpdate& u);

  // Steps s to the end, reading every row. The caller holds mutex.
  Result<std::vector<OrderRecord>> rows_locked(const std::filesystem::path& path, sqlite3_stmt* s) {
    std::vector<OrderRecord> out;
    int rc = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      auto row = read_row(s);
      if (!row) return make_error(ErrorCode::io_error, "order journal {}: {}", path.string(), row.error().message);
      out.push_back(std::move(*row));
    }
    if (rc != SQLITE_DONE) return make_error(ErrorCode::io_error, "order journal {}: cannot read: {}", path.string(), sqlite3_errmsg(db));
    return out;
  }

  Result<std::optional<OrderRecord>> find_locked(const std::filesystem::path& path, const std::string& client_id) {
    Reuse reuse{by_id};
    sqlite3_bind_text(by_id, 1, client_id.c_str(), -1, SQLITE_TRANSIENT);
    auto rows = rows_locked(path, by_id);
    if (!rows) return std::unexpected(rows.error());
    if (rows->empty()) return std::optional<OrderRecord>{};
    return std::optional<OrderRecord>(std::move(rows->front()));
  }

  Result<std::vector<OrderRecord>> query(const std::filesystem::path& path, const std::string& where,
                                        const std::vector<std::string>& args) {
    std::lock_guard lock(mutex);
    const std::string sql = fmt::format("SELECT {} FROM orders {} ORDER BY seq", kColumns, where);
    Stmt st;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st.s, nullptr) != SQLITE_OK) {
      return make_error(ErrorCode::io_error, "order journal {}: cannot query: {}", path.string(), sqlite3_errmsg(db));
    }
    for (std::size_t i = 0; i < args.size(); ++i) {
      sqlite3_bind_text(st.s, static_cast<int>(i + 1), args[i].c_str(), -1, SQLITE_TRANSIENT);
    }
    return rows_locked(path, st.s);
  }
};

OrderJournal::OrderJournal(std::filesystem::path path, std::unique_ptr<Impl> impl)
    : path_(std::move(path)), impl_(std::move(impl)) {}

OrderJournal::~OrderJournal() = default;

Result<std::unique_ptr<OrderJournal>> OrderJournal::open(const std::filesystem::path& path) {
  std::error_code ec;
  if (!path.parent_path().empty()) std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return make_error(ErrorCode::io_error, "cannot create {}: {}", path.parent_path().string(), ec.message());
  auto impl = std::make_unique<Impl>();
  if (sqlite3_open_v2(path.c_str(), &impl->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    return impl->fail(path, "open");
  }
  sqlite3_busy_timeout(impl->db, 5000);
  // The version and the table count from one snapshot: another process may be creating the schema.
  sqlite3_exec(impl->db, "BEGIN", nullptr, nullptr, nullptr);
  struct EndRead {
    sqlite3* db;
    ~EndRead() {
      if (db != nullptr) sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    }
    void now() {
      sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
      db = nullptr;
    }
  } end_read{impl->db};
  sqlite3_stmt* version = nullptr;
  if (sqlite3_prepare_v2(impl->db, "PRAGMA user_version", -1, &version, nullptr) != SQLITE_OK) {
    return make_error(ErrorCode::io_error, "{} is not an order journal (not a SQLite file: {})", path.string(),
                      sqlite3_errmsg(impl->db));
  }
  int v = 0;
  if (sqlite3_step(version) == SQLITE_ROW) v = sqlite3_column_int(version, 0);
  sqlite3_finalize(version);
  if (v > kSchemaVersion) {
    return make_error(ErrorCode::io_error, "{} was written by a newer twinstar (schema {} > {})", path.string(), v, kSchemaVersion);
  }
  if (v == 0) {
    // A new file, or some other SQLite database: never write into a database with other tables.
    sqlite3_stmt* tables = nullptr;
    sqlite3_prepare_v2(impl->db, "SELECT count(*) FROM sqlite_master", -1, &tables, nullptr);
    int n = 0;
    if (tables != nullptr && sqlite3_step(tables) == SQLITE_ROW) n = sqlite3_column_int(tables, 0);
    sqlite3_finalize(tables);
    if (n != 0) return make_error(ErrorCode::io_error, "{} is a SQLite file but not a twinstar order journal", path.string());
  }
  end_read.now();
  // Switching to WAL needs the file to itself; SQLite answers BUSY at once (no busy handler) while
  // another opener holds it, so wait here, bounded.
  for (int attempt = 0;; ++attempt) {
    const int rc = sqlite3_exec(impl->db, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) break;
    if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || attempt >= 5000) return impl->fail(path, "switch to WAL mode");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (sqlite3_exec(impl->db, "PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=10000;", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return impl->fail(path, "set the sync mode");
  }
  if (v == 0) {
    // Two processes (two engines on one data directory) may create the file at once: the schema
    // and its version are written in one transaction, so the other sees none or all of it.
    if (sqlite3_exec(impl->db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK ||
        sqlite3_exec(impl->db, kSchema, nullptr, nullptr, nullptr) != SQLITE_OK ||
        sqlite3_exec(impl->db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
      auto failed = impl->fail(path, "create the schema");
      sqlite3_exec(impl->db, "ROLLBACK", nullptr, nullptr, nullptr);
      return failed;
    }
  }
  if (auto prepared = impl->prepare(path); !prepared) return std::unexpected(prepared.error());
  sqlite3_stmt* seq = nullptr;
  sqlite3_prepare_v2(impl->db, "SELECT coalesce(max(seq), 0) FROM orders", -1, &seq, nullptr);
  if (seq != nullptr && sqlite3_step(seq) == SQLITE_ROW) impl->next_seq = sqlite3_column_int64(seq, 0) + 1;
  sqlite3_finalize(seq);
  return std::unique_ptr<OrderJournal>(new OrderJournal(path, std::move(impl)));
}

Status OrderJournal::Impl::insert_locked(const std::filesystem::path& path_, const OrderRecord& r) {
  Reuse st{insert};
  const auto& q = r.request;
  sqlite3_bind_text(st.s, 1, r.client_id.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 2, r.bot.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 3, r.account.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 4, std::string(to_string(r.exchange)).c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 5, std::string(to_string(r.market)).c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 6, q.symbol.str().c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 7, q.side == Side::buy ? "buy" : "sell", -1, SQLITE_STATIC);
  sqlite3_bind_text(st.s, 8, std::string(type_name(q.type)).c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 9, std::string(to_string(q.purpose)).c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st.s, 10, q.quantity.raw());
  bind_opt(st.s, 11, q.price);
  bind_opt(st.s, 12, q.trigger);
  bind_opt(st.s, 13, q.stop_loss);
  bind_opt(st.s, 14, q.take_profit);
  sqlite3_bind_int(st.s, 15, q.reduce_only ? 1 : 0);
  sqlite3_bind_int64(st.s, 16, to_epoch_ms(q.decided_at));
  sqlite3_bind_text(st.s, 17, std::string(to_string(r.status)).c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st.s, 18, r.filled.raw());
  sqlite3_bind_int64(st.s, 19, r.average_price.raw());
  sqlite3_bind_int64(st.s, 20, r.fees.raw());
  sqlite3_bind_text(st.s, 21, r.reason.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st.s, 22, r.created.time_since_epoch().count());
  sqlite3_bind_int64(st.s, 23, r.updated.time_since_epoch().count());
  sqlite3_bind_int64(st.s, 24, next_seq);
  const int rc = sqlite3_step(st.s);
  if (rc == SQLITE_CONSTRAINT) return make_error(ErrorCode::conflict, "order journal: client id {} was used before", r.client_id);
  if (rc != SQLITE_DONE) return fail(path_, "record an order");
  ++next_seq;
  return {};
}

Status OrderJournal::record_submit(const OrderRecord& r) {
  std::lock_guard lock(impl_->mutex);
  return impl_->insert_locked(path_, r);
}

Status OrderJournal::record_submits(std::span<const OrderRecord> records) {
  if (records.size() == 1) return record_submit(records.front());
  if (records.empty()) return {};
  std::lock_guard lock(impl_->mutex);
  if (sqlite3_exec(impl_->db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return impl_->fail(path_, "begin a transaction");
  }
  const std::int64_t first_seq = impl_->next_seq;
  for (const OrderRecord& r : records) {
    if (auto s = impl_->insert_locked(path_, r); !s) {
      sqlite3_exec(impl_->db, "ROLLBACK", nullptr, nullptr, nullptr);
      impl_->next_seq = first_seq;
      return s;
    }
  }
  if (sqlite3_exec(impl_->db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    Status failed = impl_->fail(path_, "commit the orders");
    sqlite3_exec(impl_->db, "ROLLBACK", nullptr, nullptr, nullptr);
    impl_->next_seq = first_seq;
    return failed;
  }
  return {};
}

Status OrderJournal::checkpoint() {
  std::lock_guard lock(impl_->checkpoint_mutex);
  if (impl_->checkpointer == nullptr) {
    sqlite3* c = nullptr;
    // A connection learns the file is in WAL mode on its first read.
    if (sqlite3_open_v2(path_.c_str(), &c, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK ||
        sqlite3_exec(c, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr) != SQLITE_OK) {
      const std::string why = sqlite3_errmsg(c);
      sqlite3_close_v2(c);
      return make_error(ErrorCode::io_error, "order journal {}: cannot open for a checkpoint: {}", path_.string(), why);
    }
    impl_->checkpointer = c;
  }
  int log_frames = -1;
  const int rc = sqlite3_wal_checkpoint_v2(impl_->checkpointer, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames, nullptr);
  if (rc == SQLITE_OK && log_frames < 0) {
    return make_error(ErrorCode::io_error, "order journal {}: checkpoint: not in WAL mode", path_.string());
  }
  if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
    return make_error(ErrorCode::io_error, "order journal {}: checkpoint: {}", path_.string(), sqlite3_errmsg(impl_->checkpointer));
  }
  return {};
}

// Judged and written in one turn: two reports of one order (an ack, a stream push) must not
// both judge against the old state, or the later write could move the order backwards.
Result<bool> OrderJournal::Impl::update_locked(const std::filesystem::path& path_, const OrderUpdate& u) {
  auto current = find_locked(path_, u.client_id);
  if (!current) return std::unexpected(current.error());
  if (!*current) return make_error(ErrorCode::not_found, "order journal: no order {}", u.client_id);
  const OrderRecord& r = **current;
  // Forward only: a later state, or a larger fill in the same state.
  const bool forward = rank(u.status) > rank(r.status) || (rank(u.status) == rank(r.status) && u.filled > r.filled);
  if (!forward || is_terminal(r.status)) return false;
  Reuse st{update};
  sqlite3_bind_text(st.s, 1, std::string(to_string(u.status)).c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st.s, 2, u.filled.raw());
  sqlite3_bind_int64(st.s, 3, u.average_price.raw());
  sqlite3_bind_int64(st.s, 4, u.fees.raw());
  sqlite3_bind_text(st.s, 5, u.reason.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st.s, 6, u.time.time_since_epoch().count());
  sqlite3_bind_text(st.s, 7, u.client_id.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(st.s) != SQLITE_DONE) return fail(path_, "update an order");
  return true;
}

Result<bool> OrderJournal::record_update(const OrderUpdate& u) {
  std::lock_guard lock(impl_->mutex);
  return impl_->update_locked(path_, u);
}

Result<std::optional<OrderRecord>> OrderJournal::find(const std::string& client_id) {
  std::lock_guard lock(impl_->mutex);
  return impl_->find_locked(path_, client_id);
}

Result<std::vector<OrderRecord>> OrderJournal::open_orders() {
  return impl_->query(path_, "WHERE status IN ('submitted', 'open', 'partially_filled')", {});
}

Result<std::vector<OrderRecord>> OrderJournal::orders_of(const std::string& bot, std::optional<Symbol> symbol) {
  if (symbol) return impl_->query(path_, "WHERE bot = ? AND symbol = ?", {bot, symbol->str()});
  return impl_->query(path_, "WHERE bot = ?", {bot});
}

Result<std::vector<OrderRecord>> OrderJournal::all() { return impl_->query(path_, "", {}); }

Result<std::uint64_t> OrderJournal::last_sequence(const std::string& prefix) {
  auto rows = impl_->query(path_, "WHERE substr(client_id, 1, length(?1)) = ?1", {prefix});
  if (!rows) return std::unexpected(rows.error());
  std::uint64_t best = 0;
  for (const auto& r : *rows) {
    const std::string_view rest = std::string_view(r.client_id).substr(prefix.size());
    std::uint64_t n = 0;
    bool digits = !rest.empty();
    for (char c : rest) {
      if (c < '0' || c > '9') {
        digits = false;
        break;
      }
      n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (digits) best = std::max(best, n);
  }
  return best;
}

std::vector<JournalPosition> positions_from_orders(const std::vector<OrderRecord>& orders, std::vector<JournalPosition>* closed) {
  std::map<std::pair<std::string, Symbol>, JournalPosition> open;
  for (const auto& o : orders) {
    if (!o.filled.is_positive()) continue;
    const auto key = std::make_pair(o.bot, o.request.symbol);
    auto it = open.find(key);
    if (o.request.purpose == OrderPurpose::entry) {
      if (it == open.end()) {
        JournalPosition p;
        p.bot = o.bot;
        p.symbol = o.request.symbol;
        p.side = o.request.side;
        p.opened = o.updated;
        p.entry_bar = o.request.decided_at;
        it = open.emplace(key, std::move(p)).first;
      }
      JournalPosition& p = it->second;
      const Money before = notional(p.entry_price, p.entered);
      p.entered += o.filled;
      p.quantity += o.filled;
      const Money total = before + notional(o.average_price, o.filled);
      // Volume-weighted over the entry fills.
      p.entry_price = Price::from_raw(detail::mul_div(total.raw(), kDecimalScale, p.entered.raw(), Rounding::half_even).value_or(0));
      p.entry_fees += o.fees;
      if (o.request.stop_loss) p.stop_loss = o.request.stop_loss;
      if (o.request.take_profit) p.take_profit = o.request.take_profit;
    } else if (it != open.end()) {
      JournalPosition& p = it->second;
      const Quantity q = std::min(o.filled, p.quantity);
      p.quantity -= q;
      p.exited += q;
      p.exit_notional += notional(o.average_price, q);
      p.exit_fees += o.fees;
      if (!p.quantity.is_positive()) {
        if (closed != nullptr) closed->push_back(std::move(p));
        open.erase(it);
      }
    }
  }
  std::vector<JournalPosition> out;
  for (auto& [k, p] : open) out.push_back(std::move(p));
  return out;
}

}  // namespace twinstar
