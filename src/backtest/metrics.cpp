#include "backtest/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace twinstar {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double geometric_mean(const std::vector<double>& returns) {
  // backtesting.py: exp(mean(log1p(r))) - 1; zero if any return is -100 % or below.
  if (returns.empty()) return 0;
  double sum = 0;
  for (double r : returns) {
    if (r <= -1) return 0;
    sum += std::log1p(r);
  }
  return std::exp(sum / static_cast<double>(returns.size())) - 1;
}

double variance(const std::vector<double>& v) {  // sample variance, ddof = 1
  if (v.size() < 2) return kNaN;
  const double mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  double s = 0;
  for (double x : v) s += (x - mean) * (x - mean);
  return s / static_cast<double>(v.size() - 1);
}

// Equity at the close of each UTC day that has bars, then day-over-day returns.
std::vector<double> daily_returns(const std::vector<EquityPoint>& equity) {
  std::vector<double> closes;
  std::int64_t day = std::numeric_limits<std::int64_t>::min();
  for (const auto& p : equity) {
    const auto d = std::chrono::floor<std::chrono::days>(p.time).time_since_epoch().count();
    if (d != day) {
      closes.push_back(p.equity.to_double());
      day = d;
    } else {
      closes.back() = p.equity.to_double();
    }
  }
  std::vector<double> r;
  for (std::size_t i = 1; i < closes.size(); ++i) r.push_back(closes[i] / closes[i - 1] - 1);
  return r;
}

// backtesting.py: 365 when more than 60 % of the expected share of weekend bars is present.
int detect_annual_days(const std::vector<EquityPoint>& equity) {
  std::size_t weekend = 0;
  for (const auto& p : equity) {
    const std::chrono::weekday wd{std::chrono::floor<std::chrono::days>(p.time)};
    weekend += wd == std::chrono::Saturday || wd == std::chrono::Sunday;
  }
  return static_cast<double>(weekend) / static_cast<double>(equity.size()) > 2.0 / 7.0 * 0.6 ? 365 : 252;
}

}  // namespace

