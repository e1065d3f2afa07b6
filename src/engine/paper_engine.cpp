#include "engine/paper_engine.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <spdlog/spdlog.h>

#include "bot/bot_factory.hpp"
#include "core/clock.hpp"
#include "engine/bot_control.hpp"
#include "engine/rate_limits.hpp"
#include "strategy/strategy.hpp"
#include "venue/sim/market.hpp"

namespace twinstar {

namespace {

using SimMarket = venue::sim::Market;

// Market orders filled at the simulated market's price now, after the shared limiter granted
// the order call (as the Bybit adapter will do over REST). Fills are queued and delivered after
// submit() returns, so a bot is never re-entered from its own submit().
class InProcessVenue final : public OrderGateway {
 public:
  InProcessVenue(SimMarket& market, VenueLimiter& limiter, Cost order_cost, Clock& clock, Ratio fee, Ratio slippage)
      : market_(market), limiter_(limiter), order_cost_(order_cost), clock_(clock), fee_(fee), slippage_(slippage) {}

  Status submit(const OrderRequest& r) override {
    ++orders_;
    // Orders wait for the limiter (trading priority) at most 5 simulated seconds.
    if (auto granted = limiter_.acquire_for(order_cost_, Priority::trading, std::chrono::seconds(5)); !granted) {
      ++refusals_;
      return granted;
    }
    auto index = market_.find(r.symbol.view());
    if (!index) {
      updates_.push_back(OrderUpdate{r.client_id, OrderStatus::rejected, {}, {}, {}, clock_.now(), "symbol not listed"});
      return {};
    }
    const Price mid = market_.price_at(*index, clock_.now());
    const Price slip = Price::from_raw(detail::mul_div(mid.raw(), slippage_.raw(), kDecimalScale, Rounding::up).value_or(0));
    const Price price = r.side == Side::buy ? mid + slip : mid - slip;
    const Money fees = apply_ratio(notional(price, r.quantity), fee_, Rounding::up);
    updates_.push_back(OrderUpdate{r.client_id, OrderStatus::filled, r.quantity, price, fees, clock_.now(), ""});
    ++fills_;
    return {};
  }
  Status cancel(const std::string& client_id, const Symbol&) override {
    return make_error(ErrorCode::not_found, "order {} is not open (market orders fill at once)", client_id);
  }
  std::vector<OrderUpdate> drain() {
    std::vector<OrderUpdate> out;
    out.swap(updates_);
    return out;
  }
  std::uint64_t orders() const { return orders_; }
  std::uint64_t fills() const { return fills_; }
  std::uint64_t refusals() const { return refusals_; }

