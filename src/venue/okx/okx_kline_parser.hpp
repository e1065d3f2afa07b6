#pragma once
// OKX v5 kline parsing: business-WebSocket candle pushes (`candle1m`, ... with data[i][8] as
// the confirm flag), events (subscribe, unsubscribe, login, error, notice), the plain-text
// "pong", and the GET /api/v5/market/candles | history-candles response.
// Reference: exchange-api.md §3.1, §3.2.

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

namespace twinstar::venue::okx {

struct OkxParseOptions {
  // Accept the UTC+8-aligned channels (candle6H/12H/1D/3D/1W/1M) as the same Interval as their
  // "utc" twins. Off by default: twinstar subscribes to the utc spellings, and a UTC+8 daily
  // candle stored as a UTC one would be 8 hours off.
  bool accept_utc8_aligned = false;
};

// "BTC-USDT" is spot, "BTC-USDT-SWAP" linear; anything else (dated futures, options) is an error.
Result<Market> market_of_inst_id(std::string_view inst_id);

// Thread: one thread at a time.
class OkxKlineParser {
 public:
  explicit OkxKlineParser(OkxParseOptions options = {});
  ~OkxKlineParser();
  OkxKlineParser(OkxKlineParser&&) noexcept;
  OkxKlineParser& operator=(OkxKlineParser&&) noexcept;

  // One business-channel frame into `out` (cleared first). The market comes from the instId,
  // because one business connection carries spot and swap channels alike. Volume is in base
  // units: `vol` for spot, `volCcy` for swaps (whose `vol` counts contracts); turnover is
  // `volCcyQuote`.
  // Errors: parse_error naming the problem; counted in stats().rejected; `out` left cleared.
  Status parse_frame(std::string_view frame, KlineFrame& out);

  // A candles / history-candles body into `out`, oldest first (OKX sends newest first); closed
  // from the confirm column. `market` picks the volume column (the body does not name the instId).
  // Errors: rate_limited for codes 50011/50061, invalid_argument for other non-zero codes,
  // parse_error for malformed bodies; counted in stats().rejected.
  Status parse_rest(std::string_view body, Market market, std::vector<Candle>& out);

  const ParseStats& stats() const noexcept { return stats_; }

 private:
  Status parse_frame_impl(std::string_view frame, KlineFrame& out);
  Status parse_rest_impl(std::string_view body, Market market, std::vector<Candle>& out);

  OkxParseOptions options_;
  std::unique_ptr<detail::JsonState> json_;
  std::vector<Quantity> swap_volumes_;  // per row: volCcy, the base volume of a swap
  ParseStats stats_;
};

}  // namespace twinstar::venue::okx
