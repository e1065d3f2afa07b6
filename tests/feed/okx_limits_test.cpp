// Limits: a cold-start backfill of 100 OKX symbols through the shared limiter with the OKX
// preset never puts more than 20 history-candles requests in any 2 s window — checked by an
// independent sliding-window counter over the limiter's grants and by the (fake) venue itself.
// And a market-feed connection never sends more than OKX's 480 (un)subscribe operations an hour.
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <gtest/gtest.h>

#include "feed/kline_fetcher.hpp"
#include "feed/market_feed.hpp"
#include "net/http_types.hpp"
#include "net/server.hpp"

namespace twinstar::feed {
namespace {

using namespace std::chrono_literals;

// OKX's candles endpoints with synthetic 1H rows; records when (on the test clock) each arrived.
class FakeOkx : public net::ServerHandler {
 public:
  explicit FakeOkx(Clock& clock) : clock_(clock) {}
  net::HttpResponse on_http(const net::HttpRequest& r) override {
    std::int64_t after = 0, before = 0, limit = 100;
    for (const auto& [k, v] : net::parse_query(r.query)) {
      if (k == "after") after = std::stoll(v);
      if (k == "before") before = std::stoll(v);
      if (k == "limit") limit = std::stoll(v);
    }
    {
      std::lock_guard lock(mutex);
      arrivals[r.path].push_back(clock_.now());
    }
    // Newest first, open times strictly between before and after, on the hour grid.
    std::string rows;
    std::int64_t t = (after - 1) / 3'600'000 * 3'600'000;
    for (std::int64_t n = 0; n < limit && t > before; ++n, t -= 3'600'000) {
      rows += fmt::format(R"({}["{}","100","101","99","100.5","10","1000","1005","1"])", rows.empty() ? "" : ",", t);
    }
    net::HttpResponse res;
    res.body = R"({"code":"0","msg":"","data":[)" + rows + "]}";
    return res;
  }
  void on_ws_open(const std::shared_ptr<net::WsSession>&) override {}
  void on_ws_message(const std::shared_ptr<net::WsSession>&, std::string_view) override {}
  void on_ws_close(const std::shared_ptr<net::WsSession>&, std::string_view) override {}

  std::mutex mutex;
  std::map<std::string, std::vector<Timestamp>> arrivals;  // guarded by mutex