 private:
  SimMarket& market_;
  VenueLimiter& limiter_;
  Cost order_cost_;
  Clock& clock_;
  Ratio fee_;
  Ratio slippage_;
  std::vector<OrderUpdate> updates_;
  std::uint64_t orders_ = 0, fills_ = 0, refusals_ = 0;
};


}  // namespace

std::vector<BotConfig> default_demo_bots(std::size_t market_symbols) {
  auto synthetic = venue::sim::make_synthetic_source({.symbols = std::max<std::size_t>(market_symbols, 31)});
  const auto& instruments = synthetic->instruments();
  BotConfig single;
  single.name = "single";
  single.kind = "single";
  single.symbols = {instruments.front().symbol.str()};
  single.interval = Interval::m15;
  single.strategy = "ma_cross";
  single.params = {{"fast", 10}, {"slow", 30}};
  single.sizing.mode = "fixed_quote";
  single.sizing.amount = Money::from_units(1500);
  single.sizing.lot_size = Quantity::from_raw(100'000);  // 0.001
  single.allow_short = true;
  BotConfig multi;
  multi.name = "multi";
  multi.kind = "multi";
  for (std::size_t i = 1; i <= 30 && i < instruments.size(); ++i) multi.symbols.push_back(instruments[i].symbol.str());
  multi.interval = Interval::m15;
  multi.strategy = "bollinger_breakout";
  multi.sizing.mode = "fixed_quote";
  multi.sizing.amount = Money::from_units(800);
  multi.sizing.lot_size = Quantity::from_raw(100'000);
  multi.max_positions = 6;
  multi.allow_short = true;
  return {single, multi};
}

std::string format_status(const EngineStatus& s) {
  const auto& c = s.capital;
  std::string out = fmt::format("── simulated time {} ──────────────────────────────\n", format_iso8601(s.sim_time));
  out += fmt::format("capital  equity {} | reserved {} | committed {} | allocation {:.1f} % of equity (cap {}) | ROI {:+.3f} % | "
                     "realized {} | fees {} | max drawdown {:.2f} %\n",
                     c.equity.to_string(2), c.reserved.to_string(2), c.committed.to_string(2),
                     c.allocation_ratio.to_double() * 100, c.cap.to_string(2), c.roi.to_double() * 100,
                     c.realized_pnl.to_string(2), c.fees.to_string(2), c.max_drawdown.to_double() * 100);
  out += fmt::format("limiter  {} requests | {} rejected ({:.2f} %) | mean wait {:.3f} ms (simulated) | orders {} filled {} | not sent {}\n",
                     s.limiter.total_requests, s.limiter.rejected_requests, s.limiter.rejection_rate * 100,
                     s.limiter.avg_wait_time * 1000, s.orders, s.fills, s.limiter_refusals);
  out += fmt::format("data     {} series ({} resident) | {} candles in memory ({} KiB) | {} flushed in {} flushes | gaps {}\n",
                     s.data.series_known, s.data.series_resident, s.data.candles_resident, s.data.resident_bytes / 1024,
                     s.data.candles_flushed, s.data.flushes, s.gaps);
  if (s.feed) {
    out += fmt::format("feed     {} connections | {} reconnects | {} closed candles | {} gaps, {} candles backfilled | queue {} | "
                       "candle->order p50 {:.0f} us p99 {:.0f} us\n",
                       s.feed->connections, s.feed->reconnects, s.feed->closed_candles, s.feed->gaps, s.feed->gap_candles_filled,
                       s.feed->queue_depth, s.candle_to_order_p50_ns / 1e3, s.candle_to_order_p99_ns / 1e3);
  }
  for (const auto& b : s.bots) {
    out += fmt::format("bot {:<6} {} {} symbol(s), {} | positions {} | trades {} | realized {} | last signal: {}{}\n", b.name, b.kind,
                       b.symbols.size(), b.state, b.positions, b.trades, b.realized_pnl.to_string(2),
                       b.last_signal.empty() ? "none" : b.last_signal,
                       b.last_refusal.empty() ? "" : fmt::format(" | last refusal: {}", b.last_refusal));
  }
  return out;
}

Status run_paper_engine(const PaperEngineOptions& options, std::stop_token stop,
                        const std::function<void(const EngineStatus&)>& report) {
  const std::vector<BotConfig> bot_configs = options.bots.empty() ? default_demo_bots(options.market_symbols) : options.bots;
  if (auto ok = validate_bots(bot_configs, "config"); !ok) return ok;

  venue::sim::SyntheticOptions market_options;
  market_options.symbols = options.market_symbols;
  market_options.seed = options.seed;
  market_options.start = interval_floor(Interval::m1, options.start);
  auto source = venue::sim::make_synthetic_source(market_options);
  const Timestamp start = source->default_start();
  SimMarket market(std::move(source));
  for (const auto& b : bot_configs) {
    for (const auto& s : b.symbols) {
      if (!market.find(s)) {
        return make_error(ErrorCode::config_error, "bot {}: the simulated market does not list {} (it has {} symbols: {}, ...)",
                          b.name, s, market.instruments().size(), market.instruments().front().symbol);
      }
    }
    if (!market.supports(b.interval)) return make_error(ErrorCode::config_error, "bot {}: interval {} not supported", b.name, b.interval);
  }

  std::optional<AcceleratedClock> accelerated;
  if (options.clock == nullptr) accelerated.emplace(start, options.speed);
  Clock& clock = options.clock != nullptr ? *options.clock : *accelerated;
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir / "capital", ec);
  if (ec) return make_error(ErrorCode::io_error, "cannot create {}: {}", (options.data_dir / "capital").string(), ec.message());
  const auto ledger_file = options.data_dir / "capital" / "paper.ledger.sqlite";
  if (options.fresh_ledger) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(ledger_file.string() + suffix, ec);
  }
  auto ledger = CapitalLedger::open(ledger_file, ledger_options(options.capital), clock);
  if (!ledger) return std::unexpected(ledger.error());

  RateLimiterRegistry limiters(clock);
  if (options.grant_observer) limiters.set_grant_observer(options.grant_observer);
  if (auto ok = configure_rate_limits(limiters, options.rate_limits, "config"); !ok) return ok;
  auto limiter = limiters.limiter(Exchange::bybit, "paper");
  if (!limiter) return std::unexpected(limiter.error());
  auto order_cost = (*limiter)->endpoint_cost("order_create_linear");
  if (!order_cost) return std::unexpected(order_cost.error());

  store::StoreOptions store_options;
  store_options.data_dir = options.data_dir;
  store_options.durability = store::Durability::rename_only;  // paper data: a crash may not lose it, a power cut may
  // Every watched series stays resident (with room for symbols added at run time): bots touch
  // each one every round, so evicting any of them would only flush and reload it each round.
  std::set<std::pair<std::string, Interval>> series_watched;
  for (const auto& b : bot_configs) {
    for (const auto& s : b.symbols) series_watched.emplace(s, b.interval);
  }
  store_options.max_resident_series = std::max(store_options.max_resident_series, 2 * series_watched.size());
  auto candles = store::CandleStore::open(store_options, clock);
  if (!candles) return std::unexpected(candles.error());

  InProcessVenue venue(market, **limiter, *order_cost, clock, options.taker_fee, options.slippage);
  SymbolClaims claims;
  std::vector<std::unique_ptr<Bot>> bots;
  for (const auto& c : bot_configs) {
    auto bot = make_bot(c, *ledger, venue, clock, claims);
    if (!bot) return std::unexpected(bot.error());
    if (options.on_trade) (*bot)->trader().on_trade = options.on_trade;
    bots.push_back(std::move(*bot));
  }
  auto deliver = [&] {
    for (const OrderUpdate& u : venue.drain()) {
      for (auto& bot : bots) {
        if (bot->trader().owns(u.client_id)) {
          bot->on_order_update(u);
          break;
        }
      }
    }
  };

  // Every series any bot watches, with the bots that watch it and the next close to wait for.
  struct Watched {
    SeriesKey key;
    std::size_t instrument;
    Timestamp next_open;
    std::vector<Bot*> bots;
  };
  std::map<SeriesKey, Watched> watched;
  for (auto& bot : bots) {
    for (const SeriesKey& key : bot->subscriptions()) {
      auto [it, inserted] = watched.try_emplace(key, Watched{key, *market.find(key.symbol.view()), {}, {}});
      it->second.bots.push_back(bot.get());
    }
  }
  // History for the strategies (recent closed candles of a series, oldest first), so they can
  // trade at once: at start, for a symbol added at run time, and after a parameter change.
  auto history_of = [&](const SeriesKey& key, std::size_t instrument) {
    const Timestamp current_open = interval_floor(key.interval, clock.now());
    const Timestamp from = current_open - interval_length(key.interval) * static_cast<std::int64_t>(options.warmup_candles);
    auto history = market.klines(instrument, key.interval, from, current_open - Duration(1), 1000, clock.now());
    std::reverse(history.begin(), history.end());  // Bybit order is newest first
    std::erase_if(history, [](const Candle& c) { return !c.closed; });
    return std::make_pair(std::move(history), current_open);
  };
  for (auto& bot : bots) bot->pause();
  for (auto& [key, w] : watched) {
    auto [history, current_open] = history_of(key, w.instrument);
    for (const Candle& c : history) {
      (void)(*candles)->append(key, c);
      for (Bot* b : w.bots) b->on_candle(key, c);
    }
    w.next_open = current_open;
  }
  for (auto& bot : bots) {
    bot->flush();
    bot->resume();
  }

  auto status = [&] {
    EngineStatus s;
    s.sim_time = clock.now();
    s.capital = ledger->stats();
    const auto limiter_stats = (*limiter)->stats();
    s.limiter = limiter_stats.summary();
    s.data = (*candles)->get_stats();
    for (const auto& gap : (*candles)->recovery_gaps()) s.gaps += static_cast<std::size_t>(std::max<std::int64_t>(0, gap.missing - 1));
    s.orders = venue.orders();
    s.fills = venue.fills();
    s.limiter_refusals = venue.refusals();
    for (const auto& bot : bots) s.bots.push_back(bot_status(*bot));
    return s;
  };

  // Run-time control, on this thread between events (engine_control.hpp).
  class Host final : public BotControl::Host {
   public:
    std::function<EngineStatus()> status_fn;
    std::function<Status(const SeriesKey&)> listed;
    std::function<void(Bot&, const std::vector<SeriesKey>&)> watch_fn;
    std::function<void(Bot&)> rewarm_fn;
    EngineStatus status() override { return status_fn(); }
    Status check_listed(const SeriesKey& key) override { return listed(key); }
    void watch(Bot& bot, const std::vector<SeriesKey>& added) override { watch_fn(bot, added); }
    void rewarm(Bot& bot) override { rewarm_fn(bot); }
  } host;
  host.status_fn = status;
  host.listed = [&](const SeriesKey& key) -> Status {
    if (market.find(key.symbol.view())) return {};
    return make_error(ErrorCode::invalid_argument, "the simulated market does not list {}", key.symbol);
  };
  host.watch_fn = [&](Bot& bot, const std::vector<SeriesKey>& keys) {
    for (const SeriesKey& key : keys) {
      auto [it, inserted] = watched.try_emplace(key, Watched{key, *market.find(key.symbol.view()), {}, {}});
      Watched& w = it->second;
      auto [history, current_open] = history_of(key, w.instrument);
      for (const Candle& c : history) {
        if (inserted) (void)(*candles)->append(key, c);
        bot.warm_up(key, c);
      }
      if (inserted) w.next_open = current_open;
      // A symbol dropped earlier and added again is still watched (stops of held positions).
      if (std::find(w.bots.begin(), w.bots.end(), &bot) == w.bots.end()) w.bots.push_back(&bot);
    }
  };
  host.rewarm_fn = [&](Bot& bot) {
    for (const SeriesKey& key : bot.subscriptions()) {
      auto it = watched.find(key);
      if (it == watched.end()) continue;
      for (const Candle& c : history_of(key, it->second.instrument).first) bot.warm_up(key, c);
    }
  };
  BotControl control(bots, host);
  // Jobs wait at most this long (real time) for the next turn of the loop.
  const Duration control_poll = options.mailbox != nullptr
                                    ? std::chrono::duration_cast<Duration>(std::chrono::duration<double>(0.05 * options.speed))
                                    : Duration::max();

  // The duration counts from the end of set-up: on a fast clock and a busy machine, opening the
  // store and the ledger can take simulated hours.
  const Timestamp trading_start = clock.now();
  const Timestamp end = options.duration ? trading_start + *options.duration : Timestamp::max();
  Timestamp next_report = trading_start + options.report_every;
  std::size_t rounds = 0;
  if (report) report(status());
  while (!stop.stop_requested()) {
    Timestamp next_close = end;
    for (const auto& [key, w] : watched) next_close = std::min(next_close, interval_next(key.interval, w.next_open));
    next_close = std::min(next_close, next_report);
    const Timestamp wake = control_poll == Duration::max() ? next_close : std::min(next_close, clock.now() + control_poll);
    if (!clock.sleep_until(wake, stop)) break;
    if (options.mailbox != nullptr) options.mailbox->run_pending(control);
    const Timestamp now = clock.now();
    bool any = false;
    for (auto& [key, w] : watched) {
      while (interval_next(key.interval, w.next_open) <= now) {
        auto candle = market.candle(w.instrument, key.interval, w.next_open, now);
        w.next_open = interval_next(key.interval, w.next_open);
        if (!candle || !candle->closed) continue;
        any = true;
        if (auto appended = (*candles)->append(key, *candle); !appended) {
          spdlog::warn("store refused {} {}: {}", key.symbol, format_iso8601(candle->open_time), appended.error().message);
        }
        for (Bot* b : w.bots) {
          b->on_candle(key, *candle);
          deliver();
        }
      }
    }
    for (auto& bot : bots) {
      bot->on_time(now);
      deliver();
    }
    if (any && ++rounds % 8 == 0) {
      if (auto flushed = (*candles)->flush(); !flushed) spdlog::error("candle flush failed: {}", flushed.error().message);
    }
    if (now >= next_report) {
      if (report) report(status());
      next_report += options.report_every;
    }
    if (now >= end) break;
  }
  // Stop: no new signals; in-process orders have already settled; persist what is in memory.
  if (options.mailbox != nullptr) options.mailbox->close();
  for (auto& bot : bots) bot->stop();
  if (auto flushed = (*candles)->flush(); !flushed) return std::unexpected(flushed.error());
  if (report) report(status());
  return {};
}

}  // namespace twinstar
