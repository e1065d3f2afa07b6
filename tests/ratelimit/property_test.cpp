// Property test: random try_acquire sequences on every preset bucket, in both modes, checked
// against an independent sliding-window counter and an independent reference model.

#include <deque>
#include <random>

#include <gtest/gtest.h>

#include "ratelimit/limiter.hpp"
#include "test_support.hpp"

namespace twinstar {
namespace {

using namespace std::chrono_literals;
__extension__ typedef __int128 Int128;

// The numbers, computed here from the published limit without the library's help.
struct ModelLimits {
  std::int64_t effective;  // never exceeded in any window
  std::int64_t burst;      // token bucket capacity
  bool strict;
};

ModelLimits model_limits(const BucketSpec& b) {
  const std::int64_t effective = std::max<std::int64_t>(1, b.limit * 9 / 10);  // margin 0.9
  const std::int64_t burst = std::max(b.max_weight, (effective + 9) / 10);     // ceil(0.1 * E)
  const bool strict = b.mode == BucketMode::strict || burst >= effective;
  return ModelLimits{effective, strict ? effective : burst, strict};
}

// GCRA form of a token bucket (a different formulation from the library's level counter):
// `full_at` is when the bucket would be full again, kept in units of 1/R ns so it stays exact.
class GcraModel {
 public:
  GcraModel(const ModelLimits& l, Duration window, Timestamp start)
      : burst_(l.burst), refill_(l.effective - l.burst), window_ns_(window.count()),
        full_at_(static_cast<Int128>(start.time_since_epoch().count()) * refill_) {}

  bool try_take(Timestamp t, std::int64_t weight) {
    const Int128 now = static_cast<Int128>(t.time_since_epoch().count()) * refill_;
    const Int128 from = std::max(full_at_, now);
    // Tokens missing at t are (from - now) / window in these units; at most C - weight may be missing.
    if (from - now > static_cast<Int128>(burst_ - weight) * window_ns_) return false;
    full_at_ = from + static_cast<Int128>(weight) * window_ns_;
    return true;
  }

 private:
  std::int64_t burst_;
  std::int64_t refill_;
  std::int64_t window_ns_;
  Int128 full_at_;
};

// Strict model: a plain log of grants; accept iff the closed window ending now stays within E.
class WindowModel {
 public:
  WindowModel(std::int64_t effective, Duration window) : effective_(effective), window_(window) {}

  bool try_take(Timestamp t, std::int64_t weight) {
    while (!log_.empty() && log_.front().first < t - window_) {
      sum_ -= log_.front().second;
      log_.pop_front();
    }
    if (sum_ + weight > effective_) return false;
    log_.emplace_back(t, weight);
    sum_ += weight;
    return true;
  }

