#include "app/feed_command.hpp"

#include <csignal>
#include <ctime>
#include <memory>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "core/clock.hpp"
#include "engine/rate_limits.hpp"
#include "feed/kline_fetcher.hpp"
#include "feed/market_feed.hpp"
#include "feed/store_sink.hpp"
#include "feed/venue_codec.hpp"
#include "store/candle_store.hpp"
#include "venue/common/kline_request.hpp"

namespace twinstar {

namespace {

struct FeedCliOptions {
  std::string exchange = "bybit";
  std::string market = "linear";
  std::vector<std::string> symbols;
  std::string interval = "1m";
  std::string endpoint;
  std::string from;
  std::string to;
  double run_for = 0;  // real seconds; 0 = until Ctrl-C
  bool no_store = false;
};

[[noreturn]] void fail(std::string_view command, const std::string& msg) {
  fmt::print(stderr, "twinstar {}: {}\n", command, msg);
  throw CommandFailed{2};
}

template <class T>
T value_or_fail(std::string_view command, Result<T> r, std::string_view what) {
  if (!r) fail(command, fmt::format("{}: {}", what, r.error().message));
  return std::move(*r);
}

struct Venue {
  Exchange exchange;
  Market market;
  Interval interval;
  feed::MarketEndpoints endpoints;
  std::vector<Symbol> symbols;
};

Venue resolve(std::string_view command, const FeedCliOptions& cli) {
  Venue v{};
  v.exchange = value_or_fail(command, parse_exchange(cli.exchange), "--exchange");
  v.market = value_or_fail(command, parse_market(cli.market), "--market");
  v.interval = value_or_fail(command, parse_interval(cli.interval), "--interval");
  if (auto vi = venue_interval(v.exchange, v.market, v.interval); !vi) {
    fail(command, fmt::format("--interval: {} {} has no {} candles", v.exchange, v.market, v.interval));
  }
  v.endpoints = cli.endpoint.empty()
                    ? value_or_fail(command, feed::default_endpoints(v.exchange, v.market), "endpoints")
                    : value_or_fail(command, feed::parse_endpoint_override(v.exchange, v.market, cli.endpoint), "--endpoint");
  if (cli.symbols.empty()) fail(command, "--symbols: give at least one symbol, e.g. --symbols BTCUSDT,ETHUSDT");
  for (const auto& s : cli.symbols) {
    const auto plain = value_or_fail(command, Symbol::parse(s), "--symbols");
    // Stored under the venue's spelling, as the live feed reports it (OKX: BTC-USDT-SWAP).
    v.symbols.push_back(value_or_fail(command, feed::venue_symbol(v.exchange, v.market, plain), "--symbols"));
  }
  return v;
}

std::unique_ptr<store::CandleStore> open_store(std::string_view command, const AppOptions& options, const Clock& clock) {
  store::StoreOptions so;
  so.data_dir = options.config().data_dir;
  return value_or_fail(command, store::CandleStore::open(so, clock), fmt::format("candle store in {}", so.data_dir.string()));
}

// Prints closed candles as they arrive. Thread: the feed's dispatcher.
class CandlePrinter final : public feed::CandleConsumer {
 public:
  void on_candle(const SeriesKey& s, const Candle& c) override {
    fmt::print("{} {} {} {} o={} h={} l={} c={} v={}\n", format_iso8601(c.open_time), s.exchange, s.symbol, s.interval,
               c.open, c.high, c.low, c.close, c.volume);
    std::fflush(stdout);
  }
  void on_refused(const SeriesKey& s, std::string_view reason) override {
    fmt::print(stderr, "refused by the venue: {} {} {} ({}); not resent until the next reconnect\n", s.exchange, s.symbol,
               s.interval, reason);
  }
};

// Blocks SIGINT/SIGTERM and waits up to `seconds` for one; true when one arrived.
bool wait_signal(const sigset_t& signals, double seconds) {
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(seconds);
  ts.tv_nsec = static_cast<long>((seconds - static_cast<double>(ts.tv_sec)) * 1e9);
  return sigtimedwait(&signals, nullptr, &ts) > 0;
}

void run_feed(const FeedCliOptions& cli, const AppOptions& options) {
  constexpr std::string_view kCmd = "feed";
  const Venue v = resolve(kCmd, cli);
  Clock& clock = RealClock::instance();
  RateLimiterRegistry registry(clock);
  if (auto st = configure_rate_limits(registry, options.config().rate_limits, options.config().source); !st) {
    fail(kCmd, st.error().message);
  }
  std::unique_ptr<store::CandleStore> store;
  if (!cli.no_store) store = open_store(kCmd, options, clock);

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before any thread starts, so they inherit it

  feed::FeedOptions fo;
  fo.exchange = v.exchange;
  fo.market = v.market;
  fo.endpoints = v.endpoints;
  if (store) fo.last_stored = feed::last_stored_in(*store);
  auto f = value_or_fail(kCmd, feed::MarketFeed::create(fo, registry, clock), "feed");
  auto printer = std::make_shared<CandlePrinter>();
  std::shared_ptr<feed::StoreSink> sink;
  if (store) sink = std::make_shared<feed::StoreSink>(*store);
  for (const auto& s : v.symbols) {
    value_or_fail(kCmd, f->subscribe(s, v.interval, printer), fmt::format("subscribe {}", s));
    if (sink) value_or_fail(kCmd, f->subscribe(s, v.interval, sink), fmt::format("subscribe {}", s));
  }
  fmt::print(stderr, "twinstar feed: {} {} {} symbols {} via {}\n", v.exchange, v.market, v.symbols.size(), v.interval,
             v.endpoints.ws_url);
  if (auto st = f->start(); !st) fail(kCmd, st.error().message);

  const auto started = std::chrono::steady_clock::now();
  while (true) {
    double slice = 5.0;
    if (cli.run_for > 0) {
      const double left = cli.run_for - std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      if (left <= 0) break;
      slice = std::min(slice, left);
    }
    if (wait_signal(signals, slice)) break;
    const auto s = f->stats();
    fmt::print(stderr,
               "feed: connections {} topics {} reconnects {} frames {} closed {} gaps {} filled {} duplicates {} "
               "refused {} retried {} queue {}/{} coalesced {}\n",
               s.connections_open, s.topics, s.reconnects, s.frames, s.closed_candles, s.gaps, s.gap_candles_filled,
               s.duplicates, s.subscribe_errors, s.refused_retries, s.queue.depth, s.queue.capacity, s.queue.coalesced);
    if (store) {
      if (auto r = store->flush(); !r) spdlog::warn("store flush: {}", r.error().message);
    }
  }
  f->stop();
  if (store) {
    if (auto r = store->flush(); !r) fail(kCmd, "final store flush: " + r.error().message);
  }
  pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);
  const auto s = f->stats();
  fmt::print(stderr, "twinstar feed: stopped; {} closed candles, {} reconnects, {} gap candles filled, {} REST calls\n",
             s.closed_candles, s.reconnects, s.gap_candles_filled, s.backfill_requests);
}

void run_download(const FeedCliOptions& cli, const AppOptions& options) {
  constexpr std::string_view kCmd = "download";
  const Venue v = resolve(kCmd, cli);
  Clock& clock = RealClock::instance();
  if (cli.from.empty()) fail(kCmd, "--from is required, e.g. --from 2024-01-01");
  const auto from = floor_ms(value_or_fail(kCmd, parse_iso8601(cli.from), "--from"));
  const auto to = cli.to.empty() ? floor_ms(interval_floor(v.interval, clock.now()))
                                 : floor_ms(value_or_fail(kCmd, parse_iso8601(cli.to), "--to"));
  if (to <= from) fail(kCmd, fmt::format("--to ({}) must be after --from ({})", format_iso8601(to), format_iso8601(from)));
  RateLimiterRegistry registry(clock);
  if (auto st = configure_rate_limits(registry, options.config().rate_limits, options.config().source); !st) {
    fail(kCmd, st.error().message);
  }
  auto limiter = value_or_fail(kCmd, registry.limiter(v.exchange, "public", v.market), "rate limiter");
  auto store = open_store(kCmd, options, clock);
  auto fetcher = value_or_fail(kCmd, feed::KlineFetcher::create(v.exchange, v.market, v.endpoints.rest_url, limiter, clock),
                               "fetcher");
  std::int64_t total_new = 0;
  for (const auto& symbol : v.symbols) {
    const SeriesKey key{v.exchange, v.market, symbol, v.interval};
    // Resumable: start after the newest stored candle when it lies inside the range.
    TimestampMs start = from;
    if (auto gap = store->gap_to_now(key); gap && gap->last_stored && *gap->last_stored >= from) {
      start = floor_ms(interval_next(v.interval, Timestamp(*gap->last_stored)));
    }
    const auto expected = venue::count_opens(v.interval, start, to);
    if (expected == 0) {
      fmt::print("{} {}: already stored up to {}\n", symbol, v.interval, format_iso8601(to));
      continue;
    }
    std::int64_t got = 0;
    auto n = fetcher->fetch(key, start, to, [&](std::span<const Candle> candles) -> Status {
      auto w = store->write_history(key, candles);
      if (!w) return std::unexpected(w.error());
      got += static_cast<std::int64_t>(candles.size());
      fmt::print("\r{} {}: {:3}% {} / {} candles, {} requests", symbol, v.interval, expected ? got * 100 / expected : 100,
                 got, expected, fetcher->stats().requests);
      std::fflush(stdout);
      return {};
    });
    fmt::print("\n");
    if (!n) fail(kCmd, fmt::format("{} {}: {}", symbol, v.interval, n.error().message));
    if (*n < expected) {
      fmt::print("{} {}: the venue has {} fewer candles than the range holds (before listing, or venue gaps)\n", symbol,
                 v.interval, expected - *n);
    }
    total_new += *n;
  }
  if (auto r = store->flush(); !r) fail(kCmd, "store flush: " + r.error().message);
  const auto& st = fetcher->stats();
  fmt::print("twinstar download: {} candles stored, {} requests ({} retried, {} rate limited)\n", total_new, st.requests,
             st.retries, st.rate_limited);
}

void add_venue_options(CLI::App* cmd, FeedCliOptions& cli) {
  cmd->add_option("--exchange", cli.exchange, "bybit, binance, okx or bitget (default bybit)");
  cmd->add_option("--market", cli.market, "spot or linear (default linear)");
  cmd->add_option("--symbols,--symbol", cli.symbols, "Symbols, comma-separated: BTCUSDT,ETHUSDT")->delimiter(',')->required();
  cmd->add_option("--interval", cli.interval, "Candle interval: 1m, 5m, 15m, 1h, 4h, 1d, ... (default 1m)");
  cmd->add_option("--endpoint", cli.endpoint,
                  "REST_URL[,WS_URL] instead of mainnet, e.g. http://127.0.0.1:PORT for `twinstar sim`")
      ->type_name("URL");
}

}  // namespace

