#include "venue/binance/binance_kline_parser.hpp"

#include "venue/common/json_read.hpp"

namespace twinstar::venue::binance {

namespace {

namespace od = simdjson::ondemand;
using detail::json_error;

enum : unsigned {
  kT = 1u << 0,
  kOpen = 1u << 1,
  kHigh = 1u << 2,
  kLow = 1u << 3,
  kClose = 1u << 4,
  kVolume = 1u << 5,
  kQuote = 1u << 6,
  kClosedFlag = 1u << 7,
  kInterval = 1u << 8,
  kSymbol = 1u << 9,
  kAllKlineFields = (1u << 10) - 1,
};

std::string_view first_missing(unsigned seen) {
  constexpr std::pair<unsigned, std::string_view> kNames[] = {
      {kT, "k.t"}, {kOpen, "k.o"}, {kHigh, "k.h"}, {kLow, "k.l"}, {kClose, "k.c"},
      {kVolume, "k.v"}, {kQuote, "k.q"}, {kClosedFlag, "k.x"}, {kInterval, "k.i"}, {kSymbol, "k.s"},
  };
  for (const auto& [bit, name] : kNames) {
    if (!(seen & bit)) return name;
  }
  return "?";
}

// Fields of a market-stream frame; combined-stream `data` fills the same struct.
struct Event {
  std::string_view event_type;
  std::string_view stream;
  std::string_view symbol;  // top-level "s"
  std::int64_t event_time = 0;
  bool has_data = false;
  bool has_kline = false;
  Candle candle;
  std::string_view interval;
  std::string_view kline_symbol;
  bool has_result = false;
  bool has_error = false;
  bool has_code = false;
  std::int64_t code = 0;
  std::string_view msg;
};

// "id" may be an integer, a string of up to 36 characters, or null (§2.3).
Status read_id(od::value& v, std::string& out) {
  od::json_type type;
  if (auto e = v.type().get(type)) return json_error(e, "id");
  if (type == od::json_type::null) return {};
  if (type == od::json_type::string) {
    std::string_view id;
    if (auto s = detail::read_string(v, id, "id"); !s) return s;
    out.assign(id);
    return {};
  }
  if (type == od::json_type::number) {
    std::int64_t id = 0;
    if (auto e = v.get_int64().get(id)) return json_error(e, "id");
    out = std::to_string(id);
    return {};
  }
  return make_error(ErrorCode::parse_error, "id: expected an integer, a string or null");
}

Status parse_kline_object(od::value& v, Event& ev) {
  od::object k;
  if (auto e = v.get_object().get(k)) return json_error(e, "k");
  unsigned seen = 0;
  Candle& c = ev.candle;
  for (auto field_result : k) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) return json_error(e, "k");
    // One-letter keys, case-sensitive: "t" start, "T" close time, "v"/"V" and "q"/"Q" differ.
    const std::string_view key = detail::raw_key(field);
    if (key.size() != 1) continue;
    od::value& fv = field.value();
    Status s;
    switch (key[0]) {
      case 't':
        s = detail::read_epoch_ms(fv, c.open_time, "k.t");
        seen |= kT;
        break;
      case 'o':
        s = detail::read_decimal(fv, c.open, true, "k.o");
        seen |= kOpen;
        break;
      case 'h':
        s = detail::read_decimal(fv, c.high, true, "k.h");
        seen |= kHigh;
        break;
      case 'l':
        s = detail::read_decimal(fv, c.low, true, "k.l");
        seen |= kLow;
        break;
      case 'c':
        s = detail::read_decimal(fv, c.close, true, "k.c");
        seen |= kClose;
        break;
      case 'v':
        s = detail::read_decimal(fv, c.volume, false, "k.v");
        seen |= kVolume;
        break;
      case 'q':
        s = detail::read_decimal(fv, c.turnover, false, "k.q");
        seen |= kQuote;
        break;
      case 'x':
        s = detail::read_bool(fv, c.closed, "k.x");
        seen |= kClosedFlag;
        break;
      case 'i':
        s = detail::read_string(fv, ev.interval, "k.i");
        seen |= kInterval;
        break;
      case 's':
        s = detail::read_string(fv, ev.kline_symbol, "k.s");
        seen |= kSymbol;
        break;
      default:
        break;
    }
    if (!s) return s;
  }
  if (seen != kAllKlineFields) return make_error(ErrorCode::parse_error, "missing \"{}\"", first_missing(seen));
  ev.has_kline = true;
  return {};
}

