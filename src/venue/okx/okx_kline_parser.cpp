#include "venue/okx/okx_kline_parser.hpp"

#include <cctype>

#include "venue/common/json_read.hpp"

namespace twinstar::venue::okx {

namespace {

namespace od = simdjson::ondemand;
using detail::json_error;

// [ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm] (§3.1, §3.2).
constexpr detail::RowLayout kRow{.min_size = 9, .volume = 5, .alt_volume = 6, .turnover = 7, .confirm = 8};

struct Arg {
  bool present = false;
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
    if (key == "channel") {
      s = detail::read_string(field.value(), arg.channel, "arg.channel");
    } else if (key == "instId") {
      s = detail::read_string(field.value(), arg.inst_id, "arg.instId");
    }
    if (!s) return s;
  }
  return {};
}

// OKX's error events carry no "arg"; for a channel that does not exist (60018) the message names
// it: "Wrong URL or channel:candle1m,instId:BTC-USD-SWAP doesn't exist. Please use ...".
Arg arg_named_in(std::string_view msg) {
  Arg arg;
  constexpr std::string_view kChannel = "channel:";
  constexpr std::string_view kInstId = "instId:";
  const auto at = msg.find(kChannel);
  if (at == std::string_view::npos) return arg;
  const auto comma = msg.find(',', at);
  if (comma == std::string_view::npos || msg.substr(comma + 1, kInstId.size()) != kInstId) return arg;
  const auto from = comma + 1 + kInstId.size();
  auto to = from;
  while (to < msg.size() && (std::isalnum(static_cast<unsigned char>(msg[to])) || msg[to] == '-' || msg[to] == '_')) ++to;
  arg.channel = msg.substr(at + kChannel.size(), comma - at - kChannel.size());
  arg.inst_id = msg.substr(from, to - from);
  arg.present = !arg.channel.empty() && !arg.inst_id.empty();
  return arg;
}

Result<SeriesKey> series_of(const Arg& arg, bool accept_utc8_aligned) {
  auto market = market_of_inst_id(arg.inst_id);
  if (!market) return std::unexpected(market.error());
  auto interval = detail::parse_candle_channel(Exchange::okx, *market, arg.channel, accept_utc8_aligned);
  if (!interval) return std::unexpected(interval.error());
  auto symbol = Symbol::parse(arg.inst_id);
  if (!symbol) return std::unexpected(symbol.error());
  return SeriesKey{Exchange::okx, *market, *symbol, *interval};
}

// Reads candle rows; swap_volumes gets each row's volCcy (base volume of a derivative).
Status parse_rows(od::value& v, std::string_view where, std::vector<Candle>& candles, std::vector<Quantity>& swap_volumes,
                  bool require_confirm) {
  od::array rows;
  if (auto e = v.get_array().get(rows)) return json_error(e, where);
  std::size_t index = 0;
  for (auto row_result : rows) {
    od::value row;
    if (auto e = std::move(row_result).get(row)) return json_error(e, where);
    Candle c;
    detail::RowExtras extras;
    if (auto s = detail::read_candle_row(row, kRow, c, extras); !s) {
      return make_error(ErrorCode::parse_error, "{}[{}]: {}", where, index, s.error().message);
    }
    if (require_confirm && !extras.has_confirm) {
      return make_error(ErrorCode::parse_error, "{}[{}]: missing confirm", where, index);
    }
    c.closed = extras.confirm;
    candles.push_back(c);
    swap_volumes.push_back(extras.alt_volume);
    ++index;
  }
  return {};
}

}  // namespace

Result<Market> market_of_inst_id(std::string_view inst_id) {
  const auto first = inst_id.find('-');
  if (first == std::string_view::npos || first == 0 || first + 1 >= inst_id.size()) {
    return make_error(ErrorCode::parse_error, "instId \"{}\" is not BASE-QUOTE[-SWAP]", inst_id);
  }
  const auto second = inst_id.find('-', first + 1);
  if (second == std::string_view::npos) return Market::spot;
  if (inst_id.substr(second) == "-SWAP" && second > first + 1) return Market::linear;
  return make_error(ErrorCode::parse_error, "instId \"{}\": only spot (BTC-USDT) and swaps (BTC-USDT-SWAP) are supported",
                    inst_id);
}

OkxKlineParser::OkxKlineParser(OkxParseOptions options)
    : options_(options), json_(std::make_unique<detail::JsonState>()) {}
