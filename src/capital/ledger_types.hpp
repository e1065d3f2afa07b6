#pragma once
// Value types of the capital ledger: ids, options, journal rows and the report.

#include <chrono>
#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "core/decimal.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/time.hpp"

namespace twinstar {

// A reservation: the journal seq of its `reserve` row, so ids are unique across processes.
struct ReservationId {
  std::int64_t value = 0;
  friend auto operator<=>(ReservationId, ReservationId) = default;
};

// An open position: the journal seq of the `commit` row that opened it.
struct PositionId {
  std::int64_t value = 0;
  friend auto operator<=>(PositionId, PositionId) = default;
};

// How hard a durable ledger pushes each commit to the disk.
enum class Durability : std::uint8_t {
  normal,  // WAL + synchronous=NORMAL: a process crash loses nothing; a power loss may roll back the newest commits
  full,    // WAL + synchronous=FULL: every commit is fsync'ed before it is acknowledged
};

struct LedgerOptions {
  // Written as the first journal row of a new ledger; an existing journal's own `init` wins.
  Money initial_capital = Money::from_units(10'000);
  // At most this share of equity is reserved + committed; the rest stays free for emergencies.
  Ratio max_allocation_ratio = Ratio::from_raw(80'000'000);
  std::map<Symbol, Money> per_symbol_cap;                   // most reserved + committed per symbol
  std::map<std::string, Money, std::less<>> per_bot_cap;    // most reserved + committed per bot
  std::optional<std::set<Symbol>> known_symbols;            // when set, other symbols are refused
  std::optional<Money> daily_loss_limit;  // refuse new reservations once today's (UTC) net PnL <= -limit
  std::optional<Ratio> max_drawdown;      // refuse new reservations once drawdown from peak >= this

  // Durable ledgers only.
  bool create_if_missing = true;
  Durability durability = Durability::normal;
  std::chrono::milliseconds busy_timeout{5'000};   // how long to wait for another process's write lock
  Duration reap_interval = std::chrono::seconds(10);  // how often (on the injected clock) dead owners are looked for

  // In-memory ledgers only: keep every journal entry in memory for history()/replay (tests,
  // short backtests). Off by default because it grows with every operation.
  bool keep_journal = false;
};

// Checks the options' rules; errors name the field and value.
Status validate(const LedgerOptions& options);

enum class JournalOp : std::uint8_t {
  init,      // amount: the new initial capital; resets equity, PnL, peak (refused while anything is open)
  deposit,   // amount
  withdraw,  // amount
  reserve,   // bot, symbol, amount, owner; the reservation id is this row's seq
  commit,    // ref: reservation; amount: used; fees; opens position id = this row's seq
  cancel,    // ref: reservation (cancelled by its holder)
  expire,    // ref: reservation (its owner process died; cancelled by another process)
  release,   // ref: position; pnl: realized; fees
};

std::string_view to_string(JournalOp op) noexcept;
Result<JournalOp> parse_journal_op(std::string_view text);

// One row of the journal: the only thing a ledger's state is built from.
struct JournalEntry {
  std::int64_t seq = 0;
  Timestamp time{};
  JournalOp op = JournalOp::init;
  std::string bot;          // reserve/commit/cancel/expire/release: the bot concerned
  Symbol symbol;            // same
  std::int64_t ref = 0;     // the reservation or position this row acts on
  Money amount;             // init/deposit/withdraw/reserve amount; commit: the amount used
  Money pnl;                // release: realized PnL
  Money fees;               // commit/release: fees paid (negative: a rebate)
  std::int64_t owner = 0;   // reserve: the ledger instance holding the reservation

  friend bool operator==(const JournalEntry&, const JournalEntry&) = default;
};

struct BotUsage {
  Money reserved;
  Money committed;
  std::int64_t reservations = 0;
  std::int64_t positions = 0;
  friend bool operator==(const BotUsage&, const BotUsage&) = default;
};

// Everything the original SharedCapitalManager.get_stats() returned, and more.
struct LedgerStats {
  Money initial_capital;
  Money deposits;
  Money withdrawals;
  Money equity;            // total capital: initial + deposits - withdrawals + realized - fees
  Money cap;               // max_allocation_ratio * equity, rounded down
  Money reserved;
  Money committed;
  Money locked;            // reserved + committed
  Money available;         // cap - locked (negative after losses larger than the released positions)
  Ratio allocation_ratio;  // locked / equity
  Money realized_pnl;
  Money unrealized_pnl;    // marks from set_unrealized(); not journaled
  Money fees;
  Money total_pnl;         // realized - fees + unrealized
  Ratio roi;               // total_pnl / (initial + deposits - withdrawals)
  Money peak_equity;
  Ratio drawdown;          // (peak - equity) / peak now
  Ratio max_drawdown;      // the largest drawdown seen
  std::map<std::string, Money> daily_pnl;  // "YYYY-MM-DD" (UTC) -> realized - fees booked that day
  Money today_pnl;                          // daily_pnl of the clock's current UTC day
  std::map<Symbol, Money> locked_by_symbol;
  std::map<std::string, BotUsage> by_bot;
  std::int64_t open_reservations = 0;
  std::int64_t open_positions = 0;
  std::int64_t last_seq = 0;  // the newest journal row reflected here
  Timestamp last_update{};    // its time
  Timestamp as_of{};          // the clock's time when the report was made

  friend bool operator==(const LedgerStats&, const LedgerStats&) = default;
};

// How a ledger has used its journal since it was opened (for metrics and benchmarks).
struct LedgerIoStats {
  std::int64_t transactions = 0;   // committed write transactions
  std::int64_t rows_written = 0;   // journal rows this ledger appended (>= transactions: group commit)
  std::int64_t rows_applied = 0;   // rows other processes appended, applied here
  std::int64_t failed_batches = 0; // batches rolled back by an I/O or lock error
};

}  // namespace twinstar

template <>
struct fmt::formatter<twinstar::JournalOp> : fmt::formatter<std::string_view> {
  auto format(twinstar::JournalOp op, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(twinstar::to_string(op), ctx);
  }
};
