#include "venue/common/json_read.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace twinstar::venue::detail {

simdjson::padded_string_view FrameBuffer::load(std::string_view text) {
  const std::size_t needed = text.size() + simdjson::SIMDJSON_PADDING;
  if (buffer_.size() < needed) buffer_.resize(needed);
  if (!text.empty()) std::memcpy(buffer_.data(), text.data(), text.size());
  // Zeroed padding: simdjson reads it but must never see a stale closing quote or brace as data.
  std::memset(buffer_.data() + text.size(), 0, simdjson::SIMDJSON_PADDING);
  return simdjson::padded_string_view(buffer_.data(), text.size(), buffer_.size());
}

std::unexpected<Error> json_error(simdjson::error_code code, std::string_view where) {
  return make_error(ErrorCode::parse_error, "{}: {}", where, simdjson::error_message(code));
}

std::unexpected<Error> with_context(const Error& error, std::string_view context) {
  return make_error(error.code, "{}: {}", context, error.message);
}

Status read_string(od::value& value, std::string_view& out, std::string_view where) {
  if (auto e = value.get_string().get(out)) return json_error(e, where);
  return {};
}

Status read_int64(od::value& value, std::int64_t& out, std::string_view where) {
  od::json_type type;
  if (auto e = value.type().get(type)) return json_error(e, where);
  simdjson::error_code e = simdjson::SUCCESS;
  if (type == od::json_type::number) {
    e = value.get_int64().get(out);
  } else if (type == od::json_type::string) {
    std::string_view text;
    if (auto s = read_scalar_text(value, text, where); !s) return s;
    auto parsed = parse_int64_text(text, where);
    if (!parsed) return std::unexpected(parsed.error());
    out = *parsed;
    return {};
  } else {
    return make_error(ErrorCode::parse_error, "{}: expected an integer", where);
  }
  if (e) return json_error(e, where);
  return {};
}

Status read_epoch_ms(od::value& value, TimestampMs& out, std::string_view where) {
  std::int64_t ms = 0;
  if (auto s = read_int64(value, ms, where); !s) return s;
  if (ms <= 0 || ms > kMaxEpochMs) {
    return make_error(ErrorCode::parse_error, "{}: {} is not a millisecond timestamp between 1970 and 2100", where, ms);
  }
  out = from_epoch_ms(ms);
  return {};
}

Status read_bool(od::value& value, bool& out, std::string_view where) {
  if (auto e = value.get_bool().get(out)) return json_error(e, where);
  return {};
}

Status read_scalar_text(od::value& value, std::string_view& out, std::string_view where) {
  od::json_type type;
  if (auto e = value.type().get(type)) return json_error(e, where);
  std::string_view token = value.raw_json_token();
  // The token runs to the next structural character: trim the whitespace before it.
  while (!token.empty() && (token.back() == ' ' || token.back() == '\n' || token.back() == '\r' || token.back() == '\t')) {
    token.remove_suffix(1);
  }
  if (type == od::json_type::string) {
    if (token.size() < 2 || token.back() != '"') {
      return make_error(ErrorCode::parse_error, "{}: unterminated string", where);
    }
    out = token.substr(1, token.size() - 2);
    return {};
  }
  if (type == od::json_type::number) {
    if (token.empty()) return make_error(ErrorCode::parse_error, "{}: empty number", where);
    out = token;
    return {};
  }
  return make_error(ErrorCode::parse_error, "{}: expected a decimal string", where);
}

Status JsonState::iterate(std::string_view text, od::document& doc) {
  if (auto e = parser_.iterate(buffer_.load(text)).get(doc)) return json_error(e, "frame");
  return {};
}

