#pragma once
// Exchange, market, symbol and interval ids, with each exchange's own spelling of intervals.

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/time.hpp"

namespace twinstar {

enum class Exchange : std::uint8_t { bybit, binance, okx, bitget };
inline constexpr std::array kAllExchanges = {Exchange::bybit, Exchange::binance, Exchange::okx, Exchange::bitget};

// spot, or linear (USDT-margined perpetual/futures: Bybit linear, Binance USDⓈ-M, OKX SWAP, Bitget USDT-FUTURES).
enum class Market : std::uint8_t { spot, linear };

std::string_view to_string(Exchange e) noexcept;
Result<Exchange> parse_exchange(std::string_view text);
std::string_view to_string(Market m) noexcept;
Result<Market> parse_market(std::string_view text);

// An instrument name as the venue spells it ("BTCUSDT", "BTC-USDT-SWAP"): 1 to 23 characters
// of A-Z, 0-9, '-', '_' or '/', stored inline so candles and maps copy it cheaply.
class Symbol {
 public:
  static constexpr std::size_t kMaxLength = 23;
  Symbol() = default;
  static Result<Symbol> parse(std::string_view text);
  std::string_view view() const noexcept { return {chars_.data(), size_}; }
  std::string str() const { return std::string(view()); }
  bool empty() const noexcept { return size_ == 0; }
  friend bool operator==(const Symbol& a, const Symbol& b) noexcept { return a.view() == b.view(); }
  friend auto operator<=>(const Symbol& a, const Symbol& b) noexcept { return a.view() <=> b.view(); }
  friend std::ostream& operator<<(std::ostream& os, const Symbol& s) { return os << s.view(); }

 private:
  std::array<char, kMaxLength> chars_{};
  std::uint8_t size_ = 0;
};

// A candle length. Canonical names are Binance's ("1m", "15m", "1h", "1d", "1w", "1M").
enum class Interval : std::uint8_t {
  s1, m1, m3, m5, m15, m30, h1, h2, h4, h6, h8, h12, d1, d3, w1, mo1,
};
inline constexpr std::array kAllIntervals = {Interval::s1,  Interval::m1, Interval::m3, Interval::m5,
                                             Interval::m15, Interval::m30, Interval::h1, Interval::h2,
                                             Interval::h4,  Interval::h6, Interval::h8, Interval::h12,
                                             Interval::d1,  Interval::d3, Interval::w1, Interval::mo1};

std::string_view to_string(Interval i) noexcept;
// Accepts canonical names ("15m", "1h") and plain minutes ("15", "60", "240m" as in file names).
Result<Interval> parse_interval(std::string_view text);
// Fixed length; a month is not fixed, so mo1 returns 31 days (an upper bound) and is_fixed is false.
Duration interval_length(Interval i) noexcept;
constexpr bool is_fixed_length(Interval i) noexcept { return i != Interval::mo1; }
// Start of the candle that contains t (weeks start on Monday 00:00 UTC, months on the 1st).
Timestamp interval_floor(Interval i, Timestamp t) noexcept;
// Start of the next candle after the one starting at `open`.
Timestamp interval_next(Interval i, Timestamp open) noexcept;

// The venue's own spelling: Bybit "15"/"D", Binance "15m"/"1d", OKX "15m"/"1H"/"1Dutc",
// Bitget spot "15min"/"1h"/"1day", Bitget futures "15m"/"1H"/"1Dutc".
// Error when the venue has no such interval (e.g. Bybit 8h, Binance USDⓈ-M 1s).
Result<std::string_view> venue_interval(Exchange e, Market m, Interval i);
Result<Interval> parse_venue_interval(Exchange e, Market m, std::string_view text);

// A candle series: one (exchange, market, symbol, interval).
struct SeriesKey {
  Exchange exchange = Exchange::bybit;
  Market market = Market::linear;
  Symbol symbol;
  Interval interval = Interval::m1;
  friend bool operator==(const SeriesKey&, const SeriesKey&) = default;
  friend auto operator<=>(const SeriesKey&, const SeriesKey&) = default;
};

}  // namespace twinstar

template <>
struct std::hash<twinstar::Symbol> {
  std::size_t operator()(const twinstar::Symbol& s) const noexcept { return std::hash<std::string_view>{}(s.view()); }
};
template <>
struct std::hash<twinstar::SeriesKey> {
  std::size_t operator()(const twinstar::SeriesKey& k) const noexcept {
    std::size_t h = std::hash<twinstar::Symbol>{}(k.symbol);
    h ^= (static_cast<std::size_t>(k.exchange) << 16 | static_cast<std::size_t>(k.market) << 8 |
          static_cast<std::size_t>(k.interval)) * 0x9E3779B97F4A7C15ULL;
    return h;
  }
};

template <>
struct fmt::formatter<twinstar::Symbol> : fmt::formatter<std::string_view> {
  auto format(const twinstar::Symbol& s, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(s.view(), ctx);
  }
};
template <>
struct fmt::formatter<twinstar::Exchange> : fmt::formatter<std::string_view> {
  auto format(twinstar::Exchange e, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(twinstar::to_string(e), ctx);
  }
};
template <>
struct fmt::formatter<twinstar::Market> : fmt::formatter<std::string_view> {
  auto format(twinstar::Market m, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(twinstar::to_string(m), ctx);
  }
};
template <>
struct fmt::formatter<twinstar::Interval> : fmt::formatter<std::string_view> {
  auto format(twinstar::Interval i, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(twinstar::to_string(i), ctx);
  }
};