Status parse_error_object(od::value& v, Event& ev) {
  od::object obj;
  if (auto e = v.get_object().get(obj)) return json_error(e, "error");
  for (auto field_result : obj) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) return json_error(e, "error");
    const std::string_view key = detail::raw_key(field);
    Status s;
    if (key == "code") {
      s = detail::read_int64(field.value(), ev.code, "error.code");
      ev.has_code = true;
    } else if (key == "msg") {
      s = detail::read_string(field.value(), ev.msg, "error.msg");
    }
    if (!s) return s;
  }
  ev.has_error = true;
  return {};
}

Status parse_event(od::object& obj, Event& ev, KlineFrame& out, bool nested) {
  for (auto field_result : obj) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) return json_error(e, nested ? "data" : "frame");
    const std::string_view key = detail::raw_key(field);
    od::value& v = field.value();
    Status s;
    if (key == "e") {
      s = detail::read_string(v, ev.event_type, "e");
    } else if (key == "E") {
      s = detail::read_int64(v, ev.event_time, "E");
    } else if (key == "s") {
      s = detail::read_string(v, ev.symbol, "s");
    } else if (key == "k") {
      s = parse_kline_object(v, ev);
    } else if (!nested && key == "stream") {
      s = detail::read_string(v, ev.stream, "stream");
    } else if (!nested && key == "data") {
      od::object data;
      if (auto e = v.get_object().get(data)) return json_error(e, "data");
      s = parse_event(data, ev, out, true);
      ev.has_data = true;
    } else if (!nested && key == "result") {
      ev.has_result = true;  // null for SUBSCRIBE/UNSUBSCRIBE; skipped unread
    } else if (!nested && key == "id") {
      s = read_id(v, out.request_id);
    } else if (!nested && key == "error") {
      s = parse_error_object(v, ev);
    } else if (!nested && key == "code") {
      s = detail::read_int64(v, ev.code, "code");
      ev.has_code = true;
      ev.has_error = true;
    } else if (!nested && key == "msg") {
      s = detail::read_string(v, ev.msg, "msg");
    }
    if (!s) return s;
  }
  return {};
}

bool ascii_iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// A combined-stream name must be <symbol lowercase>@kline_<interval>[@+08:00].
Status check_stream_name(std::string_view stream, std::string_view symbol, std::string_view interval) {
  const auto at = stream.find('@');
  if (at == std::string_view::npos || !ascii_iequal(stream.substr(0, at), symbol)) {
    return make_error(ErrorCode::parse_error, "stream \"{}\" does not match symbol \"{}\"", stream, symbol);
  }
  std::string_view rest = stream.substr(at + 1);
  constexpr std::string_view kKline = "kline_";
  if (!rest.starts_with(kKline) || rest.substr(kKline.size(), interval.size()) != interval ||
      (rest.size() > kKline.size() + interval.size() && rest[kKline.size() + interval.size()] != '@')) {
    return make_error(ErrorCode::parse_error, "stream \"{}\" does not match interval \"{}\"", stream, interval);
  }
  return {};
}

}  // namespace

BinanceKlineParser::BinanceKlineParser(Market market) : market_(market), json_(std::make_unique<detail::JsonState>()) {}
BinanceKlineParser::~BinanceKlineParser() = default;
BinanceKlineParser::BinanceKlineParser(BinanceKlineParser&&) noexcept = default;
BinanceKlineParser& BinanceKlineParser::operator=(BinanceKlineParser&&) noexcept = default;

Status BinanceKlineParser::parse_frame(std::string_view frame, KlineFrame& out) {
  ++stats_.frames;
  out.clear();
  if (auto s = parse_frame_impl(frame, out); !s) {
    ++stats_.rejected;
    out.clear();
    return detail::with_context(s.error(), "binance frame");
  }
  stats_.candles += out.candles.size();
  return {};
}

