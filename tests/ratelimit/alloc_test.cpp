// try_acquire allocates nothing, granted or refused: global operator new is counted here (this
// test has its own executable so the replacement touches nothing else).

#include <atomic>
#include <cstdlib>
#include <new>

#include <gtest/gtest.h>

#include "ratelimit/limiter.hpp"
#include "test_support.hpp"

// GCC cannot see that these replacements pair malloc with free.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<std::uint64_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace twinstar {
namespace {

using namespace std::chrono_literals;

TEST(RateLimitAllocation, try_acquire_allocates_nothing_when_granting_or_refusing) {
  ManualClock clock(testing::kStart);
  RateLimiterRegistry registry(clock);
  auto limiter = *registry.limiter(Exchange::bybit, "a");
  auto order = *limiter->endpoint_cost("order_create_linear");
  auto md = *limiter->endpoint_cost("market_data");
  auto position = *limiter->endpoint_cost("position_list");
  ASSERT_TRUE(limiter->pause(*limiter->bucket("position_list"), testing::kStart + 1h));

  std::uint64_t granted = 0;
  std::uint64_t refused = 0;
  g_counting = true;
  for (int i = 0; i < 2000; ++i) {
    for (const Cost* c : {&order, &md, &position}) {
      auto s = limiter->try_acquire(*c, Priority::trading);  // refusals: "no tokens", "bucket paused"
      if (s) {
        ++granted;
      } else {
        ++refused;
      }
    }
    clock.advance(3ms);
  }
  g_counting = false;
  EXPECT_EQ(g_allocations.load(), 0u);
  EXPECT_GT(granted, 100u);
  EXPECT_GT(refused, 100u);
}

}  // namespace
}  // namespace twinstar
