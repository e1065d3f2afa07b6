#pragma once
// simdjson On-Demand helpers shared by the venue parsers: a reusable padded frame buffer and
// readers for the value shapes venues send (decimals as strings, timestamps as numbers or
// strings). Every reader returns an error naming the field instead of throwing.

#include <cstdint>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "core/candle.hpp"
#include "core/decimal.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "venue/common/kline_frame.hpp"

namespace twinstar::venue::detail {

namespace od = simdjson::ondemand;

// A growing buffer that holds one frame plus the padding simdjson reads past the end, so
// callers can hand in any std::string_view. Copying a frame of a few hundred bytes costs far
// less than parsing it.
class FrameBuffer {
 public:
  simdjson::padded_string_view load(std::string_view text);

 private:
  std::string buffer_;
};

// "where: simdjson's message".
std::unexpected<Error> json_error(simdjson::error_code code, std::string_view where);
// Prefixes an error's message with the parser's context: "bybit kline push: data[0].open: ...".
std::unexpected<Error> with_context(const Error& error, std::string_view context);

// A field's key as written, without decoding escapes (venue keys have none; a key with one
// simply matches nothing). Stage 1 has checked that every string closes, so the scan ends.
inline std::string_view raw_key(od::field& field) noexcept {
  const char* start = field.key().raw();
  const char* end = start;
  while (*end != '"') ++end;
  return {start, static_cast<std::size_t>(end - start)};
}

// A string value, unescaped; the view lives until the next parse.
Status read_string(od::value& value, std::string_view& out, std::string_view where);
// A JSON integer or a string holding one ("1597026383085").
Status read_int64(od::value& value, std::int64_t& out, std::string_view where);
Status read_bool(od::value& value, bool& out, std::string_view where);
// 2100-01-01T00:00:00Z: later values would overflow nanosecond time points downstream.
inline constexpr std::int64_t kMaxEpochMs = 4'102'444'800'000;
// A millisecond timestamp (number or numeric string) in (1970, 2100].
Status read_epoch_ms(od::value& value, TimestampMs& out, std::string_view where);
// The text of a string or number value without unescaping: decimals never contain escapes,
// and Decimal::parse rejects a backslash if one shows up.
Status read_scalar_text(od::value& value, std::string_view& out, std::string_view where);

// A decimal in a string (or a bare number). exact=true: more than 8 decimals is an error.
template <class D>
Status read_decimal(od::value& value, D& out, bool exact, std::string_view where) {
  std::string_view text;
  if (auto s = read_scalar_text(value, text, where); !s) return s;
  auto parsed = exact ? D::parse(text) : D::parse_rounded(text);
  if (!parsed) return make_error(ErrorCode::parse_error, "{}: {}", where, parsed.error().message);
  out = *parsed;
  return {};
}

// The simdjson parser and frame buffer a venue parser keeps between frames.
// Thread: one thread at a time, like the parser that owns it.
class JsonState {
 public:
  // Loads `text` and starts a document over it; the document and every string view read from
  // it live until the next call.
  Status iterate(std::string_view text, od::document& doc);

 private:
  od::parser parser_;
  FrameBuffer buffer_;
};

// Where a venue puts each field in a candle row (an array of strings, or of numbers and strings).
struct RowLayout {
  int min_size = 0;      // elements the row must have; extra trailing elements are ignored
  int volume = 5;        // base volume
  int alt_volume = -1;   // a second volume column read into RowExtras (OKX: base volume of derivatives)
  int turnover = -1;     // quote volume; -1 when the row has none (turnover stays zero)
  int confirm = -1;      // OKX: "0" open, "1" complete
  int close_time = -1;   // Binance: close time in ms
};

struct RowExtras {
  Quantity alt_volume;
  bool has_confirm = false;
  bool confirm = false;
  std::int64_t close_time_ms = 0;
};

// Reads one candle row. Prices are exact (Price::parse); volume and turnover are rounded to 8
// decimals because venues compute them with more.
Status read_candle_row(od::value& row, const RowLayout& layout, Candle& out, RowExtras& extras);

// Puts a REST page oldest first: reverses a newest-first page, then sorts (and counts it in
// stats.reordered) if the venue broke its documented order.
void order_page(std::vector<Candle>& candles, bool newest_first, ParseStats& stats);

// A REST candle has no closed flag on most venues: it is closed once its interval has ended.
bool interval_ended(Interval interval, TimestampMs open_time, TimestampMs now) noexcept;

// The interval of a candle channel name ("candle1m", "candle1Dutc") in the venue's spelling.
// With accept_utc8_aligned, the UTC+8-aligned bars OKX and Bitget name without "utc" (6H, 12H,
// 1D, 3D, 1W, 1M) map to the same Interval: the caller accepts that such candles open at
// 16:00 UTC rather than midnight.
Result<Interval> parse_candle_channel(Exchange exchange, Market market, std::string_view channel,
                                      bool accept_utc8_aligned);

// SeriesKey from a venue's interval spelling and symbol text.
Result<SeriesKey> make_series(Exchange exchange, Market market, std::string_view venue_interval_text,
                              std::string_view symbol);

// Errors unless the document has been read to its end (catches truncated and trailing bytes).
Status expect_document_end(od::document& doc);

// Strict decimal-integer text to int64 ("-1003", "429"); error on anything else.
Result<std::int64_t> parse_int64_text(std::string_view text, std::string_view where);

}  // namespace twinstar::venue::detail
