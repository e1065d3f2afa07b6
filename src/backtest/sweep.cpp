#include "backtest/sweep.hpp"

#include <atomic>
#include <charconv>
#include <cmath>
#include <limits>
#include <mutex>
#include <thread>

#include "bot/bot_factory.hpp"

namespace twinstar {

Result<std::vector<SweepAxis>> parse_sweep(std::string_view text) {
  std::vector<SweepAxis> axes;
  auto number = [](std::string_view s, double& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
  };
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    const auto eq = item.find('=');
    const auto c1 = item.find(':');
    const auto c2 = item.find(':', c1 == std::string_view::npos ? c1 : c1 + 1);
    SweepAxis a;
    if (eq == std::string_view::npos || eq == 0 || c1 == std::string_view::npos || c2 == std::string_view::npos ||
        !number(item.substr(eq + 1, c1 - eq - 1), a.from) || !number(item.substr(c1 + 1, c2 - c1 - 1), a.to) ||
        !number(item.substr(c2 + 1), a.step)) {
      return make_error(ErrorCode::parse_error, "sweep item \"{}\" must look like name=from:to:step, e.g. fast=5:20:5", item);
    }
    a.name = std::string(item.substr(0, eq));
    if (!(a.step > 0)) return make_error(ErrorCode::parse_error, "sweep {}: step must be positive, got {}", a.name, a.step);
    if (a.to < a.from) return make_error(ErrorCode::parse_error, "sweep {}: to ({}) is below from ({})", a.name, a.to, a.from);
    axes.push_back(a);
  }
  if (axes.empty()) return make_error(ErrorCode::parse_error, "sweep: no parameters given");
  return axes;
}

Result<std::vector<StrategyParams>> sweep_grid(const StrategyParams& base, const std::vector<SweepAxis>& axes, std::size_t limit) {
  std::vector<StrategyParams> grid{base};
  for (const auto& a : axes) {
    std::vector<double> values;
    // Steps counted in integers, so 0.1 increments do not drift past `to`.
    const auto n = static_cast<long>(std::floor((a.to - a.from) / a.step + 1e-9));
    for (long i = 0; i <= n; ++i) values.push_back(a.from + static_cast<double>(i) * a.step);
    if (grid.size() * values.size() > limit) {
      return make_error(ErrorCode::invalid_argument, "sweep grid has more than {} parameter sets; narrow it", limit);
    }
    std::vector<StrategyParams> next;
    for (const auto& p : grid) {
      for (double v : values) {
        auto q = p;
        q[a.name] = v;
        next.push_back(std::move(q));
      }
    }
    grid = std::move(next);
  }
  return grid;
}

Result<double> metric_value(const Metrics& m, std::string_view name) {
  if (name == "return") return m.return_pct;
  if (name == "sharpe") return m.sharpe;
  if (name == "sortino") return m.sortino;
  if (name == "calmar") return m.calmar;
  if (name == "sqn") return m.sqn;
  if (name == "profit_factor") return m.profit_factor;
  if (name == "win_rate") return m.win_rate_pct;
  if (name == "expectancy") return m.expectancy_pct;
  if (name == "max_drawdown") return m.max_drawdown_pct;
  if (name == "trades") return static_cast<double>(m.trades);
  return make_error(ErrorCode::invalid_argument,
                    "unknown metric \"{}\" (known: return, sharpe, sortino, calmar, sqn, profit_factor, win_rate, expectancy, "
                    "max_drawdown, trades)",
                    name);
}

Result<std::vector<SweepRow>> run_sweep(const std::vector<SeriesData>& data, const std::vector<BotConfig>& bots,
                                        const std::string& swept_bot, const std::vector<StrategyParams>& grid,
                                        const BacktestOptions& options, const std::string& rank_by, unsigned threads,
                                        const std::function<void(std::size_t, std::size_t)>& progress) {
  if (auto ok = metric_value(Metrics{}, rank_by); !ok) return std::unexpected(ok.error());
  auto swept = std::find_if(bots.begin(), bots.end(), [&](const BotConfig& b) { return b.name == swept_bot; });
  if (swept == bots.end()) return make_error(ErrorCode::invalid_argument, "sweep: no bot named {}", swept_bot);
  const auto swept_index = static_cast<std::size_t>(swept - bots.begin());
  std::vector<SweepRow> rows(grid.size());
  std::atomic<std::size_t> next{0}, done{0};
  std::mutex progress_mutex;
  auto work = [&] {
    for (std::size_t i = next++; i < grid.size(); i = next++) {
      std::vector<BotConfig> configs = bots;
      configs[swept_index].params = grid[i];
      rows[i].params = grid[i];
      std::string error;
      auto factory = [&](CapitalLedger& ledger, OrderGateway& gateway, Clock& clock, SymbolClaims& claims) {
        std::vector<std::unique_ptr<Bot>> built;
        for (const auto& c : configs) {
          auto bot = make_bot(c, ledger, gateway, clock, claims);
          if (!bot) {
            error = bot.error().message;
            return std::vector<std::unique_ptr<Bot>>{};
          }
          built.push_back(std::move(*bot));
        }
        return built;
      };
      auto result = run_backtest(data, factory, options);
      if (result) {
        rows[i].metrics = result->metrics;
      } else {
        rows[i].error = error.empty() ? result.error().message : error;
      }
      const auto d = ++done;
      if (progress) {
        std::lock_guard<std::mutex> lock(progress_mutex);
        progress(d, grid.size());
      }
    }
  };
  threads = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(grid.size())));
  {
    std::vector<std::jthread> workers;
    for (unsigned t = 1; t < threads; ++t) workers.emplace_back(work);
    work();
  }
  auto score = [&](const SweepRow& r) {
    if (!r.error.empty()) return -std::numeric_limits<double>::infinity();
    const double v = *metric_value(r.metrics, rank_by);
    return std::isnan(v) ? -std::numeric_limits<double>::infinity() : v;
  };
  std::stable_sort(rows.begin(), rows.end(), [&](const SweepRow& a, const SweepRow& b) { return score(a) > score(b); });
  return rows;
}

}  // namespace twinstar