Status BinanceKlineParser::parse_frame_impl(std::string_view frame, KlineFrame& out) {
  od::document doc;
  if (auto s = json_->iterate(frame, doc); !s) return s;
  od::object root;
  if (auto e = doc.get_object().get(root)) return json_error(e, "frame");
  Event ev;
  if (auto s = parse_event(root, ev, out, false); !s) return s;
  if (auto s = detail::expect_document_end(doc); !s) return s;
  if (!ev.stream.empty() && !ev.has_data) return make_error(ErrorCode::parse_error, "stream \"{}\" without data", ev.stream);
  out.venue_time_ms = ev.event_time;

  if (ev.event_type == "kline") {
    if (!ev.has_kline) return make_error(ErrorCode::parse_error, "kline event without \"k\"");
    if (!ev.symbol.empty() && ev.symbol != ev.kline_symbol) {
      return make_error(ErrorCode::parse_error, "s \"{}\" differs from k.s \"{}\"", ev.symbol, ev.kline_symbol);
    }
    if (!ev.stream.empty()) {
      if (auto s = check_stream_name(ev.stream, ev.kline_symbol, ev.interval); !s) return s;
    }
    auto series = detail::make_series(Exchange::binance, market_, ev.interval, ev.kline_symbol);
    if (!series) return std::unexpected(series.error());
    out.kind = FrameKind::kline;
    out.has_series = true;
    out.series = *series;
    out.candles.push_back(ev.candle);
    return {};
  }
  if (ev.has_kline) return make_error(ErrorCode::parse_error, "\"k\" in a \"{}\" event", ev.event_type);
  if (ev.event_type == "serverShutdown") {
    out.kind = FrameKind::server_shutdown;
    return {};
  }
  if (!ev.event_type.empty()) return make_error(ErrorCode::parse_error, "unexpected event \"{}\"", ev.event_type);
  if (ev.has_error) {
    out.kind = FrameKind::request_error;
    if (ev.has_code) out.code = std::to_string(ev.code);
    out.message.assign(ev.msg);
    return {};
  }
  if (ev.has_result) {
    out.kind = FrameKind::subscribe_ack;
    return {};
  }
  return make_error(ErrorCode::parse_error, "neither an event nor a method reply");
}

Status BinanceKlineParser::parse_rest(std::string_view body, TimestampMs now, std::vector<Candle>& out) {
  ++stats_.frames;
  out.clear();
  if (auto s = parse_rest_impl(body, now, out); !s) {
    ++stats_.rejected;
    out.clear();
    return detail::with_context(s.error(), market_ == Market::spot ? "binance GET /api/v3/klines" : "binance GET /fapi/v1/klines");
  }
  stats_.candles += out.size();
  return {};
}

Status BinanceKlineParser::parse_rest_impl(std::string_view body, TimestampMs now, std::vector<Candle>& out) {
  od::document doc;
  if (auto s = json_->iterate(body, doc); !s) return s;
  od::json_type type;
  if (auto e = doc.type().get(type)) return json_error(e, "body");
  if (type == od::json_type::object) {
    // {"code": -1121, "msg": "Invalid symbol."}
    od::object obj;
    if (auto e = doc.get_object().get(obj)) return json_error(e, "body");
    std::int64_t code = 0;
    bool has_code = false;
    std::string_view msg;
    for (auto field_result : obj) {
      od::field field;
      if (auto e = std::move(field_result).get(field)) return json_error(e, "body");
      Status s;
      if (field.key() == "code") {
        s = detail::read_int64(field.value(), code, "code");
        has_code = true;
      } else if (field.key() == "msg") {
        s = detail::read_string(field.value(), msg, "msg");
      }
      if (!s) return s;
    }
    if (auto s = detail::expect_document_end(doc); !s) return s;
    if (!has_code) return make_error(ErrorCode::parse_error, "an object without \"code\" instead of rows");
    // -1003 TOO_MANY_REQUESTS, -1015 too many orders (§2.4).
    const ErrorCode ec = (code == -1003 || code == -1015) ? ErrorCode::rate_limited : ErrorCode::invalid_argument;
    return make_error(ec, "code {}: {}", code, msg);
  }
  od::array rows;
  if (auto e = doc.get_array().get(rows)) return json_error(e, "body");
  // [openTime, o, h, l, c, volume, closeTime, quoteVolume, trades, takerBase, takerQuote, ignore]
  static constexpr detail::RowLayout kRow{.min_size = 8, .volume = 5, .turnover = 7, .close_time = 6};
  std::size_t index = 0;
  for (auto row_result : rows) {
    od::value row;
    if (auto e = std::move(row_result).get(row)) return json_error(e, "rows");
    Candle c;
    detail::RowExtras extras;
    if (auto s = detail::read_candle_row(row, kRow, c, extras); !s) {
      return make_error(ErrorCode::parse_error, "row {}: {}", index, s.error().message);
    }
    c.closed = extras.close_time_ms < to_epoch_ms(now);
    out.push_back(c);
    ++index;
  }
  if (auto s = detail::expect_document_end(doc); !s) return s;
  detail::order_page(out, /*newest_first=*/false, stats_);
  return {};
}

}  // namespace twinstar::venue::binance
