#include "venue/bybit/bybit_kline_parser.hpp"

#include "venue/common/json_read.hpp"

namespace twinstar::venue::bybit {

namespace {

using detail::json_error;
namespace od = simdjson::ondemand;

constexpr std::string_view kKlineTopicPrefix = "kline.";

// Bitmask of the push fields a candle needs.
enum : unsigned {
  kStart = 1u << 0,
  kOpen = 1u << 1,
  kHigh = 1u << 2,
  kLow = 1u << 3,
  kClose = 1u << 4,
  kVolume = 1u << 5,
  kTurnover = 1u << 6,
  kConfirm = 1u << 7,
  kAllCandleFields = (1u << 8) - 1,
};

std::string_view first_missing(unsigned seen) {
  if (!(seen & kStart)) return "start";
  if (!(seen & kOpen)) return "open";
  if (!(seen & kHigh)) return "high";
  if (!(seen & kLow)) return "low";
  if (!(seen & kClose)) return "close";
  if (!(seen & kVolume)) return "volume";
  if (!(seen & kTurnover)) return "turnover";
  return "confirm";
}

// One element of a kline push's data array (§1.2).
Status parse_push_candle(od::value& element, Candle& c, std::string_view& interval) {
  od::object obj;
  if (auto e = element.get_object().get(obj)) return json_error(e, "element");
  unsigned seen = 0;
  for (auto field_result : obj) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) return json_error(e, "field");
    const std::string_view key = detail::raw_key(field);
    od::value& v = field.value();
    Status s;
    if (key == "start") {
      s = detail::read_epoch_ms(v, c.open_time, "start");
      seen |= kStart;
    } else if (key == "open") {
      s = detail::read_decimal(v, c.open, true, "open");
      seen |= kOpen;
    } else if (key == "high") {
      s = detail::read_decimal(v, c.high, true, "high");
      seen |= kHigh;
    } else if (key == "low") {
      s = detail::read_decimal(v, c.low, true, "low");
      seen |= kLow;
    } else if (key == "close") {
      s = detail::read_decimal(v, c.close, true, "close");
      seen |= kClose;
    } else if (key == "volume") {
      s = detail::read_decimal(v, c.volume, false, "volume");
      seen |= kVolume;
    } else if (key == "turnover") {
      s = detail::read_decimal(v, c.turnover, false, "turnover");
      seen |= kTurnover;
    } else if (key == "confirm") {
      s = detail::read_bool(v, c.closed, "confirm");
      seen |= kConfirm;
    } else if (key == "interval") {
      s = detail::read_string(v, interval, "interval");
    }
    if (!s) return s;
  }
  if (seen != kAllCandleFields) return make_error(ErrorCode::parse_error, "missing \"{}\"", first_missing(seen));
  return {};
}

Status parse_push_data(od::value& data, std::vector<Candle>& candles, std::string_view& interval) {
  od::array items;
  if (auto e = data.get_array().get(items)) return json_error(e, "data");
  std::size_t index = 0;
  for (auto item_result : items) {
    od::value item;
    if (auto e = std::move(item_result).get(item)) return json_error(e, "data");
    Candle c;
    std::string_view item_interval;
    if (auto s = parse_push_candle(item, c, item_interval); !s) {
      return make_error(ErrorCode::parse_error, "data[{}]: {}", index, s.error().message);
    }
    if (!item_interval.empty()) {
      if (interval.empty()) {
        interval = item_interval;
      } else if (interval != item_interval) {
        return make_error(ErrorCode::parse_error, "data[{}]: interval \"{}\" differs from \"{}\"", index,
                          item_interval, interval);
      }
    }
    candles.push_back(c);
    ++index;
  }
  return {};
}

// Option-style command answer: {"success":..,"data":{"failTopics":[..],"successTopics":[..]},"type":"COMMAND_RESP"}.
Status parse_command_data(od::value& data, std::string& fail_topics) {
  od::object obj;
  if (auto e = data.get_object().get(obj)) return json_error(e, "data");
  for (auto field_result : obj) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) return json_error(e, "data");
    if (field.key() != "failTopics") continue;
    od::array topics;
    if (auto e = field.value().get_array().get(topics)) return json_error(e, "data.failTopics");
    for (auto topic_result : topics) {
      std::string_view topic;
      if (auto e = std::move(topic_result).get_string().get(topic)) return json_error(e, "data.failTopics");
      if (!fail_topics.empty()) fail_topics += ',';
      fail_topics += topic;
    }
  }
  return {};
}

}  // namespace

