#include "core/candle.hpp"

namespace twinstar {

Status check_ohlc(const Candle& c) {
  const auto when = format_iso8601(c.open_time);
  if (c.low > c.high) return make_error(ErrorCode::invalid_argument, "candle {}: low {} above high {}", when, c.low, c.high);
  if (c.low > c.open || c.low > c.close) {
    return make_error(ErrorCode::invalid_argument, "candle {}: low {} above open {} or close {}", when, c.low, c.open, c.close);
  }
  if (c.high < c.open || c.high < c.close) {
    return make_error(ErrorCode::invalid_argument, "candle {}: high {} below open {} or close {}", when, c.high, c.open, c.close);
  }
  if (c.volume.is_negative()) return make_error(ErrorCode::invalid_argument, "candle {}: negative volume {}", when, c.volume);
  return {};
}

}  // namespace twinstar
