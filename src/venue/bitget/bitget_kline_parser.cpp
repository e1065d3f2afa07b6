#include "venue/bitget/bitget_kline_parser.hpp"

#include <algorithm>

#include "venue/common/json_read.hpp"

namespace twinstar::venue::bitget {

namespace {

namespace od = simdjson::ondemand;
using detail::json_error;

// WS: [ts, o, h, l, c, baseVol, quoteVol, usdtVol] (§4.2).
constexpr detail::RowLayout kPushRow{.min_size = 7, .volume = 5, .turnover = 6};
// REST spot: [ts, o, h, l, c, baseVol, usdtVol, quoteVol]; mix: [ts, o, h, l, c, baseVol, quoteVol] (§4.1).
constexpr detail::RowLayout kSpotRestRow{.min_size = 8, .volume = 5, .turnover = 7};
constexpr detail::RowLayout kMixRestRow{.min_size = 7, .volume = 5, .turnover = 6};

struct Arg {
  bool present = false;
  std::string_view inst_type;
  std::string_view channel;
  std::string_view inst_id;
};

Status parse_arg(od::value& v, Arg& arg) {
  od::object obj;
  if (auto e = v.get_object().get(obj)) return json_error(e, "arg");
  arg.present = true;
  for (auto field_result : obj) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) return json_error(e, "arg");
    const std::string_view key = detail::raw_key(field);
    Status s;
    if (key == "instType") {
      s = detail::read_string(field.value(), arg.inst_type, "arg.instType");
    } else if (key == "channel") {
      s = detail::read_string(field.value(), arg.channel, "arg.channel");
    } else if (key == "instId") {
      s = detail::read_string(field.value(), arg.inst_id, "arg.instId");
    }
    if (!s) return s;
  }
  return {};
}

Result<SeriesKey> series_of(const Arg& arg, bool accept_utc8_aligned) {
  auto market = market_of_inst_type(arg.inst_type);
  if (!market) return std::unexpected(market.error());
  // WebSocket channels use the futures spelling (candle1m, candle1H) for spot too.
  auto interval = detail::parse_candle_channel(Exchange::bitget, Market::linear, arg.channel, accept_utc8_aligned);
  if (!interval) return std::unexpected(interval.error());
  auto symbol = Symbol::parse(arg.inst_id);
  if (!symbol) return std::unexpected(symbol.error());
  return SeriesKey{Exchange::bitget, *market, *symbol, *interval};
}

Status parse_rows(od::value& v, const detail::RowLayout& layout, std::vector<Candle>& candles) {
  od::array rows;
  if (auto e = v.get_array().get(rows)) return json_error(e, "data");
  std::size_t index = 0;
  for (auto row_result : rows) {
    od::value row;
    if (auto e = std::move(row_result).get(row)) return json_error(e, "data");
    Candle c;
    detail::RowExtras extras;
    if (auto s = detail::read_candle_row(row, layout, c, extras); !s) {
      return make_error(ErrorCode::parse_error, "data[{}]: {}", index, s.error().message);
    }
    candles.push_back(c);
    ++index;
  }
  return {};
}

}  // namespace

Result<Market> market_of_inst_type(std::string_view inst_type) {
  if (inst_type == "SPOT") return Market::spot;
  if (inst_type == "USDT-FUTURES") return Market::linear;
  return make_error(ErrorCode::parse_error, "instType \"{}\": only SPOT and USDT-FUTURES are supported", inst_type);
}

BitgetKlineParser::BitgetKlineParser(BitgetParseOptions options)
    : options_(options), json_(std::make_unique<detail::JsonState>()) {}
BitgetKlineParser::~BitgetKlineParser() = default;
BitgetKlineParser::BitgetKlineParser(BitgetKlineParser&&) noexcept = default;
BitgetKlineParser& BitgetKlineParser::operator=(BitgetKlineParser&&) noexcept = default;

Status BitgetKlineParser::parse_frame(std::string_view frame, KlineFrame& out) {
  ++stats_.frames;
  out.clear();
  if (auto s = parse_frame_impl(frame, out); !s) {
    ++stats_.rejected;
    out.clear();
    return detail::with_context(s.error(), "bitget frame");
  }
  stats_.candles += out.candles.size();
  return {};
}

