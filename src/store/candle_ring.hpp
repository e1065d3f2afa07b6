#pragma once
// A fixed-capacity ring of one series' closed candles, oldest to newest, plus the open
// candle the venue is still updating. Append is O(1); memory is allocated once.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "core/candle.hpp"
#include "core/error.hpp"

namespace twinstar::store {

// A closed candle as the ring keeps it: 56 bytes (the `closed` flag is implied).
struct StoredCandle {
  std::int64_t open_time_ms;
  std::int64_t open, high, low, close, volume, turnover;  // raw 1e-8 units

  static StoredCandle from(const Candle& c) noexcept {
    return {to_epoch_ms(c.open_time), c.open.raw(), c.high.raw(), c.low.raw(),
            c.close.raw(), c.volume.raw(), c.turnover.raw()};
  }
  Candle to_candle() const noexcept {
    return Candle{from_epoch_ms(open_time_ms), Price::from_raw(open),       Price::from_raw(high),
                  Price::from_raw(low),        Price::from_raw(close),      Quantity::from_raw(volume),
                  Money::from_raw(turnover),   true};
  }
  friend bool operator==(const StoredCandle&, const StoredCandle&) = default;
};
static_assert(sizeof(StoredCandle) == 56);

// What an accepted append did.
enum class AppendOutcome : std::uint8_t {
  appended,         // a new closed candle
  closed_open,      // the open candle's final version: stored, open slot cleared
  duplicate,        // the same closed candle again: nothing stored twice
  opened,           // a new open candle
  updated_open,     // the open candle's newer values
  superseded_open,  // a later open candle replaced one that never closed (feed must backfill)
};

// Why an append was refused (also counted).
enum class AppendRefusal : std::uint8_t {
  out_of_order,  // older than the newest closed candle and not a copy of a stored one
  conflict,      // same open time as a stored closed candle, different values
  full,          // the oldest candle was never persisted; flush before appending
};

struct RingCounters {
  std::uint64_t appended = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t open_updates = 0;
  std::uint64_t superseded_open = 0;
  std::uint64_t out_of_order = 0;
  std::uint64_t conflicts = 0;
  std::uint64_t full = 0;
};

// Thread: not synchronised; the store guards each ring with its series mutex.
class CandleRing {
 public:
  // Errors: none; capacity 0 is treated as 1.
  explicit CandleRing(std::size_t capacity);

  struct Refused {
    AppendRefusal reason;
    TimestampMs open_time;
  };
  // Closed candle → stored (or duplicate); open candle → the open slot.
  // Errors: Refused (out_of_order, conflict, full) — nothing changes.
  std::expected<AppendOutcome, Refused> append(const Candle& c);

  // Replaces the contents with `sorted` (ascending, unique open times; newest kept if too many),
  // all considered persisted. For loads from disk and backfills.
  void assign(std::span<const StoredCandle> sorted);
  // The same, taking over `sorted`'s buffer instead of copying when it holds at most capacity()
  // candles and its spare room is under capacity() (a restart loads whole rings: the copy and its
  // page faults were a fifth of the restart's CPU).
  void assign(std::vector<StoredCandle>&& sorted);

  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  // i-th closed candle, 0 = oldest.
  const StoredCandle& at(std::size_t i) const noexcept { return data_[(head_ + i) % capacity_]; }
  const StoredCandle& newest() const noexcept { return at(size_ - 1); }
  const std::optional<Candle>& open_candle() const noexcept { return open_; }
  // Copies the newest `n` closed candles (all when n >= size) in order.
  void copy_newest(std::size_t n, std::vector<Candle>& out) const;

  // Closed candles not yet persisted: the newest `unflushed()` ones.
  std::size_t unflushed() const noexcept { return unflushed_; }
  void copy_unflushed(std::vector<StoredCandle>& out) const;
  // Everything up to and including open time `t` is now persisted.
  void mark_flushed_through(std::int64_t open_time_ms) noexcept;
  // Whether an overwritten oldest candle must have been persisted (off for memory-only stores).
  void set_requires_flush(bool on) noexcept { requires_flush_ = on; }

  const RingCounters& counters() const noexcept { return counters_; }
  // Heap plus object bytes this ring holds.
  std::size_t memory_bytes() const noexcept { return sizeof(*this) + capacity_ * sizeof(StoredCandle); }

 private:
  // Index (0 = oldest) of the closed candle with this open time, or npos.
  std::size_t find(std::int64_t open_time_ms) const noexcept;

  // capacity_ slots: owned_ (allocated untouched, so unused slots cost no resident memory) or,
  // after assign(vector&&), adopted_.
  std::unique_ptr<StoredCandle[]> owned_;
  std::vector<StoredCandle> adopted_;
  StoredCandle* data_ = nullptr;
  std::size_t capacity_;
  std::size_t head_ = 0;  // physical index of the oldest
  std::size_t size_ = 0;
  std::size_t unflushed_ = 0;
  bool requires_flush_ = true;
  std::optional<Candle> open_;
  RingCounters counters_;
};

}  // namespace twinstar::store
