// Venue feedback: usage headers lower the local count (never raise it); 429/418/403 and venue
// codes pause, are counted, and name the right pause length.

#include <future>

#include <gtest/gtest.h>

#include "ratelimit/feedback.hpp"
#include "ratelimit/limiter.hpp"
#include "test_support.hpp"

namespace twinstar {
namespace {

using namespace std::chrono_literals;
using testing::kStart;
using testing::spin_until;

const BucketStats& bucket_stats(const LimiterStats& s, std::string_view name) {
  for (const auto& b : s.buckets) {
    if (b.name == name) return b;
  }
  throw std::runtime_error("no bucket");
}

struct Venue {
  explicit Venue(Exchange e, Market m = Market::linear) : registry(clock) { limiter = *registry.limiter(e, "acct", m); }
  std::int64_t tokens(std::string_view bucket) const { return bucket_stats(limiter->stats(), bucket).current_tokens; }
  ManualClock clock{kStart};
  RateLimiterRegistry registry;
  std::shared_ptr<VenueLimiter> limiter;
};

TEST(RateLimitFeedback, used_weight_above_ours_lowers_the_token_bucket_and_never_raises_it) {
  Venue v(Exchange::binance, Market::spot);  // request_weight: E 5400, burst 540
  auto weight = *v.limiter->bucket("request_weight");
  EXPECT_EQ(v.tokens("request_weight"), 540);
  ASSERT_TRUE(v.limiter->observe_used(weight, 200, 6000));
  EXPECT_EQ(v.tokens("request_weight"), 540);  // 5400 - 200 leaves more than the burst: nothing to do
  ASSERT_TRUE(v.limiter->observe_used(weight, 5300, 6000));
  EXPECT_EQ(v.tokens("request_weight"), 100);  // another process spent most of the window
  ASSERT_TRUE(v.limiter->observe_used(weight, 1000, 6000));
  EXPECT_EQ(v.tokens("request_weight"), 100);  // never raised
  ASSERT_TRUE(v.limiter->observe_used(weight, 6000, 6000));
  EXPECT_EQ(v.tokens("request_weight"), -600);  // over our margin: a debt to wait out
  EXPECT_FALSE(v.limiter->try_acquire(*v.limiter->endpoint_cost("klines")));
  EXPECT_EQ(bucket_stats(v.limiter->stats(), "request_weight").corrections, 2u);
}

TEST(RateLimitFeedback, remaining_count_lowers_a_strict_window) {
  Venue v(Exchange::bybit);  // ip: strict, E 540 per 5 s
  auto ip = *v.limiter->bucket("ip");
  ASSERT_TRUE(v.limiter->observe_remaining(ip, 100, 600));  // the venue saw 500 used
  EXPECT_EQ(v.tokens("ip"), 40);
  ASSERT_TRUE(v.limiter->observe_remaining(ip, 500, 600));
  EXPECT_EQ(v.tokens("ip"), 40);  // never raised
  // What the venue counted leaves the window like our own requests: all of it after 5 s.
  v.clock.advance(5s + 1ns);
  EXPECT_EQ(v.tokens("ip"), 540);
}

TEST(RateLimitFeedback, usage_reported_against_another_limit_is_rescaled) {
  Venue v(Exchange::bybit);  // order_create_linear: published 10/s, strict, E 9
  auto create = *v.limiter->bucket("order_create_linear");
  ASSERT_TRUE(v.limiter->observe_remaining(create, 10, 20));  // half of a limit of 20 used: 5 of our 10
  EXPECT_EQ(v.tokens("order_create_linear"), 4);               // 9 - 5
  ASSERT_TRUE(v.limiter->observe_remaining(create, 2, 20));    // 18 of 20: 9 of our 10
  EXPECT_EQ(v.tokens("order_create_linear"), 0);
  auto bad = v.limiter->observe_used(create, -1, 10);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::invalid_argument);
  EXPECT_FALSE(v.limiter->observe_used(create, 1, 0));
}

TEST(RateLimitFeedback, binance_and_bybit_usage_headers_reach_their_buckets) {
  Venue binance(Exchange::binance, Market::spot);
  const HttpHeader headers[] = {{"x-mbx-used-weight-1m", "5350"}, {"X-MBX-ORDER-COUNT-10S", "45"},
                                {"X-MBX-ORDER-COUNT-1D", "12"}, {"Content-Type", "application/json"}};
  EXPECT_EQ(binance.limiter->observe_headers(*binance.limiter->endpoint_cost("klines"), headers), 2u);
  EXPECT_EQ(binance.tokens("request_weight"), 50);
  EXPECT_EQ(binance.tokens("orders_10s"), 0);  // 45 of 50 used: E 45 reached
  EXPECT_EQ(binance.tokens("orders_1d"), 14'400);

  Venue bybit(Exchange::bybit);
  const HttpHeader bapi[] = {{"X-Bapi-Limit-Status", "1"}, {"X-Bapi-Limit", "10"},
                             {"X-Bapi-Limit-Reset-Timestamp", "1700000000000"}};
  EXPECT_EQ(bybit.limiter->observe_headers(*bybit.limiter->endpoint_cost("order_create_linear"), bapi), 1u);
  EXPECT_EQ(bybit.tokens("order_create_linear"), 0);
  EXPECT_EQ(bybit.tokens("ip"), 540);  // the per-UID header says nothing about the IP window
}

TEST(RateLimitFeedback, a_429_pauses_the_ip_buckets_counts_it_and_acquire_resumes_exactly_at_retry_after) {
  Venue v(Exchange::binance, Market::spot);
  auto klines = *v.limiter->endpoint_cost("klines");
  auto order = *v.limiter->endpoint_cost("order");
  const HttpHeader headers[] = {{"Retry-After", "7"}};
  auto advice = v.limiter->observe_response(klines, VenueResponse{Exchange::binance, 429, -1003, headers});
  ASSERT_TRUE(advice);
  EXPECT_EQ(advice->pause, 7s);
  EXPECT_EQ(advice->target, PauseTarget::ip);

  auto refused = v.limiter->try_acquire(klines);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::rate_limited);
  EXPECT_EQ(refused.error().message, "bucket paused");
  EXPECT_TRUE(v.limiter->try_acquire(order));  // orders are per account and not banned

  const auto stats = v.limiter->stats();
  EXPECT_EQ(stats.pauses, 1u);
  EXPECT_EQ(bucket_stats(stats, "request_weight").pauses, 1u);
  EXPECT_EQ(bucket_stats(stats, "request_weight").paused_until, kStart + 7s);
  EXPECT_EQ(bucket_stats(stats, "orders_10s").pauses, 0u);

  auto waiter = std::async(std::launch::async, [&] { return v.limiter->acquire(klines, Priority::market_data, kStart + 1min); });
  spin_until([&] { return v.limiter->stats().waiting == 1 && v.clock.waiter_count() == 1; });
  v.clock.set(kStart + 7s - 1ns);
  auto still = v.limiter->try_acquire(klines, Priority::critical);
  ASSERT_FALSE(still);
  EXPECT_EQ(still.error().message, "bucket paused");
  v.clock.set(kStart + 7s);
  ASSERT_TRUE(waiter.get());
  EXPECT_EQ(bucket_stats(v.limiter->stats(), "request_weight").max_wait, 7s);
}

TEST(RateLimitFeedback, a_pause_on_one_account_stops_the_shared_ip_bucket_for_all) {
  ManualClock clock(kStart);
  RateLimiterRegistry registry(clock);
  auto a = *registry.limiter(Exchange::bybit, "a");
  auto b = *registry.limiter(Exchange::bybit, "b");
  auto md_a = *a->endpoint_cost("market_data");
  auto md_b = *b->endpoint_cost("market_data");
  auto advice = a->observe_response(md_a, VenueResponse{Exchange::bybit, 403, std::nullopt, {}});
  ASSERT_TRUE(advice);
  EXPECT_EQ(advice->pause, 10min);
  EXPECT_FALSE(b->try_acquire(md_b));
  // A waiter whose deadline falls inside the ban learns it at once.
  auto r = b->acquire(md_b, Priority::market_data, kStart + 1min);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::timeout);
  clock.set(kStart + 10min);
  EXPECT_TRUE(b->try_acquire(md_b));
}

