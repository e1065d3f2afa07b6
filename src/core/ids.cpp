#include "core/ids.hpp"

#include <algorithm>
#include <span>

namespace twinstar {

namespace {

struct IntervalInfo {
  Interval interval;
  std::string_view name;
  Duration length;
};

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr IntervalInfo kIntervals[] = {
    {Interval::s1, "1s", seconds(1)},   {Interval::m1, "1m", minutes(1)},    {Interval::m3, "3m", minutes(3)},
    {Interval::m5, "5m", minutes(5)},   {Interval::m15, "15m", minutes(15)}, {Interval::m30, "30m", minutes(30)},
    {Interval::h1, "1h", hours(1)},     {Interval::h2, "2h", hours(2)},      {Interval::h4, "4h", hours(4)},
    {Interval::h6, "6h", hours(6)},     {Interval::h8, "8h", hours(8)},      {Interval::h12, "12h", hours(12)},
    {Interval::d1, "1d", days(1)},      {Interval::d3, "3d", days(3)},       {Interval::w1, "1w", days(7)},
    {Interval::mo1, "1M", days(31)},
};

struct Spelling {
  Interval interval;
  std::string_view text;
};

constexpr Spelling kBybit[] = {
    {Interval::m1, "1"},     {Interval::m3, "3"},     {Interval::m5, "5"},   {Interval::m15, "15"},
    {Interval::m30, "30"},   {Interval::h1, "60"},    {Interval::h2, "120"}, {Interval::h4, "240"},
    {Interval::h6, "360"},   {Interval::h12, "720"},  {Interval::d1, "D"},   {Interval::w1, "W"},
    {Interval::mo1, "M"},
};
constexpr Spelling kBinanceSpot[] = {
    {Interval::s1, "1s"},   {Interval::m1, "1m"},   {Interval::m3, "3m"}, {Interval::m5, "5m"},
    {Interval::m15, "15m"}, {Interval::m30, "30m"}, {Interval::h1, "1h"}, {Interval::h2, "2h"},
    {Interval::h4, "4h"},   {Interval::h6, "6h"},   {Interval::h8, "8h"}, {Interval::h12, "12h"},
    {Interval::d1, "1d"},   {Interval::d3, "3d"},   {Interval::w1, "1w"}, {Interval::mo1, "1M"},
};
// USDⓈ-M has no 1s.
constexpr std::span<const Spelling> kBinanceUsdm{kBinanceSpot + 1, std::size(kBinanceSpot) - 1};
// OKX: 6H and longer are UTC+8-aligned unless the "utc" variant is used; twinstar is UTC throughout.
constexpr Spelling kOkx[] = {
    {Interval::s1, "1s"},     {Interval::m1, "1m"},      {Interval::m3, "3m"},     {Interval::m5, "5m"},
    {Interval::m15, "15m"},   {Interval::m30, "30m"},    {Interval::h1, "1H"},     {Interval::h2, "2H"},
    {Interval::h4, "4H"},     {Interval::h6, "6Hutc"},   {Interval::h12, "12Hutc"}, {Interval::d1, "1Dutc"},
    {Interval::d3, "3Dutc"},  {Interval::w1, "1Wutc"},   {Interval::mo1, "1Mutc"},
};
constexpr Spelling kBitgetSpot[] = {
    {Interval::m1, "1min"},   {Interval::m3, "3min"},    {Interval::m5, "5min"},   {Interval::m15, "15min"},
    {Interval::m30, "30min"}, {Interval::h1, "1h"},      {Interval::h4, "4h"},     {Interval::h6, "6Hutc"},
    {Interval::h12, "12Hutc"}, {Interval::d1, "1Dutc"},  {Interval::d3, "3Dutc"},  {Interval::w1, "1Wutc"},
    {Interval::mo1, "1Mutc"},
};
constexpr Spelling kBitgetFutures[] = {
    {Interval::m1, "1m"},     {Interval::m3, "3m"},      {Interval::m5, "5m"},     {Interval::m15, "15m"},
    {Interval::m30, "30m"},   {Interval::h1, "1H"},      {Interval::h2, "2H"},     {Interval::h4, "4H"},
    {Interval::h6, "6Hutc"},  {Interval::h12, "12Hutc"}, {Interval::d1, "1Dutc"},  {Interval::d3, "3Dutc"},
    {Interval::w1, "1Wutc"},  {Interval::mo1, "1Mutc"},
};

std::span<const Spelling> spellings(Exchange e, Market m) {
  switch (e) {
    case Exchange::bybit: return kBybit;
    case Exchange::binance: return m == Market::spot ? std::span<const Spelling>(kBinanceSpot) : kBinanceUsdm;
    case Exchange::okx: return kOkx;
    case Exchange::bitget: return m == Market::spot ? std::span<const Spelling>(kBitgetSpot) : kBitgetFutures;
  }
  return {};
}

bool valid_symbol_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '/';
}

}  // namespace

