// Order of service among blocked acquires: FIFO within a priority class, critical before
// trading before market_data, and no blocking between requests that share no bucket.

#include <future>
#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "ratelimit/limiter.hpp"
#include "test_support.hpp"

namespace twinstar {
namespace {

using namespace std::chrono_literals;
using testing::kStart;
using testing::spec;
using testing::spin_until;
using testing::test_preset;

struct Arrival {
  Priority priority;
  int id;
};

// Starts one waiter per arrival, strictly in that order, on a full bucket; frees the whole window
// at once and returns the ids in the order the limiter granted them.
std::vector<int> serve_order(const std::vector<Arrival>& arrivals) {
  ManualClock clock(kStart);
  testing::GrantLog log;
  RateLimiterRegistry registry(clock);
  registry.set_grant_observer(log.observer());
  EXPECT_TRUE(registry.configure(test_preset({spec("b", 50, 1s, BucketMode::strict)})));
  auto limiter = *registry.limiter(Exchange::bybit, "a");
  auto one = *limiter->cost({{"b", 1}});
  EXPECT_TRUE(limiter->try_acquire(*limiter->cost({{"b", 50}})));

  std::map<std::thread::id, int> id_of_thread;
  std::mutex map_mutex;
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < arrivals.size(); ++i) {
    threads.emplace_back([&, a = arrivals[i]] {
      {
        std::lock_guard<std::mutex> g(map_mutex);
        id_of_thread[std::this_thread::get_id()] = a.id;
      }
      EXPECT_TRUE(limiter->acquire(one, a.priority, kStart + 1h));
    });
    // The next one arrives only once this one is queued: arrival order is known.
    spin_until([&] { return limiter->stats().waiting == i + 1; });
  }
  spin_until([&] { return clock.waiter_count() == arrivals.size(); });
  clock.set(kStart + 1s + 1ns);
  for (auto& t : threads) t.join();

  std::vector<int> order;
  for (const auto& e : log.events()) {
    if (e.at == kStart) continue;  // the fill
    order.push_back(id_of_thread.at(e.thread));
  }
  return order;
}

TEST(RateLimitFairness, waiters_of_one_class_are_served_in_arrival_order) {
  std::vector<Arrival> arrivals;
  for (int i = 0; i < 12; ++i) arrivals.push_back({Priority::trading, i});
  std::vector<int> expected(12);
  for (int i = 0; i < 12; ++i) expected[static_cast<std::size_t>(i)] = i;
  EXPECT_EQ(serve_order(arrivals), expected);
}

TEST(RateLimitFairness, critical_goes_before_trading_before_market_data_fifo_within_each) {
  // Arrivals interleave the classes; market data came first but is served last.
  const std::vector<Arrival> arrivals = {
      {Priority::market_data, 0}, {Priority::trading, 1}, {Priority::market_data, 2}, {Priority::critical, 3},
      {Priority::trading, 4},     {Priority::critical, 5}, {Priority::market_data, 6}, {Priority::trading, 7},
  };
  EXPECT_EQ(serve_order(arrivals), (std::vector<int>{3, 5, 1, 4, 7, 0, 2, 6}));
}

TEST(RateLimitFairness, a_waiter_on_another_accounts_bucket_does_not_block) {
  // Account a waits on its own order bucket; account b's requests share no bucket with that
  // waiter, so they are granted at once.
  ManualClock clock(kStart);
  RateLimiterRegistry registry(clock);
  ASSERT_TRUE(registry.configure(test_preset({spec("ip", 100, 1s, BucketMode::strict),
                                              spec("orders", 1, 1s, BucketMode::strict, Scope::account)})));
  auto a = *registry.limiter(Exchange::bybit, "a");
  auto b = *registry.limiter(Exchange::bybit, "b");
  auto a_order = *a->cost({{"orders", 1}});
  ASSERT_TRUE(a->try_acquire(a_order));
  auto waiting = std::async(std::launch::async, [&] { return a->acquire(a_order, Priority::trading, kStart + 1h); });
  spin_until([&] { return a->stats().waiting == 1; });

  EXPECT_TRUE(b->try_acquire(*b->cost({{"ip", 1}, {"orders", 1}}), Priority::trading));
  EXPECT_TRUE(b->acquire(*b->cost({{"ip", 1}}), Priority::market_data, kStart + 1h));
  EXPECT_EQ(a->stats().waiting, 1u);
  clock.set(kStart + 1s + 1ns);
  EXPECT_TRUE(waiting.get());
}

TEST(RateLimitFairness, a_later_critical_waiter_overtakes_a_sleeping_head) {
  // The trading head sleeps until its tokens exist; a cancel that arrives meanwhile is served first.
  ManualClock clock(kStart);
  testing::GrantLog log;
  RateLimiterRegistry registry(clock);
  registry.set_grant_observer(log.observer());
  ASSERT_TRUE(registry.configure(test_preset({spec("b", 1, 1s, BucketMode::strict)})));
  auto limiter = *registry.limiter(Exchange::bybit, "a");
  auto one = *limiter->cost({{"b", 1}});
  ASSERT_TRUE(limiter->try_acquire(one));
  std::atomic<int> order{0};
  int trading_rank = 0;
  int critical_rank = 0;
  std::thread trading([&] {
    EXPECT_TRUE(limiter->acquire(one, Priority::trading, kStart + 1h));
    trading_rank = ++order;
  });
  spin_until([&] { return limiter->stats().waiting == 1 && clock.waiter_count() == 1; });
  std::thread critical([&] {
    EXPECT_TRUE(limiter->acquire(one, Priority::critical, kStart + 1h));
    critical_rank = ++order;
  });
  spin_until([&] { return limiter->stats().waiting == 2 && clock.waiter_count() == 2; });
  clock.set(kStart + 1s + 1ns);
  critical.join();
  EXPECT_EQ(limiter->stats().waiting, 1u);  // trading still waits for the next window
  clock.set(kStart + 2s + 2ns);
  trading.join();
  EXPECT_EQ(critical_rank, 1);
  EXPECT_EQ(trading_rank, 2);
  const auto events = log.events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].at, kStart + 1s + 1ns);
  EXPECT_EQ(events[2].at, kStart + 2s + 2ns);
}

}  // namespace
}  // namespace twinstar
