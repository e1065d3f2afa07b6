#include "store/candle_ring.hpp"

#include <algorithm>

namespace twinstar::store {

CandleRing::CandleRing(std::size_t capacity)
    : owned_(std::make_unique_for_overwrite<StoredCandle[]>(std::max<std::size_t>(capacity, 1))),
      capacity_(std::max<std::size_t>(capacity, 1)) {
  data_ = owned_.get();
}

std::size_t CandleRing::find(std::int64_t t) const noexcept {
  std::size_t lo = 0, hi = size_;
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (at(mid).open_time_ms < t) lo = mid + 1; else hi = mid;
  }
  return lo < size_ && at(lo).open_time_ms == t ? lo : static_cast<std::size_t>(-1);
}

std::expected<AppendOutcome, CandleRing::Refused> CandleRing::append(const Candle& c) {
  const std::int64_t t = to_epoch_ms(c.open_time);
  if (size_ > 0 && t <= newest().open_time_ms) {
    const std::size_t i = find(t);
    if (i == static_cast<std::size_t>(-1)) {
      ++counters_.out_of_order;
      return std::unexpected(Refused{AppendRefusal::out_of_order, c.open_time});
    }
    // A venue resending the final bar is normal; an open update for a closed bar is stale.
    if (!c.closed || at(i) == StoredCandle::from(c)) {
      ++counters_.duplicates;
      return AppendOutcome::duplicate;
    }
    ++counters_.conflicts;
    return std::unexpected(Refused{AppendRefusal::conflict, c.open_time});
  }
  if (!c.closed) {
    if (open_ && open_->open_time == c.open_time) {
      open_ = c;
      ++counters_.open_updates;
      return AppendOutcome::updated_open;
    }
    if (open_ && open_->open_time > c.open_time) {
      ++counters_.out_of_order;
      return std::unexpected(Refused{AppendRefusal::out_of_order, c.open_time});
    }
    const bool superseded = open_.has_value();
    open_ = c;
    if (superseded) {
      ++counters_.superseded_open;
      return AppendOutcome::superseded_open;
    }
    return AppendOutcome::opened;
  }
  if (open_ && open_->open_time > c.open_time) {
    ++counters_.out_of_order;
    return std::unexpected(Refused{AppendRefusal::out_of_order, c.open_time});
  }
  if (size_ == capacity_) {
    if (requires_flush_ && unflushed_ == size_) {
      ++counters_.full;
      return std::unexpected(Refused{AppendRefusal::full, c.open_time});
    }
    data_[head_] = StoredCandle::from(c);
    head_ = (head_ + 1) % capacity_;
  } else {
    data_[(head_ + size_) % capacity_] = StoredCandle::from(c);
    ++size_;
  }
  unflushed_ = std::min(unflushed_ + 1, size_);
  ++counters_.appended;
  const bool closes_open = open_.has_value();
  open_.reset();  // the open candle is now final (or was older and never closed)
  return closes_open ? AppendOutcome::closed_open : AppendOutcome::appended;
}

void CandleRing::assign(std::span<const StoredCandle> sorted) {
  if (sorted.size() > capacity_) sorted = sorted.subspan(sorted.size() - capacity_);
  std::copy(sorted.begin(), sorted.end(), data_);
  head_ = 0;
  size_ = sorted.size();
  unflushed_ = 0;
  if (open_ && size_ > 0 && open_->open_time <= from_epoch_ms(newest().open_time_ms)) open_.reset();
}

void CandleRing::assign(std::vector<StoredCandle>&& sorted) {
  // Adopt only a buffer that fits. Spare room past capacity() is reserved address space never
  // written (so not resident); more than the ring's own size of it is copied away all the same.
  if (sorted.size() > capacity_ || sorted.capacity() > 2 * capacity_) {
    assign(std::span<const StoredCandle>(sorted));
    return;
  }
  const std::size_t n = sorted.size();
  sorted.resize(capacity_);
  adopted_ = std::move(sorted);
  owned_.reset();
  data_ = adopted_.data();
  head_ = 0;
  size_ = n;
  unflushed_ = 0;
  if (open_ && size_ > 0 && open_->open_time <= from_epoch_ms(newest().open_time_ms)) open_.reset();
}

void CandleRing::copy_newest(std::size_t n, std::vector<Candle>& out) const {
  n = std::min(n, size_);
  out.reserve(out.size() + n);
  for (std::size_t i = size_ - n; i < size_; ++i) out.push_back(at(i).to_candle());
}

void CandleRing::copy_unflushed(std::vector<StoredCandle>& out) const {
  out.reserve(out.size() + unflushed_);
  for (std::size_t i = size_ - unflushed_; i < size_; ++i) out.push_back(at(i));
}

void CandleRing::mark_flushed_through(std::int64_t t) noexcept {
  while (unflushed_ > 0 && at(size_ - unflushed_).open_time_ms <= t) --unflushed_;
}

}  // namespace twinstar::store
