// The fetcher and the market feed against `twinstar sim` over real loopback sockets, on a
// ManualClock the test drives (bounded in steps and real time).
#include <atomic>
#include <thread>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "feed/feed_metrics.hpp"
#include "feed/kline_fetcher.hpp"
#include "feed/market_feed.hpp"
#include "feed/store_sink.hpp"
#include "ratelimit/limiter.hpp"
#include "store/candle_store.hpp"
#include "test_client.hpp"
#include "venue/sim/sim_server.hpp"

namespace twinstar::feed {
namespace {

using namespace std::chrono_literals;

class Recorder final : public CandleConsumer {
 public:
  void on_candle(const SeriesKey& series, const Candle& c) override {
    std::lock_guard lock(mutex_);
    seen_.emplace_back(series, c);
  }
  std::vector<std::pair<SeriesKey, Candle>> seen() const {
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<SeriesKey, Candle>> seen_;
};

class FeedSim : public ::testing::Test {
 protected:
  void TearDown() override {
    if (feed) feed->stop();
    if (sim) sim->stop();
  }

  void start_sim() {
    options.tick = 1ms;
    options.server.port = 0;
    options.history = 24h;
    options.push_period = 30s;  // fewer open-candle updates: the test is about closes and gaps
    auto names = venue::sim::make_market_source(options, clock.now());
    ASSERT_TRUE(names);
    for (const auto& spec : (*names)->instruments()) symbols.push_back(spec.symbol);
    auto source = venue::sim::make_market_source(options, clock.now());
    sim = std::make_unique<venue::sim::SimServer>(options, std::move(*source), clock);
    ASSERT_TRUE(sim->start());
    http = std::make_unique<twinstar::testing::HttpClient>(sim->port());
  }

  SeriesKey key(const Symbol& s) const { return SeriesKey{Exchange::bybit, Market::linear, s, Interval::m1}; }

  simdjson::dom::element stats(simdjson::dom::parser& parser, std::string& body) {
    auto r = http->get("/sim/stats");
    EXPECT_TRUE(r);
    body = r ? r->body : "{}";
    return parser.parse(body).value();
  }

  // Advances the simulated clock by `step` every `pause` of real time, `steps` times or until
  // `done` holds.
  template <class Done>
  bool drive(int steps, Duration step, Done done, std::chrono::milliseconds pause = 2ms) {
    for (int i = 0; i < steps; ++i) {
      if (done()) return true;
      clock.advance(step);
      std::this_thread::sleep_for(pause);
    }
    return done();
  }

  ManualClock clock{*parse_iso8601("2025-01-01T00:00:00Z")};
  venue::sim::SimOptions options;
  std::unique_ptr<venue::sim::SimServer> sim;
  std::unique_ptr<twinstar::testing::HttpClient> http;
  std::vector<Symbol> symbols;
  RateLimiterRegistry registry{clock};
  std::unique_ptr<MarketFeed> feed;
};

TEST_F(FeedSim, fetcher_pages_any_range_through_the_limiter_oldest_first) {
  start_sim();
  auto limiter = registry.limiter(Exchange::bybit, "public");
  ASSERT_TRUE(limiter);
  auto fetcher = KlineFetcher::create(Exchange::bybit, Market::linear, sim->rest_url(), *limiter, clock);
  ASSERT_TRUE(fetcher) << fetcher.error().message;
  const auto to = floor_ms(clock.now()) - 10min;
  const auto from = to - 1190min;
  auto candles = (*fetcher)->fetch_all(key(symbols[0]), from, to);
  ASSERT_TRUE(candles) << candles.error().message;
  ASSERT_EQ(candles->size(), 1190u);
  for (std::size_t i = 0; i < candles->size(); ++i) {
    EXPECT_EQ((*candles)[i].open_time, from + std::chrono::minutes(i));
    EXPECT_TRUE((*candles)[i].closed);
  }
  EXPECT_EQ((*fetcher)->stats().requests, 2u);  // 1000 rows per page

  FetchOptions small;
  small.page_rows = 100;
  auto paged = KlineFetcher::create(Exchange::bybit, Market::linear, sim->rest_url(), *limiter, clock, small);
  auto again = (*paged)->fetch_all(key(symbols[1]), from, to);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->size(), 1190u);
  EXPECT_EQ((*paged)->stats().requests, 12u);
  EXPECT_EQ((*limiter)->stats().requests, 14u);  // every request went through the shared limiter

