#pragma once
// OKX v5 kline requests: REST candles / history-candles, business-WebSocket candle channels,
// subscribe frames, the heartbeat and connection limits. Reference: exchange-api.md §3.1–§3.3.

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

namespace twinstar::venue::okx {

inline constexpr std::string_view kCandlesPath = "/api/v5/market/candles";                 // §3.1
inline constexpr std::string_view kHistoryCandlesPath = "/api/v5/market/history-candles";  // §3.1
inline constexpr int kCandlesMaxLimit = 300;
// ⚠️ §3.1: 300 in the 2026-07-10 docs, 100 in older mirrors and SDKs. The newer doc wins; if the
// server still caps at 100, pages come back short and KlinePager::follow_ups fetches the rest.
// Pass KlineQuery::page_rows = 100 to avoid the extra round trips on such a server.
inline constexpr int kHistoryCandlesMaxLimit = 300;
// /candles holds only the latest 1,440 rows; older windows go to /history-candles. The margin
// keeps a window that starts near the edge from sliding out while the request is queued.
inline constexpr std::int64_t kRecentRows = 1440;
inline constexpr std::int64_t kRecentRowsMargin = 40;
inline constexpr std::string_view kBucketCandles = "okx.market.candles";                  // 40 / 2 s per IP
inline constexpr std::string_view kBucketHistoryCandles = "okx.market.history-candles";   // 20 / 2 s per IP

// §3.2: candles are on the business endpoint.
inline constexpr std::string_view kBusinessWsUrl = "wss://ws.okx.com:8443/ws/v5/business";
// §3.2: "The channels in one subscribe must total ≤ 64 KB"; the frame's own fields stay within it.
inline constexpr std::size_t kSubscribeMaxBytes = 64 * 1024;
inline constexpr int kSubscribeOpsPerHour = 480;  // subscribe + unsubscribe + login, per connection
// Not documented: topics per connection. twinstar's cap, as for Bybit: 500 kline channels.
inline constexpr std::size_t kMaxTopicsPerConnection = 500;
// §3.2: the server drops a connection after 30 s without data; send "ping" every N < 30 s.
inline constexpr auto kPingInterval = std::chrono::seconds(25);
inline constexpr std::string_view kPingText = "ping";

// OKX's instrument id: "BTC-USDT" (spot), "BTC-USDT-SWAP" (linear). Accepts the engine's plain
// spelling ("BTCUSDT": split at a known quote currency) or an OKX id already.
// Errors: invalid_argument when the quote cannot be found or the id does not fit the market.
Result<Symbol> inst_id(Market market, const Symbol& symbol);
// "candle1m", "candle1H", "candle1Dutc" (UTC-aligned daily and longer, see ids.hpp).
Result<std::string> candle_channel(Interval interval);

// GET candles (recent) or history-candles (older than the latest 1,440 rows at `now`) for
// the candles opening in [from, to): after = to - 1, before = from - 1, limit = rows.
Result<KlineRequest> build_kline_request(Market market, const Symbol& symbol, Interval interval, TimestampMs from,
                                         TimestampMs to, TimestampMs now);
// Whether a window starting at `from` is served by /candles at `now`.
bool served_by_recent_candles(Interval interval, TimestampMs from, TimestampMs now) noexcept;

// {"id":"N","op":"subscribe","args":[{"channel":"candle1m","instId":"BTC-USDT"},...]},
// split so every frame stays within kSubscribeMaxBytes.
Result<std::vector<WsRequest>> build_subscribe_frames(Market market, SubscribeOp op, std::span<const KlineTopic> topics,
                                                      std::uint64_t first_request_id);

}  // namespace twinstar::venue::okx
