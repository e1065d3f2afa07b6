#pragma once
// The order lifecycle both bots share: signal → size → reserve in the ledger → submit →
// commit on fill / cancel the reservation on rejection or timeout → watch stop-loss and
// take-profit → close → release with realized PnL and fees. Pure of threads and sockets:
// the engine (live) or the backtest calls it from one thread.

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "bot/order.hpp"
#include "capital/ledger.hpp"
#include "core/clock.hpp"
#include "strategy/sizing.hpp"
#include "strategy/strategy.hpp"

namespace twinstar {

// Which bot holds which symbol, shared by every bot of an engine so the MultiTrader can stay
// out of the SingleBot's symbol. Thread: any.
class SymbolClaims {
 public:
  // True if `bot` now holds `symbol` (or already did); false if another bot does.
  bool claim(const std::string& bot, const Symbol& symbol);
  void release(const std::string& bot, const Symbol& symbol);
  std::optional<std::string> holder(const Symbol& symbol) const;

 private:
  mutable std::mutex mutex_;
  std::map<Symbol, std::string> holder_by_symbol_;  // guarded by mutex_
};

// Which exit wins when one bar touches both the stop-loss and the take-profit.
enum class BothTouched : std::uint8_t { stop_first, take_profit_first };

struct TraderOptions {
  std::string bot;                 // the name the ledger and the claims know this bot by
  SizingRule sizing;
  bool allow_short = false;        // long-only by default
  bool reverse_on_opposite = true; // an opposite signal closes the position, then opens the other side (if allowed)
  std::size_t max_positions = 1;   // positions + entries in flight
  Ratio reserve_buffer = Ratio::from_raw(2'000'000);  // 2 % over the notional for slippage and fees
  Duration order_timeout = std::chrono::seconds(30);  // unfilled orders are cancelled after this
  BothTouched both_touched = BothTouched::stop_first;
  std::string client_id_prefix;    // defaults to the bot name; ids are "<prefix>-<n>"
};

struct Position {
  Symbol symbol;
  Side side = Side::buy;
  Quantity quantity;        // still open
  Quantity initial_quantity;
  Price entry_price;
  Money entry_notional;
  Money entry_fees;
  Money realized_gross;     // from partial exits so far
  Money exit_fees;
  Money exit_notional;      // sum of exit fills, for the average exit price
  std::optional<Price> stop_loss;
  std::optional<Price> take_profit;
  PositionId ledger_id;
  Timestamp opened_at{};
  TimestampMs entry_bar{};
  std::string entry_reason;
  Price last_price;
  std::optional<std::string> exit_order;  // client id of the exit in flight
  OrderPurpose exit_purpose = OrderPurpose::exit_signal;
};

struct TradeRecord {
  std::string bot;
  Symbol symbol;
  Side side = Side::buy;
  Quantity quantity;
  Price entry_price;
  Price exit_price;         // volume-weighted over the exit fills
  Timestamp entry_time{};
  Timestamp exit_time{};
  Money gross_pnl;
  Money fees;               // entry + exit
  Money pnl;                // gross - fees
  double return_pct = 0;    // pnl / entry notional
  OrderPurpose exit_purpose = OrderPurpose::exit_signal;
  std::string entry_reason;
};

struct TraderStats {
  std::uint64_t signals = 0;
  std::uint64_t entries_submitted = 0;
  std::uint64_t entries_filled = 0;
  std::uint64_t entries_unfilled = 0;     // rejected, cancelled or timed out with nothing filled
  std::uint64_t exits_filled = 0;
  std::uint64_t ledger_refusals = 0;      // reserve() said no (cap, guard, caps)
  std::uint64_t sizing_refusals = 0;
  std::uint64_t submit_errors = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t commit_shortfalls = 0;    // a fill cost more than was reserved
  std::optional<Signal> last_signal;
  std::string last_refusal;
};

class Trader {
 public:
  Trader(TraderOptions options, CapitalLedger& ledger, OrderGateway& gateway, Clock& clock,
         SymbolClaims* claims = nullptr);

