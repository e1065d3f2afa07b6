#include "ratelimit/preset.hpp"

#include <gtest/gtest.h>

#include "ratelimit/feedback.hpp"
#include "test_support.hpp"

namespace twinstar {
namespace {

using namespace std::chrono_literals;

const BucketSpec& find_bucket(const Preset& p, std::string_view name) {
  for (const auto& b : p.buckets) {
    if (b.name == name) return b;
  }
  ADD_FAILURE() << "no bucket " << name;
  static BucketSpec none;
  return none;
}

TEST(RateLimitPreset, every_named_preset_loads_validates_and_cites_the_reference) {
  for (std::string_view name : preset_names()) {
    auto p = preset(name);
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_EQ(p->name, name);
    EXPECT_EQ(p->safety_margin, Ratio::from_raw(90'000'000));
    EXPECT_TRUE(validate(*p)) << name;
    for (const auto& b : p->buckets) {
      EXPECT_NE(b.source.find("exchange-api.md §"), std::string::npos) << name << "/" << b.name;
    }
  }
}

TEST(RateLimitPreset, numbers_match_the_exchange_reference) {
  auto bybit = *preset("bybit");
  EXPECT_EQ(find_bucket(bybit, "ip").limit, 600);
  EXPECT_EQ(find_bucket(bybit, "ip").window, 5s);
  EXPECT_EQ(find_bucket(bybit, "ip").mode, BucketMode::strict);
  EXPECT_EQ(find_bucket(bybit, "order_create_linear").limit, 10);
  EXPECT_EQ(find_bucket(bybit, "order_create_spot").limit, 20);
  EXPECT_EQ(find_bucket(bybit, "order_cancel").limit, 10);
  EXPECT_EQ(find_bucket(bybit, "order_amend").limit, 10);
  EXPECT_EQ(find_bucket(bybit, "order_query").limit, 50);
  EXPECT_EQ(find_bucket(bybit, "position_list").limit, 50);
  EXPECT_EQ(find_bucket(bybit, "order_create_linear").scope, Scope::account);

  auto spot = *preset("binance_spot");
  EXPECT_EQ(find_bucket(spot, "request_weight").limit, 6000);
  EXPECT_EQ(find_bucket(spot, "request_weight").window, 1min);
  EXPECT_EQ(find_bucket(spot, "orders_10s").limit, 50);
  EXPECT_EQ(find_bucket(spot, "orders_1d").limit, 160'000);
  EXPECT_EQ(find_bucket(spot, "orders_1d").window, std::chrono::days(1));
  EXPECT_EQ(find_bucket(spot, "ws_messages").limit, 5);
  EXPECT_EQ(find_bucket(spot, "ws_messages").scope, Scope::connection);
  EXPECT_EQ(find_bucket(spot, "ws_messages").mode, BucketMode::strict);
  EXPECT_EQ(find_bucket(spot, "ws_connections").limit, 300);
  EXPECT_EQ(find_bucket(spot, "ws_connections").window, 5min);

  auto usdm = *preset("binance_usdm");
  EXPECT_EQ(find_bucket(usdm, "request_weight").limit, 2400);
  EXPECT_EQ(find_bucket(usdm, "orders_10s").limit, 300);
  EXPECT_EQ(find_bucket(usdm, "orders_1m").limit, 1200);
  EXPECT_EQ(find_bucket(usdm, "ws_messages").limit, 10);

  auto okx = *preset("okx");
  EXPECT_EQ(find_bucket(okx, "candles").limit, 40);
  EXPECT_EQ(find_bucket(okx, "candles").window, 2s);
  EXPECT_EQ(find_bucket(okx, "history_candles").limit, 20);
  EXPECT_EQ(find_bucket(okx, "place_order").limit, 60);
  EXPECT_EQ(find_bucket(okx, "ws_connections").limit, 3);

  auto bitget = *preset("bitget");
  EXPECT_EQ(find_bucket(bitget, "market_data").limit, 20);
  EXPECT_EQ(find_bucket(bitget, "place_order").limit, 10);
  EXPECT_EQ(find_bucket(bitget, "cancel_order").limit, 10);
  EXPECT_EQ(find_bucket(bitget, "positions").limit, 5);
  EXPECT_EQ(find_bucket(bitget, "ws_messages").limit, 10);
}

TEST(RateLimitPreset, effective_limits_keep_burst_plus_refill_within_the_margin) {
  auto okx = *preset("okx");
  auto candles = effective_limits(find_bucket(okx, "candles"), okx.safety_margin, okx.burst_fraction);
  ASSERT_TRUE(candles);
  EXPECT_EQ(candles->effective_limit, 36);  // floor(40 * 0.9)
  EXPECT_EQ(candles->capacity, 4);          // ceil(0.1 * 36)
  EXPECT_EQ(candles->refill_per_window, 32);
  EXPECT_EQ(candles->mode, BucketMode::token_bucket);

  auto bybit = *preset("bybit");
  auto ip = effective_limits(find_bucket(bybit, "ip"), bybit.safety_margin, bybit.burst_fraction);
  EXPECT_EQ(ip->effective_limit, 540);
  EXPECT_EQ(ip->capacity, 540);
  EXPECT_EQ(ip->mode, BucketMode::strict);

  for (std::string_view name : preset_names()) {
    auto p = *preset(name);
    for (const auto& b : p.buckets) {
      auto l = effective_limits(b, p.safety_margin, p.burst_fraction);
      ASSERT_TRUE(l);
      EXPECT_LE(l->capacity + l->refill_per_window, l->effective_limit) << name << "/" << b.name;
      EXPECT_LE(l->effective_limit, b.limit * 9 / 10 + (b.limit < 2 ? 1 : 0)) << name << "/" << b.name;
      EXPECT_GE(l->capacity, b.max_weight);
    }
  }
}

TEST(RateLimitPreset, a_token_bucket_too_small_to_split_runs_strict) {
  auto one = effective_limits(testing::spec("tiny", 1, 1s, BucketMode::token_bucket), kDefaultSafetyMargin);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->effective_limit, 1);  // floor(0.9) would be 0; 1 is still within the published 1
  EXPECT_EQ(one->mode, BucketMode::strict);
  EXPECT_EQ(one->capacity, 1);
}

TEST(RateLimitPreset, unknown_preset_lists_the_valid_names) {
  auto p = preset("kraken");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, ErrorCode::not_found);
  EXPECT_NE(p.error().message.find("kraken"), std::string::npos);
  EXPECT_NE(p.error().message.find("bybit, binance_spot, binance_usdm, okx, bitget"), std::string::npos);
}

TEST(RateLimitPreset, overrides_change_only_what_they_name) {
  auto okx = *preset("okx");
  ASSERT_TRUE(apply_override(okx, "candles", 30, std::nullopt, true));
  EXPECT_EQ(find_bucket(okx, "candles").limit, 30);
  EXPECT_EQ(find_bucket(okx, "candles").window, 2s);
  EXPECT_EQ(find_bucket(okx, "candles").mode, BucketMode::strict);
  ASSERT_TRUE(apply_override(okx, "candles", std::nullopt, 3s, false));
  EXPECT_EQ(find_bucket(okx, "candles").limit, 30);
  EXPECT_EQ(find_bucket(okx, "candles").window, 3s);
  EXPECT_EQ(find_bucket(okx, "candles").mode, BucketMode::token_bucket);
  ASSERT_TRUE(set_safety_margin(okx, Ratio::from_raw(50'000'000)));
  EXPECT_EQ(effective_limits(find_bucket(okx, "candles"), okx.safety_margin)->effective_limit, 15);
  EXPECT_TRUE(validate(okx));
}

TEST(RateLimitPreset, bad_overrides_are_clear_errors_and_change_nothing) {
  auto okx = *preset("okx");
  auto unknown = apply_override(okx, "candle", 10, std::nullopt, std::nullopt);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::not_found);
  EXPECT_NE(unknown.error().message.find("'candle'"), std::string::npos);
  EXPECT_NE(unknown.error().message.find("candles, history_candles, place_order, ws_connections"), std::string::npos);

