#pragma once
// One OHLCV candle as the engine stores and passes it: 64 bytes, trivially copyable.

#include <type_traits>

#include "core/decimal.hpp"
#include "core/time.hpp"

namespace twinstar {

struct Candle {
  TimestampMs open_time{};  // UTC start of the interval
  Price open;
  Price high;
  Price low;
  Price close;
  Quantity volume;   // base units
  Money turnover;    // quote units; zero when the source does not give it
  bool closed = false;  // false while the venue is still updating it

  friend bool operator==(const Candle&, const Candle&) = default;
};

static_assert(std::is_trivially_copyable_v<Candle>);
static_assert(sizeof(Candle) <= 64, "the store budgets 64 bytes per resident candle");

// OHLC sanity: low <= open, close <= high and low <= high, volume >= 0. Returns what is wrong.
Status check_ohlc(const Candle& c);

}  // namespace twinstar
