// try_acquire and blocking acquire under a ManualClock: exact wake times, deadlines, cancellation,
// strict windows, all-or-nothing multi-bucket costs, and no lost waiters.

#include <future>
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

struct Fixture {
  explicit Fixture(Preset p) : registry(clock) {
    registry.set_grant_observer(log.observer());
    EXPECT_TRUE(registry.configure(p));
    limiter = *registry.limiter(Exchange::bybit, "a");
  }
  std::uint32_t waiting() const { return limiter->stats().waiting; }
  std::uint64_t wakeups() const { return limiter->stats().wakeups; }
  std::uint64_t requests() const { return limiter->stats().requests; }

  ManualClock clock{kStart};
  testing::GrantLog log;
  RateLimiterRegistry registry;
  std::shared_ptr<VenueLimiter> limiter;
};

TEST(RateLimitStrict, grants_exactly_the_limit_per_window_and_the_next_only_when_the_oldest_leaves) {
  Fixture f(test_preset({spec("ws", 5, 1s, BucketMode::strict)}));
  auto one = *f.limiter->cost({{"ws", 1}});
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(f.limiter->try_acquire(one)) << i;
    f.clock.advance(100ms);  // grants at 0, 100, ..., 400 ms
  }
  // Now 500 ms: the window holds 5.
  auto refused = f.limiter->try_acquire(one);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::rate_limited);
  f.clock.set(kStart + 1s);  // [0, 1 s] still holds the grant made at 0
  EXPECT_FALSE(f.limiter->try_acquire(one));
  f.clock.set(kStart + 1s + 1ns);  // the oldest has left
  EXPECT_TRUE(f.limiter->try_acquire(one));
  EXPECT_FALSE(f.limiter->try_acquire(one));
  f.clock.set(kStart + 1100ms + 1ns);  // the 100 ms one has left
  EXPECT_TRUE(f.limiter->try_acquire(one));
  const auto stats = f.limiter->stats();
  EXPECT_EQ(stats.requests, 7u);
  EXPECT_EQ(stats.rejections, 3u);
  EXPECT_EQ(stats.buckets.at(0).current_tokens, 0);
}

TEST(RateLimitAcquire, waits_until_exactly_the_instant_the_strict_window_frees) {
  Fixture f(test_preset({spec("b", 10, 1s, BucketMode::strict)}));
  auto ten = *f.limiter->cost({{"b", 10}});
  auto one = *f.limiter->cost({{"b", 1}});
  ASSERT_TRUE(f.limiter->try_acquire(ten));

  auto result = std::async(std::launch::async, [&] { return f.limiter->acquire(one, Priority::trading, kStart + 10s); });
  spin_until([&] { return f.waiting() == 1 && f.clock.waiter_count() == 1; });

  f.clock.set(kStart + 1s);  // the closed window [0, 1 s] is still full: nothing to grant with
  auto probe = f.limiter->try_acquire(one, Priority::critical);
  ASSERT_FALSE(probe);
  EXPECT_EQ(probe.error().message, "no tokens");
  EXPECT_EQ(f.waiting(), 1u);

  f.clock.set(kStart + 1s + 1ns);
  ASSERT_TRUE(result.get());
  const auto events = f.log.events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].at, kStart + 1s + 1ns);
  const auto stats = f.limiter->stats();
  EXPECT_EQ(stats.waits, 1u);
  EXPECT_EQ(stats.max_wait, 1s + 1ns);
  EXPECT_EQ(stats.wakeups, 1u);  // slept on the clock until the exact instant: woke once, no polling
}

TEST(RateLimitAcquire, waits_until_exactly_the_nanosecond_the_token_bucket_refills) {
  // limit 10/s, margin 1: burst 1, refill 9 per second; one token takes ceil(1e9 / 9) ns.
  Fixture f(test_preset({spec("b", 10, 1s, BucketMode::token_bucket)}));
  auto one = *f.limiter->cost({{"b", 1}});
  ASSERT_TRUE(f.limiter->try_acquire(one));
  const Timestamp ready = kStart + Duration(111'111'112);

  auto result = std::async(std::launch::async, [&] { return f.limiter->acquire(one, Priority::trading, kStart + 10s); });
  spin_until([&] { return f.waiting() == 1 && f.clock.waiter_count() == 1; });
  f.clock.set(ready - 1ns);
  EXPECT_FALSE(f.limiter->try_acquire(one, Priority::critical));  // one nanosecond short of a token

  f.clock.set(ready);
  ASSERT_TRUE(result.get());
  EXPECT_EQ(f.log.events().back().at, ready);
  EXPECT_EQ(f.wakeups(), 1u);
}

TEST(RateLimitAcquire, gives_up_at_once_when_the_tokens_cannot_exist_before_the_deadline) {
  Fixture f(test_preset({spec("b", 10, 1s, BucketMode::strict)}));
  ASSERT_TRUE(f.limiter->try_acquire(*f.limiter->cost({{"b", 10}})));
  auto r = f.limiter->acquire(*f.limiter->cost({{"b", 1}}), Priority::trading, kStart + 500ms);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::timeout);
  EXPECT_NE(r.error().message.find("after the deadline"), std::string::npos);
  EXPECT_EQ(f.clock.now(), kStart);  // no time had to pass
  const auto stats = f.limiter->stats();
  EXPECT_EQ(stats.timeouts, 1u);
  EXPECT_EQ(stats.waiting, 0u);
  EXPECT_EQ(stats.buckets.at(0).timeouts, 1u);
}

