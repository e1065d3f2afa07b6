#pragma once
// Coarser candles from finer ones: open first, high max, low min, close last, volume and
// turnover summed; each bucket labelled by its start.

#include <span>
#include <vector>

#include "core/candle.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"

namespace twinstar::store {

struct ResampleResult {
  std::vector<Candle> candles;     // ascending; the last one closed=false when its bucket is partial
  bool last_partial = false;       // the newest bucket has not ended within the input
  std::size_t incomplete = 0;      // ended buckets with missing fine candles (exchange gaps)
};

// `fine` ascending and unique, of interval `from`; `to` must be a whole multiple of `from`
// (and months only from days or finer). Thread: any (pure).
// Errors: invalid_argument (intervals incompatible, input not ascending).
Result<ResampleResult> resample(std::span<const Candle> fine, Interval from, Interval to);

}  // namespace twinstar::store
