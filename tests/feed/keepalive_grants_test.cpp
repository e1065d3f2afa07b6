// Every request that reaches a venue carries its own limiter grant, also when the venue closes
// kept-alive connections under the client: a server that ends each connection after 3 answers
// (alternately with a silent close, and by reading the next request and hanging up without an
// answer) sees exactly as many requests as the limiter granted, and the backfill still completes.
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "closing_server.hpp"
#include "feed/kline_fetcher.hpp"
#include "net/http_types.hpp"

namespace twinstar::feed {
namespace {

using namespace std::chrono_literals;

// OKX candles rows (newest first) strictly between `before` and `after`, on the hour grid.
std::string okx_page(const std::string& target) {
  std::int64_t after = 0, before = 0, limit = 100;
  const auto q = target.find('?');
  for (const auto& [k, v] : net::parse_query(q == std::string::npos ? "" : target.substr(q + 1))) {
    if (k == "after") after = std::stoll(v);
    if (k == "before") before = std::stoll(v);
    if (k == "limit") limit = std::stoll(v);
  }
  std::string rows;
  std::int64_t t = (after - 1) / 3'600'000 * 3'600'000;
  for (std::int64_t n = 0; n < limit && t > before; ++n, t -= 3'600'000) {
    rows += fmt::format(R"({}["{}","100","101","99","100.5","10","1000","1005","1"])", rows.empty() ? "" : ",", t);
  }
  return R"({"code":"0","msg":"","data":[)" + rows + "]}";
}

TEST(KeepAliveGrants, requests_seen_by_the_venue_equal_limiter_grants_when_it_closes_connections) {
  ManualClock clock(*parse_iso8601("2025-06-01T00:00:00Z"));
  twinstar::testing::ClosingServer venue(3, twinstar::testing::ClosingServer::Close::alternate, okx_page);
  RateLimiterRegistry registry(clock);
  std::atomic<std::uint64_t> grants{0};
  registry.set_grant_observer([&](const GrantEvent&) { ++grants; });
  auto limiter = registry.limiter(Exchange::okx, "public", Market::linear);
  ASSERT_TRUE(limiter);

  // Read before the clock driver starts, so `to` is on the hour grid: exactly 200 opens each.
  const auto to = floor_ms(clock.now()) - std::chrono::hours(2000);
  const auto from = to - std::chrono::hours(200);
  // The limiter waits on the test clock; nothing here checks windows, so it runs fast.
  std::atomic<bool> done{false};
  std::thread driver([&] {
    for (int i = 0; i < 60'000 && !done; ++i) {
      clock.advance(10ms);
      std::this_thread::sleep_for(1ms);
    }
  });
  std::atomic<std::int64_t> candles{0};
  std::atomic<std::uint64_t> requests{0}, retries{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 3; ++w) {
    workers.emplace_back([&, w] {
      FetchOptions o;
      o.page_rows = 50;  // 4+ requests per symbol: several per connection, closes mid-series
      auto f = KlineFetcher::create(Exchange::okx, Market::linear, fmt::format("http://127.0.0.1:{}", venue.port()),
                                    *limiter, clock, o);
      if (!f) {
        ++failures;
        return;
      }
      for (int s = w; s < 12; s += 3) {
        const SeriesKey key{Exchange::okx, Market::linear, *Symbol::parse(fmt::format("C{:03d}USDT", s)), Interval::h1};
        auto got = (*f)->fetch_all(key, from, to);
        if (!got) {
          ++failures;
          ADD_FAILURE() << got.error().message;
          continue;
        }
        EXPECT_EQ(got->size(), 200u);
        candles += static_cast<std::int64_t>(got->size());
      }
      requests += (*f)->stats().requests;
      retries += (*f)->stats().retries;
    });
  }
  for (auto& t : workers) t.join();
  done = true;
  driver.join();

  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(candles.load(), 12 * 200);
  // The closes happened, both kinds, and cost retries...
  EXPECT_GT(venue.unanswered(), 0u);
  EXPECT_GT(venue.silent_closes(), 0u);
  EXPECT_GE(retries.load(), venue.unanswered());
  // ...and still every request the venue read was granted, once.
  EXPECT_EQ(venue.requests_seen(), grants.load());
  EXPECT_EQ(requests.load(), grants.load());
  std::printf("keep-alive closes: %llu requests seen, %llu grants, %llu unanswered, %llu silent closes, %llu connections\n",
              static_cast<unsigned long long>(venue.requests_seen()), static_cast<unsigned long long>(grants.load()),
              static_cast<unsigned long long>(venue.unanswered()), static_cast<unsigned long long>(venue.silent_closes()),
              static_cast<unsigned long long>(venue.connections()));
}

}  // namespace
}  // namespace twinstar::feed
