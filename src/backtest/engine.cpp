#include "backtest/engine.hpp"

#include <algorithm>

#include "core/json_writer.hpp"

namespace twinstar {

namespace {

Status validate(const std::vector<SeriesData>& data) {
  if (data.empty()) return make_error(ErrorCode::invalid_argument, "backtest: no series to run on");
  for (const auto& s : data) {
    const auto name = fmt::format("{} {} {} {}", s.key.exchange, s.key.market, s.key.symbol, s.key.interval);
    if (s.candles.empty()) return make_error(ErrorCode::invalid_argument, "backtest: series {} has no candles in the range", name);
    for (std::size_t i = 1; i < s.candles.size(); ++i) {
      if (s.candles[i].open_time <= s.candles[i - 1].open_time) {
        return make_error(ErrorCode::invalid_argument, "backtest: series {} is not in time order at candle {} ({})", name, i,
                          format_iso8601(s.candles[i].open_time));
      }
    }
  }
  return {};
}

// The replay's clock: set once per candle with no waiters to wake (ManualClock::set takes a
// lock and notifies). Nothing sleeps in a single-threaded replay; a wait would be a bug, so
// one simply jumps to its deadline, as a discrete-event simulation does.
class ReplayClock final : public Clock {
 public:
  explicit ReplayClock(Timestamp start) : now_(start) {}
  Timestamp now() const noexcept override { return now_; }
  void set(Timestamp t) noexcept { now_ = std::max(now_, t); }  // never backward, as ManualClock

 protected:
  void wait_step(std::unique_lock<std::mutex>&, std::condition_variable&, Timestamp deadline) override { set(deadline); }

