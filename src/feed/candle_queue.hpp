#pragma once
// The bounded queue between network threads and consumers.
// Overflow policy (named, kCoalesceOpenNeverDropClosed): an open-candle update replaces a queued
// update of the same series and open time (coalesced); a closed candle replaces the queued open
// update of its own candle in place, or waits for room — closed candles are never dropped; an
// open update that finds the queue full with nothing to coalesce is dropped (counted), because
// the next update or the close of that candle supersedes it.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/candle.hpp"
#include "core/ids.hpp"

namespace twinstar::feed {

inline constexpr std::string_view kCoalesceOpenNeverDropClosed = "coalesce-open/never-drop-closed";

struct CandleEvent {
  SeriesKey series;
  Candle candle;
  bool from_backfill = false;  // fetched over REST to fill a gap
};

struct QueueStats {
  std::size_t depth = 0;
  std::size_t max_depth = 0;
  std::size_t capacity = 0;
  std::uint64_t pushed = 0;
  std::uint64_t popped = 0;
  std::uint64_t coalesced = 0;     // open updates (or a close) merged into a queued update
  std::uint64_t dropped_open = 0;  // open updates dropped while full; never a closed candle
  std::uint64_t waits = 0;         // closed candles that waited for room
};

// Thread: any number of producers, one consumer; one mutex, named below.
class CandleQueue {
 public:
  explicit CandleQueue(std::size_t capacity);

  // Returns false only after close() (the event is not queued then).
  bool push(const CandleEvent& event);
  // Moves up to `max` events into `out` (appended), waiting until there is one or close().
  // Returns false when closed and empty.
  bool pop_batch(std::vector<CandleEvent>& out, std::size_t max);
  // Wakes everyone; pushes fail from now on, pops drain what is left.
  void close();
  QueueStats stats() const;

 private:
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable not_empty_;  // with mutex_
  std::condition_variable not_full_;   // with mutex_
  std::deque<CandleEvent> events_;     // guarded by mutex_
  std::uint64_t head_seq_ = 0;         // guarded by mutex_: sequence number of events_.front()
  // guarded by mutex_: the queued open update of each series, by sequence number
  std::unordered_map<SeriesKey, std::uint64_t> open_seq_by_series_;
  bool closed_ = false;                // guarded by mutex_
  int waiting_consumers_ = 0;          // guarded by mutex_: notify only when someone waits
  int waiting_producers_ = 0;          // guarded by mutex_
  QueueStats stats_;                   // guarded by mutex_
};

}  // namespace twinstar::feed
