#pragma once
// A request's price: the weight it takes from each bucket, resolved to bucket indices once
// (VenueLimiter::cost) so that try_acquire and acquire do no string work.

#include <array>
#include <cstdint>
#include <string_view>

namespace twinstar {

// Who is served first when several callers wait: critical (cancels) before trading (orders)
// before market_data. Within a class, first come first served.
enum class Priority : std::uint8_t { critical, trading, market_data };
inline constexpr std::size_t kPriorityCount = 3;

std::string_view to_string(Priority p) noexcept;

// Most buckets one request can cost (Bybit order: IP + per-UID endpoint; Binance order: 10 s + 1 d).
inline constexpr std::size_t kMaxCostItems = 4;

class VenueLimiter;

// A bucket of one VenueLimiter, found by name once (VenueLimiter::bucket).
class BucketId {
 public:
  BucketId() = default;
  std::uint8_t index() const noexcept { return index_; }
  friend bool operator==(BucketId, BucketId) = default;

 private:
  friend class VenueLimiter;
  BucketId(std::uint8_t index, std::uint32_t owner) : index_(index), owner_(owner) {}
  std::uint8_t index_ = 0;
  std::uint32_t owner_ = 0;  // the limiter that resolved it; another limiter refuses it
};

// A request's name-level price, for VenueLimiter::cost({{"request_weight", 2}}).
struct CostItem {
  std::string_view bucket;
  std::int64_t weight = 1;
};

// A validated price in one limiter's buckets: at most kMaxCostItems (bucket, weight) pairs,
// each weight in [1, bucket capacity]. Made only by VenueLimiter; cheap to copy.
class Cost {
 public:
  struct Item {
    std::uint8_t bucket = 0;
    std::int64_t weight = 0;
  };

  Cost() = default;
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  const Item& operator[](std::size_t i) const noexcept { return items_[i]; }
  const Item* begin() const noexcept { return items_.data(); }
  const Item* end() const noexcept { return items_.data() + size_; }
  // Weight taken from `bucket`, 0 if the request does not touch it.
  std::int64_t weight_of(BucketId bucket) const noexcept {
    for (std::size_t i = 0; i < size_; ++i) {
      if (items_[i].bucket == bucket.index()) return items_[i].weight;
    }
    return 0;
  }

 private:
  friend class VenueLimiter;
  std::array<Item, kMaxCostItems> items_{};
  std::uint8_t size_ = 0;
  std::uint32_t owner_ = 0;
};

}  // namespace twinstar
