#pragma once
// The backtest's venue: fills the bots' orders against historical candles with an explicit
// fill model, so every assumption is printed in the report and can be changed in the config.

#include <functional>
#include <optional>
#include <unordered_map>
#include <string>
#include <vector>

#include "bot/order.hpp"
#include "bot/trader.hpp"
#include "core/candle.hpp"
#include "core/clock.hpp"

namespace twinstar {

struct FillModel {
  enum class Market : std::uint8_t {
    next_open,     // a market order decided at a bar's close fills at the next bar's open (default)
    signal_close,  // ... at the close of the bar that produced it
  };
  enum class Exit : std::uint8_t {
    at_level,   // a stop-loss / take-profit fills at its level inside the bar that touched it
                // (at the bar's open when the bar opened beyond it: a gap)
    next_open,  // like a market order decided at that bar's close (what a bot without exchange-side stops gets)
  };
  enum class SizeAt : std::uint8_t {
    fill,    // an entry sized as a fraction of capital spends it at the fill price (default: all-in is all-in)
    signal,  // the quantity computed at the signal's price fills as sent (what a venue taking quantities does)
  };
  Market market = Market::next_open;
  Exit exits = Exit::at_level;
  BothTouched both_touched = BothTouched::stop_first;  // applied to every bot's trader
  SizeAt size_at = SizeAt::fill;
  Ratio commission = Ratio::zero();   // rate of notional, charged on entry and on exit
  Price slippage_fixed = Price::zero();      // per unit, always against the trader
  Ratio slippage_relative = Ratio::zero();   // fraction of the price, against the trader
  std::string describe() const;
};

class BacktestVenue final : public OrderGateway {
 public:
  BacktestVenue(FillModel model, Clock& clock) : model_(model), clock_(clock) {}

  Status submit(const OrderRequest& request) override;
  Status cancel(const std::string& client_id, const Symbol& symbol) override;

  // A closed candle, before the bots see it: orders waiting for this symbol's next open fill now.
  void on_candle(const Symbol& symbol, const Candle& candle) { on_candle(slot(symbol), candle); }
  // The same by the slot slot() gave for the symbol: no lookup on the per-candle path.
  void on_candle(std::size_t slot, const Candle& candle);
  // Between these two calls, market orders for the slot's symbol fill at the open on_candle just
  // filled at: they are reactions to those fills (a reversal's entry after its close), sent
  // before anyone saw more of the bar than its open.
  void begin_reactions(std::size_t slot) noexcept { reacting_slot_ = slot; }
  void end_reactions() noexcept { reacting_slot_.reset(); }
  // Where the next candle of a slot's symbol is (nullptr: none yet). With it, a market order for
  // the next open fills as it is sent, at that open's price and time, as a live venue fills it
  // the instant the bar closes (so a position closed at a bar's close can be re-entered on the
  // same bar's signal, as live); without it, the order waits for on_candle. The same price
  // either way: nothing after that open is looked at.
  void set_next_candle(std::function<const Candle*(std::size_t slot)> next) { next_candle_ = std::move(next); }
  // Every fill so far, and those of them made ahead at a next open (they belong to that bar).
  std::size_t fills() const noexcept { return fills_; }
  std::size_t fills_ahead() const noexcept { return fills_ahead_; }
  // A stable index for `symbol` (added on first use).
  std::size_t slot(const Symbol& symbol);
  // Order updates produced since the last call, in order (delivered after submit() returns,
  // so a bot is never re-entered from inside its own submit()).
  std::vector<OrderUpdate> drain();
  bool has_updates() const noexcept { return !updates_.empty(); }
  // End of a run: orders still waiting for a next open fill at their symbol's last close.
  void fill_waiting_at_last_close();
  const FillModel& model() const noexcept { return model_; }
  std::size_t pending() const noexcept;

 private:
  void fill(const OrderRequest& r, Price price, Timestamp time);
  Price slipped(Price p, Side side) const;

  FillModel model_;
  Clock& clock_;
  struct Book {
    Symbol symbol;
    std::optional<Candle> last;           // the symbol's latest candle
    std::vector<OrderRequest> waiting;    // for the symbol's next open
  };
  std::vector<Book> books_;                          // by slot
  std::unordered_map<Symbol, std::size_t> slot_by_symbol_;
  std::vector<OrderUpdate> updates_;
  std::size_t fills_ = 0;
  std::size_t fills_ahead_ = 0;
  std::optional<std::size_t> reacting_slot_;
  std::function<const Candle*(std::size_t)> next_candle_;
};

}  // namespace twinstar