Metrics compute_metrics(const MetricsInput& in) {
  Metrics m;
  const auto& eq = in.equity;
  if (eq.empty()) return m;
  m.start = eq.front().time;
  m.end = eq.back().time;
  m.duration = m.end - m.start;
  m.equity_final = eq.back().equity;
  m.equity_peak = eq.front().equity;
  std::size_t exposed = 0;
  for (const auto& p : eq) {
    m.equity_peak = std::max(m.equity_peak, p.equity);
    exposed += p.in_market;
  }
  m.exposure_time_pct = 100.0 * static_cast<double>(exposed) / static_cast<double>(eq.size());
  const double initial = in.initial_equity.to_double();
  m.return_pct = (m.equity_final.to_double() - initial) / initial * 100;
  m.buy_and_hold_return_pct =
      in.first_close.is_positive() ? (in.last_close.to_double() - in.first_close.to_double()) / in.first_close.to_double() * 100 : kNaN;

  // Annualised return and volatility from daily returns (backtesting.py's formulas).
  const int annual = in.annual_trading_days > 0 ? in.annual_trading_days : detect_annual_days(eq);
  const auto day_returns = daily_returns(eq);
  const double gmean_day = geometric_mean(day_returns);
  const double ann_return = std::pow(1 + gmean_day, annual) - 1;
  m.return_ann_pct = ann_return * 100;
  const double var = variance(day_returns);
  const double ann_vol = std::isnan(var) ? kNaN
                                         : std::sqrt(std::pow(var + std::pow(1 + gmean_day, 2), annual) -
                                                     std::pow(1 + gmean_day, 2 * annual));
  m.volatility_ann_pct = ann_vol * 100;
  const double years = std::chrono::duration<double>(m.duration).count() / (365.0 * 86400.0);
  m.cagr_pct = years > 0 ? (std::pow(m.equity_final.to_double() / initial, 1.0 / years) - 1) * 100 : kNaN;
  m.sharpe = ann_vol > 0 ? (ann_return - in.risk_free_rate) / ann_vol : kNaN;
  double downside = 0;
  for (double r : day_returns) downside += r < 0 ? r * r : 0;
  downside = day_returns.empty() ? 0 : std::sqrt(downside / static_cast<double>(day_returns.size())) * std::sqrt(annual);
  m.sortino = downside > 0 ? (ann_return - in.risk_free_rate) / downside : kNaN;

  // Drawdowns: dd = 1 - equity / running peak; an episode runs from a peak until equity recovers it.
  double peak = eq.front().equity.to_double();
  double max_dd = 0;
  std::vector<double> episode_depths;
  std::vector<Duration> episode_lengths;
  std::optional<TimestampMs> episode_start;
  double episode_depth = 0;
  TimestampMs peak_time = eq.front().time;
  for (const auto& p : eq) {
    const double e = p.equity.to_double();
    if (e >= peak) {
      if (episode_start) {
        episode_depths.push_back(episode_depth);
        episode_lengths.push_back(p.time - peak_time);
        episode_start.reset();
      }
      peak = e;
      peak_time = p.time;
      episode_depth = 0;
      continue;
    }
    const double dd = 1 - e / peak;
    if (!episode_start) episode_start = peak_time;
    episode_depth = std::max(episode_depth, dd);
    max_dd = std::max(max_dd, dd);
  }
  if (episode_start) {  // an unrecovered drawdown at the end still counts
    episode_depths.push_back(episode_depth);
    episode_lengths.push_back(eq.back().time - peak_time);
  }
  m.max_drawdown_pct = -max_dd * 100;
  if (!episode_depths.empty()) {
    m.avg_drawdown_pct =
        -std::accumulate(episode_depths.begin(), episode_depths.end(), 0.0) / static_cast<double>(episode_depths.size()) * 100;
    m.max_drawdown_duration = *std::max_element(episode_lengths.begin(), episode_lengths.end());
    m.avg_drawdown_duration =
        std::accumulate(episode_lengths.begin(), episode_lengths.end(), Duration(0)) / static_cast<std::int64_t>(episode_lengths.size());
  }
  m.calmar = max_dd > 0 ? ann_return / max_dd : kNaN;

  // Trades.
  const auto& t = in.trades;
  m.trades = t.size();
  for (const auto& trade : t) m.commissions += trade.commission;
  if (t.empty()) {
    m.win_rate_pct = m.best_trade_pct = m.worst_trade_pct = m.avg_trade_pct = kNaN;
    m.profit_factor = m.expectancy_pct = m.sqn = m.kelly = kNaN;
    return m;
  }
  std::vector<double> returns, pnls;
  std::size_t wins = 0;
  double gains = 0, losses = 0, win_pnl = 0, loss_pnl = 0;
  std::size_t loss_count = 0;
  Duration total_duration{0};
  for (const auto& trade : t) {
    returns.push_back(trade.return_pct);
    const double pnl = trade.pnl.to_double();
    pnls.push_back(pnl);
    if (pnl > 0) {
      ++wins;
      win_pnl += pnl;
    } else if (pnl < 0) {
      ++loss_count;
      loss_pnl += pnl;
    }
    if (trade.return_pct > 0) gains += trade.return_pct;
    if (trade.return_pct < 0) losses += trade.return_pct;
    const Duration d = trade.exit_time - trade.entry_time;
    total_duration += d;
    m.max_trade_duration = std::max(m.max_trade_duration, d);
  }
  const auto n = static_cast<double>(t.size());
  m.avg_trade_duration = total_duration / static_cast<std::int64_t>(t.size());
  m.win_rate_pct = static_cast<double>(wins) / n * 100;
  m.best_trade_pct = *std::max_element(returns.begin(), returns.end()) * 100;
  m.worst_trade_pct = *std::min_element(returns.begin(), returns.end()) * 100;
  m.avg_trade_pct = geometric_mean(returns) * 100;
  m.profit_factor = losses < 0 ? gains / -losses : kNaN;
  m.expectancy_pct = std::accumulate(returns.begin(), returns.end(), 0.0) / n * 100;
  const double pnl_var = variance(pnls);
  m.sqn = pnl_var > 0 ? std::sqrt(n) * (std::accumulate(pnls.begin(), pnls.end(), 0.0) / n) / std::sqrt(pnl_var) : kNaN;
  const double win_rate = static_cast<double>(wins) / n;
  if (wins > 0 && loss_count > 0) {
    const double avg_win = win_pnl / static_cast<double>(wins);
    const double avg_loss = -loss_pnl / static_cast<double>(loss_count);
    m.kelly = win_rate - (1 - win_rate) / (avg_win / avg_loss);
  } else {
    m.kelly = kNaN;
  }
  return m;
}

}  // namespace twinstar
