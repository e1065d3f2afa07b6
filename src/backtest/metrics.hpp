#pragma once
// Backtest performance metrics. Formulas follow backtesting.py (kernc/backtesting.py,
// `compute_stats`), so results can be checked against a well-known reference tool;
// docs/BACKTEST.md gives each formula. Inputs are exact (fixed-point) where they are money;
// ratios are computed in double.

#include <optional>
#include <vector>

#include "core/decimal.hpp"
#include "core/time.hpp"

namespace twinstar {

struct EquityPoint {
  TimestampMs time{};
  Money equity;       // cash + marked-to-market open positions, at the bar's close
  bool in_market = false;  // a position was open during this bar
};

struct ClosedTrade {
  TimestampMs entry_time{};
  TimestampMs exit_time{};
  Price entry_price;
  Price exit_price;
  Quantity size;       // positive long, negative short
  Money pnl;           // after commissions
  Money commission;    // entry + exit
  double return_pct = 0;  // pnl relative to the entry notional
};

struct Metrics {
  TimestampMs start{}, end{};
  Duration duration{};
  double exposure_time_pct = 0;
  Money equity_final, equity_peak;
  double return_pct = 0;
  double buy_and_hold_return_pct = 0;
  double return_ann_pct = 0;
  double volatility_ann_pct = 0;
  double cagr_pct = 0;
  double sharpe = 0;
  double sortino = 0;
  double calmar = 0;
  double max_drawdown_pct = 0;   // negative or zero, as backtesting.py prints it
  double avg_drawdown_pct = 0;
  Duration max_drawdown_duration{};
  Duration avg_drawdown_duration{};
  std::size_t trades = 0;
  double win_rate_pct = 0;
  double best_trade_pct = 0;
  double worst_trade_pct = 0;
  double avg_trade_pct = 0;      // geometric mean of trade returns
  Duration max_trade_duration{};
  Duration avg_trade_duration{};
  double profit_factor = 0;
  double expectancy_pct = 0;
  double sqn = 0;
  double kelly = 0;
  Money commissions;
  // Metrics that are undefined for the run (no trades, no losing trade, ...) are NaN.
};

struct MetricsInput {
  Money initial_equity;
  std::vector<EquityPoint> equity;   // one point per bar, in time order
  std::vector<ClosedTrade> trades;
  Price first_close, last_close;     // of the traded instrument (first series for a portfolio)
  double risk_free_rate = 0;         // annual, as a fraction
  // 365 for markets that trade every day (crypto), 252 otherwise; 0 = detect from weekend bars.
  int annual_trading_days = 0;
};

Metrics compute_metrics(const MetricsInput& in);

}  // namespace twinstar
