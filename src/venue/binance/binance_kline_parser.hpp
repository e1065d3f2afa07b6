#pragma once
// Binance kline parsing, spot and USDⓈ-M: WebSocket kline events (raw `/ws/<stream>` and
// combined `{"stream":..,"data":..}`), method replies, serverShutdown, and the
// GET /api/v3/klines | /fapi/v1/klines response. Reference: exchange-api.md §2.1–§2.3.

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

namespace twinstar::venue::binance {

// Thread: one thread at a time.
class BinanceKlineParser {
 public:
  // `market` picks the interval table (USDⓈ-M has no 1s) and is stamped on every SeriesKey.
  explicit BinanceKlineParser(Market market);
  ~BinanceKlineParser();
  BinanceKlineParser(BinanceKlineParser&&) noexcept;
  BinanceKlineParser& operator=(BinanceKlineParser&&) noexcept;

  // One market-stream frame into `out` (cleared first). Kline events give one candle, closed
  // when `k.x` is true. `{"result":..,"id":N}` is a subscribe_ack (Binance's reply does not
  // name the method: match request_id); `{"error":{..},"id":N}` and `{"code":..,"msg":..}` are
  // request_error; `{"e":"serverShutdown"}` is server_shutdown. Pongs are WebSocket control
  // frames on Binance and never reach this parser.
  // Errors: parse_error naming the problem; counted in stats().rejected; `out` left cleared.
  Status parse_frame(std::string_view frame, KlineFrame& out);

  // A klines response body (an array of 12-element rows, oldest first) into `out`. A candle is
  // closed when its close time is before `now`.
  // Errors: rate_limited for code -1003/-1015 bodies, invalid_argument for other error bodies,
  // parse_error for malformed ones; counted in stats().rejected.
  Status parse_rest(std::string_view body, TimestampMs now, std::vector<Candle>& out);

  const ParseStats& stats() const noexcept { return stats_; }
  Market market() const noexcept { return market_; }

 private:
  Status parse_frame_impl(std::string_view frame, KlineFrame& out);
  Status parse_rest_impl(std::string_view body, TimestampMs now, std::vector<Candle>& out);

  Market market_;
  std::unique_ptr<detail::JsonState> json_;
  ParseStats stats_;
};

}  // namespace twinstar::venue::binance