 private:
  Timestamp now_;
};

}  // namespace

std::string describe(const BacktestOptions& o) {
  return fmt::format("{}; open positions at the end {}{}", o.fill.describe(),
                     o.end == EndOfRun::close_at_last_close ? "closed at the last bar's close" : "reported as open",
                     o.trade_from ? fmt::format("; trading from {} (earlier candles warm the strategies up)",
                                                format_iso8601(*o.trade_from))
                                  : "");
}

Result<BacktestResult> run_backtest(const std::vector<SeriesData>& data, const BotFactory& make_bots,
                                    const BacktestOptions& options) {
  if (auto ok = validate(data); !ok) return std::unexpected(ok.error());
  TimestampMs first = data[0].candles.front().open_time;
  std::size_t total = 0;
  bool any_to_trade = !options.trade_from;
  for (const auto& s : data) {
    first = std::min(first, s.candles.front().open_time);
    total += s.candles.size();
    any_to_trade = any_to_trade || Timestamp(s.candles.back().open_time) >= *options.trade_from;
  }
  if (!any_to_trade) {
    return make_error(ErrorCode::invalid_argument, "backtest: no candle opens at or after trade_from {}",
                      format_iso8601(*options.trade_from));
  }
  ReplayClock clock{Timestamp(first)};
  auto ledger = CapitalLedger::in_memory(options.ledger, clock);
  if (!ledger) return std::unexpected(ledger.error());
  BacktestVenue venue(options.fill, clock);
  SymbolClaims claims;
  std::vector<std::unique_ptr<Bot>> bots = make_bots(*ledger, venue, clock, claims);
  if (bots.empty()) return make_error(ErrorCode::invalid_argument, "backtest: no bots to run");
  for (auto& bot : bots) {
    bot->trader().set_ledger_marks(false);  // equity comes from the bots' books
    bot->trader().set_both_touched(options.fill.both_touched);
  }
  // Warm-up: paused bots see the candles before trade_from (their strategies update, nothing trades).
  const auto trade_from = options.trade_from ? std::optional<TimestampMs>(floor_ms(*options.trade_from)) : std::nullopt;
  bool warming = trade_from && first < *trade_from;
  if (warming) {
    for (auto& bot : bots) bot->pause();
  }
  std::vector<std::size_t> venue_slot(data.size());
  std::vector<std::vector<std::size_t>> series_of_slot;
  for (std::size_t i = 0; i < data.size(); ++i) {
    venue_slot[i] = venue.slot(data[i].key.symbol);
    series_of_slot.resize(std::max(series_of_slot.size(), venue_slot[i] + 1));
    series_of_slot[venue_slot[i]].push_back(i);
  }
  // next[i]: the cursor of series i (its next candle to replay).
  std::vector<std::size_t> next(data.size(), 0);
  venue.set_next_candle([&](std::size_t slot) -> const Candle* {
    const Candle* out = nullptr;
    for (std::size_t i : series_of_slot[slot]) {
      if (next[i] < data[i].candles.size() && (out == nullptr || data[i].candles[next[i]].open_time < out->open_time)) {
        out = &data[i].candles[next[i]];
      }
    }
    return out;
  });

  // Which bots want which series.
  std::vector<std::vector<Bot*>> subscribers(data.size());
  for (auto& bot : bots) {
    for (const SeriesKey& key : bot->subscriptions()) {
      for (std::size_t i = 0; i < data.size(); ++i) {
        if (data[i].key == key) subscribers[i].push_back(bot.get());
      }
    }
  }
  auto deliver = [&] {
    if (!venue.has_updates()) return;
    for (const OrderUpdate& u : venue.drain()) {
      for (auto& bot : bots) {
        if (bot->trader().owns(u.client_id)) {
          bot->on_order_update(u);
          break;
        }
      }
    }
  };
  BacktestResult result;
  result.fill_model = describe(options);
  result.series = data.size();
  std::size_t longest = 0;
  for (const auto& s : data) longest = std::max(longest, s.candles.size());
  result.equity.reserve(longest + 1);
  // Equity marked to market, from the bots' own books (the ledger's full report is too heavy
  // to build every bar): initial + closed trades' net PnL + open positions' marks - their entry
  // fees. The test suite checks it against the ledger at the end of every run.
  Money closed_pnl;
  std::vector<std::size_t> trades_seen(bots.size(), 0);
  // A bar is in the market when a position was open at its close or any order filled in it
  // (an entry at its open, an exit at a level inside it): backtesting.py's entry-to-exit bars.
  // A fill made ahead at the next open belongs to that next bar.
  std::size_t now_fills_recorded = 0, ahead_fills_recorded = 0;
  bool ahead_pending = false;
  auto record_equity = [&](TimestampMs time) {
    Money equity = options.ledger.initial_capital;
    const std::size_t now_fills = venue.fills() - venue.fills_ahead();
    bool in_market = now_fills != now_fills_recorded || ahead_pending;
    ahead_pending = venue.fills_ahead() != ahead_fills_recorded;
    now_fills_recorded = now_fills;
    ahead_fills_recorded = venue.fills_ahead();
    for (std::size_t b = 0; b < bots.size(); ++b) {
      const Trader& t = bots[b]->trader();
      for (; trades_seen[b] < t.trades().size(); ++trades_seen[b]) {
        const TradeRecord& closed = t.trades()[trades_seen[b]];
        closed_pnl += closed.pnl;
        in_market = in_market || floor_ms(closed.exit_time) > time;  // still open at this bar's close
      }
      for (const auto& [symbol, p] : t.positions()) {
        in_market = in_market || floor_ms(p.opened_at) <= time;  // not one entered ahead at the next open
        const Money value = notional(p.last_price, p.quantity);
        const Money cost = notional(p.entry_price, p.quantity);
        equity += (p.side == Side::buy ? value - cost : cost - value) + p.realized_gross - p.entry_fees - p.exit_fees;
      }
    }
    result.equity.push_back(EquityPoint{time, equity + closed_pnl, in_market});
  };

  // A k-way merge by rounds: the earliest open time among the series' next candles, then every
  // series with a candle at that time in series order (so equal times never depend on anything
  // but the inputs). O(series) per round, no heap, no allocation.
  std::optional<TimestampMs> current;
  std::size_t done = 0;
  for (;;) {
    std::optional<TimestampMs> round;
    for (std::size_t i = 0; i < data.size(); ++i) {
      if (next[i] < data[i].candles.size() && (!round || data[i].candles[next[i]].open_time < *round)) {
        round = data[i].candles[next[i]].open_time;
      }
    }
    if (!round) break;
    if (current) {
      // A round a MultiTrader did not hear from every symbol of (an outage) is acted on now, at
      // the previous close, so its orders fill at this round's opens like any other round's.
      for (auto& bot : bots) bot->flush();
      deliver();
      if (!warming) record_equity(*current);
    }
    if (warming && *round >= *trade_from) {
      warming = false;
      for (auto& bot : bots) bot->resume();
    }
    current = round;
    for (std::size_t i = 0; i < data.size(); ++i) {
      const SeriesData& series = data[i];
      if (next[i] >= series.candles.size() || series.candles[next[i]].open_time != *round) continue;
      const Candle& candle = series.candles[next[i]++];
      // Time stands at the candle's close: that is when a live bot would see it.
      clock.set(interval_next(series.key.interval, Timestamp(candle.open_time)));
      venue.on_candle(venue_slot[i], candle);
      venue.begin_reactions(venue_slot[i]);
      deliver();
      venue.end_reactions();
      for (Bot* bot : subscribers[i]) {
        bot->on_candle(series.key, candle);
        deliver();
      }
      if (options.progress && ++done % options.progress_every == 0) options.progress(done, total);
    }
  }
  for (auto& bot : bots) bot->flush();
  deliver();
  auto close_all = [&] {
    for (auto& bot : bots) {
      std::vector<Symbol> held;
      for (const auto& [symbol, p] : bot->trader().positions()) held.push_back(symbol);
      for (const Symbol& s : held) (void)bot->trader().close(s, OrderPurpose::end_of_run);
    }
  };
  const bool end_flat = options.end == EndOfRun::close_at_last_close;
  if (end_flat) close_all();
  // Whatever still waits for a next open (entries decided on the last bar, end-of-run exits).
  venue.fill_waiting_at_last_close();
  deliver();
  if (end_flat) {
    // Entries filled just now at the last close are closed too: a run ends flat.
    close_all();
    venue.fill_waiting_at_last_close();
    deliver();
  }
  if (current) {
    if (!result.equity.empty() && result.equity.back().time == *current) result.equity.pop_back();
    record_equity(*current);
  }

  for (auto& bot : bots) {
    for (const auto& t : bot->trader().trades()) result.trades.push_back(t);
    for (const auto& [symbol, p] : bot->trader().positions()) result.open_positions.push_back({bot->name(), p});
  }
  std::stable_sort(result.trades.begin(), result.trades.end(),
                   [](const TradeRecord& a, const TradeRecord& b) { return a.exit_time < b.exit_time; });
  result.candles = total;
  result.ledger = ledger->stats();

  MetricsInput in;
  in.initial_equity = options.ledger.initial_capital;
  in.equity = std::move(result.equity);  // lent to the metrics, not copied
  // Buy and hold from the first traded bar of the first series.
  auto first_traded = data[0].candles.begin();
  if (trade_from) {
    first_traded = std::lower_bound(data[0].candles.begin(), data[0].candles.end(), *trade_from,
                                    [](const Candle& c, TimestampMs t) { return c.open_time < t; });
    if (first_traded == data[0].candles.end()) first_traded = std::prev(data[0].candles.end());
  }
  in.first_close = first_traded->close;
  in.last_close = data[0].candles.back().close;
  in.risk_free_rate = options.risk_free_rate;
  for (const auto& t : result.trades) {
    in.trades.push_back(ClosedTrade{floor_ms(t.entry_time), floor_ms(t.exit_time), t.entry_price, t.exit_price,
                                    t.side == Side::buy ? t.quantity : -t.quantity, t.pnl, t.fees, t.return_pct});
  }
  result.metrics = compute_metrics(in);
  result.equity = std::move(in.equity);
  return result;
}

namespace {

void write_duration(JsonWriter& w, std::string_view key, Duration d) {
  w.field(key, std::chrono::duration_cast<std::chrono::seconds>(d).count());
}

}  // namespace

std::string to_json(const BacktestResult& r) {
  const Metrics& m = r.metrics;
  JsonWriter w;
  w.begin_object();
  w.field("fill_model", r.fill_model);
  w.field("series", static_cast<std::uint64_t>(r.series));
  w.field("candles", static_cast<std::uint64_t>(r.candles));
  w.key("metrics").begin_object();
  w.field("start", format_iso8601(m.start));
  w.field("end", format_iso8601(m.end));
  write_duration(w, "duration_s", m.duration);
  w.field("exposure_time_pct", m.exposure_time_pct);
  w.field("equity_final", m.equity_final);
  w.field("equity_peak", m.equity_peak);
  w.field("return_pct", m.return_pct);
  w.field("buy_and_hold_return_pct", m.buy_and_hold_return_pct);
  w.field("return_ann_pct", m.return_ann_pct);
  w.field("volatility_ann_pct", m.volatility_ann_pct);
  w.field("cagr_pct", m.cagr_pct);
  w.field("sharpe", m.sharpe);
  w.field("sortino", m.sortino);
  w.field("calmar", m.calmar);
  w.field("max_drawdown_pct", m.max_drawdown_pct);
  w.field("avg_drawdown_pct", m.avg_drawdown_pct);
  write_duration(w, "max_drawdown_duration_s", m.max_drawdown_duration);
  write_duration(w, "avg_drawdown_duration_s", m.avg_drawdown_duration);
  w.field("trades", static_cast<std::uint64_t>(m.trades));
  w.field("win_rate_pct", m.win_rate_pct);
  w.field("best_trade_pct", m.best_trade_pct);
  w.field("worst_trade_pct", m.worst_trade_pct);
  w.field("avg_trade_pct", m.avg_trade_pct);
  write_duration(w, "max_trade_duration_s", m.max_trade_duration);
  write_duration(w, "avg_trade_duration_s", m.avg_trade_duration);
  w.field("profit_factor", m.profit_factor);
  w.field("expectancy_pct", m.expectancy_pct);
  w.field("sqn", m.sqn);
  w.field("kelly", m.kelly);
  w.field("commissions", m.commissions);
  w.end_object();
  w.key("trades").begin_array();
  for (const auto& t : r.trades) {
    w.begin_object();
    w.field("bot", t.bot);
    w.field("symbol", t.symbol.str());
    w.field("side", to_string(t.side));
    w.field("quantity", t.quantity);
    w.field("entry_time", format_iso8601(t.entry_time));
    w.field("entry_price", t.entry_price);
    w.field("exit_time", format_iso8601(t.exit_time));
    w.field("exit_price", t.exit_price);
    w.field("exit", to_string(t.exit_purpose));
    w.field("gross_pnl", t.gross_pnl);
    w.field("fees", t.fees);
    w.field("pnl", t.pnl);
    w.field("return_pct", t.return_pct * 100);
    w.field("reason", t.entry_reason);
    w.end_object();
  }
  w.end_array();
  w.key("open_positions").begin_array();
  for (const auto& o : r.open_positions) {
    w.begin_object();
    w.field("bot", o.bot);
    w.field("symbol", o.position.symbol.str());
    w.field("side", to_string(o.position.side));
    w.field("quantity", o.position.quantity);
    w.field("entry_price", o.position.entry_price);
    w.field("last_price", o.position.last_price);
    w.end_object();
  }
  w.end_array();
  w.key("equity").begin_array();
  for (const auto& p : r.equity) {
    w.begin_array().value(to_epoch_ms(p.time)).value(p.equity).end_array();
  }
  w.end_array();
  w.end_object();
  return w.take();
}

}  // namespace twinstar