 private:
  Clock& clock_;
};

std::size_t max_in_window(std::vector<Timestamp> times, Duration window) {
  std::sort(times.begin(), times.end());
  std::size_t best = 0;
  std::size_t lo = 0;
  for (std::size_t hi = 0; hi < times.size(); ++hi) {
    while (times[hi] - times[lo] >= window) ++lo;
    best = std::max(best, hi - lo + 1);
  }
  return best;
}

TEST(OkxLimits, cold_start_of_100_symbols_never_exceeds_20_history_requests_per_2s) {
  ManualClock clock(*parse_iso8601("2025-06-01T00:00:00Z"));
  FakeOkx venue(clock);
  net::Server server(net::ServerOptions{}, venue);
  ASSERT_TRUE(server.start());
  RateLimiterRegistry registry(clock);
  std::mutex grants_mutex;
  std::map<std::string, std::vector<Timestamp>> grants;  // the independent counter's log
  registry.set_grant_observer([&](const GrantEvent& e) {
    std::lock_guard lock(grants_mutex);
    grants[std::string(e.bucket)].push_back(e.at);
  });
  auto limiter = registry.limiter(Exchange::okx, "public", Market::linear);
  ASSERT_TRUE(limiter);

  // 100 symbols, each 200 hourly candles that lie beyond /candles' 1,440 rows: history-candles.
  // Read before the clock driver starts, so `to` is on the hour grid: exactly 200 opens each.
  const auto to = floor_ms(clock.now()) - std::chrono::hours(2000);
  const auto from = to - std::chrono::hours(200);
  std::atomic<bool> done{false};
  // Simulated time runs at real pace: the venue counts arrivals, and any faster clock would
  // magnify the client's scheduling delays (long under sanitizers) into bunched arrivals that
  // no real network would produce. Bounded at 60 s.
  std::thread driver([&] {
    for (int i = 0; i < 60'000 && !done; ++i) {
      clock.advance(1ms);
      std::this_thread::sleep_for(1ms);
    }
  });
  std::atomic<std::int64_t> candles{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&, w] {
      auto f = KlineFetcher::create(Exchange::okx, Market::linear, fmt::format("http://127.0.0.1:{}", server.port()),
                                    *limiter, clock);
      if (!f) {
        ++failures;
        return;
      }
      for (int s = w; s < 100; s += 4) {
        const SeriesKey key{Exchange::okx, Market::linear, *Symbol::parse(fmt::format("C{:03d}USDT", s)), Interval::h1};
        auto got = (*f)->fetch_all(key, from, to);
        if (!got) {
          ++failures;
          ADD_FAILURE() << got.error().message;
          continue;
        }
        EXPECT_EQ(got->size(), 200u) << key.symbol << " after " << (*f)->stats().requests << " requests, "
                                     << (*f)->stats().retries << " retries";
        candles += static_cast<std::int64_t>(got->size());
      }
    });
  }
  for (auto& t : workers) t.join();
  done = true;
  driver.join();
  server.stop();

  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(candles.load(), 100 * 200);
  std::lock_guard lock(grants_mutex);
  ASSERT_FALSE(grants["history_candles"].empty());
  EXPECT_TRUE(grants["candles"].empty());
  EXPECT_LE(max_in_window(grants["history_candles"], 2s), 20u);
  std::lock_guard vlock(venue.mutex);
  const auto& seen = venue.arrivals["/api/v5/market/history-candles"];
  EXPECT_EQ(seen.size(), grants["history_candles"].size());
  EXPECT_LE(max_in_window(seen, 2s), 20u);
  std::printf("okx cold start: %zu requests for 100 symbols x 200 candles, max %zu per 2 s at the limiter, %zu at the venue\n",
              seen.size(), max_in_window(grants["history_candles"], 2s), max_in_window(seen, 2s));
}

// OKX's business WebSocket, as far as subscriptions go: counts each (un)subscribe frame on the
// test clock and acknowledges it; answers "ping".
class FakeOkxWs : public net::ServerHandler {
 public:
  explicit FakeOkxWs(Clock& clock) : clock_(clock) {}
  net::HttpResponse on_http(const net::HttpRequest&) override {
    net::HttpResponse res;
    res.status = 404;
    return res;
  }
  void on_ws_open(const std::shared_ptr<net::WsSession>&) override {}
  void on_ws_message(const std::shared_ptr<net::WsSession>& s, std::string_view text) override {
    if (text == "ping") {
      s->send(std::make_shared<const std::string>("pong"));
      return;
    }
    const bool sub = text.find(R"("op":"subscribe")") != std::string_view::npos;
    if (!sub && text.find(R"("op":"unsubscribe")") == std::string_view::npos) return;
    {
      std::lock_guard lock(mutex);
      ops.push_back(clock_.now());
    }
    const auto id_at = text.find(R"("id":")") + 6;
    const std::string id(text.substr(id_at, text.find('"', id_at) - id_at));
    const auto arg_at = text.find(R"({"channel")");
    const std::string arg(text.substr(arg_at, text.find('}', arg_at) - arg_at + 1));
    s->send(std::make_shared<const std::string>(
        fmt::format(R"({{"id":"{}","event":"{}","arg":{},"connId":"f00d"}})", id, sub ? "subscribe" : "unsubscribe", arg)));
  }
  void on_ws_close(const std::shared_ptr<net::WsSession>&, std::string_view) override {}
  std::size_t count() {
    std::lock_guard lock(mutex);
    return ops.size();
  }

