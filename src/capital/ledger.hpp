#pragma once
// The capital ledger: one account's capital shared by every bot, in one or many processes.
// reserve() checks the caps and guards and reserves atomically; the Reservation is then
// committed when the order fills or cancelled when it does not (dropping it cancels it);
// release() closes a position and books its PnL. Every change is one journal row; no change
// is acknowledged before the SQLite transaction holding it has committed (concurrent changes
// of one process share a transaction: group commit). The state is the replay of the journal.
//
// Several processes may open one file: each change first takes the file's write lock and
// applies the rows the others appended, so no check ever runs on a stale state. The caps and
// guards are each process's own options, so processes sharing a file should share a config.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "capital/ledger_state.hpp"
#include "capital/ledger_types.hpp"
#include "core/clock.hpp"

namespace twinstar {

namespace detail {
class LedgerCore;
}

// The two figures sizing needs, as stats() would report them.
struct LedgerHeadroom {
  Money equity;
  Money available;  // cap - locked
};

// Capital set aside for one order. Move-only; an active reservation that is destroyed (or
// assigned over) is cancelled. Thread: one owner at a time; the ledger it came from is
// thread-safe and is kept alive by its reservations.
class Reservation {
 public:
  Reservation() noexcept = default;
  Reservation(Reservation&& other) noexcept;
  Reservation& operator=(Reservation&& other) noexcept;
  Reservation(const Reservation&) = delete;
  Reservation& operator=(const Reservation&) = delete;
  ~Reservation();

  // True until commit() or cancel() succeeds.
  bool active() const noexcept { return core_ != nullptr && state_ == State::open; }
  ReservationId id() const noexcept { return id_; }
  const std::string& bot() const noexcept { return bot_; }
  const Symbol& symbol() const noexcept { return symbol_; }
  Money amount() const noexcept { return amount_; }

  // The order filled for `used` (<= amount(); a partial fill uses less) and paid `fees`
  // (negative: a rebate); used + fees must fit in the reservation. The rest is freed and a
  // position of `used` opens. On error the reservation stays active (commit or cancel again).
  // Errors: invalid_argument (used <= 0, used + fees > amount), conflict (already committed or
  // cancelled, or no longer open in the journal), unavailable (ledger file locked), io_error.
  Result<PositionId> commit(Money used, Money fees = Money::zero());
  // Frees the whole reservation. Errors: conflict (already committed or cancelled, or already
  // cancelled by another process as stale: the handle is then settled), unavailable,
  // io_error (the reservation then stays active).
  Status cancel();

 private:
  friend class detail::LedgerCore;
  enum class State : std::uint8_t { open, committed, cancelled };
  void drop() noexcept;

  std::shared_ptr<detail::LedgerCore> core_;
  State state_ = State::open;
  ReservationId id_;
  std::string bot_;
  Symbol symbol_;
  Money amount_;
  PositionId position_;
};

class CapitalLedger {
 public:
  // The durable ledger at `path` (SQLite, WAL). A missing file is created (unless
  // options.create_if_missing is false) with an init row of options.initial_capital; an
  // existing journal is replayed and its own capital wins over the options. Reservations left
  // by dead processes are cancelled on open.
  // Errors: invalid_argument (options), not_found (missing file), io_error (not a ledger,
  // corrupt, newer schema, permissions; the file is never modified then), unavailable (locked).
  static Result<CapitalLedger> open(const std::filesystem::path& path, LedgerOptions options, Clock& clock);
  // Same semantics with no I/O: for backtests, simulations and tests.
  // Errors: invalid_argument (options).
  static Result<CapitalLedger> in_memory(LedgerOptions options, Clock& clock);

  // A moved-from ledger may only be destroyed or assigned to.
  CapitalLedger(CapitalLedger&&) noexcept = default;
  CapitalLedger& operator=(CapitalLedger&&) noexcept = default;
  ~CapitalLedger();