TEST(RateLimitFeedback, a_per_uid_limit_pauses_only_the_accounts_bucket_not_the_shared_ip_window) {
  Venue v(Exchange::bybit);
  auto order = *v.limiter->endpoint_cost("order_create_linear");
  const HttpHeader reset[] = {{"X-Bapi-Limit-Reset-Timestamp", "1700000000400"}};
  auto advice = v.limiter->observe_response(order, VenueResponse{Exchange::bybit, 200, 10006, reset});
  ASSERT_TRUE(advice);
  EXPECT_EQ(advice->target, PauseTarget::request_account);
  EXPECT_FALSE(v.limiter->try_acquire(order));
  EXPECT_TRUE(v.limiter->try_acquire(*v.limiter->endpoint_cost("market_data")));
  const auto stats = v.limiter->stats();
  EXPECT_EQ(bucket_stats(stats, "order_create_linear").paused_until, kStart + 400ms);
  EXPECT_EQ(bucket_stats(stats, "ip").pauses, 0u);
  v.clock.set(kStart + 400ms);
  EXPECT_TRUE(v.limiter->try_acquire(order));
}

TEST(RateLimitFeedback, pausing_a_whole_limiter_or_one_bucket) {
  Venue v(Exchange::bitget);
  auto candles = *v.limiter->endpoint_cost("candles");
  auto place = *v.limiter->endpoint_cost("place_order");
  ASSERT_TRUE(v.limiter->pause(*v.limiter->bucket("place_order"), kStart + 2s));
  EXPECT_TRUE(v.limiter->try_acquire(candles));
  EXPECT_FALSE(v.limiter->try_acquire(place));
  v.limiter->pause(kStart + 3s);
  EXPECT_FALSE(v.limiter->try_acquire(candles));
  v.limiter->pause(kStart + 1s);  // never shortens
  v.clock.set(kStart + 2s);
  EXPECT_FALSE(v.limiter->try_acquire(place));
  v.clock.set(kStart + 3s);
  EXPECT_TRUE(v.limiter->try_acquire(place));
  EXPECT_EQ(v.limiter->stats().pauses, 3u);
}

