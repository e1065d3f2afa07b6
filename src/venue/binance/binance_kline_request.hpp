#pragma once
// Binance kline requests, spot and USDⓈ-M: REST klines, market-stream names, SUBSCRIBE /
// UNSUBSCRIBE frames and connection limits. Reference: exchange-api.md §2.1–§2.4.

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

namespace twinstar::venue::binance {

inline constexpr std::string_view kSpotKlinesPath = "/api/v3/klines";  // §2.1, weight 2
inline constexpr std::string_view kUsdmKlinesPath = "/fapi/v1/klines";  // §2.2, weight by limit
inline constexpr int kSpotKlineMaxLimit = 1000;                          // §2.1
inline constexpr int kUsdmKlineMaxLimit = 1500;                          // §2.2
inline constexpr int kSpotKlineWeight = 2;
// USDⓈ-M pages default to 1000 rows, not 1500: limit 1000 costs weight 5 and 1500 costs 10, so
// 1000 fetches 200 rows per weight unit against 150 (§2.2 weight table).
inline constexpr int kUsdmDefaultPageRows = 1000;
inline constexpr std::string_view kBucketSpotWeight = "binance.spot.weight";  // 6,000 / min per IP
inline constexpr std::string_view kBucketUsdmWeight = "binance.usdm.weight";  // 2,400 / min per IP

// §2.3 market streams.
inline constexpr std::string_view kSpotStreamBase = "wss://stream.binance.com:9443";
// USDⓈ-M klines live on the routed /market path; unrouted URLs stopped delivering klines on
// 2026-04-23 (§2.3).
inline constexpr std::string_view kUsdmStreamBase = "wss://fstream.binance.com/market";
inline constexpr std::size_t kSpotMaxStreamsPerConnection = 1024;  // §2.3
// ⚠️ §2.3 conflict: the 2026-05-28 page says 1024 streams per USDⓈ-M connection, older copies
// 200. 200 is safe under both; more than the server allows gets the connection refused, which
// would show up as a reconnect storm. 1024 / 200 = ~6 connections for a full 1024-stream set.
inline constexpr std::size_t kUsdmMaxStreamsPerConnection = 200;
inline constexpr int kSpotMessagesPerSecond = 5;    // §2.3, pings/pongs/control frames included
inline constexpr int kUsdmMessagesPerSecond = 10;   // §2.3
// Not documented: params per SUBSCRIBE. 200 keeps one frame near 6 KB, so a full spot
// connection needs 6 frames, paced inside 5 messages/s.
inline constexpr std::size_t kParamsPerMessage = 200;
inline constexpr auto kConnectionLifetime = std::chrono::hours(24);  // §2.3 (spot and USDⓈ-M)

// Request weight of GET /fapi/v1/klines by limit: [1,100) 1, [100,500) 2, [500,1000] 5, >1000 10.
int usdm_kline_weight(int limit) noexcept;

// "btcusdt@kline_1m": symbols are lowercase in stream names.
// Errors: invalid_argument when the market has no such interval (USDⓈ-M 1s).
Result<std::string> stream_name(Market market, Interval interval, const Symbol& symbol);
// The combined-stream URL for a set of topics: <base>/stream?streams=a/b/c.
Result<std::string> combined_stream_url(Market market, std::span<const KlineTopic> topics);

// GET klines for the candles opening in [from, to): startTime/endTime/limit, oldest first.
Result<KlineRequest> build_kline_request(Market market, const Symbol& symbol, Interval interval, TimestampMs from,
                                         TimestampMs to);

// {"method":"SUBSCRIBE","params":["btcusdt@kline_1m",...],"id":N}, at most kParamsPerMessage
// streams per frame; ids count up from first_request_id.
Result<std::vector<WsRequest>> build_subscribe_frames(Market market, SubscribeOp op, std::span<const KlineTopic> topics,
                                                      std::uint64_t first_request_id);

}  // namespace twinstar::venue::binance
