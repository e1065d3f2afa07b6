// Hand-computed cases for every metric (the expected values were worked out by hand with the
// formulas in docs/BACKTEST.md, independently of this code).

#include "backtest/metrics.hpp"

#include <cmath>

#include <gtest/gtest.h>

namespace twinstar {
namespace {

using namespace std::chrono;

TimestampMs day(int d, int hour = 0) {  // 2024-01-01 was a Monday
  return TimestampMs(sys_days(year(2024) / January / 1) + days(d) + hours(hour));
}

Money money(double v) { return *Money::from_double(v); }

MetricsInput five_day_run() {
  MetricsInput in;
  in.initial_equity = money(100);
  const double eq[] = {100, 110, 99, 121, 115.5};
  for (int i = 0; i < 5; ++i) in.equity.push_back(EquityPoint{day(i), money(eq[i]), i >= 1 && i <= 3});
  in.first_close = *Price::parse("20000");
  in.last_close = *Price::parse("23000");
  auto trade = [](int entry, int exit, double ret, double pnl, double fee) {
    ClosedTrade t;
    t.entry_time = day(entry);
    t.exit_time = day(exit);
    t.return_pct = ret;
    t.pnl = money(pnl);
    t.commission = money(fee);
    return t;
  };
  in.trades = {trade(1, 2, 0.1, 10, 0.5), trade(2, 3, -0.05, -5, 0.25), trade(3, 4, 0.2, 20, 1)};
  return in;
}

TEST(Metrics, hand_computed_five_day_run) {
  const Metrics m = compute_metrics(five_day_run());
  EXPECT_EQ(m.start, day(0));
  EXPECT_EQ(m.end, day(4));
  EXPECT_EQ(m.duration, days(4));
  EXPECT_DOUBLE_EQ(m.exposure_time_pct, 60.0);
  EXPECT_EQ(m.equity_final, money(115.5));
  EXPECT_EQ(m.equity_peak, money(121));
  EXPECT_NEAR(m.return_pct, 15.5, 1e-9);
  EXPECT_NEAR(m.buy_and_hold_return_pct, 15.0, 1e-9);
  // Weekdays only: 252 trading days a year. Daily returns +10 %, -10 %, +22.2 %, -4.5 %.
  EXPECT_NEAR(m.return_ann_pct, 876224.6062280145, 1e-6);
  EXPECT_NEAR(m.volatility_ann_pct, 10247907.568892404, 1e-3);
  EXPECT_NEAR(m.sharpe, 0.08550278194231575, 1e-9);
  EXPECT_NEAR(m.sortino, 10049.892758273958, 1e-6);
  EXPECT_NEAR(m.cagr_pct, 51357658.50578184, 1e-2);
  EXPECT_NEAR(m.max_drawdown_pct, -10.0, 1e-9);
  EXPECT_NEAR(m.calmar, 87622.46062280146, 1e-6);
  // Two episodes: 110 -> 99 (recovered a day later, 2 days long) and 121 -> 115.5 (open, 1 day).
  EXPECT_NEAR(m.avg_drawdown_pct, -7.272727272727271, 1e-9);
  EXPECT_EQ(m.max_drawdown_duration, days(2));
  EXPECT_EQ(m.avg_drawdown_duration, hours(36));
  EXPECT_EQ(m.trades, 3u);
  EXPECT_NEAR(m.win_rate_pct, 66.66666666666667, 1e-9);
  EXPECT_NEAR(m.best_trade_pct, 20.0, 1e-12);
  EXPECT_NEAR(m.worst_trade_pct, -5.0, 1e-12);
  EXPECT_NEAR(m.avg_trade_pct, 7.836515339093597, 1e-9);
  EXPECT_EQ(m.max_trade_duration, days(1));
  EXPECT_EQ(m.avg_trade_duration, days(1));
  EXPECT_NEAR(m.profit_factor, 6.0, 1e-9);
  EXPECT_NEAR(m.expectancy_pct, 8.333333333333332, 1e-9);
  EXPECT_NEAR(m.sqn, 1.1470786693528088, 1e-9);
  EXPECT_NEAR(m.kelly, 0.5555555555555555, 1e-9);
  EXPECT_EQ(m.commissions, money(1.75));
}

TEST(Metrics, weekend_bars_mean_a_365_day_year) {
  MetricsInput in;
  in.initial_equity = money(100);
  for (int i = 0; i < 14; ++i) in.equity.push_back(EquityPoint{day(i), money(100 + i), false});
  const Metrics crypto = compute_metrics(in);
  // Every day +1 unit: the geometric mean daily return g gives (1+g)^365 - 1.
  const double g = std::pow(113.0 / 100.0, 1.0 / 13) - 1;
  EXPECT_NEAR(crypto.return_ann_pct, (std::pow(1 + g, 365) - 1) * 100, 1e-6);
  in.annual_trading_days = 252;
  EXPECT_NEAR(compute_metrics(in).return_ann_pct, (std::pow(1 + g, 252) - 1) * 100, 1e-6);
}

TEST(Metrics, intraday_bars_are_sampled_at_each_days_last_bar) {
  MetricsInput in;
  in.initial_equity = money(100);
  in.equity = {{day(0, 1), money(100), false}, {day(0, 23), money(150), false},  // day 0 closes at 150
               {day(1, 5), money(50), false},  {day(1, 22), money(165), false}}; // day 1 closes at 165
  in.annual_trading_days = 365;
  const Metrics m = compute_metrics(in);
  EXPECT_NEAR(m.return_ann_pct, (std::pow(1.1, 365) - 1) * 100, 1e-3);  // one daily return of +10 %
  EXPECT_NEAR(m.max_drawdown_pct, -100.0 * (1 - 50.0 / 150.0), 1e-9);    // but the intraday drawdown counts
}

TEST(Metrics, undefined_metrics_are_nan_not_zero) {
  MetricsInput in;
  in.initial_equity = money(100);
  in.equity = {{day(0), money(100), false}, {day(1), money(100), false}};
  const Metrics m = compute_metrics(in);
  EXPECT_EQ(m.trades, 0u);
  EXPECT_TRUE(std::isnan(m.win_rate_pct));
  EXPECT_TRUE(std::isnan(m.sqn));
  EXPECT_TRUE(std::isnan(m.profit_factor));
  EXPECT_TRUE(std::isnan(m.calmar));  // no drawdown
  EXPECT_DOUBLE_EQ(m.max_drawdown_pct, 0.0);

  auto winners_only = five_day_run();
  winners_only.trades.erase(winners_only.trades.begin() + 1);
  const Metrics w = compute_metrics(winners_only);
  EXPECT_TRUE(std::isnan(w.profit_factor));
  EXPECT_TRUE(std::isnan(w.kelly));
  EXPECT_DOUBLE_EQ(w.win_rate_pct, 100.0);
}

TEST(Metrics, a_total_loss_trade_zeroes_the_geometric_average) {
  auto in = five_day_run();
  in.trades[1].return_pct = -1.0;
  EXPECT_DOUBLE_EQ(compute_metrics(in).avg_trade_pct, 0.0);
}

}  // namespace
}  // namespace twinstar
