#pragma once
// Bitget v2 kline parsing: public WebSocket candle pushes (`candle1m`, ...; no closed flag),
// events (subscribe, unsubscribe, login, error), the plain-text "pong", and the
// GET /api/v2/{spot,mix}/market/candles | history-candles response.
// Reference: exchange-api.md §4.1, §4.2.

#include <cstddef>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/candle.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "venue/common/kline_frame.hpp"

namespace twinstar::venue::detail {
class JsonState;
}

namespace twinstar::venue::bitget {

struct BitgetParseOptions {
  // Accept the UTC+8-aligned channels (candle6H/12H/1D/3D/1W/1M) as the same Interval as their
  // "utc" twins; see OkxParseOptions.
  bool accept_utc8_aligned = false;
};

// "SPOT" is spot, "USDT-FUTURES" linear; COIN-/USDC-FUTURES and demo types are errors.
Result<Market> market_of_inst_type(std::string_view inst_type);

// Thread: one thread at a time.
class BitgetKlineParser {
 public:
  explicit BitgetKlineParser(BitgetParseOptions options = {});
  ~BitgetKlineParser();
  BitgetKlineParser(BitgetKlineParser&&) noexcept;
  BitgetKlineParser& operator=(BitgetKlineParser&&) noexcept;

  // One public-channel frame into `out` (cleared first). Bitget pushes carry no closed flag,
  // so every candle comes out open: pass kline frames through a BitgetCandleCloser.
  // Rows are [ts, o, h, l, c, baseVol, quoteVol, usdtVol]; turnover is quoteVol.
  // Errors: parse_error naming the problem; counted in stats().rejected; `out` left cleared.
  Status parse_frame(std::string_view frame, KlineFrame& out);

  // A candles / history-candles body into `out`, oldest first. Spot rows have 8 columns
  // (turnover = quoteVol, column 7), mix rows 7 (turnover = column 6). A candle is closed when
  // its interval ended at or before `now`.
  // Errors: rate_limited for code "429", invalid_argument for other codes than "00000",
  // parse_error for malformed bodies; counted in stats().rejected.
  Status parse_rest(std::string_view body, Market market, Interval interval, TimestampMs now, std::vector<Candle>& out);

  const ParseStats& stats() const noexcept { return stats_; }

 private:
  Status parse_frame_impl(std::string_view frame, KlineFrame& out);
  Status parse_rest_impl(std::string_view body, Market market, Interval interval, TimestampMs now,
                         std::vector<Candle>& out);

  BitgetParseOptions options_;
  std::unique_ptr<detail::JsonState> json_;
  ParseStats stats_;
};

// Closed-candle detection for Bitget: a candle is closed once a candle of the same series with
// a later open time arrives. apply() marks every candle but the newest of a frame closed and,
// when the frame starts a newer candle, inserts the previous open candle (its last pushed
// values) marked closed, so consumers see each candle close exactly once, in order.
// The final values are the last push seen (Bitget pushes every 500 ms); the feed's REST gap
// check can overwrite them. Memory: one candle per series seen; forget() on unsubscribe.
// Thread: one thread at a time (one closer per connection).
class BitgetCandleCloser {
 public:
  // Non-kline frames pass through untouched.
  void apply(KlineFrame& frame);
  // Drops the remembered open candle of `series`: call it on unsubscribe. Keep the state across
  // a reconnect: the snapshot that follows closes the candle that was open before.
  void forget(const SeriesKey& series);
  std::size_t tracked_series() const noexcept { return open_by_series_.size(); }

 private:
  std::unordered_map<SeriesKey, Candle> open_by_series_;
};

}  // namespace twinstar::venue::bitget
