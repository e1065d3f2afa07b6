#include "ratelimit/bucket.hpp"

#include <algorithm>
#include <limits>

namespace twinstar::detail {

namespace {

constexpr std::int64_t kMaxNs = std::numeric_limits<std::int64_t>::max();

Timestamp at(std::int64_t ns) { return Timestamp(Duration(ns)); }

}  // namespace

Bucket::Bucket(const BucketSpec& spec, const BucketLimits& limits, std::string scope_id, Timestamp now)
    : spec_(spec),
      limits_(limits),
      scope_id_(std::move(scope_id)),
      window_ns_(spec.window.count()),
      last_ns_(now.time_since_epoch().count()) {
  if (limits_.mode == BucketMode::token_bucket) {
    cap_units_ = static_cast<Int128>(limits_.capacity) * window_ns_;
    floor_units_ = -static_cast<Int128>(limits_.effective_limit) * window_ns_;
    level_ = cap_units_;  // a new bucket starts full: the burst is part of the window budget
  } else {
    ring_.resize(static_cast<std::size_t>(limits_.effective_limit));
  }
}

void Bucket::advance(Timestamp now) noexcept {
  const std::int64_t t = now.time_since_epoch().count();
  if (t <= last_ns_) return;
  if (limits_.mode == BucketMode::token_bucket) {
    if (level_ < cap_units_) {
      // (t - last) * (E - C): exact, and < 2^63 * 2^40, far inside 128 bits.
      level_ = std::min(cap_units_, level_ + static_cast<Int128>(t - last_ns_) * limits_.refill_per_window);
    }
  } else {
    // An entry at s counts in every closed window [x, x + W] containing s; it leaves once t > s + W.
    while (size_ != 0 && ring_[head_].at_ns < t - window_ns_) {
      sum_ -= ring_[head_].weight;
      head_ = head_ + 1 == ring_.size() ? 0 : head_ + 1;
      --size_;
    }
  }
  last_ns_ = t;
}

bool Bucket::can_take(std::int64_t weight) const noexcept {
  if (limits_.mode == BucketMode::token_bucket) return level_ >= static_cast<Int128>(weight) * window_ns_;
  return sum_ + weight <= limits_.effective_limit;
}

void Bucket::take(std::int64_t weight) noexcept {
  if (limits_.mode == BucketMode::token_bucket) {
    level_ -= static_cast<Int128>(weight) * window_ns_;
  } else {
    push(last_ns_, weight);
  }
}

void Bucket::push(std::int64_t at_ns, std::int64_t weight) noexcept {
  sum_ += weight;
  if (size_ != 0) {
    Entry& newest = ring_[(head_ + size_ - 1) % ring_.size()];
    if (newest.at_ns == at_ns) {  // same instant: one entry, so the ring never needs more than E slots
      newest.weight += weight;
      return;
    }
  }
  ring_[(head_ + size_) % ring_.size()] = Entry{at_ns, weight};
  ++size_;
}

Timestamp Bucket::ready_at(std::int64_t weight) const noexcept {
  if (limits_.mode == BucketMode::token_bucket) {
    const Int128 deficit = static_cast<Int128>(weight) * window_ns_ - level_;
    if (deficit <= 0) return at(last_ns_);
    const Int128 rate = limits_.refill_per_window;
    const Int128 wait_ns = (deficit + rate - 1) / rate;  // ceil: the first instant the level suffices
    if (wait_ns > static_cast<Int128>(kMaxNs - last_ns_)) return Timestamp::max();
    return at(last_ns_ + static_cast<std::int64_t>(wait_ns));
  }
  const std::int64_t need = sum_ + weight - limits_.effective_limit;
  if (need <= 0) return at(last_ns_);
  // Walk from the oldest entry until enough weight has left; weight <= E guarantees we find it.
  std::int64_t freed = 0;
  for (std::size_t i = 0; i < size_; ++i) {
    const Entry& e = ring_[(head_ + i) % ring_.size()];
    freed += e.weight;
    if (freed >= need) return at(e.at_ns + window_ns_ + 1);
  }
  return Timestamp::max();
}

bool Bucket::lower_to_used(std::int64_t used_local) noexcept {
  used_local = std::clamp<std::int64_t>(used_local, 0, 2 * limits_.effective_limit);
  if (limits_.mode == BucketMode::token_bucket) {
    // Own use in the last window plus tokens never exceeds E, so E - used bounds the tokens.
    const Int128 target =
        std::max(floor_units_, static_cast<Int128>(limits_.effective_limit - used_local) * window_ns_);
    if (level_ <= target) return false;
    level_ = target;
    return true;
  }
  const std::int64_t target = std::min(used_local, limits_.effective_limit);
  if (sum_ >= target) return false;
  // We do not know when the venue counted the rest; counting it now is the cautious choice.
  push(last_ns_, target - sum_);
  return true;
}

std::int64_t Bucket::available() const noexcept {
  if (limits_.mode == BucketMode::token_bucket) {
    // Floor toward negative infinity, so a partial token never shows as available.
    Int128 q = level_ / window_ns_;
    if (level_ % window_ns_ != 0 && level_ < 0) --q;
    return static_cast<std::int64_t>(q);
  }
  return limits_.effective_limit - sum_;
}

void Bucket::pause_until(Timestamp until) noexcept { paused_until_ = std::max(paused_until_, until); }

}  // namespace twinstar::detail
