#pragma once
// Integrity of one stored series: gaps (missing intervals), duplicates, OHLC violations.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/candle.hpp"
#include "core/ids.hpp"

namespace twinstar::store {

struct CandleGap {
  TimestampMs from{};        // open time of the first missing candle
  std::int64_t missing = 0;  // consecutive candles missing from there
};

struct DuplicateCandle {
  TimestampMs open_time{};
  std::size_t copies = 0;  // rows with this open time (>= 2)
  bool identical = true;   // all copies carry the same values
};

struct OhlcViolation {
  TimestampMs open_time{};
  std::string what;  // check_ohlc's message
};

struct IntegrityReport {
  SeriesKey key;
  std::size_t candles = 0;  // rows examined
  std::optional<TimestampMs> first, last;
  std::vector<CandleGap> gaps;
  std::int64_t missing = 0;  // sum of gap lengths
  std::vector<DuplicateCandle> duplicates;
  std::vector<OhlcViolation> violations;
  std::vector<TimestampMs> misaligned;    // open time not on an interval boundary
  std::vector<TimestampMs> out_of_order;  // a row older than the row before it

  // No duplicates, violations, misaligned or unordered rows (gaps are the exchange's own).
  bool clean() const noexcept { return duplicates.empty() && violations.empty() && misaligned.empty() && out_of_order.empty(); }
};

// Examines `rows` in stored order (duplicates and disorder included, so they can be reported).
// Monthly series are checked by calendar month and never flagged misaligned (sources label a
// month by its first or its last day). Thread: any (pure).
IntegrityReport check_series(const SeriesKey& key, std::span<const Candle> rows);

}  // namespace twinstar::store