BybitKlineParser::BybitKlineParser(Market market) : market_(market), json_(std::make_unique<detail::JsonState>()) {}
BybitKlineParser::~BybitKlineParser() = default;
BybitKlineParser::BybitKlineParser(BybitKlineParser&&) noexcept = default;
BybitKlineParser& BybitKlineParser::operator=(BybitKlineParser&&) noexcept = default;

Status BybitKlineParser::parse_frame(std::string_view frame, KlineFrame& out) {
  ++stats_.frames;
  out.clear();
  if (auto s = parse_frame_impl(frame, out); !s) {
    ++stats_.rejected;
    out.clear();
    return detail::with_context(s.error(), "bybit frame");
  }
  stats_.candles += out.candles.size();
  return {};
}

Status BybitKlineParser::parse_frame_impl(std::string_view frame, KlineFrame& out) {
  od::document doc;
  if (auto s = json_->iterate(frame, doc); !s) return s;
  od::object root;
  if (auto e = doc.get_object().get(root)) return json_error(e, "frame");

  std::string_view topic;
  std::string_view op;
  std::string_view type;
  std::string_view ret_msg;
  std::string_view data_interval;
  bool has_data_array = false;
  bool has_success = false;
  bool success = false;
  for (auto field_result : root) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) return json_error(e, "frame");
    const std::string_view key = detail::raw_key(field);
    od::value& v = field.value();
    Status s;
    if (key == "topic") {
      s = detail::read_string(v, topic, "topic");
    } else if (key == "data") {
      od::json_type t;
      if (auto e = v.type().get(t)) return json_error(e, "data");
      if (t == od::json_type::array) {
        has_data_array = true;
        s = parse_push_data(v, out.candles, data_interval);
      } else if (t == od::json_type::object) {
        s = parse_command_data(v, out.message);
      } else {
        return make_error(ErrorCode::parse_error, "data: expected an array or object");
      }
    } else if (key == "ts") {
      s = detail::read_int64(v, out.venue_time_ms, "ts");
    } else if (key == "type") {
      s = detail::read_string(v, type, "type");
    } else if (key == "op") {
      s = detail::read_string(v, op, "op");
    } else if (key == "success") {
      s = detail::read_bool(v, success, "success");
      has_success = true;
    } else if (key == "ret_msg") {
      s = detail::read_string(v, ret_msg, "ret_msg");
    } else if (key == "req_id") {
      std::string_view id;
      s = detail::read_string(v, id, "req_id");
      if (s) out.request_id.assign(id);
    }
    if (!s) return s;
  }
  if (auto s = detail::expect_document_end(doc); !s) return s;

  if (!topic.empty()) {
    // kline.{interval}.{symbol}
    if (!topic.starts_with(kKlineTopicPrefix)) {
      return make_error(ErrorCode::parse_error, "unexpected topic \"{}\"", topic);
    }
    const std::string_view rest = topic.substr(kKlineTopicPrefix.size());
    const auto dot = rest.find('.');
    if (dot == std::string_view::npos) return make_error(ErrorCode::parse_error, "malformed topic \"{}\"", topic);
    const std::string_view interval_text = rest.substr(0, dot);
    auto series = detail::make_series(Exchange::bybit, market_, interval_text, rest.substr(dot + 1));
    if (!series) return make_error(ErrorCode::parse_error, "topic \"{}\": {}", topic, series.error().message);
    if (!has_data_array) return make_error(ErrorCode::parse_error, "topic \"{}\" without a data array", topic);
    if (out.candles.empty()) return make_error(ErrorCode::parse_error, "topic \"{}\" with an empty data array", topic);
    if (!data_interval.empty() && data_interval != interval_text) {
      return make_error(ErrorCode::parse_error, "data interval \"{}\" differs from topic \"{}\"", data_interval, topic);
    }
    out.kind = FrameKind::kline;
    out.has_series = true;
    out.series = *series;
    return {};
  }

  if (!out.candles.empty()) return make_error(ErrorCode::parse_error, "candles without a topic");
  // Control frames. Pongs: {"success":true,"ret_msg":"pong","op":"ping"} (spot/linear) or
  // {"op":"pong","args":[..]} (private/option).
  if (op == "pong" || (op == "ping" && has_success && success)) {
    out.kind = FrameKind::pong;
    return {};
  }
  if (has_success && !success) {
    out.kind = FrameKind::request_error;
    if (out.message.empty()) {
      out.message.assign(ret_msg);
    } else {
      out.message.insert(0, "failTopics: ");
    }
    return {};
  }
  if (has_success && success) {
    if (op == "subscribe" || (op.empty() && type == "COMMAND_RESP" && out.message.empty())) {
      out.kind = FrameKind::subscribe_ack;
      return {};
    }
    if (op == "unsubscribe") {
      out.kind = FrameKind::unsubscribe_ack;
      return {};
    }
    if (op == "auth") {
      out.kind = FrameKind::login_ack;
      return {};
    }
    if (op.empty() && type == "COMMAND_RESP") {
      // success with failTopics: some topics of the request were refused.
      out.kind = FrameKind::request_error;
      out.message.insert(0, "failTopics: ");
      return {};
    }
    return make_error(ErrorCode::parse_error, "unexpected op \"{}\"", op);
  }
  return make_error(ErrorCode::parse_error, "neither a topic push nor an op answer");
}

