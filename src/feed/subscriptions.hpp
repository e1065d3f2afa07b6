#pragma once
// Reference-counted subscriptions: two bots watching BTCUSDT 15m share one venue topic; the
// last unsubscribe removes it.

#include <cstddef>
#include <map>
#include <vector>

#include "core/ids.hpp"

namespace twinstar::feed {

// Thread: not synchronised; MarketFeed guards it with its own mutex.
class SubscriptionCounts {
 public:
  // True when this is the series' first subscriber (the topic must be subscribed).
  bool add(const SeriesKey& series) { return ++count_by_series_[series] == 1; }
  // True when this was the last subscriber (the topic must be unsubscribed). False when unknown.
  bool remove(const SeriesKey& series) {
    auto it = count_by_series_.find(series);
    if (it == count_by_series_.end()) return false;
    if (--it->second > 0) return false;
    count_by_series_.erase(it);
    return true;
  }
  std::size_t count(const SeriesKey& series) const {
    auto it = count_by_series_.find(series);
    return it == count_by_series_.end() ? 0 : it->second;
  }
  std::size_t series() const noexcept { return count_by_series_.size(); }
  std::vector<SeriesKey> keys() const {
    std::vector<SeriesKey> out;
    for (const auto& [k, n] : count_by_series_) out.push_back(k);
    return out;
  }

 private:
  std::map<SeriesKey, std::size_t> count_by_series_;
};

}  // namespace twinstar::feed