 private:
  std::int64_t effective_;
  Duration window_;
  std::deque<std::pair<Timestamp, std::int64_t>> log_;
  std::int64_t sum_ = 0;
};

struct RunResult {
  std::int64_t granted = 0;
  std::int64_t refused = 0;
  std::int64_t worst_window = 0;
};

RunResult run_random_sequence(const Preset& base, const BucketSpec& bucket, bool strict, std::uint32_t seed) {
  Preset p = base;
  EXPECT_TRUE(apply_override(p, bucket.name, std::nullopt, std::nullopt, strict));
  const BucketSpec& b = *std::find_if(p.buckets.begin(), p.buckets.end(), [&](const auto& x) { return x.name == bucket.name; });
  const ModelLimits l = model_limits(b);

  ManualClock clock(testing::kStart);
  RateLimiterRegistry registry(clock);
  EXPECT_TRUE(registry.configure(p));
  auto limiter = b.scope == Scope::connection
                     ? registry.connection_limiter(p.exchange, p.markets.front(), "conn-1")
                     : registry.limiter(p.exchange, "acct", p.markets.front());
  EXPECT_TRUE(limiter) << limiter.error().message;
  auto id = (*limiter)->bucket(b.name);
  EXPECT_TRUE(id);

  // Stats agree with the independently computed numbers.
  for (const auto& s : (*limiter)->stats().buckets) {
    if (s.name != b.name) continue;
    EXPECT_EQ(s.effective_limit, l.effective) << b.name;
    EXPECT_EQ(s.capacity, l.burst) << b.name;
    EXPECT_EQ(s.mode == BucketMode::strict, l.strict) << b.name;
  }

  // A weight above the capacity is refused at once, never left to hang.
  auto too_big = (*limiter)->cost(*id, l.burst + 1);
  EXPECT_FALSE(too_big);
  if (!too_big) {
    EXPECT_EQ(too_big.error().code, ErrorCode::invalid_argument);
  }

  GcraModel gcra(l, b.window, clock.now());
  WindowModel window(l.effective, b.window);
  std::mt19937_64 rng(seed);
  const std::int64_t w_ns = b.window.count();
  const std::int64_t per_token = std::max<std::int64_t>(1, w_ns / l.effective);
  const int steps = static_cast<int>(std::clamp<std::int64_t>(3 * l.burst + 2000, 4000, 60'000));
  std::vector<std::pair<Timestamp, std::int64_t>> grants;
  RunResult r;
  for (int step = 0; step < steps; ++step) {
    const auto dice = rng() % 100;
    std::int64_t dt = 0;
    if (dice < 30) {
      dt = 0;  // bursts at one instant
    } else if (dice < 80) {
      dt = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(3 * per_token));
    } else if (dice < 95) {
      dt = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(w_ns / 4 + 1));
    } else if (dice < 98) {
      dt = w_ns;  // exactly one window: the closed-window edge
    } else {
      dt = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(2 * w_ns));
    }
    clock.advance(Duration(dt));
    const std::int64_t max_w = std::min<std::int64_t>(l.burst, 8);
    std::int64_t weight = 1 + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(max_w));
    if (rng() % 50 == 0) weight = l.burst;
    auto cost = (*limiter)->cost(*id, weight);
    EXPECT_TRUE(cost);
    const Timestamp now = clock.now();
    const bool granted = (*limiter)->try_acquire(*cost).has_value();
    const bool expected = l.strict ? window.try_take(now, weight) : gcra.try_take(now, weight);
    if (granted != expected) {
      ADD_FAILURE() << p.name << "/" << b.name << (strict ? " strict" : " token") << " step " << step << " weight "
                    << weight << ": limiter " << granted << ", model " << expected;
      break;
    }
    if (granted) {
      grants.emplace_back(now, weight);
      ++r.granted;
    } else {
      ++r.refused;
    }
  }
  r.worst_window = testing::max_window_weight(grants, b.window);
  EXPECT_LE(r.worst_window, l.effective) << p.name << "/" << b.name << (strict ? " strict" : " token");
  return r;
}

TEST(RateLimitProperty, no_window_ever_exceeds_the_effective_limit_and_models_agree_on_every_decision) {
  std::uint32_t seed = 20261124;
  int runs = 0;
  for (std::string_view name : preset_names()) {
    const Preset p = *preset(name);
    for (const auto& b : p.buckets) {
      for (bool strict : {false, true}) {
        SCOPED_TRACE(fmt::format("{}/{} {} seed {}", name, b.name, strict ? "strict" : "token_bucket", seed));
        const auto r = run_random_sequence(p, b, strict, seed++);
        // The sequences reach the limit: both decisions occur, so agreement means something.
        EXPECT_GT(r.granted, 0);
        EXPECT_GT(r.refused, 0);
        ++runs;
      }
    }
  }
  EXPECT_GE(runs, 50);
}

TEST(RateLimitProperty, token_bucket_burst_then_refill_matches_the_window_budget_exactly) {
  // limit 10 per 9 s, margin 1: E = 10, burst C = 1, refill 9 per 9 s (one per second). Driven
  // flat out from full, the closed window [0, 9 s] gets exactly C + 9 = 10, and never 11.
  ManualClock clock(testing::kStart);
  RateLimiterRegistry registry(clock);
  ASSERT_TRUE(registry.configure(testing::test_preset({testing::spec("b", 10, 9s, BucketMode::token_bucket)})));
  auto limiter = *registry.limiter(Exchange::bybit, "a");
  auto cost = *limiter->cost({{"b", 1}});
  std::vector<Timestamp> grants;
  for (int step = 0; step <= 90; ++step) {
    while (limiter->try_acquire(cost)) grants.push_back(clock.now());
    if (step < 90) clock.advance(100ms);
  }
  ASSERT_EQ(grants.size(), 10u);
  for (std::size_t i = 0; i < grants.size(); ++i) EXPECT_EQ(grants[i], testing::kStart + std::chrono::seconds(i));
}

}  // namespace
}  // namespace twinstar