Status BybitKlineParser::parse_rest(std::string_view body, Interval interval, TimestampMs now, std::vector<Candle>& out) {
  ++stats_.frames;
  out.clear();
  if (auto s = parse_rest_impl(body, interval, now, out); !s) {
    ++stats_.rejected;
    out.clear();
    return detail::with_context(s.error(), "bybit GET /v5/market/kline");
  }
  stats_.candles += out.size();
  return {};
}

Status BybitKlineParser::parse_rest_impl(std::string_view body, Interval interval, TimestampMs now,
                                         std::vector<Candle>& out) {
  od::document doc;
  if (auto s = json_->iterate(body, doc); !s) return s;
  od::object root;
  if (auto e = doc.get_object().get(root)) return json_error(e, "body");
  bool has_ret_code = false;
  bool has_list = false;
  std::int64_t ret_code = 0;
  std::string_view ret_msg;
  static constexpr detail::RowLayout kRow{.min_size = 7, .volume = 5, .turnover = 6};
  for (auto field_result : root) {
    od::field field;
    if (auto e = std::move(field_result).get(field)) return json_error(e, "body");
    const std::string_view key = detail::raw_key(field);
    od::value& v = field.value();
    Status s;
    if (key == "retCode") {
      s = detail::read_int64(v, ret_code, "retCode");
      has_ret_code = true;
    } else if (key == "retMsg") {
      s = detail::read_string(v, ret_msg, "retMsg");
    } else if (key == "result") {
      od::object result;
      if (auto e = v.get_object().get(result)) return json_error(e, "result");
      for (auto rf_result : result) {
        od::field rf;
        if (auto e = std::move(rf_result).get(rf)) return json_error(e, "result");
        if (rf.key() != "list") continue;
        od::array rows;
        if (auto e = rf.value().get_array().get(rows)) return json_error(e, "result.list");
        has_list = true;
        std::size_t index = 0;
        for (auto row_result : rows) {
          od::value row;
          if (auto e = std::move(row_result).get(row)) return json_error(e, "result.list");
          Candle c;
          detail::RowExtras extras;
          if (auto rs = detail::read_candle_row(row, kRow, c, extras); !rs) {
            return make_error(ErrorCode::parse_error, "result.list[{}]: {}", index, rs.error().message);
          }
          out.push_back(c);
          ++index;
        }
      }
    }
    if (!s) return s;
  }
  if (auto s = detail::expect_document_end(doc); !s) return s;
  if (!has_ret_code) return make_error(ErrorCode::parse_error, "missing retCode");
  if (ret_code != 0) {
    out.clear();
    // 10006: per-UID rate limit (§1.3).
    const ErrorCode code = ret_code == 10006 ? ErrorCode::rate_limited : ErrorCode::invalid_argument;
    return make_error(code, "retCode {}: {}", ret_code, ret_msg);
  }
  if (!has_list) return make_error(ErrorCode::parse_error, "missing result.list");
  detail::order_page(out, /*newest_first=*/true, stats_);
  for (Candle& c : out) c.closed = detail::interval_ended(interval, c.open_time, now);
  return {};
}

}  // namespace twinstar::venue::bybit
