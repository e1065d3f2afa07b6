#include "app/backtest_command.hpp"

#include <cmath>
#include <fstream>
#include <set>
#include <thread>

#include <fmt/core.h>

#include "backtest/data_source.hpp"
#include "backtest/report_html.hpp"
#include "backtest/sweep.hpp"
#include "bot/bot_factory.hpp"
#include "core/clock.hpp"

namespace twinstar {

namespace {

struct BacktestArgs {
  std::string from, to, trade_from, json_out, html_out;
  std::string strategy, params, symbols, interval, exchange = "bybit", market = "linear";
  std::vector<std::string> csv;
  std::string sweep, rank = "sharpe", sweep_bot;
  unsigned jobs = 0;
  std::size_t top = 20;
  std::string capital, commission;
  std::size_t max_positions = 0;
  bool allow_short = false;
};

template <class T>
T need(Result<T> r, std::string_view what = {}) {
  if (!r) fail(2, what.empty() ? r.error().message : fmt::format("{}: {}", what, r.error().message));
  return std::move(*r);
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    const auto comma = s.find(',', pos);
    auto item = s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

FillModel fill_model(const BacktestConfig& c) {
  FillModel f;
  f.market = c.market_fill == "signal_close" ? FillModel::Market::signal_close : FillModel::Market::next_open;
  f.exits = c.exits == "next_open" ? FillModel::Exit::next_open : FillModel::Exit::at_level;
  f.both_touched = c.both_touched == "take_profit_first" ? BothTouched::take_profit_first : BothTouched::stop_first;
  f.size_at = c.size_at == "signal" ? FillModel::SizeAt::signal : FillModel::SizeAt::fill;
  f.commission = c.commission;
  f.slippage_fixed = c.slippage;
  f.slippage_relative = c.slippage_pct;
  return f;
}


void print_summary(const BacktestResult& r) {
  const Metrics& m = r.metrics;
  auto n = [](double v, int p = 2) { return std::isnan(v) ? std::string("n/a") : fmt::format("{:.{}f}", v, p); };
  auto d = [](Duration x) {
    const auto h = std::chrono::duration_cast<std::chrono::hours>(x).count();
    return fmt::format("{} days {:02}:00", h / 24, h % 24);
  };
  fmt::print("Start                     {}\n", format_iso8601(m.start));
  fmt::print("End                       {}\n", format_iso8601(m.end));
  fmt::print("Duration                  {}\n", d(m.duration));
  fmt::print("Exposure Time [%]         {}\n", n(m.exposure_time_pct));
  fmt::print("Equity Final              {}\n", m.equity_final.to_string(2));
  fmt::print("Equity Peak               {}\n", m.equity_peak.to_string(2));
  fmt::print("Return [%]                {}\n", n(m.return_pct));
  fmt::print("Buy & Hold Return [%]     {}\n", n(m.buy_and_hold_return_pct));
  fmt::print("Return (Ann.) [%]         {}\n", n(m.return_ann_pct));
  fmt::print("Volatility (Ann.) [%]     {}\n", n(m.volatility_ann_pct));
  fmt::print("CAGR [%]                  {}\n", n(m.cagr_pct));
  fmt::print("Sharpe Ratio              {}\n", n(m.sharpe));
  fmt::print("Sortino Ratio             {}\n", n(m.sortino));
  fmt::print("Calmar Ratio              {}\n", n(m.calmar));
  fmt::print("Max. Drawdown [%]         {}\n", n(m.max_drawdown_pct));
  fmt::print("Avg. Drawdown [%]         {}\n", n(m.avg_drawdown_pct));
  fmt::print("Max. Drawdown Duration    {}\n", d(m.max_drawdown_duration));
  fmt::print("Avg. Drawdown Duration    {}\n", d(m.avg_drawdown_duration));
  fmt::print("# Trades                  {}\n", m.trades);
  fmt::print("Win Rate [%]              {}\n", n(m.win_rate_pct));
  fmt::print("Best Trade [%]            {}\n", n(m.best_trade_pct));
  fmt::print("Worst Trade [%]           {}\n", n(m.worst_trade_pct));
  fmt::print("Avg. Trade [%]            {}\n", n(m.avg_trade_pct));
  fmt::print("Max. Trade Duration       {}\n", d(m.max_trade_duration));
  fmt::print("Avg. Trade Duration       {}\n", d(m.avg_trade_duration));
  fmt::print("Profit Factor             {}\n", n(m.profit_factor));
  fmt::print("Expectancy [%]            {}\n", n(m.expectancy_pct));
  fmt::print("SQN                       {}\n", n(m.sqn));
  fmt::print("Kelly Criterion           {}\n", n(m.kelly, 4));
  fmt::print("Commissions               {}\n", m.commissions.to_string(2));
  if (!r.open_positions.empty()) fmt::print("Open positions            {}\n", r.open_positions.size());
  fmt::print("Fill model: {}\n", r.fill_model);
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail(1, fmt::format("cannot write {}", path));
  out << text;
  if (!out.flush()) fail(1, fmt::format("cannot write {}", path));
}

void run(const AppOptions& options, const BacktestArgs& a) {
  EngineConfig config = options.config();
  TimeRange range;
  if (!a.from.empty()) range.from = need(parse_iso8601(a.from), "--from");
  else range.from = config.backtest.from;
  if (!a.to.empty()) range.to = need(parse_iso8601(a.to), "--to");
  else range.to = config.backtest.to;
  if (range.from && range.to && *range.to <= *range.from) fail(2, "--to must be after --from");
  if (!a.capital.empty()) {
    config.capital.initial_capital = need(Money::parse(a.capital), "--capital");
    if (!config.capital.initial_capital.is_positive()) fail(2, "--capital must be greater than 0");
  }
  if (!a.commission.empty()) config.backtest.commission = need(Ratio::parse(a.commission), "--commission");

  const Exchange exchange = need(parse_exchange(a.exchange), "--exchange");
  const Market market = need(parse_market(a.market), "--market");
  std::optional<Interval> interval;
  if (!a.interval.empty()) interval = need(parse_interval(a.interval), "--interval");

  // Data first when it comes from CSV: the files name the symbols.
  std::vector<SeriesData> data;
  if (!a.csv.empty()) {
    std::vector<std::filesystem::path> files(a.csv.begin(), a.csv.end());
    data = need(load_from_csv(files, exchange, market, interval, range, RealClock::instance().now()));
  }
  std::vector<BotConfig> bots = config.bots;
  if (!a.strategy.empty()) {
    BotConfig b;
    b.exchange = exchange;
    b.market = market;
    b.strategy = a.strategy;
    b.params = need(parse_strategy_params(a.params), "--params");
    b.symbols = split(a.symbols);
    if (b.symbols.empty()) {
      for (const auto& s : data) b.symbols.push_back(s.key.symbol.str());
    }
    if (b.symbols.empty()) fail(2, "--strategy needs --symbols (or --csv files that name them)");
    b.interval = interval ? *interval : (data.empty() ? Interval::m15 : data.front().key.interval);
    b.kind = b.symbols.size() == 1 ? "single" : "multi";
    b.name = b.kind;
    b.max_positions = a.max_positions > 0 ? a.max_positions : (b.kind == "single" ? 1 : 5);
    b.allow_short = a.allow_short;
    b.sizing.mode = "percent_available";
    b.sizing.fraction = b.kind == "single" ? Ratio::from_units(1) : *Ratio::parse("0.2");
    b.sizing.lot_size = *Quantity::parse("0.00000001");
    bots = {b};
  }
  if (bots.empty()) fail(2, "no bots to backtest: give --strategy NAME --symbols ... or a --config with [[bots]]");
  if (auto ok = validate_bots(bots, config.source); !ok) fail(2, ok.error().message);

  std::set<SeriesKey> keys;
  for (const auto& b : bots) {
    for (const auto& s : b.symbols) keys.insert(SeriesKey{b.exchange, b.market, *Symbol::parse(s), b.interval});
  }
  if (data.empty()) {
    data = need(load_from_store(config.data_dir, std::vector<SeriesKey>(keys.begin(), keys.end()), range, VolumeColumns::skip));
  } else {
    for (const auto& k : keys) {
      if (std::none_of(data.begin(), data.end(), [&](const SeriesData& s) { return s.key == k; })) {
        fail(2, fmt::format("no CSV file gives {} {} {} {}", k.exchange, k.market, k.symbol, k.interval));
      }
    }
  }

  BacktestOptions bt;
  bt.fill = fill_model(config.backtest);
  bt.ledger = ledger_options(config.capital);
  bt.end = config.backtest.end == "report_open" ? EndOfRun::report_open : EndOfRun::close_at_last_close;
  bt.risk_free_rate = config.backtest.risk_free_rate;
  bt.trade_from = config.backtest.trade_from;
  if (!a.trade_from.empty()) bt.trade_from = need(parse_iso8601(a.trade_from), "--trade-from");
  if (bt.trade_from && range.from && *bt.trade_from < *range.from) fail(2, "--trade-from must not be before --from");
  std::size_t total_candles = 0;
  for (const auto& s : data) total_candles += s.candles.size();

  if (!a.sweep.empty()) {
    const std::string swept = a.sweep_bot.empty() ? bots.front().name : a.sweep_bot;
    auto it = std::find_if(bots.begin(), bots.end(), [&](const BotConfig& b) { return b.name == swept; });
    if (it == bots.end()) fail(2, fmt::format("--sweep-bot {}: no such bot", swept));
    const auto axes = need(parse_sweep(a.sweep), "--sweep");
    const auto grid = need(sweep_grid(it->params, axes), "--sweep");
    const unsigned jobs = a.jobs > 0 ? a.jobs : std::max(1u, std::thread::hardware_concurrency());
    fmt::print(stderr, "sweep: {} parameter sets over {} series ({} candles) on {} threads\n", grid.size(), data.size(),
               total_candles, jobs);
    auto rows = need(run_sweep(data, bots, swept, grid, bt, a.rank, jobs, [](std::size_t done, std::size_t total) {
      fmt::print(stderr, "\rsweep {}/{}", done, total);
      if (done == total) fmt::print(stderr, "\n");
    }));
    fmt::print("{:>4}  {:<40} {:>10} {:>9} {:>8} {:>8} {:>7}\n", "rank", "parameters", a.rank, "return%", "maxDD%", "trades",
               "win%");
    for (std::size_t i = 0; i < rows.size() && i < a.top; ++i) {
      const auto& r = rows[i];
      std::string params;
      for (const auto& [k, v] : r.params) params += fmt::format("{}{}={}", params.empty() ? "" : ",", k, v);
      if (!r.error.empty()) {
        fmt::print("{:>4}  {:<40} {}\n", i + 1, params, r.error);
        continue;
      }
      fmt::print("{:>4}  {:<40} {:>10.3f} {:>9.2f} {:>8.2f} {:>8} {:>7.1f}\n", i + 1, params, *metric_value(r.metrics, a.rank),
                 r.metrics.return_pct, r.metrics.max_drawdown_pct, r.metrics.trades, r.metrics.win_rate_pct);
    }
    return;
  }

  bt.progress = [](std::size_t done, std::size_t total) { fmt::print(stderr, "backtest: {}/{} candles\n", done, total); };
  std::string factory_error;
  auto factory = [&](CapitalLedger& ledger, OrderGateway& gateway, Clock& clock, SymbolClaims& claims) {
    std::vector<std::unique_ptr<Bot>> built;
    for (const auto& c : bots) {
      auto bot = make_bot(c, ledger, gateway, clock, claims);
      if (!bot) {
        factory_error = bot.error().message;
        return std::vector<std::unique_ptr<Bot>>{};
      }
      built.push_back(std::move(*bot));
    }
    return built;
  };
  auto result = run_backtest(data, factory, bt);
  if (!result) fail(2, factory_error.empty() ? result.error().message : factory_error);
  print_summary(*result);
  if (!a.json_out.empty()) {
    write_file(a.json_out, to_json(*result));
    fmt::print("JSON written to {}\n", a.json_out);
  }
  if (!a.html_out.empty()) {
    std::string title = "twinstar backtest:";
    for (const auto& b : bots) title += fmt::format(" {} ({} {})", b.name, b.strategy, b.symbols.size() == 1 ? b.symbols[0] : fmt::format("{} symbols", b.symbols.size()));
    write_file(a.html_out, render_html_report(*result, data, title));
    fmt::print("HTML report written to {}\n", a.html_out);
  }
}

}  // namespace

void add_backtest_command(CLI::App& root, AppOptions& options) {
  auto args = std::make_shared<BacktestArgs>();
  auto* cmd = root.add_subcommand(
      "backtest",
      "Replay stored (or CSV) candles through the live bots, strategies and capital ledger rules.\n"
      "Bots come from [[bots]] in --config, or from --strategy/--symbols for a quick run.\n"
      "The fill model comes from [backtest] in the config and is printed with the results.");
  cmd->add_option("--from", args->from, "First candle time (UTC date or ISO time)")->type_name("DATE");
  cmd->add_option("--to", args->to, "End (exclusive)")->type_name("DATE");
  cmd->add_option("--trade-from", args->trade_from, "Trade from this time; earlier candles only warm the strategies up")
      ->type_name("DATE");
  cmd->add_option("--json", args->json_out, "Write metrics, trades and the equity curve as JSON")->type_name("FILE");
  cmd->add_option("--html", args->html_out, "Write an HTML report (equity, drawdown, price with trades, trade table)")->type_name("FILE");
  cmd->add_option("--strategy", args->strategy, "Quick run: ma_cross, rsi_reversion, bollinger_breakout, double_pattern");
  cmd->add_option("--params", args->params, "Strategy parameters, e.g. fast=10,slow=30")->type_name("K=V,...");
  cmd->add_option("--symbols", args->symbols, "Quick run: one symbol = a single bot, several = a multi-symbol trader")
      ->type_name("A,B,...");
  cmd->add_option("--interval", args->interval, "Candle interval, e.g. 15m, 1h");
  cmd->add_option("--exchange", args->exchange, "bybit, binance, okx, bitget (default bybit)");
  cmd->add_option("--market", args->market, "spot or linear (default linear)");
  cmd->add_option("--csv", args->csv, "Read candles from CSV files instead of the store (same importer as data import-csv)")
      ->type_name("FILE...");
  cmd->add_option("--capital", args->capital, "Initial capital (default: capital.initial_capital)");
  cmd->add_option("--commission", args->commission, "Commission rate per side, e.g. 0.001");
  cmd->add_option("--max-positions", args->max_positions, "Quick run: positions at once (default 1 single, 5 multi)");
  cmd->add_flag("--allow-short", args->allow_short, "Quick run: trade short too (reverse on opposite signals)");
  cmd->add_option("--sweep", args->sweep, "Grid over strategy parameters, e.g. fast=5:20:5,slow=20:60:10")
      ->type_name("K=A:B:STEP,...");
  cmd->add_option("--rank", args->rank, "Sweep ranking metric: return, sharpe, sortino, calmar, sqn, profit_factor, ...");
  cmd->add_option("--sweep-bot", args->sweep_bot, "Which bot's parameters to sweep (default: the first)");
  cmd->add_option("--jobs", args->jobs, "Sweep threads (default: all cores)");
  cmd->add_option("--top", args->top, "Sweep rows to print (default 20)");
  cmd->callback([&options, args] { run(options, *args); });
}

}  // namespace twinstar
