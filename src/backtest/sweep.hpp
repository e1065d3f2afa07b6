#pragma once
// Parameter sweeps: a grid over strategy parameters, run in parallel on every core over the
// same (shared, read-only) candles, ranked by a chosen metric.

#include <functional>
#include <string>
#include <vector>

#include "backtest/engine.hpp"
#include "config/config.hpp"

namespace twinstar {

struct SweepAxis {
  std::string name;
  double from = 0, to = 0, step = 1;
};

// "fast=5:20:5,slow=20:60:10" (inclusive ranges). Errors: malformed items, step <= 0, to < from.
Result<std::vector<SweepAxis>> parse_sweep(std::string_view text);
// Every combination, base parameters overridden by the axes; at most `limit` (error beyond).
Result<std::vector<StrategyParams>> sweep_grid(const StrategyParams& base, const std::vector<SweepAxis>& axes,
                                               std::size_t limit = 100'000);

struct SweepRow {
  StrategyParams params;
  Metrics metrics;
  std::string error;  // a parameter set the strategy refused (e.g. fast >= slow)
};

// Metric names usable for ranking: return, sharpe, sortino, calmar, sqn, profit_factor,
// win_rate, expectancy, max_drawdown (less negative is better), trades.
Result<double> metric_value(const Metrics& m, std::string_view name);

// Runs `bot` (its strategy params replaced by each grid point) over `data` with `threads`
// workers. Rows come back ranked best first by `rank_by` (NaN last), ties in grid order.
// Thread: spawns and joins its workers.
Result<std::vector<SweepRow>> run_sweep(const std::vector<SeriesData>& data, const std::vector<BotConfig>& bots,
                                        const std::string& swept_bot, const std::vector<StrategyParams>& grid,
                                        const BacktestOptions& options, const std::string& rank_by, unsigned threads,
                                        const std::function<void(std::size_t done, std::size_t total)>& progress = {});

}  // namespace twinstar