  // Reserves `amount` for `bot`'s order on `symbol` if, after it, the locked total stays within
  // max_allocation_ratio * equity and the symbol's and bot's caps, and no guard is tripped.
  // Thread: any. Errors: invalid_argument (amount <= 0, bad bot name or symbol, unknown symbol),
  // insufficient_capital (allocation cap), limit_exceeded (symbol or bot cap, daily-loss or
  // drawdown guard; the message names the guard, the value and the limit), unavailable, io_error.
  Result<Reservation> reserve(std::string_view bot, const Symbol& symbol, Money amount);
  Result<Reservation> reserve(std::string_view bot, std::string_view symbol, Money amount);
  // Several reservations of one bot in one transaction: each is checked as reserve() would,
  // against the state the earlier ones of the call left, and refused alone (a MultiTrader's
  // round of entries pays one commit, not one per entry). Results in request order.
  struct ReserveRequest {
    Symbol symbol;
    Money amount;
  };
  std::vector<Result<Reservation>> reserve_all(std::string_view bot, std::span<const ReserveRequest> requests);

  // Closes a position: frees its committed amount and books the realized PnL and fees
  // (daily PnL on the clock's UTC day, peak equity, drawdown). Thread: any.
  // Errors: not_found (no such open position), overflow, unavailable, io_error.
  Status release(PositionId position, Money realized_pnl, Money fees = Money::zero());

  // Thread: any. Errors: invalid_argument (amount <= 0), overflow, unavailable, io_error.
  Status deposit(Money amount);
  // Refused when it would leave the locked total above the cap.
  // Errors: invalid_argument, insufficient_capital, unavailable, io_error.
  Status withdraw(Money amount);
  // Starts over with `initial_capital` (the history stays in the journal). Refused while any
  // reservation or position is open. Errors: invalid_argument, conflict, unavailable, io_error.
  Status init(Money initial_capital);

  // Mark-to-market for reports only: neither journaled nor counted in equity or the cap.
  // A position mark is dropped on release; a symbol mark when its last position closes.
  // Errors (position): not_found.
  Status set_unrealized(const Symbol& symbol, Money unrealized);
  Status set_unrealized(PositionId position, Money unrealized);

  // Applies the rows other processes appended since this ledger last looked.
  // Errors: unavailable, io_error.
  Status refresh();
  // Cancels, through the journal, reservations whose holding process has died (same host:
  // pid + start time; another host's holders are never presumed dead). Runs on open and,
  // during changes, every reap_interval of the injected clock. Committed positions are never
  // released this way: they are real exchange positions, left to reconciliation.
  // Returns how many were cancelled. Errors: unavailable, io_error.
  Result<std::size_t> reap_stale_reservations();

  // The report as of the newest row this ledger has applied (refresh() first to include
  // other processes' changes). Thread: any; a consistent snapshot.
  LedgerStats stats() const;
  // equity and available without building the whole report (stats() is O(days traded)): for
  // sizing every entry. Thread: any.
  LedgerHeadroom headroom() const;
  // A copy of the replayed state (for checks and tests). Thread: any.
  LedgerState state() const;
  // The journal seq of the newest change applied here (this ledger's own or another's).
  std::int64_t last_seq() const;
  // Journal use since open. Thread: any.
  LedgerIoStats io_stats() const;
  // The newest `limit` journal rows, oldest first. In memory: only with keep_journal.
  // Errors: unavailable, io_error; invalid_argument for an in-memory ledger without a journal.
  Result<std::vector<JournalEntry>> history(std::size_t limit) const;

  // Empty for an in-memory ledger.
  const std::filesystem::path& path() const noexcept;
  const LedgerOptions& options() const noexcept;
  // This ledger instance's owner id, recorded on its reservations.
  std::int64_t owner() const noexcept;

 private:
  explicit CapitalLedger(std::shared_ptr<detail::LedgerCore> core) : core_(std::move(core)) {}
  std::shared_ptr<detail::LedgerCore> core_;
};

// Rebuilds a ledger file's state from its journal alone, read-only (checks, tests, tools).
// Errors: not_found, io_error (the message names the file and, for a bad row, its seq).
Result<LedgerState> replay_journal(const std::filesystem::path& path);
// The same from rows in memory.
Result<LedgerState> replay_journal(const std::vector<JournalEntry>& rows);
// The newest `limit` rows of a ledger file's journal, oldest first, read-only.
// Errors: not_found, io_error, unavailable.
Result<std::vector<JournalEntry>> read_journal(const std::filesystem::path& path, std::size_t limit);

// The report for a state under `options`, as of `now`.
LedgerStats make_stats(const LedgerState& state, const LedgerOptions& options, Money unrealized, Timestamp now);

}  // namespace twinstar
