#pragma once
// Bybit v5 kline parsing: public WebSocket frames (kline.{interval}.{symbol} pushes, acks,
// pongs) and the GET /v5/market/kline response. Reference: exchange-api.md §1.1, §1.2.

#include <memory>
#include <string_view>
#include <vector>

#include "core/candle.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "venue/common/kline_frame.hpp"

namespace twinstar::venue::detail {
class JsonState;
}

namespace twinstar::venue::bybit {

// Thread: one thread at a time (one parser per connection or per REST worker).
class BybitKlineParser {
 public:
  // `market` is the stream the frames come from (spot or linear), which the frames do not name.
  explicit BybitKlineParser(Market market);
  ~BybitKlineParser();
  BybitKlineParser(BybitKlineParser&&) noexcept;
  BybitKlineParser& operator=(BybitKlineParser&&) noexcept;

  // One public WebSocket frame into `out` (cleared first). Kline pushes carry `confirm`;
  // acks (success true/false), pongs and auth answers become their FrameKind.
  // Errors: parse_error naming what was wrong (malformed JSON, missing field, bad decimal,
  // unknown topic or interval); counted in stats().rejected; `out` is left cleared.
  Status parse_frame(std::string_view frame, KlineFrame& out);

  // A GET /v5/market/kline body into `out` (cleared first), oldest first. Bybit sends newest
  // first and has no closed flag: a candle is closed when its interval ended at or before `now`.
  // Errors: rate_limited for retCode 10006, invalid_argument for other non-zero retCodes,
  // parse_error for malformed bodies; counted in stats().rejected.
  Status parse_rest(std::string_view body, Interval interval, TimestampMs now, std::vector<Candle>& out);

  const ParseStats& stats() const noexcept { return stats_; }
  Market market() const noexcept { return market_; }

 private:
  Status parse_frame_impl(std::string_view frame, KlineFrame& out);
  Status parse_rest_impl(std::string_view body, Interval interval, TimestampMs now, std::vector<Candle>& out);

  Market market_;
  std::unique_ptr<detail::JsonState> json_;
  ParseStats stats_;
};

}  // namespace twinstar::venue::bybit