TEST(RateLimitAcquire, a_queued_waiter_times_out_at_its_deadline_and_the_one_ahead_still_gets_served) {
  Fixture f(test_preset({spec("b", 10, 1s, BucketMode::strict)}));
  ASSERT_TRUE(f.limiter->try_acquire(*f.limiter->cost({{"b", 10}})));
  auto one = *f.limiter->cost({{"b", 1}});
  auto first = std::async(std::launch::async, [&] { return f.limiter->acquire(one, Priority::trading, kStart + 5s); });
  spin_until([&] { return f.waiting() == 1; });
  auto second =
      std::async(std::launch::async, [&] { return f.limiter->acquire(one, Priority::trading, kStart + 500ms); });
  spin_until([&] { return f.waiting() == 2 && f.clock.waiter_count() == 2; });

  f.clock.set(kStart + 500ms);
  auto r2 = second.get();
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().code, ErrorCode::timeout);
  EXPECT_NE(r2.error().message.find("queued behind"), std::string::npos);
  EXPECT_EQ(f.waiting(), 1u);

  f.clock.set(kStart + 1s + 1ns);
  EXPECT_TRUE(first.get());
  EXPECT_EQ(f.log.events().back().at, kStart + 1s + 1ns);
}

TEST(RateLimitAcquire, stop_token_cancels_a_waiter_and_the_next_one_moves_up) {
  Fixture f(test_preset({spec("b", 10, 1s, BucketMode::strict)}));
  ASSERT_TRUE(f.limiter->try_acquire(*f.limiter->cost({{"b", 10}})));
  auto one = *f.limiter->cost({{"b", 1}});
  std::stop_source stop;
  auto cancelled = std::async(std::launch::async,
                              [&] { return f.limiter->acquire(one, Priority::trading, kStart + 1h, stop.get_token()); });
  spin_until([&] { return f.waiting() == 1; });
  auto next = std::async(std::launch::async, [&] { return f.limiter->acquire(one, Priority::trading, kStart + 1h); });
  spin_until([&] { return f.waiting() == 2 && f.clock.waiter_count() == 2; });

  stop.request_stop();
  auto r = cancelled.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::cancelled);
  EXPECT_EQ(f.limiter->stats().cancellations, 1u);

  f.clock.set(kStart + 1s + 1ns);
  EXPECT_TRUE(next.get());
  EXPECT_EQ(f.waiting(), 0u);
}

TEST(RateLimitAcquire, an_already_stopped_token_is_cancelled_without_waiting) {
  Fixture f(test_preset({spec("b", 10, 1s, BucketMode::strict)}));
  std::stop_source stop;
  stop.request_stop();
  auto r = f.limiter->acquire(*f.limiter->cost({{"b", 1}}), Priority::trading, kStart + 1h, stop.get_token());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::cancelled);
}

TEST(RateLimitAcquire, many_waiters_are_all_served_and_none_is_lost) {
  Fixture f(test_preset({spec("b", 10, 1s, BucketMode::strict)}));
  auto one = *f.limiter->cost({{"b", 1}});
  ASSERT_TRUE(f.limiter->try_acquire(*f.limiter->cost({{"b", 10}})));
  constexpr int kWaiters = 25;
  std::vector<std::future<Status>> results;
  for (int i = 0; i < kWaiters; ++i) {
    results.push_back(std::async(std::launch::async, [&] { return f.limiter->acquire(one, Priority::trading, kStart + 1h); }));
  }
  spin_until([&] { return f.waiting() == kWaiters; });
  // Each window frees 10; three windows serve everyone.
  while (f.waiting() != 0) {
    const auto served = f.requests();
    f.clock.advance(1s + 1ns);
    spin_until([&] { return f.requests() >= std::min<std::uint64_t>(served + 10, 1 + kWaiters); });
  }
  for (auto& r : results) EXPECT_TRUE(r.get());
  const auto stats = f.limiter->stats();
  EXPECT_EQ(stats.requests, 1u + kWaiters);
  EXPECT_EQ(stats.waits, static_cast<std::uint64_t>(kWaiters));
  EXPECT_EQ(stats.buckets.at(0).weight, 10u + kWaiters);
  std::vector<std::pair<Timestamp, std::int64_t>> grants;
  for (const auto& e : f.log.events()) grants.emplace_back(e.at, e.weight);
  EXPECT_LE(testing::max_window_weight(grants, 1s), 10);
}