  auto zero = apply_override(okx, "candles", 0, std::nullopt, std::nullopt);
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().code, ErrorCode::config_error);
  EXPECT_NE(zero.error().message.find("limit must be"), std::string::npos);
  EXPECT_NE(zero.error().message.find("got 0"), std::string::npos);

  auto window = apply_override(okx, "candles", std::nullopt, Duration::zero(), std::nullopt);
  ASSERT_FALSE(window);
  EXPECT_NE(window.error().message.find("window"), std::string::npos);

  auto huge_strict = apply_override(okx, "candles", 10'000'000, std::nullopt, true);
  ASSERT_FALSE(huge_strict);
  EXPECT_NE(huge_strict.error().message.find("use token_bucket"), std::string::npos);

  EXPECT_EQ(find_bucket(okx, "candles").limit, 40);  // untouched by the failed calls
  EXPECT_EQ(find_bucket(okx, "candles").window, 2s);

  auto margin = set_safety_margin(okx, Ratio::from_raw(150'000'000));
  ASSERT_FALSE(margin);
  EXPECT_EQ(margin.error().code, ErrorCode::config_error);
  EXPECT_NE(margin.error().message.find("(0, 1], got 1.5"), std::string::npos);
  EXPECT_FALSE(set_safety_margin(okx, Ratio::zero()));
}

TEST(RateLimitPreset, validate_rejects_broken_presets) {
  auto p = *preset("bitget");
  p.endpoints.push_back(EndpointCost{"bad", {{"nope", 1}}});
  auto s = validate(p);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("unknown bucket 'nope'"), std::string::npos);

  auto dup = *preset("bitget");
  dup.buckets.push_back(dup.buckets.front());
  EXPECT_FALSE(validate(dup));

  auto heavy = *preset("bitget");
  heavy.endpoints.push_back(EndpointCost{"heavy", {{"market_data", 100}}});
  auto h = validate(heavy);
  ASSERT_FALSE(h);
  EXPECT_NE(h.error().message.find("weight 100"), std::string::npos);
}

TEST(RateLimitWeights, binance_klines_weight_follows_the_limit_table) {
  EXPECT_EQ(binance_usdm_klines_weight(1), 1);
  EXPECT_EQ(binance_usdm_klines_weight(99), 1);
  EXPECT_EQ(binance_usdm_klines_weight(100), 2);
  EXPECT_EQ(binance_usdm_klines_weight(499), 2);
  EXPECT_EQ(binance_usdm_klines_weight(500), 5);
  EXPECT_EQ(binance_usdm_klines_weight(1000), 5);
  EXPECT_EQ(binance_usdm_klines_weight(1001), 10);
  EXPECT_EQ(binance_usdm_klines_weight(1500), 10);
  EXPECT_EQ(binance_usdm_klines_weight(0), 5);  // not sent: the venue default of 500
  EXPECT_EQ(binance_spot_klines_weight(1000), 2);
}

}  // namespace
}  // namespace twinstar
