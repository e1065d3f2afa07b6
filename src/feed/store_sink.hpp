#pragma once
// The feed's link to the shared candle store: a consumer that appends what the feed delivers,
// and the store's newest closed candle as the feed's backfill start.

#include <atomic>
#include <cstdint>

#include "feed/market_feed.hpp"
#include "store/candle_store.hpp"

namespace twinstar::feed {

// Thread: dispatcher threads (CandleStore::append is thread-safe).
class StoreSink final : public CandleConsumer {
 public:
  explicit StoreSink(store::CandleStore& store) : store_(store) {}
  void on_candle(const SeriesKey& series, const Candle& candle) override;

  std::uint64_t appended() const noexcept { return appended_.load(); }
  std::uint64_t duplicates() const noexcept { return duplicates_.load(); }
  std::uint64_t errors() const noexcept { return errors_.load(); }

 private:
  store::CandleStore& store_;
  std::atomic<std::uint64_t> appended_{0};
  std::atomic<std::uint64_t> duplicates_{0};
  std::atomic<std::uint64_t> errors_{0};
};

// For FeedOptions::last_stored: the open time of the series' newest stored closed candle.
LastStored last_stored_in(store::CandleStore& store);

}  // namespace twinstar::feed