void add_feed_command(CLI::App& root, AppOptions& options) {
  auto feed_cli = std::make_shared<FeedCliOptions>();
  auto* feed = root.add_subcommand(
      "feed", "Live candles of many symbols over one multiplexed WebSocket: printed as they close and stored,\n"
              "with reconnect and REST gap backfill (docs/FEED.md)");
  add_venue_options(feed, *feed_cli);
  feed->add_option("--run-for", feed_cli->run_for, "Stop after this many real seconds (default: until Ctrl-C)");
  feed->add_flag("--no-store", feed_cli->no_store, "Print only; do not write the candle store");
  feed->callback([feed_cli, &options] { run_feed(*feed_cli, options); });

  auto dl_cli = std::make_shared<FeedCliOptions>();
  auto* download = root.add_subcommand(
      "download", "History over REST into the candle store, through the rate limiter; resumes after the newest stored candle");
  add_venue_options(download, *dl_cli);
  download->add_option("--from", dl_cli->from, "First candle, ISO 8601 (2024-01-01 or 2024-01-01T00:00:00Z)")->required();
  download->add_option("--to", dl_cli->to, "End (exclusive), ISO 8601 (default: the candle forming now)");
  download->callback([dl_cli, &options] { run_download(*dl_cli, options); });
}

}  // namespace twinstar
