#include "feed/candle_queue.hpp"

#include <algorithm>

namespace twinstar::feed {

CandleQueue::CandleQueue(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {
  stats_.capacity = capacity_;
}

bool CandleQueue::push(const CandleEvent& event) {
  std::unique_lock lock(mutex_);
  if (closed_) return false;
  // Same candle already queued as an open update: merge into it (its place in line is kept).
  if (auto it = open_seq_by_series_.find(event.series); it != open_seq_by_series_.end()) {
    CandleEvent& queued = events_[static_cast<std::size_t>(it->second - head_seq_)];
    if (queued.candle.open_time == event.candle.open_time) {
      queued = event;
      if (event.candle.closed) open_seq_by_series_.erase(it);
      ++stats_.coalesced;
      ++stats_.pushed;
      return true;
    }
  }
  if (!event.candle.closed && events_.size() >= capacity_) {
    ++stats_.dropped_open;
    return true;
  }
  if (events_.size() >= capacity_) {
    ++stats_.waits;
    ++waiting_producers_;
    not_full_.wait(lock, [&] { return closed_ || events_.size() < capacity_; });
    --waiting_producers_;
    if (closed_) return false;
  }
  const std::uint64_t seq = head_seq_ + events_.size();
  events_.push_back(event);
  if (event.candle.closed) {
    open_seq_by_series_.erase(event.series);
  } else {
    open_seq_by_series_[event.series] = seq;
  }
  ++stats_.pushed;
  stats_.max_depth = std::max(stats_.max_depth, events_.size());
  const bool wake = waiting_consumers_ > 0;
  lock.unlock();
  if (wake) not_empty_.notify_one();
  return true;
}

bool CandleQueue::pop_batch(std::vector<CandleEvent>& out, std::size_t max) {
  std::unique_lock lock(mutex_);
  ++waiting_consumers_;
  not_empty_.wait(lock, [&] { return closed_ || !events_.empty(); });
  --waiting_consumers_;
  if (events_.empty()) return false;
  const std::size_t n = std::min(max, events_.size());
  for (std::size_t i = 0; i < n; ++i) {
    CandleEvent& e = events_.front();
    if (!e.candle.closed) {
      auto it = open_seq_by_series_.find(e.series);
      if (it != open_seq_by_series_.end() && it->second == head_seq_) open_seq_by_series_.erase(it);
    }
    out.push_back(std::move(e));
    events_.pop_front();
    ++head_seq_;
  }
  stats_.popped += n;
  const bool wake = waiting_producers_ > 0;
  lock.unlock();
  if (wake) not_full_.notify_all();
  return true;
}

void CandleQueue::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  not_empty_.notify_all();
  not_full_.notify_all();
}

QueueStats CandleQueue::stats() const {
  std::lock_guard lock(mutex_);
  QueueStats s = stats_;
  s.depth = events_.size();
  return s;
}

}  // namespace twinstar::feed
