#pragma once
// Snapshots of limiter activity, for metrics, the status API and tests.

#include <cstdint>
#include <string>
#include <vector>

#include "core/ids.hpp"
#include "core/time.hpp"
#include "ratelimit/preset.hpp"

namespace twinstar {

struct BucketStats {
  std::string name;
  Scope scope = Scope::ip;
  std::string scope_id;            // the IP id, account or connection this bucket counts for
  BucketMode mode = BucketMode::token_bucket;  // as enforced (a tiny token bucket runs strict)
  std::int64_t published_limit = 0;
  std::int64_t effective_limit = 0;  // never exceeded in any window
  Duration window{};
  std::int64_t capacity = 0;       // max_tokens: the burst (token bucket) or the effective limit (strict)
  std::int64_t current_tokens = 0; // whole tokens now (token bucket) or room left in the window (strict)
  std::uint64_t requests = 0;      // grants that took weight here
  std::uint64_t weight = 0;        // total weight granted
  std::uint64_t rejections = 0;    // try_acquire refusals caused by this bucket
  std::uint64_t waits = 0;         // grants that had to wait
  Duration mean_wait{};            // over waits
  Duration max_wait{};
  std::uint64_t timeouts = 0;
  std::uint64_t cancellations = 0;
  std::uint64_t pauses = 0;
  std::uint64_t corrections = 0;   // venue feedback that lowered the local count
  Timestamp paused_until{};        // epoch when never paused
  std::uint32_t waiting = 0;       // waiters queued on this bucket now
};

// The original Python APIRateLimiter.get_stats() names, for dashboards that expect them.
struct RateLimiterSummary {
  std::uint64_t total_requests = 0;     // granted acquisitions
  std::uint64_t rejected_requests = 0;  // try_acquire refusals + acquire timeouts
  double rejection_rate = 0.0;          // rejected / (granted + rejected)
  double avg_wait_time = 0.0;           // seconds, over all granted acquisitions
  std::int64_t current_tokens = 0;      // of the preset's first (primary) bucket
  std::int64_t max_tokens = 0;          // of the preset's first (primary) bucket
};

struct LimiterStats {
  Exchange exchange = Exchange::bybit;
  std::string preset;
  std::string scope_id;                // account name, or connection id for a connection limiter
  std::uint64_t requests = 0;          // granted acquisitions through this limiter
  std::uint64_t rejections = 0;        // try_acquire refusals
  std::uint64_t waits = 0;
  Duration total_wait{};
  Duration mean_wait{};
  Duration max_wait{};
  std::uint64_t timeouts = 0;
  std::uint64_t cancellations = 0;
  std::uint64_t pauses = 0;            // pause() calls on this limiter
  std::uint64_t wakeups = 0;           // times a waiter woke to look again (no busy waiting: stays small)
  std::uint32_t waiting = 0;           // acquires queued now
  std::vector<BucketStats> buckets;    // this limiter's buckets (IP ones are shared with other accounts)

  RateLimiterSummary summary() const;
};

}  // namespace twinstar