  std::mutex mutex;
  std::vector<Timestamp> ops;  // guarded by mutex

 private:
  Clock& clock_;
};

class Ignore final : public CandleConsumer {
 public:
  void on_candle(const SeriesKey&, const Candle&) override {}
};

// A consumer that keeps adding and removing a symbol drives the connection into OKX's budget of
// 480 operations an hour: the 481st waits until the first is an hour old instead of getting the
// connection closed by the venue.
TEST(OkxLimits, a_connection_never_sends_more_than_480_subscribe_operations_an_hour) {
  ManualClock clock(*parse_iso8601("2025-06-01T00:00:00Z"));
  FakeOkxWs venue(clock);
  net::Server server(net::ServerOptions{}, venue);
  ASSERT_TRUE(server.start());
  RateLimiterRegistry registry(clock);
  FeedOptions o;
  o.exchange = Exchange::okx;
  o.market = Market::linear;
  o.endpoints = {fmt::format("http://127.0.0.1:{}", server.port()), fmt::format("ws://127.0.0.1:{}/ws/v5/business", server.port())};
  o.backfill = false;
  o.stale_after = std::chrono::hours(100);  // the test clock jumps an hour without a frame
  auto feed = MarketFeed::create(o, registry, clock);
  ASSERT_TRUE(feed) << feed.error().message;
  auto sink = std::make_shared<Ignore>();
  ASSERT_TRUE((*feed)->subscribe(*Symbol::parse("BTCUSDT"), Interval::m1, sink));
  ASSERT_TRUE((*feed)->start());
  // Waits (bounded) for the venue to have seen n operations, moving simulated time along at
  // real pace meanwhile: frames are paced 100 ms apart on the feed's clock.
  auto wait_for = [&](std::size_t n, std::chrono::milliseconds limit = 2000ms) {
    for (auto i = 0ms; i < limit && venue.count() < n; i += 1ms) {
      clock.advance(1ms);
      std::this_thread::sleep_for(1ms);
    }
    return venue.count() >= n;
  };
  ASSERT_TRUE(wait_for(1));
  // 479 more operations, one at a time (each lands before the next change, so none coalesce),
  // a simulated second apart: all within the first hour.
  std::optional<std::uint64_t> eth;
  auto toggle = [&] {
    if (eth) {
      (*feed)->unsubscribe(*eth);
      eth.reset();
    } else {
      auto id = (*feed)->subscribe(*Symbol::parse("ETHUSDT"), Interval::m1, sink);
      ASSERT_TRUE(id);
      eth = *id;
    }
  };
  for (std::size_t n = 2; n <= 480; ++n) {
    clock.advance(1s);
    toggle();
    ASSERT_TRUE(wait_for(n)) << "operation " << n << " never arrived; venue saw " << venue.count() << ", reconnects "
                             << (*feed)->stats().reconnects << ", subscribe errors " << (*feed)->stats().subscribe_errors;
  }
  Timestamp first;
  {
    std::lock_guard lock(venue.mutex);
    first = venue.ops.front();
  }
  ASSERT_LT(clock.now() - first, std::chrono::minutes(50));
  // The 481st waits for the first to be an hour old: not a second before.
  toggle();
  EXPECT_FALSE(wait_for(481, 300ms));
  clock.set(first + std::chrono::hours(1) - 1s);
  EXPECT_FALSE(wait_for(481, 300ms));
  EXPECT_EQ(venue.count(), 480u);
  clock.set(first + std::chrono::hours(1) + 1s);
  EXPECT_TRUE(wait_for(481));
  (*feed)->stop();
  server.stop();
  std::lock_guard lock(venue.mutex);
  ASSERT_EQ(venue.ops.size(), 481u);
  EXPECT_GE(venue.ops[480] - venue.ops[0], std::chrono::hours(1));
  EXPECT_LE(max_in_window(venue.ops, std::chrono::hours(1)), 480u);
}

}  // namespace
}  // namespace twinstar::feed
