#include "store/resample.hpp"

#include <chrono>

namespace twinstar::store {

Result<ResampleResult> resample(std::span<const Candle> fine, Interval from, Interval to) {
  using std::chrono::milliseconds;
  const auto from_len = std::chrono::duration_cast<milliseconds>(interval_length(from)).count();
  const auto to_len = std::chrono::duration_cast<milliseconds>(interval_length(to)).count();
  if (from == Interval::mo1 || (to != Interval::mo1 && (to_len <= from_len || to_len % from_len != 0)) ||
      (to == Interval::mo1 && 86'400'000 % from_len != 0 && from != Interval::d1)) {
    return make_error(ErrorCode::invalid_argument, "cannot resample {} into {}: the target must be a whole multiple", from, to);
  }
  const std::int64_t per_bucket = to == Interval::mo1 ? 0 : to_len / from_len;
  ResampleResult out;
  Timestamp bucket_start{};
  Timestamp bucket_end{};
  std::int64_t count = 0;
  bool all_closed = true;
  for (std::size_t i = 0; i < fine.size(); ++i) {
    const Candle& c = fine[i];
    if (i > 0 && c.open_time <= fine[i - 1].open_time) {
      return make_error(ErrorCode::invalid_argument, "resample: input not ascending at {}", format_iso8601(c.open_time));
    }
    const Timestamp start = interval_floor(to, Timestamp(c.open_time));
    if (out.candles.empty() || start != bucket_start) {
      if (!out.candles.empty() && per_bucket > 0 && count < per_bucket) ++out.incomplete;
      bucket_start = start;
      bucket_end = interval_next(to, start);
      count = 0;
      all_closed = true;
      out.candles.push_back(Candle{floor_ms(start), c.open, c.high, c.low, c.close, c.volume, c.turnover, true});
    } else {
      Candle& b = out.candles.back();
      b.high = std::max(b.high, c.high);
      b.low = std::min(b.low, c.low);
      b.close = c.close;
      b.volume += c.volume;
      b.turnover += c.turnover;
    }
    ++count;
    all_closed = all_closed && c.closed;
  }
  if (!out.candles.empty()) {
    // The newest bucket is complete only if the input reaches its end with a closed candle.
    const Timestamp input_end = interval_next(from, Timestamp(fine.back().open_time));
    if (input_end < bucket_end || !all_closed) {
      out.candles.back().closed = false;
      out.last_partial = true;
    } else if (per_bucket > 0 && count < per_bucket) {
      ++out.incomplete;
    }
  }
  return out;
}

}  // namespace twinstar::store