Status BitgetKlineParser::parse_frame_impl(std::string_view frame, KlineFrame& out) {
  // The heartbeat answer is the plain text "pong" (§4.2).
  if (frame == "pong") {
    out.kind = FrameKind::pong;
    return {};
  }
  od::document doc;
  if (auto s = json_->iterate(frame, doc); !s) return s;
  od::object root;
  if (auto e = doc.get_object().get(root)) return json_error(e, "frame");
  Arg arg;
  std::string_view event;
  std::string_view code;
  std::string_view msg;
  bool has_data = false;
  for (auto field_result : root) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) return json_error(e, "frame");
    const std::string_view key = detail::raw_key(field);
    od::value& v = field.value();
    Status s;
    if (key == "arg") {
      s = parse_arg(v, arg);
    } else if (key == "data") {
      s = parse_rows(v, kPushRow, out.candles);
      has_data = true;
    } else if (key == "ts") {
      s = detail::read_int64(v, out.venue_time_ms, "ts");
    } else if (key == "event") {
      s = detail::read_string(v, event, "event");
    } else if (key == "code") {
      s = detail::read_scalar_text(v, code, "code");
    } else if (key == "msg") {
      s = detail::read_string(v, msg, "msg");
    }
    if (!s) return s;
  }
  if (auto s = detail::expect_document_end(doc); !s) return s;

  if (!event.empty()) {
    if (has_data) return make_error(ErrorCode::parse_error, "event \"{}\" with data", event);
    if (arg.present) {
      if (auto series = series_of(arg, options_.accept_utc8_aligned)) {
        out.has_series = true;
        out.series = *series;
      }
    }
    out.code.assign(code);
    out.message.assign(msg);
    if (event == "subscribe") {
      out.kind = FrameKind::subscribe_ack;
    } else if (event == "unsubscribe") {
      out.kind = FrameKind::unsubscribe_ack;
    } else if (event == "login") {
      out.kind = (code.empty() || code == "0") ? FrameKind::login_ack : FrameKind::request_error;
    } else if (event == "error") {
      out.kind = FrameKind::request_error;
    } else {
      return make_error(ErrorCode::parse_error, "unexpected event \"{}\"", event);
    }
    return {};
  }
  if (!has_data) return make_error(ErrorCode::parse_error, "neither an event nor a push with data");
  if (!arg.present) return make_error(ErrorCode::parse_error, "push without \"arg\"");
  auto series = series_of(arg, options_.accept_utc8_aligned);
  if (!series) return make_error(ErrorCode::parse_error, "arg: {}", series.error().message);
  if (out.candles.empty()) return make_error(ErrorCode::parse_error, "push with an empty data array");
  detail::order_page(out.candles, /*newest_first=*/false, stats_);
  out.kind = FrameKind::kline;
  out.has_series = true;
  out.series = *series;
  return {};
}

Status BitgetKlineParser::parse_rest(std::string_view body, Market market, Interval interval, TimestampMs now,
                                     std::vector<Candle>& out) {
  ++stats_.frames;
  out.clear();
  if (auto s = parse_rest_impl(body, market, interval, now, out); !s) {
    ++stats_.rejected;
    out.clear();
    return detail::with_context(s.error(), market == Market::spot ? "bitget GET /api/v2/spot/market/candles"
                                                                  : "bitget GET /api/v2/mix/market/candles");
  }
  stats_.candles += out.size();
  return {};
}

Status BitgetKlineParser::parse_rest_impl(std::string_view body, Market market, Interval interval, TimestampMs now,
                                          std::vector<Candle>& out) {
  od::document doc;
  if (auto s = json_->iterate(body, doc); !s) return s;
  od::object root;
  if (auto e = doc.get_object().get(root)) return json_error(e, "body");
  std::string_view code;
  std::string_view msg;
  bool has_data = false;
  for (auto field_result : root) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) return json_error(e, "body");
    const std::string_view key = detail::raw_key(field);
    od::value& v = field.value();
    Status s;
    if (key == "code") {
      s = detail::read_scalar_text(v, code, "code");
    } else if (key == "msg") {
      s = detail::read_string(v, msg, "msg");
    } else if (key == "data") {
      od::json_type type;
      if (auto e = v.type().get(type)) return json_error(e, "data");
      if (type != od::json_type::null) {  // error bodies carry "data":null
        s = parse_rows(v, market == Market::spot ? kSpotRestRow : kMixRestRow, out);
        has_data = true;
      }
    }
    if (!s) return s;
  }
  if (auto s = detail::expect_document_end(doc); !s) return s;
  if (code.empty()) return make_error(ErrorCode::parse_error, "missing code");
  if (code != "00000") {
    out.clear();
    // {"code":"429","msg":"Too Many Requests",...} (§4.3).
    const ErrorCode ec = code == "429" ? ErrorCode::rate_limited : ErrorCode::invalid_argument;
    return make_error(ec, "code {}: {}", code, msg);
  }
  if (!has_data) return make_error(ErrorCode::parse_error, "missing data");
  detail::order_page(out, /*newest_first=*/false, stats_);
  for (Candle& c : out) c.closed = detail::interval_ended(interval, c.open_time, now);
  return {};
}

void BitgetCandleCloser::apply(KlineFrame& frame) {
  if (frame.kind != FrameKind::kline || frame.candles.empty()) return;
  auto& candles = frame.candles;
  for (Candle& c : candles) c.closed = true;
  Candle& newest = candles.back();
  auto it = open_by_series_.find(frame.series);
  if (it == open_by_series_.end()) {
    newest.closed = false;
    open_by_series_.emplace(frame.series, newest);
    return;
  }
  Candle& previous = it->second;
  if (newest.open_time < previous.open_time) return;  // a late frame: a newer candle already started
  newest.closed = false;
  if (previous.open_time < newest.open_time) {
    const auto at = std::lower_bound(candles.begin(), candles.end(), previous.open_time,
                                     [](const Candle& c, TimestampMs t) { return c.open_time < t; });
    if (at->open_time != previous.open_time) {
      Candle closed = previous;
      closed.closed = true;
      candles.insert(at, closed);
    }
  }
  it->second = candles.back();
}

void BitgetCandleCloser::forget(const SeriesKey& series) { open_by_series_.erase(series); }

}  // namespace twinstar::venue::bitget
