// The registry: one limiter per (venue, account), IP buckets shared between accounts, account
// buckets not, connection buckets per connection; configuration rules; stats.

#include <gtest/gtest.h>

#include "ratelimit/limiter.hpp"
#include "test_support.hpp"

namespace twinstar {
namespace {

using namespace std::chrono_literals;
using testing::kStart;

std::int64_t tokens(const VenueLimiter& l, std::string_view bucket) {
  for (const auto& b : l.stats().buckets) {
    if (b.name == bucket) return b.current_tokens;
  }
  ADD_FAILURE() << "no bucket " << bucket;
  return -1;
}

TEST(RateLimitRegistry, one_shared_handle_per_venue_and_account) {
  ManualClock clock(kStart);
  RateLimiterRegistry registry(clock);
  auto a1 = *registry.limiter(Exchange::bybit, "a");
  auto a2 = *registry.limiter(Exchange::bybit, "a");
  auto a_spot = *registry.limiter(Exchange::bybit, "a", Market::spot);
  auto b = *registry.limiter(Exchange::bybit, "b");
  EXPECT_EQ(a1, a2);
  EXPECT_EQ(a1, a_spot);  // Bybit spot and linear share one preset and one IP limit
  EXPECT_NE(a1, b);
  auto usdm = *registry.limiter(Exchange::binance, "a");
  auto spot = *registry.limiter(Exchange::binance, "a", Market::spot);
  EXPECT_EQ(usdm->preset_name(), "binance_usdm");
  EXPECT_EQ(spot->preset_name(), "binance_spot");
  EXPECT_FALSE(registry.limiter(Exchange::bybit, ""));
}

TEST(RateLimitRegistry, ip_buckets_are_shared_between_accounts_and_account_buckets_are_not) {
  ManualClock clock(kStart);
  RateLimiterRegistry registry(clock);
  auto a = *registry.limiter(Exchange::bybit, "a");
  auto b = *registry.limiter(Exchange::bybit, "b");
  auto order_a = *a->endpoint_cost("order_create_linear");  // ip 1 + order_create_linear 1
  ASSERT_TRUE(a->try_acquire(order_a));
  EXPECT_EQ(tokens(*a, "ip"), 539);
  EXPECT_EQ(tokens(*b, "ip"), 539);  // the same IP window
  EXPECT_EQ(tokens(*a, "order_create_linear"), 8);  // strict, E 9
  EXPECT_EQ(tokens(*b, "order_create_linear"), 9);  // b's own per-UID budget
  EXPECT_TRUE(b->try_acquire(*b->endpoint_cost("order_create_linear")));

  // Another egress IP has its own IP window.
  auto c = *registry.limiter(Exchange::bybit, "c", Market::linear, "10.0.0.2");
  EXPECT_EQ(tokens(*c, "ip"), 540);
}

TEST(RateLimitRegistry, connection_buckets_belong_to_one_connection) {
  ManualClock clock(kStart);
  RateLimiterRegistry registry(clock);
  auto account = *registry.limiter(Exchange::binance, "a", Market::spot);
  auto ws = account->bucket("ws_messages");
  ASSERT_FALSE(ws);
  EXPECT_NE(ws.error().message.find("connection_limiter"), std::string::npos);

  auto c1 = *registry.connection_limiter(Exchange::binance, Market::spot, "c1");
  auto c2 = *registry.connection_limiter(Exchange::binance, Market::spot, "c2");
  auto msg1 = *c1->endpoint_cost("ws_message");
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(c1->try_acquire(msg1));  // 5/s at 90 %: 4
  EXPECT_FALSE(c1->try_acquire(msg1));
  EXPECT_TRUE(c2->try_acquire(*c2->endpoint_cost("ws_message")));
  // Connection attempts are per IP: shared with the account limiter.
  ASSERT_TRUE(c1->try_acquire(*c1->endpoint_cost("ws_connect")));
  EXPECT_EQ(tokens(*account, "ws_connections"), 269);
  EXPECT_EQ(registry.stats().size(), 3u);
  c2.reset();
  EXPECT_EQ(registry.stats().size(), 2u);  // a closed connection's buckets go with it
}

TEST(RateLimitRegistry, configure_takes_an_overridden_preset_once_before_use) {
  ManualClock clock(kStart);
  RateLimiterRegistry registry(clock);
  auto okx = *preset("okx");
  ASSERT_TRUE(apply_override(okx, "candles", 20, std::nullopt, true));
  ASSERT_TRUE(set_safety_margin(okx, Ratio::from_raw(50'000'000)));
  ASSERT_TRUE(registry.configure(okx));
  auto again = registry.configure(okx);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::conflict);

