#pragma once
// Helpers for the golden payload tests: build the candle a sample must parse to from the
// sample's own strings, so each assertion reads like the reference sheet.

#include <cstdint>
#include <string_view>

#include <gtest/gtest.h>

#include "core/candle.hpp"
#include "core/decimal.hpp"

namespace twinstar::venue::testing {

inline Candle make_candle(std::int64_t open_ms, std::string_view open, std::string_view high, std::string_view low,
                          std::string_view close, std::string_view volume, std::string_view turnover, bool closed) {
  Candle c;
  c.open_time = from_epoch_ms(open_ms);
  c.open = Price::parse(open).value();
  c.high = Price::parse(high).value();
  c.low = Price::parse(low).value();
  c.close = Price::parse(close).value();
  c.volume = Quantity::parse_rounded(volume).value();
  c.turnover = Money::parse_rounded(turnover).value();
  c.closed = closed;
  return c;
}

// Every field, with a readable message on mismatch.
inline void expect_candle(const Candle& actual, const Candle& expected) {
  EXPECT_EQ(to_epoch_ms(actual.open_time), to_epoch_ms(expected.open_time));
  EXPECT_EQ(actual.open, expected.open);
  EXPECT_EQ(actual.high, expected.high);
  EXPECT_EQ(actual.low, expected.low);
  EXPECT_EQ(actual.close, expected.close);
  EXPECT_EQ(actual.volume, expected.volume);
  EXPECT_EQ(actual.turnover, expected.turnover);
  EXPECT_EQ(actual.closed, expected.closed);
}

}  // namespace twinstar::venue::testing