OkxKlineParser::~OkxKlineParser() = default;
OkxKlineParser::OkxKlineParser(OkxKlineParser&&) noexcept = default;
OkxKlineParser& OkxKlineParser::operator=(OkxKlineParser&&) noexcept = default;

Status OkxKlineParser::parse_frame(std::string_view frame, KlineFrame& out) {
  ++stats_.frames;
  out.clear();
  if (auto s = parse_frame_impl(frame, out); !s) {
    ++stats_.rejected;
    out.clear();
    return detail::with_context(s.error(), "okx frame");
  }
  stats_.candles += out.candles.size();
  return {};
}

Status OkxKlineParser::parse_frame_impl(std::string_view frame, KlineFrame& out) {
  // The heartbeat answer is the plain text "pong", not JSON (§3.2).
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
  std::vector<Quantity>& swap_volumes = swap_volumes_;
  swap_volumes.clear();
  for (auto field_result : root) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) return json_error(e, "frame");
    const std::string_view key = detail::raw_key(field);
    od::value& v = field.value();
    Status s;
    if (key == "arg") {
      s = parse_arg(v, arg);
    } else if (key == "data") {
      s = parse_rows(v, "data", out.candles, swap_volumes, true);
      has_data = true;
    } else if (key == "event") {
      s = detail::read_string(v, event, "event");
    } else if (key == "code") {
      s = detail::read_scalar_text(v, code, "code");
    } else if (key == "msg") {
      s = detail::read_string(v, msg, "msg");
    } else if (key == "id") {
      std::string_view id;
      s = detail::read_string(v, id, "id");
      if (s) out.request_id.assign(id);
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
    } else if (event == "error" || event == "channel-conn-count-error") {
      out.kind = FrameKind::request_error;
      if (!out.has_series && event == "error") {
        // One frame's channels are answered one by one under its id: name the refused one.
        if (const Arg named = arg_named_in(msg); named.present) {
          if (auto series = series_of(named, options_.accept_utc8_aligned)) {
            out.has_series = true;
            out.series = *series;
          }
        }
      }
    } else if (event == "notice" || event == "channel-conn-count") {
      out.kind = FrameKind::notice;
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
  if (series->market == Market::linear) {
    for (std::size_t i = 0; i < out.candles.size(); ++i) out.candles[i].volume = swap_volumes[i];
  }
  detail::order_page(out.candles, /*newest_first=*/false, stats_);
  out.kind = FrameKind::kline;
  out.has_series = true;
  out.series = *series;
  return {};
}

Status OkxKlineParser::parse_rest(std::string_view body, Market market, std::vector<Candle>& out) {
  ++stats_.frames;
  out.clear();
  if (auto s = parse_rest_impl(body, market, out); !s) {
    ++stats_.rejected;
    out.clear();
    return detail::with_context(s.error(), "okx GET /api/v5/market/candles");
  }
  stats_.candles += out.size();
  return {};
}

Status OkxKlineParser::parse_rest_impl(std::string_view body, Market market, std::vector<Candle>& out) {
  od::document doc;
  if (auto s = json_->iterate(body, doc); !s) return s;
  od::object root;
  if (auto e = doc.get_object().get(root)) return json_error(e, "body");
  std::string_view code;
  std::string_view msg;
  bool has_data = false;
  std::vector<Quantity>& swap_volumes = swap_volumes_;
  swap_volumes.clear();
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
      s = parse_rows(v, "data", out, swap_volumes, true);
      has_data = true;
    }
    if (!s) return s;
  }
  if (auto s = detail::expect_document_end(doc); !s) return s;
  if (code.empty()) return make_error(ErrorCode::parse_error, "missing code");
  if (code != "0") {
    out.clear();
    // 50011: rate limit reached (HTTP 200 or 429); 50061: sub-account order rate (§3.3).
    const ErrorCode ec = (code == "50011" || code == "50061") ? ErrorCode::rate_limited : ErrorCode::invalid_argument;
    return make_error(ec, "code {}: {}", code, msg);
  }
  if (!has_data) return make_error(ErrorCode::parse_error, "missing data");
  if (market == Market::linear) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i].volume = swap_volumes[i];
  }
  detail::order_page(out, /*newest_first=*/true, stats_);
  return {};
}

}  // namespace twinstar::venue::okx
