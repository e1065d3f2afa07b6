#pragma once
// Bitget v2 kline requests: REST candles / history-candles (spot and USDT-M mix), public
// WebSocket candle channels, subscribe frames, the heartbeat and connection limits.
// Reference: exchange-api.md §4.1–§4.3.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/time.hpp"
#include "venue/common/kline_request.hpp"
#include "venue/common/subscription.hpp"

namespace twinstar::venue::bitget {

inline constexpr std::string_view kSpotCandlesPath = "/api/v2/spot/market/candles";
inline constexpr std::string_view kSpotHistoryCandlesPath = "/api/v2/spot/market/history-candles";
inline constexpr std::string_view kMixCandlesPath = "/api/v2/mix/market/candles";
inline constexpr std::string_view kMixHistoryCandlesPath = "/api/v2/mix/market/history-candles";
inline constexpr std::string_view kProductType = "USDT-FUTURES";
inline constexpr int kSpotCandlesMaxLimit = 1000;  // §4.1
// ❓ §4.1: the mix maximum is cut off in every copy of the page; 1000 is the common assumption.
// A server that caps lower answers short pages, which KlinePager::follow_ups completes.
inline constexpr int kMixCandlesMaxLimit = 1000;
inline constexpr int kHistoryCandlesMaxLimit = 200;  // §4.1, spot and mix
// §4.1: startTime..endTime may span at most 90 days.
inline constexpr auto kMaxWindowSpan = std::chrono::days(90);
// §4.1 lookback of /candles: the docs' per-granularity windows are disputed by ccxt, whose
// tested thresholds are 30 days up to 30m and 60 days for 1h. twinstar uses those (and 60 days
// for longer bars): an old window on the history endpoint costs requests, not candles.
inline constexpr auto kRecentLookbackShort = std::chrono::days(30);
inline constexpr auto kRecentLookbackLong = std::chrono::days(60);
inline constexpr auto kRecentLookbackMargin = std::chrono::days(1);
inline constexpr std::string_view kBucketMarket = "bitget.market";  // 20 req/s per IP (§4.1)

inline constexpr std::string_view kPublicWsUrl = "wss://ws.bitget.com/v2/ws/public";  // §4.2
// §4.2: ≤ 50 channels per connection recommended, 1000 at most. twinstar keeps to the
// recommendation: the pool opens another connection rather than crowd one.
inline constexpr std::size_t kMaxTopicsPerConnection = 50;
inline constexpr std::size_t kHardMaxTopicsPerConnection = 1000;
inline constexpr int kMessagesPerSecond = 10;     // §4.2, pings included
inline constexpr int kSubscribeOpsPerHour = 240;  // §4.2, per connection
// ❓ Not in the reference sheet: Bitget's websocket page limits one subscribe request to 4096
// bytes. Cheap to honour (about 50 candle args per frame).
inline constexpr std::size_t kSubscribeMaxBytes = 4096;
inline constexpr auto kPingInterval = std::chrono::seconds(30);  // §4.2: text "ping" every 30 s
inline constexpr std::string_view kPingText = "ping";
inline constexpr auto kConnectionLifetime = std::chrono::hours(24);  // §4.2, newer text

// "SPOT" / "USDT-FUTURES".
std::string_view inst_type(Market market) noexcept;
// "candle1m", "candle1H", "candle1Dutc" (futures spelling, used by spot channels too).
// Errors: invalid_argument for intervals without a channel (1s, 3m, 2h, 8h).
Result<std::string> candle_channel(Interval interval);

// Whether a window starting at `from` is served by /candles at `now`.
bool served_by_recent_candles(Interval interval, TimestampMs from, TimestampMs now) noexcept;
// GET candles (recent) or history-candles (older) for the candles opening in [from, to).
// Errors: invalid_argument for a bad symbol, interval, row count or span.
Result<KlineRequest> build_kline_request(Market market, const Symbol& symbol, Interval interval, TimestampMs from,
                                         TimestampMs to, TimestampMs now);

// {"op":"subscribe","args":[{"instType":"USDT-FUTURES","channel":"candle1m","instId":"BTCUSDT"},..]}
// (Bitget frames carry no id), each frame within kSubscribeMaxBytes.
Result<std::vector<WsRequest>> build_subscribe_frames(Market market, SubscribeOp op, std::span<const KlineTopic> topics);

}  // namespace twinstar::venue::bitget