Status read_candle_row(od::value& row, const RowLayout& layout, Candle& out, RowExtras& extras) {
  od::array items;
  if (auto e = row.get_array().get(items)) return json_error(e, "row");
  out = Candle{};
  extras = RowExtras{};
  int index = 0;
  for (auto item_result : items) {
    od::value item;
    if (auto e = std::move(item_result).get(item)) return json_error(e, "row element");
    Status s;
    switch (index) {
      case 0: s = read_epoch_ms(item, out.open_time, "[0] open time"); break;
      case 1: s = read_decimal(item, out.open, true, "[1] open"); break;
      case 2: s = read_decimal(item, out.high, true, "[2] high"); break;
      case 3: s = read_decimal(item, out.low, true, "[3] low"); break;
      case 4: s = read_decimal(item, out.close, true, "[4] close"); break;
      default:
        if (index == layout.volume) {
          s = read_decimal(item, out.volume, false, "volume");
        } else if (index == layout.alt_volume) {
          s = read_decimal(item, extras.alt_volume, false, "volume");
        } else if (index == layout.turnover) {
          s = read_decimal(item, out.turnover, false, "turnover");
        } else if (index == layout.confirm) {
          std::string_view flag;
          s = read_scalar_text(item, flag, "confirm");
          if (s && flag != "0" && flag != "1") {
            return make_error(ErrorCode::parse_error, "confirm: expected \"0\" or \"1\", got \"{}\"", flag);
          }
          extras.has_confirm = true;
          extras.confirm = flag == "1";
        } else if (index == layout.close_time) {
          s = read_int64(item, extras.close_time_ms, "close time");
        }
        break;
    }
    if (!s) return s;
    ++index;
  }
  if (index < layout.min_size) {
    return make_error(ErrorCode::parse_error, "row has {} elements, expected at least {}", index, layout.min_size);
  }
  return {};
}

void order_page(std::vector<Candle>& candles, bool newest_first, ParseStats& stats) {
  if (newest_first) std::reverse(candles.begin(), candles.end());
  auto by_time = [](const Candle& a, const Candle& b) { return a.open_time < b.open_time; };
  if (!std::is_sorted(candles.begin(), candles.end(), by_time)) {
    std::stable_sort(candles.begin(), candles.end(), by_time);
    ++stats.reordered;
  }
}

bool interval_ended(Interval interval, TimestampMs open_time, TimestampMs now) noexcept {
  return interval_next(interval, Timestamp(open_time)) <= Timestamp(now);
}

Result<Interval> parse_candle_channel(Exchange exchange, Market market, std::string_view channel,
                                      bool accept_utc8_aligned) {
  constexpr std::string_view kPrefix = "candle";
  if (!channel.starts_with(kPrefix)) {
    return make_error(ErrorCode::parse_error, "channel \"{}\" is not a candle channel", channel);
  }
  const std::string_view bar = channel.substr(kPrefix.size());
  auto interval = parse_venue_interval(exchange, market, bar);
  if (interval) return interval;
  if (accept_utc8_aligned) {
    struct Utc8 {
      std::string_view bar;
      Interval interval;
    };
    constexpr Utc8 kUtc8[] = {{"6H", Interval::h6}, {"12H", Interval::h12}, {"1D", Interval::d1},
                              {"3D", Interval::d3}, {"1W", Interval::w1},   {"1M", Interval::mo1}};
    for (const auto& u : kUtc8) {
      if (u.bar == bar) return u.interval;
    }
  }
  return make_error(ErrorCode::parse_error, "channel \"{}\": {}", channel, interval.error().message);
}

Result<SeriesKey> make_series(Exchange exchange, Market market, std::string_view venue_interval_text,
                              std::string_view symbol) {
  SeriesKey key;
  key.exchange = exchange;
  key.market = market;
  auto interval = parse_venue_interval(exchange, market, venue_interval_text);
  if (!interval) return std::unexpected(interval.error());
  key.interval = *interval;
  auto sym = Symbol::parse(symbol);
  if (!sym) return std::unexpected(sym.error());
  key.symbol = *sym;
  return key;
}

Status expect_document_end(od::document& doc) {
  const char* location = nullptr;
  auto e = doc.current_location().get(location);
  if (e == simdjson::OUT_OF_BOUNDS) return {};
  if (e) return json_error(e, "document");
  return make_error(ErrorCode::parse_error, "unexpected content after the JSON value");
}

Result<std::int64_t> parse_int64_text(std::string_view text, std::string_view where) {
  std::int64_t value = 0;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(first, last, value);
  if (text.empty() || ec != std::errc{} || ptr != last) {
    return make_error(ErrorCode::parse_error, "{}: \"{}\" is not an integer", where, text);
  }
  return value;
}

}  // namespace twinstar::venue::detail