  // Acts on a signal: opens, closes, or reverses per the options. Returns the client id of the
  // order it sent, or an error saying why nothing was sent (already in position on that side,
  // max positions, symbol held by another bot, sizing, ledger refusal, submit failure).
  Result<std::string> on_signal(const Signal& signal);
  // The same for a round's signals, acted on in order: each is judged against the state the
  // earlier ones leave, as if one after the other, but the round's entries are reserved in one
  // ledger transaction (one commit for the round instead of one per entry). Results in order.
  std::vector<Result<std::string>> on_signals(std::span<const Signal> signals);
  // Closes the position in `symbol` with a market order. Errors: no position, exit in flight.
  Result<std::string> close(const Symbol& symbol, OrderPurpose purpose, std::optional<Price> trigger = std::nullopt,
                            TimestampMs decided_at = {});
  // Every order update for this trader's client ids.
  void on_order_update(const OrderUpdate& update);
  // A closed (or, with closed=false, updating) candle: marks positions and checks stop-loss and
  // take-profit against its high and low; a hit sends a market exit carrying the level as trigger.
  void on_candle(const Symbol& symbol, const Candle& candle);
  // Cancels orders older than order_timeout.
  void on_time(Timestamp now);

  bool owns(const std::string& client_id) const;
  bool has_position(const Symbol& symbol) const { return positions_.contains(symbol); }
  bool has_entry_in_flight(const Symbol& symbol) const;
  std::size_t open_count() const noexcept { return positions_.size() + entries_.size(); }
  const std::map<Symbol, Position>& positions() const noexcept { return positions_; }
  const std::vector<TradeRecord>& trades() const noexcept { return trades_; }
  const TraderStats& stats() const noexcept { return stats_; }
  const TraderOptions& options() const noexcept { return options_; }
  // The backtest's fill model decides which exit a bar touching both levels takes.
  void set_both_touched(BothTouched rule) noexcept { options_.both_touched = rule; }
  // Off: positions are not marked in the ledger on every candle (the marks are for live
  // reports; a backtest values positions from this trader's own book).
  void set_ledger_marks(bool on) noexcept { ledger_marks_ = on; }
  // After a restart: a position the engine's order journal and the venue agree on. Claims the
  // symbol. Errors: conflict (a position or an entry in flight on that symbol already, or the
  // symbol held by another bot).
  Status restore_position(Position position);
  // The venue's quantity step and minimum notional for `symbol` (live engines learn them from
  // the venue): they replace the sizing rule's lot size and raise its minimum for that symbol.
  void set_symbol_lot(const Symbol& symbol, Quantity lot_size, Money min_notional);
  // Every client id this trader sends starts with it ("<bot>-<run nonce>-"), unique per run.
  std::string client_id_prefix() const { return options_.client_id_prefix + "-"; }
  // Called for every closed trade (for logs, reports, the status API).
  std::function<void(const TradeRecord&)> on_trade;

 private:
  struct Entry {
    OrderRequest request;
    Reservation reservation;
    Signal signal;
    Timestamp submitted_at{};
    bool cancel_sent = false;
  };
  struct PendingReversal {
    Signal signal;
  };

  // An entry decided (checks, claim, size) but not yet reserved.
  struct PlannedEntry {
    Signal signal;
    Sizing sized;
    Quantity lot_size;
    Money min_notional;
    Money to_reserve;
  };

  Result<std::string> open(const Signal& signal);
  // `planned`: entries of the same call decided before this one (they count as open).
  Result<PlannedEntry> plan_entry(const Signal& signal, const LedgerHeadroom& capital, std::size_t planned);
  Result<std::string> send_entry(PlannedEntry plan, Result<Reservation> reservation);
  void unclaim(const Symbol& symbol);
  std::string next_client_id();
  void finish_entry(const std::string& client_id, const OrderUpdate& update);
  struct ExitInFlight {
    Symbol symbol;
    Quantity filled;   // what the updates so far reported, already applied to the position
    Money fees;
    Money notional;
    Timestamp sent_at{};
  };
  void apply_exit(Position& position, std::map<std::string, ExitInFlight>::iterator exit, const OrderUpdate& update,
                  bool terminal);

  TraderOptions options_;
  CapitalLedger& ledger_;
  OrderGateway& gateway_;
  Clock& clock_;
  SymbolClaims* claims_;
  std::map<std::string, Entry> entries_;            // client id -> entry in flight
  std::map<Symbol, Position> positions_;
  std::map<std::string, ExitInFlight> exits_;      // client id -> exit in flight
  std::map<Symbol, PendingReversal> reversals_;
  std::map<Symbol, std::pair<Quantity, Money>> symbol_lots_;
  std::vector<TradeRecord> trades_;
  TraderStats stats_;
  std::uint64_t next_id_ = 1;
  bool ledger_marks_ = true;
};

}  // namespace twinstar
