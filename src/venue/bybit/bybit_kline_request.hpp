#pragma once
// Bybit v5 kline requests: REST GET /v5/market/kline, public WebSocket kline topics, subscribe
// frames and the heartbeat. Reference: exchange-api.md §1.1–§1.3.

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

namespace twinstar::venue::bybit {

inline constexpr std::string_view kKlinePath = "/v5/market/kline";
inline constexpr int kKlineMaxLimit = 1000;  // §1.1: limit in [1, 1000], default 200
// §1.3: 600 requests per 5 s per IP across all hosts; going over is a 403 and a 10-minute ban.
inline constexpr std::string_view kBucketIp = "bybit.ip";

// §1.2 "Public channel - Args limits": spot takes at most 10 args per subscribe; linear and
// inverse have no count limit; on any public connection the args array stays under 21,000
// characters.
inline constexpr std::size_t kSpotArgsPerSubscribe = 10;
inline constexpr std::size_t kArgsArrayMaxChars = 21'000;
// Not documented for spot/linear (options: 2000 args per connection). twinstar's cap: a
// connection with 500 kline topics is already a busy socket (each pushes every 1-60 s), and a
// reconnect then resubscribes a bounded set (50 spot frames or 1 linear frame).
inline constexpr std::size_t kMaxTopicsPerConnection = 500;
// §1.2: ping every 20 s; the server drops a connection idle for 10 minutes.
inline constexpr auto kPingInterval = std::chrono::seconds(20);

// "spot" / "linear", the REST `category`.
std::string_view category(Market market) noexcept;
// "kline.5.BTCUSDT". Errors: invalid_argument when Bybit has no such interval (1s, 8h, 3d).
Result<std::string> kline_topic(Interval interval, const Symbol& symbol);

// GET /v5/market/kline for the candles opening in [from, to) (at most kKlineMaxLimit).
// Bybit answers newest first, so a window with more rows than `limit` loses its oldest rows.
Result<KlineRequest> build_kline_request(Market market, const Symbol& symbol, Interval interval, TimestampMs from,
                                         TimestampMs to);

// {"req_id":"N","op":"subscribe","args":["kline.5.BTCUSDT",...]}, split per the limits above.
// Errors: invalid_argument for an interval Bybit lacks, or an empty topic list.
Result<std::vector<WsRequest>> build_subscribe_frames(Market market, SubscribeOp op, std::span<const KlineTopic> topics,
                                                      std::uint64_t first_request_id);
// {"req_id":"<id>","op":"ping"} ({"op":"ping"} when id is empty).
std::string ping_frame(std::string_view request_id = {});

}  // namespace twinstar::venue::bybit
