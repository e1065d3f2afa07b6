// Concurrency stress: 8 threads mixing try_acquire, blocking acquire with deadlines and
// cancellation, feedback and pauses, on shared IP and per-account buckets, while a driver moves a
// ManualClock. Every grant is recorded with the limiter's own clock reading, and every window of
// every bucket is then checked by the plain sliding-window counter.

#include <atomic>
#include <map>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "ratelimit/limiter.hpp"
#include "test_support.hpp"

namespace twinstar {
namespace {

using namespace std::chrono_literals;
using testing::kStart;

TEST(RateLimitStress, eight_threads_never_exceed_any_window_and_every_waiter_finishes) {
  ManualClock clock(kStart);
  testing::GrantLog log;
  RateLimiterRegistry registry(clock);
  registry.set_grant_observer(log.observer());

  struct Target {
    std::shared_ptr<VenueLimiter> limiter;
    std::vector<Cost> costs;
  };
  std::vector<Target> targets;
  auto add = [&](Exchange e, const char* account, Market m, std::vector<const char*> endpoints) {
    Target t{*registry.limiter(e, account, m), {}};
    for (const char* ep : endpoints) t.costs.push_back(*t.limiter->endpoint_cost(ep));
    targets.push_back(std::move(t));
  };
  // Bybit: the strict 540 / 5 s IP window shared by two accounts, per-UID 1 s windows each.
  add(Exchange::bybit, "a", Market::linear, {"market_data", "order_create_linear", "order_cancel", "order_query"});
  add(Exchange::bybit, "b", Market::linear, {"market_data", "order_create_linear", "order_cancel", "position_list"});
  // Binance USDⓈ-M: token buckets, weight per IP and orders per account.
  add(Exchange::binance, "a", Market::linear, {"klines", "order", "cancel"});
  add(Exchange::binance, "b", Market::linear, {"klines", "order"});
  // OKX: 36 / 2 s on candles per IP.
  add(Exchange::okx, "a", Market::linear, {"candles", "history_candles", "place_order"});

  constexpr int kThreads = 8;
  constexpr int kOps = 1500;
  std::atomic<int> finished{0};
  std::atomic<std::uint64_t> ok{0}, refused{0}, timed_out{0}, cancelled{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < kThreads; ++w) {
    workers.emplace_back([&, w] {
      std::mt19937 rng(static_cast<std::uint32_t>(1000 + w));
      for (int i = 0; i < kOps; ++i) {
        Target& t = targets[rng() % targets.size()];
        const Cost& cost = t.costs[rng() % t.costs.size()];
        const auto priority = static_cast<Priority>(rng() % kPriorityCount);
        Status s;
        const auto op = rng() % 10;
        if (op < 5) {
          s = t.limiter->try_acquire(cost, priority);
        } else if (op < 9) {
          s = t.limiter->acquire(cost, priority, clock.now() + Duration(static_cast<std::int64_t>(rng() % 3'000'000'000)));
        } else {
          std::stop_source stop;
          stop.request_stop();
          s = t.limiter->acquire(cost, priority, clock.now() + 1s, stop.get_token());
        }
        if (s) {
          ++ok;
        } else if (s.error().code == ErrorCode::rate_limited) {
          ++refused;
        } else if (s.error().code == ErrorCode::timeout) {
          ++timed_out;
        } else if (s.error().code == ErrorCode::cancelled) {
          ++cancelled;
        } else {
          ADD_FAILURE() << s.error().message;
        }
      }
      ++finished;
    });
  }

  // The driver: time moves in small random steps; now and then the venue reports usage or bans.
  std::mt19937 rng(7);
  int step = 0;
  while (finished.load() < kThreads) {
    clock.advance(Duration(static_cast<std::int64_t>(rng() % 20'000'000)));  // up to 20 ms
    if (++step % 500 == 0) {
      Target& t = targets[rng() % targets.size()];
      const Cost& cost = t.costs.front();
      if (rng() % 2 == 0) {
        EXPECT_TRUE(t.limiter->pause(cost, PauseTarget::request, clock.now() + 100ms));
      } else {
        const BucketId first = *t.limiter->bucket(t.limiter->stats().buckets.front().name);
        (void)t.limiter->observe_used(first, 1'000'000, 1'000'000);  // the venue says: all used
      }
    }
    std::this_thread::yield();
  }
  for (auto& w : workers) w.join();

  EXPECT_EQ(ok + refused + timed_out + cancelled, static_cast<std::uint64_t>(kThreads * kOps));
  EXPECT_GT(ok.load(), 1000u);
  EXPECT_GT(refused.load(), 0u);
  EXPECT_GT(timed_out.load(), 0u);

  // Every window of every bucket, by an independent count of the recorded grants.
  std::map<std::tuple<std::string, std::string, std::string>, std::vector<std::pair<Timestamp, std::int64_t>>> grants;
  for (const auto& e : log.events()) grants[{e.preset, e.scope_id, e.bucket}].emplace_back(e.at, e.weight);
  std::uint64_t granted_requests = 0;
  std::uint64_t waited = 0;
  int checked = 0;
  for (const auto& t : targets) {
    const auto stats = t.limiter->stats();
    EXPECT_EQ(stats.waiting, 0u);
    granted_requests += stats.requests;
    waited += stats.waits;
    for (const auto& b : stats.buckets) {
      EXPECT_EQ(b.waiting, 0u) << b.name;
      auto it = grants.find({stats.preset, b.scope_id, b.name});
      if (it == grants.end()) continue;
      const auto worst = testing::max_window_weight(it->second, b.window);
      EXPECT_LE(worst, b.effective_limit) << stats.preset << "/" << b.scope_id << "/" << b.name;
      ++checked;
    }
  }
  EXPECT_EQ(granted_requests, ok.load());
  EXPECT_GT(waited, 0u);
  EXPECT_GE(checked, 10);
}

}  // namespace
}  // namespace twinstar