TEST(RateLimitAcquire, a_multi_bucket_cost_is_all_or_nothing) {
  Fixture f(test_preset({spec("ip", 100, 1s, BucketMode::strict),
                         spec("orders", 2, 1s, BucketMode::strict, Scope::account)}));
  auto order = *f.limiter->cost({{"ip", 1}, {"orders", 1}});
  EXPECT_TRUE(f.limiter->try_acquire(order));
  EXPECT_TRUE(f.limiter->try_acquire(order));
  EXPECT_FALSE(f.limiter->try_acquire(order));  // orders is full
  const auto stats = f.limiter->stats();
  EXPECT_EQ(stats.buckets.at(0).current_tokens, 98);  // the refused order took no IP weight
  EXPECT_EQ(stats.buckets.at(1).current_tokens, 0);
  EXPECT_EQ(stats.buckets.at(1).rejections, 1u);
  EXPECT_EQ(stats.buckets.at(0).rejections, 0u);
}

TEST(RateLimitAcquire, try_acquire_does_not_jump_a_queue_of_equal_or_higher_priority) {
  Fixture f(test_preset({spec("b", 10, 1s, BucketMode::strict)}));
  ASSERT_TRUE(f.limiter->try_acquire(*f.limiter->cost({{"b", 7}})));
  auto five = *f.limiter->cost({{"b", 5}});
  auto one = *f.limiter->cost({{"b", 1}});
  auto waiter = std::async(std::launch::async, [&] { return f.limiter->acquire(five, Priority::trading, kStart + 1h); });
  spin_until([&] { return f.waiting() == 1; });

  // 3 tokens are free, but a trading waiter is first in line.
  auto md = f.limiter->try_acquire(one, Priority::market_data);
  ASSERT_FALSE(md);
  EXPECT_EQ(md.error().code, ErrorCode::rate_limited);
  EXPECT_EQ(md.error().message, "waiters queued");
  EXPECT_FALSE(f.limiter->try_acquire(one, Priority::trading));
  EXPECT_TRUE(f.limiter->try_acquire(one, Priority::critical));  // a cancel goes first

  f.clock.set(kStart + 1s + 1ns);
  EXPECT_TRUE(waiter.get());
  EXPECT_TRUE(f.limiter->try_acquire(one));
}

TEST(RateLimitAcquire, costs_are_validated_when_resolved) {
  Fixture f(test_preset({spec("b", 10, 1s, BucketMode::token_bucket, Scope::ip, 3)}));
  auto too_heavy = f.limiter->cost({{"b", 4}});  // capacity max(3, ceil(1)) = 3
  ASSERT_FALSE(too_heavy);
  EXPECT_EQ(too_heavy.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(too_heavy.error().message.find("could never be granted"), std::string::npos);
  EXPECT_FALSE(f.limiter->cost({{"b", -1}}));
  auto unknown = f.limiter->cost({{"nope", 1}});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::not_found);
  EXPECT_NE(unknown.error().message.find("valid buckets: b"), std::string::npos);
  auto twice = f.limiter->cost({{"b", 2}, {"b", 2}});
  ASSERT_FALSE(twice);  // 4 in one bucket exceeds its capacity
  auto zero = f.limiter->cost({{"b", 0}});
  ASSERT_TRUE(zero);
  EXPECT_TRUE(zero->empty());
  EXPECT_TRUE(f.limiter->try_acquire(*zero));

  // A cost or bucket id from another limiter is refused, never misapplied.
  auto other = *f.registry.limiter(Exchange::bybit, "b");
  auto foreign = *other->cost({{"b", 1}});
  auto r = f.limiter->try_acquire(foreign);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
  EXPECT_FALSE(f.limiter->acquire(foreign, Priority::trading, kStart + 1s));
  EXPECT_FALSE(f.limiter->cost(*other->bucket("b"), 1));
}

TEST(RateLimitAcquire, a_real_clock_wait_completes) {
  // The one test on the real clock: a short strict window, so the wait is a few milliseconds.
  RateLimiterRegistry registry(RealClock::instance());
  ASSERT_TRUE(registry.configure(test_preset({spec("b", 2, 20ms, BucketMode::strict)})));
  auto limiter = *registry.limiter(Exchange::bybit, "a");
  auto one = *limiter->cost({{"b", 1}});
  for (int i = 0; i < 6; ++i) EXPECT_TRUE(limiter->acquire_for(one, Priority::trading, 10s)) << i;
  EXPECT_GE(limiter->stats().waits, 1u);
}

// A caller that tries first and then waits in acquire() was not refused: its try is not counted.
TEST(RateLimitStrict, an_uncounted_try_leaves_the_rejection_count_alone) {
  Fixture f(test_preset({spec("orders", 2, 1s, BucketMode::strict)}));
  auto one = *f.limiter->cost({{"orders", 1}});
  EXPECT_TRUE(f.limiter->try_acquire(one, Priority::trading, false));
  EXPECT_TRUE(f.limiter->try_acquire(one, Priority::trading, false));
  auto full = f.limiter->try_acquire(one, Priority::trading, false);
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, ErrorCode::rate_limited);
  EXPECT_EQ(f.limiter->stats().rejections, 0u);
  EXPECT_FALSE(f.limiter->try_acquire(one, Priority::trading));
  EXPECT_EQ(f.limiter->stats().rejections, 1u);
  EXPECT_EQ(f.limiter->stats().requests, 2u);
}

}  // namespace
}  // namespace twinstar
