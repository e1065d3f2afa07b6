#pragma once
// One venue's kline protocol behind one type, so the feed and the fetcher need no per-venue
// code: subscribe frames, heartbeat text, frame parsing with closed-candle detection (Bybit
// `confirm`, Binance `k.x`, OKX `confirm`, Bitget: a candle closes when the next one starts),
// and REST page parsing. Wraps the existing src/venue builders and parsers.

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/candle.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "venue/common/kline_frame.hpp"
#include "venue/common/subscription.hpp"

namespace twinstar::feed {

// The symbol as the venue's frames spell it, so subscriptions match what parsers report:
// OKX "BTCUSDT" → "BTC-USDT-SWAP" (linear) / "BTC-USDT" (spot); others unchanged.
// Errors: invalid_argument when the venue cannot spell it.
Result<Symbol> venue_symbol(Exchange exchange, Market market, const Symbol& symbol);

// Thread: one thread at a time (one codec per connection or per REST worker).
class VenueCodec {
 public:
  // Errors: invalid_argument for a (venue, market) pair the feed does not serve.
  static Result<std::unique_ptr<VenueCodec>> create(Exchange exchange, Market market);
  ~VenueCodec();
  VenueCodec(const VenueCodec&) = delete;
  VenueCodec& operator=(const VenueCodec&) = delete;

  Exchange exchange() const noexcept { return exchange_; }
  Market market() const noexcept { return market_; }
  const venue::WsLimits& limits() const noexcept { return limits_; }

  // Frames that (un)subscribe `topics`, within the venue's per-message limits.
  Result<std::vector<venue::WsRequest>> subscribe_frames(venue::SubscribeOp op, std::span<const venue::KlineTopic> topics,
                                                         std::uint64_t first_request_id) const;
  // The client heartbeat frame; empty when the server pings and the client only answers (Binance).
  std::string ping_text() const;

  // One WebSocket frame. Kline candles carry `closed` as the venue says it (Bitget: as the
  // closer derives it; a new candle inserts the previous one closed before it).
  // Errors: parse_error; counted in stats().rejected.
  Status parse(std::string_view frame, venue::KlineFrame& out);
  // A REST kline page, oldest first; candles whose interval has not ended at `now` are open.
  // Errors: rate_limited, invalid_argument (the venue refused), parse_error.
  Status parse_rest(std::string_view body, const SeriesKey& series, TimestampMs now, std::vector<Candle>& out);
  // Forget per-series state on unsubscribe (Bitget's last open candle).
  void forget(const SeriesKey& series);

  venue::ParseStats stats() const noexcept;

 private:
  VenueCodec(Exchange exchange, Market market);
  struct Parsers;
  Exchange exchange_;
  Market market_;
  venue::WsLimits limits_;
  std::unique_ptr<Parsers> parsers_;
};

}  // namespace twinstar::feed