  auto l = *registry.limiter(Exchange::okx, "a", Market::spot);
  const auto stats = l->stats();
  EXPECT_EQ(stats.buckets.at(0).name, "candles");
  EXPECT_EQ(stats.buckets.at(0).effective_limit, 10);
  EXPECT_EQ(stats.buckets.at(0).mode, BucketMode::strict);

  (void)registry.limiter(Exchange::bitget, "a");  // the default preset, now fixed
  auto late = registry.configure(*preset("bitget"));
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, ErrorCode::conflict);
  EXPECT_NE(late.error().message.find("before the first limiter()"), std::string::npos);

  auto broken = *preset("bybit");
  broken.buckets.front().limit = 0;
  auto bad = registry.configure(broken);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::config_error);
}

TEST(RateLimitRegistry, endpoint_costs_resolve_and_unknown_ones_list_the_valid_names) {
  ManualClock clock(kStart);
  RateLimiterRegistry registry(clock);
  auto l = *registry.limiter(Exchange::binance, "a", Market::spot);
  auto order = *l->endpoint_cost("order");
  EXPECT_EQ(order.size(), 2u);
  EXPECT_EQ(order.weight_of(*l->bucket("orders_10s")), 1);
  EXPECT_EQ(order.weight_of(*l->bucket("orders_1d")), 1);
  EXPECT_EQ(order.weight_of(*l->bucket("request_weight")), 0);
  EXPECT_EQ(l->endpoint_cost("klines")->weight_of(*l->bucket("request_weight")), 2);
  auto none = l->endpoint_cost("nope");
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("klines, order, cancel, ws_message, ws_connect"), std::string::npos);
  // Dynamic weight without strings: resolve the bucket once, price each call.
  auto usdm = *registry.limiter(Exchange::binance, "a");
  const BucketId weight = *usdm->bucket("request_weight");
  EXPECT_EQ(usdm->cost(weight, binance_usdm_klines_weight(1500))->weight_of(weight), 10);
}

TEST(RateLimitRegistry, stats_keep_the_original_summary_names) {
  ManualClock clock(kStart);
  RateLimiterRegistry registry(clock);
  auto l = *registry.limiter(Exchange::okx, "a");
  auto candles = *l->endpoint_cost("candles");  // E 36, burst 4
  int granted = 0;
  for (int i = 0; i < 10; ++i) granted += l->try_acquire(candles) ? 1 : 0;
  EXPECT_EQ(granted, 4);
  const auto summary = l->stats().summary();
  EXPECT_EQ(summary.total_requests, 4u);
  EXPECT_EQ(summary.rejected_requests, 6u);
  EXPECT_DOUBLE_EQ(summary.rejection_rate, 0.6);
  EXPECT_DOUBLE_EQ(summary.avg_wait_time, 0.0);
  EXPECT_EQ(summary.current_tokens, 0);
  EXPECT_EQ(summary.max_tokens, 4);
  const auto all = registry.stats();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].scope_id, "a");
  EXPECT_EQ(all[0].buckets.at(0).rejections, 6u);
  EXPECT_EQ(all[0].buckets.at(0).published_limit, 40);
}

}  // namespace
}  // namespace twinstar
