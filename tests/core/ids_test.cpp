#include "core/ids.hpp"

#include <gtest/gtest.h>

namespace twinstar {
namespace {

using namespace std::chrono;

TEST(Interval, maps_each_venue_spelling_both_ways) {
  struct Case {
    Exchange e;
    Market m;
    Interval i;
    std::string_view text;
  };
  const Case cases[] = {
      {Exchange::bybit, Market::linear, Interval::m15, "15"},      {Exchange::bybit, Market::spot, Interval::h4, "240"},
      {Exchange::bybit, Market::linear, Interval::d1, "D"},        {Exchange::binance, Market::spot, Interval::m15, "15m"},
      {Exchange::binance, Market::spot, Interval::s1, "1s"},       {Exchange::binance, Market::linear, Interval::h8, "8h"},
      {Exchange::okx, Market::spot, Interval::m15, "15m"},         {Exchange::okx, Market::linear, Interval::h1, "1H"},
      {Exchange::okx, Market::spot, Interval::d1, "1Dutc"},        {Exchange::bitget, Market::spot, Interval::m15, "15min"},
      {Exchange::bitget, Market::linear, Interval::m15, "15m"},    {Exchange::bitget, Market::spot, Interval::h1, "1h"},
      {Exchange::bitget, Market::linear, Interval::h4, "4H"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(*venue_interval(c.e, c.m, c.i), c.text);
    EXPECT_EQ(*parse_venue_interval(c.e, c.m, c.text), c.i);
  }
  // Every spelling round-trips for every venue.
  for (Exchange e : kAllExchanges) {
    for (Market m : {Market::spot, Market::linear}) {
      for (Interval i : kAllIntervals) {
        if (auto text = venue_interval(e, m, i)) {
          EXPECT_EQ(*parse_venue_interval(e, m, *text), i);
        }
      }
    }
  }
}

TEST(Interval, says_which_venue_lacks_an_interval) {
  auto r = venue_interval(Exchange::bybit, Market::linear, Interval::h8);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "bybit linear has no 8h interval");
  EXPECT_FALSE(venue_interval(Exchange::binance, Market::linear, Interval::s1));
  EXPECT_FALSE(parse_venue_interval(Exchange::bybit, Market::linear, "15m"));
}

TEST(Interval, parses_canonical_names_and_minutes) {
  EXPECT_EQ(*parse_interval("15m"), Interval::m15);
  EXPECT_EQ(*parse_interval("240m"), Interval::h4);
  EXPECT_EQ(*parse_interval("60"), Interval::h1);
  EXPECT_EQ(*parse_interval("1M"), Interval::mo1);
  EXPECT_FALSE(parse_interval("7m"));
  EXPECT_FALSE(parse_interval("fortnight"));
}

TEST(Interval, floors_and_steps_on_utc_boundaries) {
  const Timestamp t = *parse_iso8601("2024-02-29T13:47:12Z");
  EXPECT_EQ(format_iso8601(interval_floor(Interval::m15, t)), "2024-02-29T13:45:00.000Z");
  EXPECT_EQ(format_iso8601(interval_floor(Interval::h4, t)), "2024-02-29T12:00:00.000Z");
  EXPECT_EQ(format_iso8601(interval_floor(Interval::w1, t)), "2024-02-26T00:00:00.000Z");  // a Monday
  EXPECT_EQ(format_iso8601(interval_floor(Interval::mo1, t)), "2024-02-01T00:00:00.000Z");
  EXPECT_EQ(format_iso8601(interval_next(Interval::mo1, interval_floor(Interval::mo1, t))), "2024-03-01T00:00:00.000Z");
  EXPECT_EQ(interval_next(Interval::m15, interval_floor(Interval::m15, t)) - interval_floor(Interval::m15, t), minutes(15));
}

TEST(Symbol, validates_and_normalises) {
  EXPECT_EQ(Symbol::parse("btcusdt")->view(), "BTCUSDT");
  EXPECT_EQ(Symbol::parse("BTC-USDT-SWAP")->view(), "BTC-USDT-SWAP");
  EXPECT_FALSE(Symbol::parse(""));
  EXPECT_FALSE(Symbol::parse("BTC USDT"));
  EXPECT_FALSE(Symbol::parse("ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
  EXPECT_EQ(*parse_exchange("okx"), Exchange::okx);
  EXPECT_FALSE(parse_exchange("ftx"));
}

}  // namespace
}  // namespace twinstar