std::string_view to_string(Exchange e) noexcept {
  switch (e) {
    case Exchange::bybit: return "bybit";
    case Exchange::binance: return "binance";
    case Exchange::okx: return "okx";
    case Exchange::bitget: return "bitget";
  }
  return "?";
}

Result<Exchange> parse_exchange(std::string_view text) {
  for (Exchange e : kAllExchanges) {
    if (to_string(e) == text) return e;
  }
  return make_error(ErrorCode::parse_error, "unknown exchange \"{}\": expected bybit, binance, okx or bitget", text);
}

std::string_view to_string(Market m) noexcept { return m == Market::spot ? "spot" : "linear"; }

Result<Market> parse_market(std::string_view text) {
  if (text == "spot") return Market::spot;
  if (text == "linear" || text == "usdm" || text == "futures" || text == "swap") return Market::linear;
  return make_error(ErrorCode::parse_error, "unknown market \"{}\": expected spot or linear", text);
}

Result<Symbol> Symbol::parse(std::string_view text) {
  if (text.empty() || text.size() > kMaxLength) {
    return make_error(ErrorCode::parse_error, "invalid symbol \"{}\": must be 1 to {} characters", text, kMaxLength);
  }
  Symbol s;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');  // Binance streams spell symbols lowercase
    if (!valid_symbol_char(c)) {
      return make_error(ErrorCode::parse_error, "invalid symbol \"{}\": character {} is not A-Z, 0-9, '-', '_' or '/'",
                        text, i + 1);
    }
    s.chars_[i] = c;
  }
  s.size_ = static_cast<std::uint8_t>(text.size());
  return s;
}

std::string_view to_string(Interval i) noexcept { return kIntervals[static_cast<std::size_t>(i)].name; }

Result<Interval> parse_interval(std::string_view text) {
  for (const auto& info : kIntervals) {
    if (info.name == text) return info.interval;
  }
  // Plain minutes, as in Bybit's spelling and file names such as BTCUSDT_240m.csv.
  std::string_view digits = text;
  if (!digits.empty() && digits.back() == 'm') digits.remove_suffix(1);
  if (!digits.empty() && std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
      digits.size() <= 5) {
    const long mins = std::stol(std::string(digits));
    for (const auto& info : kIntervals) {
      if (info.interval != Interval::mo1 && info.length == minutes(mins)) return info.interval;
    }
  }
  return make_error(ErrorCode::parse_error,
                    "unknown interval \"{}\": expected one of 1s 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M", text);
}

Duration interval_length(Interval i) noexcept { return kIntervals[static_cast<std::size_t>(i)].length; }

Timestamp interval_floor(Interval i, Timestamp t) noexcept {
  if (i == Interval::mo1) {
    const std::chrono::year_month_day ymd{std::chrono::floor<days>(t)};
    return Timestamp(std::chrono::sys_days(ymd.year() / ymd.month() / 1));
  }
  const Duration len = interval_length(i);
  // Weeks start on Monday; the epoch (1970-01-01) was a Thursday, 4 days before a Monday boundary.
  const Duration offset = i == Interval::w1 ? Duration(days(4)) : Duration(0);
  const auto since = t.time_since_epoch() - offset;
  auto n = since / len;
  if (since.count() < 0 && since % len != Duration(0)) --n;
  return Timestamp(offset + n * len);
}

Timestamp interval_next(Interval i, Timestamp open) noexcept {
  if (i == Interval::mo1) {
    const std::chrono::year_month_day ymd{std::chrono::floor<days>(open)};
    const auto next = std::chrono::year_month(ymd.year() / ymd.month()) + std::chrono::months(1);
    return Timestamp(std::chrono::sys_days(next / 1));
  }
  return open + interval_length(i);
}

Result<std::string_view> venue_interval(Exchange e, Market m, Interval i) {
  for (const auto& s : spellings(e, m)) {
    if (s.interval == i) return s.text;
  }
  return make_error(ErrorCode::invalid_argument, "{} {} has no {} interval", to_string(e), to_string(m), to_string(i));
}

Result<Interval> parse_venue_interval(Exchange e, Market m, std::string_view text) {
  for (const auto& s : spellings(e, m)) {
    if (s.text == text) return s.interval;
  }
  return make_error(ErrorCode::parse_error, "unknown {} {} interval \"{}\"", to_string(e), to_string(m), text);
}

}  // namespace twinstar
