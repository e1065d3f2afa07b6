#pragma once
// What a venue's kline parser turns one WebSocket frame into: candles of one series, or one of
// the control frames a feed must understand (acks, errors, pongs, shutdown notices).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/candle.hpp"
#include "core/ids.hpp"

namespace twinstar::venue {

enum class FrameKind : std::uint8_t {
  kline,            // candles of `series`, oldest first
  subscribe_ack,    // a subscribe request was accepted (Binance: any request answered with "result")
  unsubscribe_ack,  // an unsubscribe request was accepted
  login_ack,        // a login/auth request was accepted
  request_error,    // the venue refused a request: unknown topic, bad op, failed login; see code/message
  pong,             // heartbeat answer
  server_shutdown,  // Binance serverShutdown: the server is about to close this connection; reconnect now
  notice,           // informational venue event (OKX 64008 service upgrade, channel-conn-count)
};

std::string_view to_string(FrameKind kind) noexcept;

// One parsed frame. Parsers fill a caller-owned KlineFrame and reuse its buffers, so a steady
// stream of pushes does not allocate.
struct KlineFrame {
  FrameKind kind = FrameKind::kline;
  // Set for kline frames, and for acks/errors when the venue names a candle channel.
  bool has_series = false;
  SeriesKey series;
  std::vector<Candle> candles;   // kline frames: oldest first
  std::int64_t venue_time_ms = 0;  // the venue's event/push time when the frame carries one, else 0
  std::string request_id;        // acks and errors: the id the request carried, when echoed
  std::string code;              // request_error / notice: the venue's code ("60012", "-1003"), may be empty
  std::string message;           // request_error / notice: the venue's text

  void clear() noexcept {
    kind = FrameKind::kline;
    has_series = false;
    series = SeriesKey{};
    candles.clear();
    venue_time_ms = 0;
    request_id.clear();
    code.clear();
    message.clear();
  }
};

// Per-parser counters. Thread: owned by the parser, which is used by one thread at a time.
struct ParseStats {
  std::uint64_t frames = 0;     // frames and REST bodies handed to the parser
  std::uint64_t rejected = 0;   // of those, how many returned an error
  std::uint64_t candles = 0;    // candles produced
  std::uint64_t reordered = 0;  // REST pages that were not in the venue's documented order and were sorted
};

}  // namespace twinstar::venue