  simdjson::dom::parser p;
  std::string body;
  EXPECT_EQ(std::int64_t(stats(p, body)["violations"]), 0);
}

// The original system spent 100 requests (2 per symbol) to warm 50 symbols up; 1000-row pages
// do it in one request each, through the shared limiter.
TEST_F(FeedSim, cold_start_of_50_symbols_x_1000_candles_takes_one_request_per_symbol) {
  start_sim();
  auto limiter = registry.limiter(Exchange::bybit, "public");
  auto fetcher = KlineFetcher::create(Exchange::bybit, Market::linear, sim->rest_url(), *limiter, clock);
  ASSERT_TRUE(fetcher);
  const auto to = floor_ms(interval_floor(Interval::m1, clock.now()));
  const auto began = std::chrono::steady_clock::now();
  std::int64_t candles = 0;
  for (const auto& s : symbols) {
    auto got = (*fetcher)->fetch_all(key(s), to - 1000min, to);
    ASSERT_TRUE(got) << got.error().message;
    candles += static_cast<std::int64_t>(got->size());
  }
  const auto took = std::chrono::steady_clock::now() - began;
  EXPECT_EQ(candles, 50 * 1000);
  EXPECT_EQ((*fetcher)->stats().requests, 50u);
  std::printf("cold start: 50 symbols x 1000 candles in %lld ms, %llu requests\n",
              (long long)std::chrono::duration_cast<std::chrono::milliseconds>(took).count(),
              (unsigned long long)(*fetcher)->stats().requests);
}

TEST_F(FeedSim, fetcher_retries_server_errors_and_refuses_unknown_symbols) {
  options.faults = *venue::sim::parse_fault_spec("rest5xx=0.3");
  start_sim();
  auto limiter = registry.limiter(Exchange::bybit, "public");
  FetchOptions o;
  o.page_rows = 50;
  o.max_attempts = 20;
  auto fetcher = KlineFetcher::create(Exchange::bybit, Market::linear, sim->rest_url(), *limiter, clock, o);
  ASSERT_TRUE(fetcher);
  const auto to = floor_ms(clock.now());
  std::atomic<bool> done{false};
  std::thread driver([&] {  // retries back off on the injected clock: keep it moving
    for (int i = 0; i < 20'000 && !done; ++i) {
      clock.advance(100ms);
      std::this_thread::sleep_for(100us);
    }
  });
  auto candles = (*fetcher)->fetch_all(key(symbols[0]), to - 500min, to);
  auto unknown = (*fetcher)->fetch_all(key(*Symbol::parse("NOPEUSDT")), to - 5min, to);
  done = true;
  driver.join();
  ASSERT_TRUE(candles) << candles.error().message;
  EXPECT_EQ(candles->size(), 500u);
  EXPECT_GT((*fetcher)->stats().retries, 0u);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(unknown.error().message.find("/v5/market/kline"), std::string::npos) << unknown.error().message;
}

TEST_F(FeedSim, two_consumers_share_one_topic_and_see_the_same_closed_candles_in_order) {
  start_sim();
  FeedOptions o;
  o.endpoints = *parse_endpoint_override(Exchange::bybit, Market::linear, sim->rest_url());
  o.stale_after = 10min;
  auto created = MarketFeed::create(o, registry, clock);
  ASSERT_TRUE(created) << created.error().message;
  feed = std::move(*created);
  auto a = std::make_shared<Recorder>();
  auto b = std::make_shared<Recorder>();
  auto c = std::make_shared<Recorder>();
  ASSERT_TRUE(feed->subscribe(symbols[0], Interval::m1, a));
  auto b_id = feed->subscribe(symbols[0], Interval::m1, b);
  ASSERT_TRUE(b_id);
  ASSERT_TRUE(feed->subscribe(symbols[1], Interval::m1, c, /*want_open=*/true));
  EXPECT_EQ(feed->stats().topics, 2u);
  EXPECT_EQ(feed->stats().subscribers, 3u);
  ASSERT_TRUE(feed->start());
  ASSERT_TRUE(drive(3000, 1s, [&] { return a->seen().size() >= 5 && b->seen().size() >= 5; }));
  feed->unsubscribe(*b_id);
  EXPECT_EQ(feed->stats().topics, 2u);  // a still holds it
  const auto b_count = b->seen().size();
  ASSERT_TRUE(drive(3000, 1s, [&] { return a->seen().size() >= b_count + 3; }));
  observe::MetricsRegistry metrics;
  auto handle = register_feed_metrics(metrics, *feed);
  const auto text = metrics.render_prometheus();
  EXPECT_NE(text.find("twinstar_feed_topics{exchange=\"bybit\",market=\"linear\"} 2"), std::string::npos) << text;
  EXPECT_NE(text.find("twinstar_feed_queue_coalesced_total"), std::string::npos);
  EXPECT_NE(text.find("twinstar_feed_gaps_total"), std::string::npos);
  handle.reset();
  feed->stop();
  EXPECT_EQ(b->seen().size(), b_count);  // nothing after its unsubscribe
  const auto sa = a->seen();
  const auto sb = b->seen();
  for (std::size_t i = 0; i < sb.size(); ++i) EXPECT_EQ(sa[i].second, sb[i].second);
  for (std::size_t i = 1; i < sa.size(); ++i) EXPECT_EQ(sa[i].second.open_time, sa[i - 1].second.open_time + 1min);
  bool saw_open = false;
  for (const auto& [k, candle] : c->seen()) saw_open |= !candle.closed;
  EXPECT_TRUE(saw_open);
  EXPECT_EQ(feed->stats().connections_opened, 1u);
}

TEST_F(FeedSim, fifty_symbols_on_one_connection_end_with_no_gaps_or_duplicates_through_faults) {
  options.faults = *venue::sim::parse_fault_spec("drop=300s,stall=420s:90s,dup=0.02,rest5xx=0.05,timeout=0.01:5s,refuse=900s:20s");
  start_sim();
  ASSERT_EQ(symbols.size(), 50u);
  auto store = store::CandleStore::open(store::StoreOptions{.ring_capacity = 5000, .max_resident_series = 100}, clock);
  ASSERT_TRUE(store);
  // History ends two hours ago: the feed backfills that at start, then every gap after a cut.
  const auto history_end = floor_ms(clock.now()) - 2h;
  FeedOptions o;
  o.endpoints = *parse_endpoint_override(Exchange::bybit, Market::linear, sim->rest_url());
  o.stale_after = 60s;  // a stall of 90 s is noticed and the connection replaced
  o.last_stored = [&](const SeriesKey&) -> std::optional<TimestampMs> { return history_end; };
  auto created = MarketFeed::create(o, registry, clock);
  ASSERT_TRUE(created);
  feed = std::move(*created);
  auto sink = std::make_shared<StoreSink>(**store);
  for (const auto& s : symbols) ASSERT_TRUE(feed->subscribe(s, Interval::m1, sink));
  ASSERT_TRUE(feed->start());

  const auto start = clock.now();
  drive(40 * 60, 1s, [&] { return clock.now() - start >= 40min; });
  // Let the feed catch up: every series closed up to the last minute.
  auto caught_up = [&] {
    const auto last_closed = floor_ms(interval_floor(Interval::m1, clock.now())) - 1min;
    for (const auto& s : symbols) {
      auto snap = (*store)->snapshot(key(s));
      if (!snap || snap->closed.empty() || snap->closed.back().open_time < last_closed) return false;
    }
    return true;
  };
  ASSERT_TRUE(drive(3000, 100ms, caught_up, 5ms)) << "feed did not catch up";
  const auto st = feed->stats();
  EXPECT_LE(st.connections_open, 1u);
  {
    simdjson::dom::parser p;
    std::string body;
    auto j = stats(p, body);
    EXPECT_EQ(std::int64_t(j["ws"]["topics"]), 50) << body;  // one connection carries all 50
    EXPECT_LE(std::int64_t(j["connections"]["ws_open"]), 1) << body;
  }
  feed->stop();

  for (const auto& s : symbols) {
    auto snap = (*store)->snapshot(key(s));
    ASSERT_TRUE(snap);
    ASSERT_FALSE(snap->closed.empty());
    EXPECT_EQ(snap->closed.front().open_time, history_end + 1min) << s;
    for (std::size_t i = 1; i < snap->closed.size(); ++i) {
      ASSERT_EQ(snap->closed[i].open_time, snap->closed[i - 1].open_time + 1min) << s << " at " << i;
    }
  }
  EXPECT_EQ(sink->errors(), 0u);
  EXPECT_GE(st.reconnects, 3u);   // drops and the stall
  EXPECT_GE(st.gaps, 50u);        // at least the start backfill of every series
  EXPECT_GT(st.gap_candles_filled, 50u * 120u - 1);
  EXPECT_EQ(st.queue.dropped_open, 0u);
  EXPECT_EQ(st.venue_gap_candles, 0u);
  simdjson::dom::parser p;
  std::string body;
  auto j = stats(p, body);
  EXPECT_EQ(std::int64_t(j["violations"]), 0) << body;
  EXPECT_GE(std::int64_t(j["faults"]["drop"]), 1);
  std::printf("feed: reconnects=%llu gaps=%llu filled=%llu backfill_requests=%llu duplicates=%llu frames=%llu coalesced=%llu\n",
              (unsigned long long)st.reconnects, (unsigned long long)st.gaps, (unsigned long long)st.gap_candles_filled,
              (unsigned long long)st.backfill_requests, (unsigned long long)st.duplicates, (unsigned long long)st.frames,
              (unsigned long long)st.queue.coalesced);
  RecordProperty("reconnects", static_cast<int>(st.reconnects));
  RecordProperty("gap_candles_filled", static_cast<int>(st.gap_candles_filled));
  RecordProperty("backfill_requests", static_cast<int>(st.backfill_requests));
}

}  // namespace
}  // namespace twinstar::feed
