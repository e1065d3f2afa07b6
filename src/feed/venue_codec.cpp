#include "feed/venue_codec.hpp"

#include "venue/binance/binance_kline_parser.hpp"
#include "venue/binance/binance_kline_request.hpp"
#include "venue/bitget/bitget_kline_parser.hpp"
#include "venue/bitget/bitget_kline_request.hpp"
#include "venue/bybit/bybit_kline_parser.hpp"
#include "venue/bybit/bybit_kline_request.hpp"
#include "venue/okx/okx_kline_parser.hpp"
#include "venue/okx/okx_kline_request.hpp"

namespace twinstar::feed {

Result<Symbol> venue_symbol(Exchange exchange, Market market, const Symbol& symbol) {
  if (exchange == Exchange::okx) return venue::okx::inst_id(market, symbol);
  return symbol;
}

struct VenueCodec::Parsers {
  explicit Parsers(Market m) : bybit(m), binance(m) {}
  venue::bybit::BybitKlineParser bybit;
  venue::binance::BinanceKlineParser binance;
  venue::okx::OkxKlineParser okx;
  venue::bitget::BitgetKlineParser bitget;
  venue::bitget::BitgetCandleCloser closer;
};

VenueCodec::VenueCodec(Exchange exchange, Market market)
    : exchange_(exchange), market_(market), limits_(venue::ws_limits(exchange, market)),
      parsers_(std::make_unique<Parsers>(market)) {}
VenueCodec::~VenueCodec() = default;

Result<std::unique_ptr<VenueCodec>> VenueCodec::create(Exchange exchange, Market market) {
  return std::unique_ptr<VenueCodec>(new VenueCodec(exchange, market));
}

Result<std::vector<venue::WsRequest>> VenueCodec::subscribe_frames(venue::SubscribeOp op,
                                                                   std::span<const venue::KlineTopic> topics,
                                                                   std::uint64_t first_request_id) const {
  switch (exchange_) {
    case Exchange::bybit: return venue::bybit::build_subscribe_frames(market_, op, topics, first_request_id);
    case Exchange::binance: return venue::binance::build_subscribe_frames(market_, op, topics, first_request_id);
    case Exchange::okx: return venue::okx::build_subscribe_frames(market_, op, topics, first_request_id);
    case Exchange::bitget: return venue::bitget::build_subscribe_frames(market_, op, topics);
  }
  return make_error(ErrorCode::invalid_argument, "unknown exchange");
}

std::string VenueCodec::ping_text() const {
  switch (exchange_) {
    case Exchange::bybit: return venue::bybit::ping_frame();
    case Exchange::binance: return {};
    case Exchange::okx: return std::string(venue::okx::kPingText);
    case Exchange::bitget: return std::string(venue::bitget::kPingText);
  }
  return {};
}

Status VenueCodec::parse(std::string_view frame, venue::KlineFrame& out) {
  switch (exchange_) {
    case Exchange::bybit: return parsers_->bybit.parse_frame(frame, out);
    case Exchange::binance: return parsers_->binance.parse_frame(frame, out);
    case Exchange::okx: return parsers_->okx.parse_frame(frame, out);
    case Exchange::bitget: {
      auto st = parsers_->bitget.parse_frame(frame, out);
      if (st) parsers_->closer.apply(out);
      return st;
    }
  }
  return make_error(ErrorCode::invalid_argument, "unknown exchange");
}

Status VenueCodec::parse_rest(std::string_view body, const SeriesKey& series, TimestampMs now, std::vector<Candle>& out) {
  switch (exchange_) {
    case Exchange::bybit: return parsers_->bybit.parse_rest(body, series.interval, now, out);
    case Exchange::binance: return parsers_->binance.parse_rest(body, now, out);
    case Exchange::okx: return parsers_->okx.parse_rest(body, series.market, out);
    case Exchange::bitget: return parsers_->bitget.parse_rest(body, series.market, series.interval, now, out);
  }
  return make_error(ErrorCode::invalid_argument, "unknown exchange");
}

void VenueCodec::forget(const SeriesKey& series) { parsers_->closer.forget(series); }

venue::ParseStats VenueCodec::stats() const noexcept {
  venue::ParseStats total;
  for (const venue::ParseStats* s : {&parsers_->bybit.stats(), &parsers_->binance.stats(), &parsers_->okx.stats(),
                                     &parsers_->bitget.stats()}) {
    total.frames += s->frames;
    total.rejected += s->rejected;
    total.candles += s->candles;
    total.reordered += s->reordered;
  }
  return total;
}

}  // namespace twinstar::feed