TEST(RetryAfter, binance_uses_retry_after_seconds_for_429_and_418) {
  const HttpHeader h120[] = {{"retry-after", "120"}};
  auto ban = retry_after_from(VenueResponse{Exchange::binance, 418, std::nullopt, h120}, kStart);
  ASSERT_TRUE(ban);
  EXPECT_EQ(ban->pause, 120s);
  EXPECT_EQ(ban->target, PauseTarget::ip);
  auto no_header = retry_after_from(VenueResponse{Exchange::binance, 429, std::nullopt, {}}, kStart);
  ASSERT_TRUE(no_header);
  EXPECT_EQ(no_header->pause, 5s);  // the default
  const HttpHeader garbage[] = {{"Retry-After", "soon"}};
  EXPECT_EQ(retry_after_from(VenueResponse{Exchange::binance, 429, std::nullopt, garbage}, kStart)->pause, 5s);
  auto orders = retry_after_from(VenueResponse{Exchange::binance, 400, -1015, {}}, kStart);
  ASSERT_TRUE(orders);
  EXPECT_EQ(orders->target, PauseTarget::request_account);
  EXPECT_TRUE(retry_after_from(VenueResponse{Exchange::binance, 403, std::nullopt, {}}, kStart));
  EXPECT_FALSE(retry_after_from(VenueResponse{Exchange::binance, 200, std::nullopt, {}}, kStart));
  EXPECT_FALSE(retry_after_from(VenueResponse{Exchange::binance, 400, -1121, {}}, kStart));
}

TEST(RetryAfter, bybit_403_is_a_ten_minute_ip_ban_and_10006_waits_for_the_reset_timestamp) {
  auto ban = retry_after_from(VenueResponse{Exchange::bybit, 403, std::nullopt, {}}, kStart);
  ASSERT_TRUE(ban);
  EXPECT_EQ(ban->pause, 10min);
  EXPECT_EQ(ban->target, PauseTarget::ip);

  const HttpHeader reset[] = {{"X-Bapi-Limit-Reset-Timestamp", "1700000000300"}};  // kStart + 300 ms
  auto uid = retry_after_from(VenueResponse{Exchange::bybit, 200, 10006, reset}, kStart);
  ASSERT_TRUE(uid);
  EXPECT_EQ(uid->pause, 300ms);
  EXPECT_EQ(uid->target, PauseTarget::request_account);

  const HttpHeader past[] = {{"X-Bapi-Limit-Reset-Timestamp", "1699999999000"}};
  EXPECT_EQ(retry_after_from(VenueResponse{Exchange::bybit, 200, 10006, past}, kStart)->pause, 5s);
  EXPECT_EQ(retry_after_from(VenueResponse{Exchange::bybit, 429, std::nullopt, reset}, kStart)->pause, 300ms);
  EXPECT_FALSE(retry_after_from(VenueResponse{Exchange::bybit, 200, 0, {}}, kStart));
}

TEST(RetryAfter, okx_and_bitget_codes_use_the_configurable_default) {
  RetryPolicy policy;
  policy.default_pause = 2s;
  auto okx = retry_after_from(VenueResponse{Exchange::okx, 200, 50011, {}}, kStart, policy);
  ASSERT_TRUE(okx);
  EXPECT_EQ(okx->pause, 2s);
  EXPECT_EQ(okx->target, PauseTarget::request);
  EXPECT_EQ(retry_after_from(VenueResponse{Exchange::okx, 429, std::nullopt, {}}, kStart, policy)->pause, 2s);
  EXPECT_EQ(retry_after_from(VenueResponse{Exchange::okx, 200, 50061, {}}, kStart, policy)->target,
            PauseTarget::request_account);
  EXPECT_EQ(retry_after_from(VenueResponse{Exchange::bitget, 429, std::nullopt, {}}, kStart, policy)->pause, 2s);
  EXPECT_TRUE(retry_after_from(VenueResponse{Exchange::bitget, 200, 429, {}}, kStart, policy));
  EXPECT_FALSE(retry_after_from(VenueResponse{Exchange::okx, 200, 0, {}}, kStart, policy));
}

TEST(RetryAfter, pauses_are_clamped_to_the_policy_maximum) {
  RetryPolicy policy;
  policy.max_pause = 1min;
  const HttpHeader h[] = {{"Retry-After", "259200"}};
  EXPECT_EQ(retry_after_from(VenueResponse{Exchange::binance, 418, std::nullopt, h}, kStart, policy)->pause, 1min);
}

}  // namespace
}  // namespace twinstar
