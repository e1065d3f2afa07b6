// Limits: a cold-start backfill of 100 OKX symbols through the shared limiter with the OKX
// preset never puts more than 20 history-candles requests in any 2 s window — checked by an
// independent sliding-window counter over the limiter's grants and by the (fake) venue itself.
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "feed/kline_fetcher.hpp"
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

}  // namespace
}  // namespace twinstar::feed
