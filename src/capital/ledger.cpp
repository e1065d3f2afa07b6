#include "capital/ledger.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <type_traits>
#include <random>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "capital/sqlite_journal.hpp"

namespace twinstar {

namespace {

constexpr std::size_t kMaxBotName = 64;

constexpr std::string_view kOpNames[] = {"init", "deposit", "withdraw", "reserve",
                                         "commit", "cancel", "expire", "release"};

Status validate_bot_name(std::string_view bot) {
  bool ok = !bot.empty() && bot.size() <= kMaxBotName;
  for (const char c : bot) ok = ok && c >= 0x20 && c <= 0x7e;
  if (!ok) {
    return make_error(ErrorCode::invalid_argument, "bot name must be 1 to {} printable ASCII characters, got \"{}\"",
                      kMaxBotName, bot.substr(0, 80));
  }
  return {};
}

std::int64_t random_owner_id() {
  std::random_device rd;
  const std::uint64_t hi = rd();
  const std::uint64_t lo = rd();
  const auto id = static_cast<std::int64_t>(((hi << 32) | lo) & 0x7fff'ffff'ffff'ffffULL);
  return id == 0 ? 1 : id;
}

// A build step that decides there is nothing to do (e.g. a reservation already expired by
// another process); the mutation is rolled back quietly.
constexpr ErrorCode kNothingToDo = ErrorCode::cancelled;

}  // namespace

std::string_view to_string(JournalOp op) noexcept {
  const auto i = static_cast<std::size_t>(op);
  return i < std::size(kOpNames) ? kOpNames[i] : "unknown";
}

Result<JournalOp> parse_journal_op(std::string_view text) {
  for (std::size_t i = 0; i < std::size(kOpNames); ++i) {
    if (kOpNames[i] == text) return static_cast<JournalOp>(i);
  }
  return make_error(ErrorCode::parse_error, "unknown journal op \"{}\"", text);
}

Status validate(const LedgerOptions& o) {
  if (!o.initial_capital.is_positive()) {
    return make_error(ErrorCode::invalid_argument, "initial_capital must be > 0, got {}", o.initial_capital);
  }
  if (!o.max_allocation_ratio.is_positive() || o.max_allocation_ratio > Ratio::from_units(1)) {
    return make_error(ErrorCode::invalid_argument, "max_allocation_ratio must be in (0, 1], got {}",
                      o.max_allocation_ratio);
  }
  for (const auto& [symbol, cap] : o.per_symbol_cap) {
    if (cap.is_negative()) {
      return make_error(ErrorCode::invalid_argument, "per_symbol_cap.{} must be >= 0, got {}", symbol, cap);
    }
  }
  for (const auto& [bot, cap] : o.per_bot_cap) {
    if (auto s = validate_bot_name(bot); !s) {
      return make_error(ErrorCode::invalid_argument, "per_bot_cap: {}", s.error().message);
    }
    if (cap.is_negative()) {
      return make_error(ErrorCode::invalid_argument, "per_bot_cap.{} must be >= 0, got {}", bot, cap);
    }
  }
  if (o.daily_loss_limit && !o.daily_loss_limit->is_positive()) {
    return make_error(ErrorCode::invalid_argument, "daily_loss_limit must be > 0, got {}", *o.daily_loss_limit);
  }
  if (o.max_drawdown && (!o.max_drawdown->is_positive() || *o.max_drawdown > Ratio::from_units(1))) {
    return make_error(ErrorCode::invalid_argument, "max_drawdown must be in (0, 1], got {}", *o.max_drawdown);
  }
  if (o.busy_timeout.count() < 0) {
    return make_error(ErrorCode::invalid_argument, "busy_timeout must be >= 0, got {} ms", o.busy_timeout.count());
  }
  if (o.reap_interval <= Duration::zero()) {
    return make_error(ErrorCode::invalid_argument, "reap_interval must be > 0");
  }
  return {};
}

LedgerStats make_stats(const LedgerState& s, const LedgerOptions& o, Money unrealized, Timestamp now) {
  LedgerStats r;
  r.initial_capital = s.initial_capital();
  r.deposits = s.deposits();
  r.withdrawals = s.withdrawals();
  r.equity = s.equity();
  r.cap = apply_ratio(s.equity(), o.max_allocation_ratio);
  r.reserved = s.reserved();
  r.committed = s.committed();
  r.locked = s.locked();
  r.available = r.cap - r.locked;
  if (r.equity.is_positive()) r.allocation_ratio = ratio_of(r.locked, r.equity).value_or(Ratio::zero());
  r.realized_pnl = s.realized_pnl();
  r.unrealized_pnl = unrealized;
  r.fees = s.fees();
  r.total_pnl = r.realized_pnl - r.fees + r.unrealized_pnl;
  const Money contributed = r.initial_capital + r.deposits - r.withdrawals;
  if (contributed.is_positive()) r.roi = ratio_of(r.total_pnl, contributed).value_or(Ratio::zero());
  r.peak_equity = s.peak_equity();
  r.drawdown = s.drawdown();
  r.max_drawdown = s.max_drawdown();
  for (const auto& [day, pnl] : s.daily_pnl()) {
    r.daily_pnl.emplace(format_utc_date(Timestamp(std::chrono::days(day))), pnl);
  }
  r.today_pnl = s.pnl_on_day(now);
  for (const auto& [symbol, amount] : s.locked_by_symbol()) {
    if (!amount.is_zero()) r.locked_by_symbol.emplace(symbol, amount);
  }
  for (const auto& [bot, usage] : s.by_bot()) {
    if (usage != BotUsage{}) r.by_bot.emplace(bot, usage);
  }
  r.open_reservations = static_cast<std::int64_t>(s.reservations().size());
  r.open_positions = static_cast<std::int64_t>(s.positions().size());
  r.last_seq = s.last_seq();
  r.last_update = s.last_time();
  r.as_of = now;
  return r;
}

Result<LedgerState> replay_journal(const std::vector<JournalEntry>& rows) {
  LedgerState state;
  for (const JournalEntry& e : rows) {
    if (auto s = state.apply(e); !s) {
      return make_error(ErrorCode::io_error, "journal row {} ({}) cannot be applied: {}", e.seq, e.op,
                        s.error().message);
    }
  }
  return state;
}

Result<LedgerState> replay_journal(const std::filesystem::path& path) {
  auto journal = detail::SqliteJournal::open(path, detail::SqliteJournal::Mode::read_only, false, Durability::normal,
                                             std::chrono::milliseconds(5'000));
  if (!journal) return std::unexpected(journal.error());
  LedgerState state;
  if (auto s = (*journal)->begin_read(); !s) return std::unexpected(s.error());
  auto read = (*journal)->read_since(0, [&](const JournalEntry& e) -> Status {
    if (auto s = state.apply(e); !s) {
      return make_error(ErrorCode::io_error, "capital ledger {}: journal row {} ({}) cannot be applied: {}",
                        path.string(), e.seq, e.op, s.error().message);
    }
    return {};
  });
  (*journal)->rollback();
  if (!read) return std::unexpected(read.error());
  return state;
}

Result<std::vector<JournalEntry>> read_journal(const std::filesystem::path& path, std::size_t limit) {
  auto journal = detail::SqliteJournal::open(path, detail::SqliteJournal::Mode::read_only, false, Durability::normal,
                                             std::chrono::milliseconds(5'000));
  if (!journal) return std::unexpected(journal.error());
  return (*journal)->newest(limit);
}

namespace detail {

// A non-owning reference to a row builder: no allocation on the hot path.
class BuildRef {
 public:
  template <class F>
    requires(!std::is_same_v<std::remove_cv_t<F>, BuildRef>)  // copies must copy, not wrap
  explicit BuildRef(F& f) noexcept
      : object_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* o, JournalEntry& e) -> Status { return (*static_cast<F*>(o))(e); }) {}
  Status operator()(JournalEntry& e) const { return call_(object_, e); }

 private:
  void* object_;
  Status (*call_)(void*, JournalEntry&);
};

// Concurrency. mutex_ guards the state and the SQLite connection. In memory a change runs
// under mutex_ alone. Durable changes go through a group commit: callers queue under
// queue_mutex_; one of them (the leader) takes the whole queue, and under mutex_ writes it as
// ONE transaction (take the file lock, apply other processes' rows, then build, check and
// append each change's row in order, commit), applies it, and only then wakes the callers.
// A transaction costs ~8 syscalls of file locking and writing; sharing one among concurrent
// callers is what lifts durable throughput. No change is acknowledged before its commit.
// Lock order: queue_mutex_ is never held while taking mutex_.
class LedgerCore : public std::enable_shared_from_this<LedgerCore> {
 public:
  LedgerCore(LedgerOptions options, Clock& clock, std::unique_ptr<SqliteJournal> journal)
      : options_(std::move(options)), clock_(clock), journal_(std::move(journal)), owner_(random_owner_id()) {}

  ~LedgerCore() {
    std::lock_guard lock(mutex_);
    if (journal_ == nullptr) return;
    retry_orphans_locked();
    (void)journal_->close_owner(owner_, clock_.now());
  }

  // Registers this instance, replays the journal, writes the first init row of a new
  // ledger and cancels dead processes' reservations.
  Status start() {
    std::lock_guard lock(mutex_);
    const Timestamp now = clock_.now();
    last_reap_ = now;
    if (journal_ != nullptr) {
      if (auto s = journal_->put_owner(OwnerRecord{owner_, current_process(), now, std::nullopt}); !s) return s;
      if (auto s = refresh_locked(); !s) return s;
    }
    if (!state_.initialized()) {
      auto build = [&](JournalEntry& e) -> Status {
        if (state_.initialized()) return make_error(kNothingToDo, "initialised by another process");
        e.op = JournalOp::init;
        e.amount = options_.initial_capital;
        return {};
      };
      auto seq = write_one_locked(BuildRef(build));
      if (!seq && seq.error().code != kNothingToDo) return std::unexpected(seq.error());
    }
    if (journal_ != nullptr) {
      if (auto n = reap_locked(); !n) return std::unexpected(n.error());
    }
    return {};
  }

  Result<Reservation> reserve(std::string_view bot, const Symbol& symbol, Money amount) {
    if (auto s = check_reserve_args(bot, symbol, amount); !s) return std::unexpected(s.error());
    ReserveBuild build{*this, bot, symbol, amount};
    auto seq = change(build);
    if (!seq) return std::unexpected(seq.error());
    return reservation(*seq, bot, symbol, amount);
  }

  std::vector<Result<Reservation>> reserve_all(std::string_view bot, std::span<const CapitalLedger::ReserveRequest> requests) {
    std::vector<Result<Reservation>> out;
    out.reserve(requests.size());
    std::vector<ReserveBuild> builds;
    builds.reserve(requests.size());  // no reallocation: the Pendings below point into it
    std::vector<std::size_t> index;   // request -> build, or npos when its arguments were refused
    for (const auto& r : requests) {
      if (auto s = check_reserve_args(bot, r.symbol, r.amount); !s) {
        index.push_back(std::string::npos);
        continue;
      }
      index.push_back(builds.size());
      builds.push_back(ReserveBuild{*this, bot, r.symbol, r.amount});
    }
    std::vector<Result<std::int64_t>> seqs;
    seqs.reserve(builds.size());
    if (journal_ == nullptr) {
      std::lock_guard lock(mutex_);
      for (auto& b : builds) seqs.push_back(change_in_memory_locked(b));
    } else {
      std::vector<Pending> pending;
      pending.reserve(builds.size());
      for (auto& b : builds) pending.emplace_back(BuildRef(b));
      submit_all(pending);
      for (auto& p : pending) seqs.push_back(std::move(p.result));
    }
    for (std::size_t i = 0; i < requests.size(); ++i) {
      const auto& r = requests[i];
      if (index[i] == std::string::npos) {
        out.push_back(std::unexpected(check_reserve_args(bot, r.symbol, r.amount).error()));
      } else if (auto& seq = seqs[index[i]]; !seq) {
        out.push_back(std::unexpected(seq.error()));
      } else {
        out.push_back(reservation(*seq, bot, r.symbol, r.amount));
      }
    }
    return out;
  }

  Result<PositionId> commit(const Reservation& r, Money used, Money fees) {
    auto seq = change([&](JournalEntry& e) -> Status {
      e.op = JournalOp::commit;
      e.ref = r.id_.value;
      e.bot = r.bot_;
      e.symbol = r.symbol_;
      e.amount = used;
      e.fees = fees;
      return {};
    });
    if (!seq) return std::unexpected(seq.error());
    return PositionId{*seq};
  }

  Status cancel(ReservationId id, const std::string& bot, const Symbol& symbol) {
    CancelBuild build{id, bot, symbol};
    return status_of(change(build));
  }

  // For a reservation dropped without commit or cancel: never fails; a cancel that cannot be
  // written now (file locked, I/O error) is retried before this ledger's next change.
  void cancel_on_drop(ReservationId id, const std::string& bot, const Symbol& symbol) noexcept {
    auto s = cancel(id, bot, symbol);
    if (!s && (s.error().code == ErrorCode::unavailable || s.error().code == ErrorCode::io_error)) {
      std::lock_guard lock(mutex_);
      orphans_.push_back(Orphan{id, bot, symbol});
    }
  }

  Status release(PositionId position, Money pnl, Money fees) {
    return status_of(change([&](JournalEntry& e) -> Status {
      const auto it = state_.positions().find(position.value);
      if (it != state_.positions().end()) {
        e.bot = it->second.bot;
        e.symbol = it->second.symbol;
      }
      e.op = JournalOp::release;
      e.ref = position.value;
      e.pnl = pnl;
      e.fees = fees;
      return {};
    }));
  }

  Status deposit(Money amount) {
    return status_of(change([&](JournalEntry& e) -> Status {
      e.op = JournalOp::deposit;
      e.amount = amount;
      return {};
    }));
  }

  Status withdraw(Money amount) {
    return status_of(change([&](JournalEntry& e) -> Status {
      if (!amount.is_positive()) {
        return make_error(ErrorCode::invalid_argument, "withdrawal amount must be > 0, got {}", amount);
      }
      if (amount > state_.equity()) {
        return make_error(ErrorCode::insufficient_capital, "cannot withdraw {}: equity is only {}", amount,
                          state_.equity());
      }
      const Money equity_after = state_.equity() - amount;
      const Money cap_after = apply_ratio(equity_after, options_.max_allocation_ratio);
      if (state_.locked() > cap_after) {
        return make_error(ErrorCode::insufficient_capital,
                          "cannot withdraw {}: the cap would fall to {} ({} of equity {}), below the {} reserved or "
                          "committed",
                          amount, cap_after, options_.max_allocation_ratio, equity_after, state_.locked());
      }
      e.op = JournalOp::withdraw;
      e.amount = amount;
      return {};
    }));
  }

  Status init(Money initial) {
    return status_of(change([&](JournalEntry& e) -> Status {
      e.op = JournalOp::init;
      e.amount = initial;
      return {};
    }));
  }

  Status set_unrealized(const Symbol& symbol, Money value) {
    std::lock_guard lock(mutex_);
    symbol_marks_[symbol] = value;
    return {};
  }

  Status set_unrealized(PositionId position, Money value) {
    std::lock_guard lock(mutex_);
    if (!state_.positions().contains(position.value)) {
      return make_error(ErrorCode::not_found, "cannot mark position {}: it is not open", position.value);
    }
    position_marks_[position.value] = value;
    return {};
  }

  Status refresh() {
    std::lock_guard lock(mutex_);
    return refresh_locked();
  }

  Result<std::size_t> reap() {
    std::lock_guard lock(mutex_);
    return reap_locked();
  }

  LedgerHeadroom headroom() const {
    std::lock_guard lock(mutex_);
    const Money cap = apply_ratio(state_.equity(), options_.max_allocation_ratio);
    return LedgerHeadroom{state_.equity(), cap - state_.locked()};
  }

  LedgerStats stats() const {
    std::lock_guard lock(mutex_);
    Money unrealized;
    for (const auto& [symbol, m] : symbol_marks_) unrealized += m;
    for (const auto& [position, m] : position_marks_) unrealized += m;
    return make_stats(state_, options_, unrealized, clock_.now());
  }

  LedgerState state() const {
    std::lock_guard lock(mutex_);
    return state_;
  }

  std::int64_t last_seq() const {
    std::lock_guard lock(mutex_);
    return state_.last_seq();
  }

  LedgerIoStats io_stats() const {
    std::lock_guard lock(mutex_);
    return io_;
  }

  Result<std::vector<JournalEntry>> history(std::size_t limit) const {
    std::lock_guard lock(mutex_);
    if (journal_ != nullptr) return journal_->newest(limit);
    if (!options_.keep_journal) {
      return make_error(ErrorCode::invalid_argument, "this in-memory ledger keeps no journal (keep_journal is off)");
    }
    const std::size_t n = std::min(limit, memory_journal_.size());
    return std::vector<JournalEntry>(memory_journal_.end() - static_cast<std::ptrdiff_t>(n), memory_journal_.end());
  }

  const std::filesystem::path& path() const noexcept {
    static const std::filesystem::path kNone;
    return journal_ != nullptr ? journal_->path() : kNone;
  }
  const LedgerOptions& options() const noexcept { return options_; }
  std::int64_t owner() const noexcept { return owner_; }

 private:
  struct Orphan {
    ReservationId id;
    std::string bot;
    Symbol symbol;
  };

  // A change waiting for the group commit. Its builder runs on the leader's thread, under
  // mutex_, while the caller waits (so references into the caller's frame stay valid).
  struct Pending {
    explicit Pending(BuildRef b) : build(b) {}
    BuildRef build;
    Result<std::int64_t> result = make_error(ErrorCode::internal, "change not written");
    bool done = false;  // guarded by queue_mutex_
  };

  Status check_reserve_args(std::string_view bot, const Symbol& symbol, Money amount) const {
    if (auto s = validate_bot_name(bot); !s) return s;
    if (symbol.empty()) return make_error(ErrorCode::invalid_argument, "cannot reserve for bot {}: empty symbol", bot);
    if (!amount.is_positive()) {
      return make_error(ErrorCode::invalid_argument, "cannot reserve for bot {} on {}: amount must be > 0, got {}", bot,
                        symbol, amount);
    }
    if (options_.known_symbols && !options_.known_symbols->contains(symbol)) {
      return make_error(ErrorCode::invalid_argument,
                        "cannot reserve for bot {} on {}: not one of the ledger's {} known symbols", bot, symbol,
                        options_.known_symbols->size());
    }
    return {};
  }

  // Runs under mutex_ (in memory) or on the group commit's leader.
  struct ReserveBuild {
    LedgerCore& core;
    std::string_view bot;
    const Symbol& symbol;
    Money amount;
    Status operator()(JournalEntry& e) const {
      if (auto s = core.check_reserve_locked(bot, symbol, amount, e.time); !s) return s;
      e.op = JournalOp::reserve;
      e.bot = std::string(bot);
      e.symbol = symbol;
      e.amount = amount;
      e.owner = core.owner_;
      return {};
    }
  };

  Reservation reservation(std::int64_t seq, std::string_view bot, const Symbol& symbol, Money amount) {
    Reservation r;
    r.core_ = shared_from_this();
    r.id_ = ReservationId{seq};
    r.bot_ = std::string(bot);
    r.symbol_ = symbol;
    r.amount_ = amount;
    return r;
  }

  template <class T>
  static Status status_of(const Result<T>& r) {
    if (!r) return std::unexpected(r.error());
    return {};
  }

  struct CancelBuild {
    ReservationId id;
    const std::string& bot;
    const Symbol& symbol;
    Status operator()(JournalEntry& e) const {
      e.op = JournalOp::cancel;
      e.ref = id.value;
      e.bot = bot;
      e.symbol = symbol;
      return {};
    }
  };

  // One change from a caller that holds no lock. Returns the new row's seq.
  template <class Build>
  Result<std::int64_t> change(Build&& build) {
    if (journal_ == nullptr) {
      std::lock_guard lock(mutex_);
      return change_in_memory_locked(build);
    }
    return submit(BuildRef(build));
  }

  template <class Build>
  Result<std::int64_t> change_in_memory_locked(Build& build) {
    JournalEntry e;
    e.seq = state_.last_seq() + 1;
    e.time = clock_.now();
    Status built = build(e);
    if (built) built = state_.validate(e);
    if (!built) return std::unexpected(built.error());
    if (options_.keep_journal) memory_journal_.push_back(e);
    apply_locked(e);
    return e.seq;
  }

  Result<std::int64_t> submit(BuildRef build) {
    Pending mine(build);
    submit_all(std::span<Pending>(&mine, 1));
    return std::move(mine.result);
  }

  // Queued together, so they share one batch: a leader takes the whole queue at once.
  void submit_all(std::span<Pending> mine) {
    if (mine.empty()) return;
    std::unique_lock queue_lock(queue_mutex_);
    for (Pending& p : mine) queue_.push_back(&p);
    bool counted = false;
    while (!mine.back().done) {
      if (leading_) {
        if (!counted) contention_ = std::min(contention_ + kContentionStep, kContentionMax);
        counted = true;
        queue_cv_.wait(queue_lock);
        continue;
      }
      // Lead: our change is still queued (a leader marks its whole batch done before stepping down).
      leading_ = true;
      const bool others_active = contention_ > 0;
      contention_ = std::max(contention_ - 1, 0);
      // When other callers were recently seen, yield (bounded) until as many changes are
      // queued as the last batch held: a woken caller needs a few microseconds of CPU to queue
      // its next change, and on few cores the leader would otherwise start each transaction
      // with one or two. Yielding, not sleeping on a condition: no wake-up to pay for. A lone
      // caller never waits.
      if (others_active && queue_.size() < batch_target_) {
        // A bound on an OS scheduling wait, not engine time: hence the steady clock.
        const auto until = std::chrono::steady_clock::now() + kLeaderWait;
        do {
          queue_lock.unlock();
          std::this_thread::yield();
          queue_lock.lock();
        } while (queue_.size() < batch_target_ && std::chrono::steady_clock::now() < until);
      }
      queue_lock.unlock();
      std::vector<Pending*> batch;
      {
        std::lock_guard lock(mutex_);
        housekeeping_locked();
        // The queue is taken only once the write lock is held and other processes' rows are
        // read: changes that arrive meanwhile join this transaction.
        const Status opened = begin_batch_locked();
        queue_lock.lock();
        batch.swap(queue_);
        queue_lock.unlock();
        if (opened) {
          write_batch_locked(batch);
        } else {
          for (Pending* p : batch) p->result = std::unexpected(opened.error());
        }
      }
      queue_lock.lock();
      for (Pending* p : batch) p->done = true;
      // What this batch gathered is the next target: it grows with the callers and shrinks
      // after a wait that timed out.
      if (others_active) batch_target_ = std::clamp<std::size_t>(batch.size(), 1, kMaxBatchTarget);
      leading_ = false;
      queue_cv_.notify_all();
    }
  }

  // A change written by a thread that already holds mutex_ (open, reaping, orphan retries).
  Result<std::int64_t> write_one_locked(BuildRef build) {
    if (journal_ == nullptr) return change_in_memory_locked(build);
    Pending p(build);
    Pending* batch[] = {&p};
    if (auto s = begin_batch_locked(); !s) return std::unexpected(s.error());
    write_batch_locked(batch);
    return std::move(p.result);
  }

  // Takes the file's write lock and applies what other processes wrote since we last looked.
  Status begin_batch_locked() {
    if (auto s = journal_->begin_write(); !s) return s;
    // Unchanged data version: no other connection wrote since state_ last matched the file,
    // so there is nothing to read (SQLite relies on the same test to keep its page cache).
    const std::uint32_t version = journal_->data_version();
    if (synced_version_ && *synced_version_ == version) return {};
    synced_version_.reset();
    if (auto s = catch_up_locked(); !s) {
      journal_->rollback();
      return s;
    }
    synced_version_ = version;
    return {};
  }

  // Writes the batch inside the transaction begin_batch_locked() opened, and ends it; each
  // change is checked against the state left by the changes before it. Rows that fail their
  // checks are simply not written.
  void write_batch_locked(std::span<Pending* const> batch) {
    auto fail_all = [&](const Error& error) {
      for (Pending* p : batch) p->result = std::unexpected(error);
    };
    const Timestamp now = clock_.now();
    bool wrote = false;
    released_.clear();
    for (Pending* p : batch) {
      JournalEntry e;
      e.seq = state_.last_seq() + 1;
      e.time = now;
      Status built = p->build(e);
      if (built) built = state_.validate(e);
      if (!built) {
        p->result = std::unexpected(built.error());
        continue;
      }
      if (auto w = journal_->append(e); !w) return abort_batch_locked(w.error(), fail_all);
      // Applied before the commit so the next change in the batch is checked against it;
      // undone (by replay) if the commit fails. Readers cannot look: we hold mutex_.
      state_.apply_validated(e);
      if (e.op == JournalOp::release) released_.push_back(e);
      p->result = e.seq;
      wrote = true;
    }
    if (!wrote) {
      journal_->rollback();
      return;
    }
    if (auto c = journal_->commit(); !c) return abort_batch_locked(c.error(), fail_all);
    synced_version_ = journal_->data_version();
    ++io_.transactions;
    for (Pending* p : batch) io_.rows_written += p->result.has_value() ? 1 : 0;
    for (const JournalEntry& e : released_) forget_marks_locked(e);
  }

  template <class FailAll>
  void abort_batch_locked(const Error& error, FailAll& fail_all) {
    journal_->rollback();
    synced_version_.reset();
    ++io_.failed_batches;
    // The file is back to its state before the batch; so is memory, by replaying it.
    state_ = LedgerState{};
    (void)refresh_locked();
    fail_all(error);
  }

  void housekeeping_locked() {
    if (!orphans_.empty()) retry_orphans_locked();
    const Timestamp now = clock_.now();
    if (now - last_reap_ >= options_.reap_interval) {
      last_reap_ = now;
      (void)reap_locked();  // best effort; the batch reports its own errors
    }
  }

  void apply_locked(const JournalEntry& e) {
    state_.apply_validated(e);
    if (e.op == JournalOp::release) forget_marks_locked(e);
  }

  void forget_marks_locked(const JournalEntry& e) {
    position_marks_.erase(e.ref);
    if (!symbol_marks_.empty() && state_.locked_for_symbol(e.symbol).is_zero()) symbol_marks_.erase(e.symbol);
  }

  Status catch_up_locked() {
    return journal_->read_since(state_.last_seq(), [this](const JournalEntry& e) -> Status {
      if (auto s = state_.validate(e); !s) {
        return make_error(ErrorCode::io_error, "capital ledger {}: journal row {} ({}) cannot be applied: {}",
                          journal_->path().string(), e.seq, e.op, s.error().message);
      }
      apply_locked(e);
      ++io_.rows_applied;
      return {};
    });
  }

  Status refresh_locked() {
    if (journal_ == nullptr) return {};
    if (auto s = journal_->begin_read(); !s) return s;
    synced_version_.reset();
    auto s = catch_up_locked();
    if (s) synced_version_ = journal_->data_version();  // the snapshot just read
    journal_->rollback();  // ends the read snapshot
    return s;
  }

  Status check_reserve_locked(std::string_view bot, const Symbol& symbol, Money amount, Timestamp now) const {
    if (options_.daily_loss_limit) {
      const Money today = state_.pnl_on_day(now);
      if (today <= -*options_.daily_loss_limit) {
        return make_error(ErrorCode::limit_exceeded,
                          "daily loss limit reached: today's ({} UTC) net PnL is {}, the limit is -{}; new "
                          "reservations are refused until the next UTC day",
                          format_utc_date(now), today, *options_.daily_loss_limit);
      }
    }
    if (options_.max_drawdown) {
      const Ratio dd = state_.drawdown();
      if (dd >= *options_.max_drawdown) {
        return make_error(ErrorCode::limit_exceeded,
                          "max drawdown limit reached: equity {} is {} below its peak {}, the limit is {}; new "
                          "reservations are refused until equity recovers",
                          state_.equity(), dd, state_.peak_equity(), *options_.max_drawdown);
      }
    }
    const Money cap = apply_ratio(state_.equity(), options_.max_allocation_ratio);
    const Money available = cap - state_.locked();
    if (amount > available) {
      return make_error(ErrorCode::insufficient_capital,
                        "cannot reserve {} for bot {} on {}: only {} available (cap {} = {} of equity {}; reserved "
                        "{}, committed {})",
                        amount, bot, symbol, available, cap, options_.max_allocation_ratio, state_.equity(),
                        state_.reserved(), state_.committed());
    }
    if (const auto it = options_.per_symbol_cap.find(symbol); it != options_.per_symbol_cap.end()) {
      const Money locked = state_.locked_for_symbol(symbol);
      if (locked + amount > it->second) {
        return make_error(ErrorCode::limit_exceeded,
                          "cannot reserve {} for bot {} on {}: the symbol cap is {} and {} is already reserved or "
                          "committed on it",
                          amount, bot, symbol, it->second, locked);
      }
    }
    if (const auto it = options_.per_bot_cap.find(bot); it != options_.per_bot_cap.end()) {
      const Money locked = state_.locked_for_bot(bot);
      if (locked + amount > it->second) {
        return make_error(ErrorCode::limit_exceeded,
                          "cannot reserve {} for bot {} on {}: the bot cap is {} and {} is already reserved or "
                          "committed by it",
                          amount, bot, symbol, it->second, locked);
      }
    }
    return {};
  }

  void retry_orphans_locked() {
    std::vector<Orphan> pending;
    pending.swap(orphans_);
    for (Orphan& o : pending) {
      CancelBuild build{o.id, o.bot, o.symbol};
      auto s = write_one_locked(BuildRef(build));
      if (!s && (s.error().code == ErrorCode::unavailable || s.error().code == ErrorCode::io_error)) {
        orphans_.push_back(std::move(o));
      }
    }
  }

  Result<std::size_t> reap_locked() {
    if (journal_ == nullptr) return std::size_t{0};
    if (auto s = refresh_locked(); !s) return std::unexpected(s.error());
    auto owners = journal_->owners();
    if (!owners) return std::unexpected(owners.error());
    std::unordered_map<std::int64_t, bool> dead_by_owner;  // every owner but this one
    for (const OwnerRecord& o : *owners) {
      if (o.owner == owner_) continue;
      dead_by_owner[o.owner] = o.closed.has_value() || process_liveness(o.process) == Liveness::dead;
    }
    std::vector<std::pair<std::int64_t, LedgerState::OpenReservation>> stale;
    for (const auto& [id, r] : state_.reservations()) {
      if (r.owner == owner_) continue;
      const auto it = dead_by_owner.find(r.owner);
      // An owner missing from the table cannot be asked; it registered before reserving, so
      // only a deleted row (a closed, reaped owner) leads here.
      if (it == dead_by_owner.end() || it->second) stale.emplace_back(id, r);
    }
    std::size_t expired = 0;
    for (const auto& [id, r] : stale) {
      // Committed positions are never released here: they are real exchange positions, left to reconciliation.
      auto build = [&](JournalEntry& e) -> Status {
        if (!state_.reservations().contains(id)) return make_error(kNothingToDo, "already settled");
        e.op = JournalOp::expire;
        e.ref = id;
        e.bot = r.bot;
        e.symbol = r.symbol;
        return {};
      };
      auto seq = write_one_locked(BuildRef(build));
      if (seq) {
        ++expired;
      } else if (seq.error().code != kNothingToDo) {
        return std::unexpected(seq.error());
      }
    }
    // Forget owners that are gone and hold nothing, so the table stays small.
    for (const auto& [owner, dead] : dead_by_owner) {
      if (!dead) continue;
      bool holds = false;
      for (const auto& [id, r] : state_.reservations()) holds = holds || r.owner == owner;
      if (!holds) (void)journal_->delete_owner(owner);
    }
    return expired;
  }

  mutable std::mutex mutex_;  // guards everything below, including the SQLite connection
  const LedgerOptions options_;
  Clock& clock_;
  std::unique_ptr<SqliteJournal> journal_;  // null in memory
  const std::int64_t owner_;
  LedgerState state_;
  std::vector<JournalEntry> memory_journal_;  // keep_journal only
  std::unordered_map<Symbol, Money> symbol_marks_;
  std::unordered_map<std::int64_t, Money> position_marks_;
  std::vector<Orphan> orphans_;
  std::vector<JournalEntry> released_;  // scratch for write_batch_locked
  // The file's data version when state_ last equalled its journal (see begin_batch_locked).
  std::optional<std::uint32_t> synced_version_;
  Timestamp last_reap_{};
  LedgerIoStats io_;

  std::mutex queue_mutex_;  // guards the three below
  std::condition_variable queue_cv_;
  std::vector<Pending*> queue_;
  bool leading_ = false;
  // How many queued changes a contended leader waits for (at most kLeaderWait).
  std::size_t batch_target_ = 1;
  static constexpr std::size_t kMaxBatchTarget = 256;
  static constexpr std::chrono::microseconds kLeaderWait{100};
  // Recent evidence of concurrent callers: raised when a caller finds a leader at work,
  // lowered by one per batch.
  int contention_ = 0;
  static constexpr int kContentionStep = 8;
  static constexpr int kContentionMax = 64;
};

}  // namespace detail

Reservation::Reservation(Reservation&& other) noexcept
    : core_(std::move(other.core_)),
      state_(other.state_),
      id_(other.id_),
      bot_(std::move(other.bot_)),
      symbol_(other.symbol_),
      amount_(other.amount_),
      position_(other.position_) {}

Reservation& Reservation::operator=(Reservation&& other) noexcept {
  if (this != &other) {
    drop();
    core_ = std::move(other.core_);
    state_ = other.state_;
    id_ = other.id_;
    bot_ = std::move(other.bot_);
    symbol_ = other.symbol_;
    amount_ = other.amount_;
    position_ = other.position_;
  }
  return *this;
}

Reservation::~Reservation() { drop(); }

void Reservation::drop() noexcept {
  if (active()) core_->cancel_on_drop(id_, bot_, symbol_);
  core_.reset();
}

Result<PositionId> Reservation::commit(Money used, Money fees) {
  if (state_ == State::committed) {
    return make_error(ErrorCode::conflict, "reservation {} is already committed (position {})", id_.value,
                      position_.value);
  }
  if (state_ == State::cancelled) return make_error(ErrorCode::conflict, "reservation {} is already cancelled", id_.value);
  if (core_ == nullptr) return make_error(ErrorCode::conflict, "empty reservation handle (moved from, or never reserved)");
  auto position = core_->commit(*this, used, fees);
  if (!position) return position;
  state_ = State::committed;
  position_ = *position;
  core_.reset();  // a settled handle does not keep the ledger alive
  return position;
}

Status Reservation::cancel() {
  if (state_ == State::committed) {
    return make_error(ErrorCode::conflict, "reservation {} is already committed (position {}); release the position instead",
                      id_.value, position_.value);
  }
  if (state_ == State::cancelled) return make_error(ErrorCode::conflict, "reservation {} is already cancelled", id_.value);
  if (core_ == nullptr) return make_error(ErrorCode::conflict, "empty reservation handle (moved from, or never reserved)");
  auto s = core_->cancel(id_, bot_, symbol_);
  // Gone from the journal already (expired by another process): nothing is held any more.
  if (!s && s.error().code != ErrorCode::conflict) return s;
  state_ = State::cancelled;
  core_.reset();
  return s;
}

Result<CapitalLedger> CapitalLedger::open(const std::filesystem::path& path, LedgerOptions options, Clock& clock) {
  if (auto s = validate(options); !s) return std::unexpected(s.error());
  auto journal = detail::SqliteJournal::open(path, detail::SqliteJournal::Mode::read_write, options.create_if_missing,
                                             options.durability, options.busy_timeout);
  if (!journal) return std::unexpected(journal.error());
  auto core = std::make_shared<detail::LedgerCore>(std::move(options), clock, std::move(*journal));
  if (auto s = core->start(); !s) return std::unexpected(s.error());
  return CapitalLedger(std::move(core));
}

Result<CapitalLedger> CapitalLedger::in_memory(LedgerOptions options, Clock& clock) {
  if (auto s = validate(options); !s) return std::unexpected(s.error());
  auto core = std::make_shared<detail::LedgerCore>(std::move(options), clock, nullptr);
  if (auto s = core->start(); !s) return std::unexpected(s.error());
  return CapitalLedger(std::move(core));
}

CapitalLedger::~CapitalLedger() = default;

Result<Reservation> CapitalLedger::reserve(std::string_view bot, const Symbol& symbol, Money amount) {
  return core_->reserve(bot, symbol, amount);
}

std::vector<Result<Reservation>> CapitalLedger::reserve_all(std::string_view bot, std::span<const ReserveRequest> requests) {
  return core_->reserve_all(bot, requests);
}

Result<Reservation> CapitalLedger::reserve(std::string_view bot, std::string_view symbol, Money amount) {
  auto parsed = Symbol::parse(symbol);
  if (!parsed) {
    return make_error(ErrorCode::invalid_argument, "cannot reserve for bot {}: invalid symbol \"{}\": {}", bot, symbol,
                      parsed.error().message);
  }
  return core_->reserve(bot, *parsed, amount);
}

Status CapitalLedger::release(PositionId position, Money realized_pnl, Money fees) {
  return core_->release(position, realized_pnl, fees);
}
Status CapitalLedger::deposit(Money amount) { return core_->deposit(amount); }
Status CapitalLedger::withdraw(Money amount) { return core_->withdraw(amount); }
Status CapitalLedger::init(Money initial_capital) { return core_->init(initial_capital); }
Status CapitalLedger::set_unrealized(const Symbol& symbol, Money unrealized) {
  return core_->set_unrealized(symbol, unrealized);
}
Status CapitalLedger::set_unrealized(PositionId position, Money unrealized) {
  return core_->set_unrealized(position, unrealized);
}
Status CapitalLedger::refresh() { return core_->refresh(); }
Result<std::size_t> CapitalLedger::reap_stale_reservations() { return core_->reap(); }
LedgerStats CapitalLedger::stats() const { return core_->stats(); }
LedgerHeadroom CapitalLedger::headroom() const { return core_->headroom(); }
LedgerState CapitalLedger::state() const { return core_->state(); }
std::int64_t CapitalLedger::last_seq() const { return core_->last_seq(); }
LedgerIoStats CapitalLedger::io_stats() const { return core_->io_stats(); }
Result<std::vector<JournalEntry>> CapitalLedger::history(std::size_t limit) const { return core_->history(limit); }
const std::filesystem::path& CapitalLedger::path() const noexcept { return core_->path(); }
const LedgerOptions& CapitalLedger::options() const noexcept { return core_->options(); }
std::int64_t CapitalLedger::owner() const noexcept { return core_->owner(); }

}  // namespace twinstar
