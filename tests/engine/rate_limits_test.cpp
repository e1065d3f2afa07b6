#include "engine/rate_limits.hpp"

#include <gtest/gtest.h>

namespace twinstar {
namespace {

Ratio ratio(double x) { return Ratio::from_raw(static_cast<std::int64_t>(x * 1e8 + 0.5)); }

std::int64_t effective(const Preset& p, std::string_view bucket) {
  for (const auto& b : p.buckets) {
    if (b.name == bucket) return effective_limits(b, p.safety_margin, p.burst_fraction)->effective_limit;
  }
  ADD_FAILURE() << "no bucket " << bucket;
  return -1;
}

TEST(RateLimitShare, two_halves_of_a_budget_never_add_up_to_more_than_the_whole) {
  RateLimitConfig whole{.preset = "okx"};
  RateLimitConfig half{.preset = "okx", .share = ratio(0.5)};
  auto w = preset_from_config(whole, "test.toml");
  auto h = preset_from_config(half, "test.toml");
  ASSERT_TRUE(w) << w.error().message;
  ASSERT_TRUE(h) << h.error().message;
  for (const auto& b : w->buckets) {
    if (b.scope == Scope::connection) continue;
    const std::int64_t all = effective(*w, b.name);
    const std::int64_t part = effective(*h, b.name);
    EXPECT_LE(2 * part, all) << b.name;  // two processes at half never pass what one process at the whole may use
    EXPECT_GE(part, 1) << b.name;
  }
  // OKX history-candles: 20 per 2 s published, 18 with the default margin, 9 for each half.
  EXPECT_EQ(effective(*w, "history_candles"), 18);
  EXPECT_EQ(effective(*h, "history_candles"), 9);
}

TEST(RateLimitShare, a_bucket_too_small_to_split_is_a_config_error) {
  RateLimitConfig tiny{.preset = "okx", .share = ratio(0.01)};
  auto p = preset_from_config(tiny, "test.toml");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, ErrorCode::config_error);
  EXPECT_NE(p.error().message.find("too few to split with share 0.01"), std::string::npos) << p.error().message;
  EXPECT_NE(p.error().message.find("test.toml"), std::string::npos) << p.error().message;
}

}  // namespace
}  // namespace twinstar
