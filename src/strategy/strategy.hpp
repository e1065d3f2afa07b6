#pragma once
// The strategy interface: a pure function of the closed candles of one series, emitting
// signals. No I/O, no clock, no shared state, so the same code runs live and in a backtest.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/candle.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"

namespace twinstar {

enum class Side : std::uint8_t { buy, sell };
std::string_view to_string(Side s) noexcept;

struct Signal {
  Symbol symbol;
  Side side = Side::buy;
  double strength = 0;  // in [0, 1], comparable across symbols and strategies: the MultiTrader ranks by it
  Price entry;          // the price the signal was computed at (the closed candle's close)
  std::optional<Price> stop_loss;
  std::optional<Price> take_profit;
  TimestampMs time{};   // open time of the candle that produced it
  std::string reason;   // one line for the status report and the trade log
};

// Parameters as given in TOML or on the command line (k=v); each strategy validates its own.
using StrategyParams = std::map<std::string, double>;

// One instance per series: it keeps that series' indicator state.
class Strategy {
 public:
  virtual ~Strategy() = default;
  // Called once per closed candle of the series, in time order. Thread: one series on one thread at a time.
  virtual std::optional<Signal> on_candle(const Symbol& symbol, const Candle& closed) = 0;
  // A fresh instance with the same parameters and no state (for another symbol).
  virtual std::unique_ptr<Strategy> clone_fresh() const = 0;
  virtual std::string_view name() const noexcept = 0;
  // The parameters in force, defaults included.
  virtual StrategyParams params() const = 0;
  // Closed candles needed before the first signal can appear (for backfill sizing).
  virtual std::size_t warmup() const noexcept = 0;
};

// Builds a built-in strategy by name: ma_cross, rsi_reversion, bollinger_breakout, double_pattern.
// Errors: unknown name (lists the valid ones), unknown parameter, value out of range.
Result<std::unique_ptr<Strategy>> make_strategy(std::string_view name, const StrategyParams& params);
std::vector<std::string_view> strategy_names();
// Parses "fast=10,slow=30" (the CLI form).
Result<StrategyParams> parse_strategy_params(std::string_view text);

}  // namespace twinstar
