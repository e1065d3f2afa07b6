#pragma once
// One bucket's accounting: a token bucket in exact integer units, or a strict sliding-window
// log. Not thread-safe by itself: the VenueGroup mutex guards every bucket of a venue.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "ratelimit/cost.hpp"
#include "ratelimit/preset.hpp"

namespace twinstar::detail {

__extension__ typedef __int128 Int128;

class Bucket {
 public:
  Bucket(const BucketSpec& spec, const BucketLimits& limits, std::string scope_id, Timestamp now);

  const BucketSpec& spec() const noexcept { return spec_; }
  const BucketLimits& limits() const noexcept { return limits_; }
  const std::string& scope_id() const noexcept { return scope_id_; }

  // Brings refill (token bucket) or expiry (strict) up to `now`. Time never moves backward here:
  // an earlier `now` (a wall clock stepped back) counts as the latest time seen.
  void advance(Timestamp now) noexcept;
  // After advance(): can `weight` be taken now?
  bool can_take(std::int64_t weight) const noexcept;
  // The latest time seen: what a grant is accounted at.
  Timestamp last_time() const noexcept { return Timestamp(Duration(last_ns_)); }
  // After advance() and can_take(): takes `weight` at the latest time seen.
  void take(std::int64_t weight) noexcept;
  // After advance(): the earliest time `weight` can be taken if nobody else takes anything
  // (ignores pauses). Exact: the token bucket to the nanosecond, strict to the oldest entry leaving.
  Timestamp ready_at(std::int64_t weight) const noexcept;
  // After advance(): the venue says `used_local` (in this bucket's units) is spent in its window;
  // lowers what is available to effective_limit - used_local (never raises it). Returns true if lowered.
  bool lower_to_used(std::int64_t used_local) noexcept;
  // After advance(): whole tokens available now (token bucket, may be negative after feedback),
  // or room left in the window (strict).
  std::int64_t available() const noexcept;

  Timestamp paused_until() const noexcept { return paused_until_; }
  bool paused_at(Timestamp now) const noexcept { return now < paused_until_; }
  // Extends the pause to `until` (never shortens it).
  void pause_until(Timestamp until) noexcept;

  // Waiters queued on this bucket by priority, so try_acquire can refuse to jump the queue in O(1).
  std::array<std::uint32_t, kPriorityCount> waiting{};
  // Whether a queued waiter at `priority` or more urgent uses this bucket.
  bool has_waiters_at_or_above(Priority priority) const noexcept {
    for (std::size_t p = 0; p <= static_cast<std::size_t>(priority); ++p) {
      if (waiting[p] != 0) return true;
    }
    return false;
  }

  struct Counters {
    std::uint64_t requests = 0;    // grants that took weight from this bucket
    std::uint64_t weight = 0;      // total weight granted
    std::uint64_t rejections = 0;  // try_acquire refusals caused by this bucket
    std::uint64_t waits = 0;       // grants that had to wait
    Duration total_wait{};
    Duration max_wait{};
    std::uint64_t timeouts = 0;
    std::uint64_t cancellations = 0;
    std::uint64_t pauses = 0;
    std::uint64_t corrections = 0;  // venue feedback that lowered the local count
  };
  Counters counters;

 private:
  struct Entry {
    std::int64_t at_ns;
    std::int64_t weight;
  };

  BucketSpec spec_;
  BucketLimits limits_;
  std::string scope_id_;
  std::int64_t window_ns_;
  std::int64_t last_ns_;  // latest time seen
  Timestamp paused_until_{};

  // Token bucket, in units of 1/window_ns_ token so that refill (E - C) units per ns is exact.
  Int128 level_ = 0;
  Int128 cap_units_ = 0;
  Int128 floor_units_ = 0;  // feedback may push the level below zero, but not below -E tokens

  // Strict: ring of (time, weight), oldest at head_; at most effective_limit entries since each weighs >= 1.
  std::vector<Entry> ring_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
  std::int64_t sum_ = 0;

  void push(std::int64_t at_ns, std::int64_t weight) noexcept;
};

}  // namespace twinstar::detail
