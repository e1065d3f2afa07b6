// Golden tests for the Bitget v2 kline parser and the closed-candle detector: the reference
// sheet's samples byte for byte, then malformed and truncated variants.

#include "venue/bitget/bitget_kline_parser.hpp"

#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "golden.hpp"

namespace twinstar::venue::bitget {
namespace {

using testing::expect_candle;
using testing::make_candle;

// exchange-api.md §4.1 spot sample (exact).
constexpr std::string_view kSpotRestSample = R"({
    "code": "00000",
    "msg": "success",
    "requestTime": 1695800278693,
    "data": [
        [
            "1656604800000",
            "37834.5",
            "37849.5",
            "37773.5",
            "37773.5",
            "428.3462",
            "16198849.1079",
            "16198849.1079"
        ]
    ]
})";

// §4.2 spot push (exact).
constexpr std::string_view kSpotPushSample = R"({
  "action": "snapshot",
  "arg": {
    "instType": "SPOT",
    "channel": "candle1m",
    "instId": "ETHUSDT"
  },
  "data": [
    [
      "1695672780000",
      "2200.1",
      "2200.1",
      "2200.1",
      "2200.1",
      "0",
      "0",
      "0"
    ]
  ],
  "ts": 1695702747821
})";

TEST(BitgetKlineParser, spot_rest_sample_parses_every_field) {
  BitgetKlineParser parser;
  std::vector<Candle> candles;
  // 1656604800000 is 2022-07-01T00:00Z; as a 1h candle it closed at 01:00.
  ASSERT_TRUE(parser.parse_rest(kSpotRestSample, Market::spot, Interval::h1, from_epoch_ms(1656604800000 + 3'600'000), candles));
  ASSERT_EQ(candles.size(), 1u);
  expect_candle(candles[0], make_candle(1656604800000, "37834.5", "37849.5", "37773.5", "37773.5", "428.3462", "16198849.1079", true));
  ASSERT_TRUE(parser.parse_rest(kSpotRestSample, Market::spot, Interval::h1, from_epoch_ms(1656604800000 + 3'599'999), candles));
  EXPECT_FALSE(candles[0].closed);
  EXPECT_EQ(parser.stats().rejected, 0u);
}

TEST(BitgetKlineParser, mix_rest_rows_have_seven_columns) {
  BitgetKlineParser parser;
  std::vector<Candle> candles;
  // Mix layout (§4.1): [ts, open, high, low, close, baseVolume, quoteVolume], oldest first.
  constexpr std::string_view kMix =
      R"({"code":"00000","msg":"success","requestTime":1,"data":[["1695672720000","2200","2201","2199","2200.5","12.5","27506.25"],["1695672780000","2200.5","2202","2200","2201","1.25","2751.25"]]})";
  ASSERT_TRUE(parser.parse_rest(kMix, Market::linear, Interval::m1, from_epoch_ms(1695672840000), candles));
  ASSERT_EQ(candles.size(), 2u);
  expect_candle(candles[0], make_candle(1695672720000, "2200", "2201", "2199", "2200.5", "12.5", "27506.25", true));
  expect_candle(candles[1], make_candle(1695672780000, "2200.5", "2202", "2200", "2201", "1.25", "2751.25", true));
  // The same rows are too short for the spot layout.
  EXPECT_FALSE(parser.parse_rest(kMix, Market::spot, Interval::m1, from_epoch_ms(0), candles));
  EXPECT_EQ(parser.stats().rejected, 1u);
}

TEST(BitgetKlineParser, spot_push_sample_parses_as_an_open_candle) {
  BitgetKlineParser parser;
  KlineFrame frame;
  ASSERT_TRUE(parser.parse_frame(kSpotPushSample, frame));
  EXPECT_EQ(frame.kind, FrameKind::kline);
  ASSERT_TRUE(frame.has_series);
  EXPECT_EQ(frame.series.exchange, Exchange::bitget);
  EXPECT_EQ(frame.series.market, Market::spot);
  EXPECT_EQ(frame.series.symbol.view(), "ETHUSDT");
  EXPECT_EQ(frame.series.interval, Interval::m1);
  EXPECT_EQ(frame.venue_time_ms, 1695702747821);
  ASSERT_EQ(frame.candles.size(), 1u);
  expect_candle(frame.candles[0], make_candle(1695672780000, "2200.1", "2200.1", "2200.1", "2200.1", "0", "0", false));
}

std::string push(std::string_view inst_type, std::string_view ts, std::string_view close) {
  return fmt::format(
      R"({{"action":"update","arg":{{"instType":"{}","channel":"candle1m","instId":"BTCUSDT"}},"data":[["{}","100","110","90","{}","1","100","100"]],"ts":1}})",
      inst_type, ts, close);
}

TEST(BitgetCandleCloser, a_candle_closes_when_the_next_one_starts) {
  BitgetKlineParser parser;
  BitgetCandleCloser closer;
  KlineFrame frame;
  // Two updates of the 00:00 candle, then the 00:01 candle starts.
  ASSERT_TRUE(parser.parse_frame(push("USDT-FUTURES", "1695672720000", "101"), frame));
  EXPECT_EQ(frame.series.market, Market::linear);
  closer.apply(frame);
  ASSERT_EQ(frame.candles.size(), 1u);
  EXPECT_FALSE(frame.candles[0].closed);
  ASSERT_TRUE(parser.parse_frame(push("USDT-FUTURES", "1695672720000", "102"), frame));
  closer.apply(frame);
  ASSERT_EQ(frame.candles.size(), 1u);
  EXPECT_FALSE(frame.candles[0].closed);
  ASSERT_TRUE(parser.parse_frame(push("USDT-FUTURES", "1695672780000", "103"), frame));
  closer.apply(frame);
  // The previous candle comes first, closed with its last pushed values, then the new one.
  ASSERT_EQ(frame.candles.size(), 2u);
  EXPECT_EQ(to_epoch_ms(frame.candles[0].open_time), 1695672720000);
  EXPECT_TRUE(frame.candles[0].closed);
  EXPECT_EQ(frame.candles[0].close, Price::parse("102").value());
  EXPECT_EQ(to_epoch_ms(frame.candles[1].open_time), 1695672780000);
  EXPECT_FALSE(frame.candles[1].closed);
  // Further updates of the new candle do not re-close the old one.
  ASSERT_TRUE(parser.parse_frame(push("USDT-FUTURES", "1695672780000", "104"), frame));
  closer.apply(frame);
  ASSERT_EQ(frame.candles.size(), 1u);
  EXPECT_FALSE(frame.candles[0].closed);
  EXPECT_EQ(closer.tracked_series(), 1u);
}

TEST(BitgetCandleCloser, snapshot_rows_close_all_but_the_newest_and_late_frames_stay_closed) {
  BitgetKlineParser parser;
  BitgetCandleCloser closer;
  KlineFrame frame;
  ASSERT_TRUE(parser.parse_frame(push("SPOT", "1695672780000", "1"), frame));
  closer.apply(frame);
  // A snapshot (after a reconnect) with the old open candle and two newer ones.
  constexpr std::string_view kSnapshot =
      R"({"action":"snapshot","arg":{"instType":"SPOT","channel":"candle1m","instId":"BTCUSDT"},"data":[["1695672780000","1","2","1","2","5","5","5"],["1695672840000","2","3","2","3","5","5","5"],["1695672900000","3","3","3","3","1","1","1"]],"ts":2})";
  ASSERT_TRUE(parser.parse_frame(kSnapshot, frame));
  closer.apply(frame);
  ASSERT_EQ(frame.candles.size(), 3u);  // the old open candle is in the frame: not inserted again
  EXPECT_TRUE(frame.candles[0].closed);
  EXPECT_EQ(frame.candles[0].close, Price::parse("2").value());
  EXPECT_TRUE(frame.candles[1].closed);
  EXPECT_FALSE(frame.candles[2].closed);
  // A late update of an older candle: closed, and the state keeps the newer open candle.
  ASSERT_TRUE(parser.parse_frame(push("SPOT", "1695672840000", "9"), frame));
  closer.apply(frame);
  ASSERT_EQ(frame.candles.size(), 1u);
  EXPECT_TRUE(frame.candles[0].closed);
  // Another series is tracked on its own; forget() drops one.
  ASSERT_TRUE(parser.parse_frame(push("USDT-FUTURES", "1695672780000", "1"), frame));
  closer.apply(frame);
  EXPECT_EQ(closer.tracked_series(), 2u);
  closer.forget(frame.series);
  EXPECT_EQ(closer.tracked_series(), 1u);
}

TEST(BitgetKlineParser, events_and_pong_are_typed) {
  BitgetKlineParser parser;
  KlineFrame frame;
  ASSERT_TRUE(parser.parse_frame("pong", frame));
  EXPECT_EQ(frame.kind, FrameKind::pong);
  ASSERT_TRUE(parser.parse_frame(R"({"event":"subscribe","arg":{"instType":"USDT-FUTURES","channel":"candle1m","instId":"BTCUSDT"}})", frame));
  EXPECT_EQ(frame.kind, FrameKind::subscribe_ack);
  ASSERT_TRUE(frame.has_series);
  EXPECT_EQ(frame.series.market, Market::linear);
  EXPECT_EQ(frame.series.symbol.view(), "BTCUSDT");
  ASSERT_TRUE(parser.parse_frame(R"({"event":"unsubscribe","arg":{"instType":"SPOT","channel":"candle1m","instId":"BTCUSDT"}})", frame));
  EXPECT_EQ(frame.kind, FrameKind::unsubscribe_ack);
  ASSERT_TRUE(parser.parse_frame(
      R"({"event":"error","arg":{"instType":"SPOT","channel":"candle1m","instId":"NOPEUSDT"},"code":30001,"msg":"instType:SPOT,channel:candle1m,instId:NOPEUSDT doesn't exist","op":"subscribe"})",
      frame));
  EXPECT_EQ(frame.kind, FrameKind::request_error);
  EXPECT_EQ(frame.code, "30001");
  EXPECT_TRUE(frame.has_series);
  ASSERT_TRUE(parser.parse_frame(R"({"event":"login","code":0,"msg":""})", frame));
  EXPECT_EQ(frame.kind, FrameKind::login_ack);
  ASSERT_TRUE(parser.parse_frame(R"({"event":"error","code":30015,"msg":"Invalid sign"})", frame));
  EXPECT_EQ(frame.kind, FrameKind::request_error);
  EXPECT_EQ(frame.message, "Invalid sign");
  EXPECT_EQ(parser.stats().rejected, 0u);
}

TEST(BitgetKlineParser, every_truncation_is_rejected_and_counted) {
  BitgetKlineParser parser;
  KlineFrame frame;
  std::vector<Candle> candles;
  std::uint64_t n_rejects = 0;
  for (std::size_t n = 0; n < kSpotPushSample.size(); ++n) {
    EXPECT_FALSE(parser.parse_frame(kSpotPushSample.substr(0, n), frame)) << "prefix " << n;
    ++n_rejects;
  }
  for (std::size_t n = 0; n < kSpotRestSample.size(); ++n) {
    EXPECT_FALSE(parser.parse_rest(kSpotRestSample.substr(0, n), Market::spot, Interval::m1, from_epoch_ms(0), candles))
        << "prefix " << n;
    ++n_rejects;
  }
  EXPECT_EQ(parser.stats().rejected, n_rejects);
}

TEST(BitgetKlineParser, malformed_frames_name_the_problem) {
  struct Variant {
    std::string_view name;
    std::string_view from;
    std::string_view to;
    std::string_view message_part;
  };
  const Variant variants[] = {
      {"coin-margined", "\"SPOT\"", "\"COIN-FUTURES\"", "instType"},
      {"unknown channel", "candle1m", "candle7m", "candle7m"},
      {"utc+8 daily by default", "candle1m", "candle1D", "candle1D"},
      {"short row", ",\n      \"0\",\n      \"0\"\n", "\n", "at least 7"},
      {"negative volume is fine, letters are not", "\"0\",\n      \"0\",\n      \"0\"", "\"x\",\n      \"0\",\n      \"0\"",
       "volume"},
      {"symbol with a space", "\"ETHUSDT\"", "\"ETH USDT\"", "invalid symbol"},
      {"ts as an object", "\"ts\": 1695702747821", "\"ts\": {}", "ts"},
  };
  BitgetKlineParser parser;
  KlineFrame frame;
  std::uint64_t rejects = 0;
  for (const auto& v : variants) {
    std::string text(kSpotPushSample);
    const auto at = text.find(v.from);
    ASSERT_NE(at, std::string::npos) << v.name;
    text.replace(at, v.from.size(), v.to);
    auto result = parser.parse_frame(text, frame);
    ASSERT_FALSE(result) << v.name;
    ++rejects;
    EXPECT_NE(result.error().message.find(v.message_part), std::string::npos) << v.name << ": " << result.error().message;
  }
  EXPECT_EQ(parser.stats().rejected, rejects);
  // The same daily channel is accepted with the opt-in.
  BitgetKlineParser lenient(BitgetParseOptions{.accept_utc8_aligned = true});
  std::string daily(kSpotPushSample);
  daily.replace(daily.find("candle1m"), 8, "candle1D");
  ASSERT_TRUE(lenient.parse_frame(daily, frame));
  EXPECT_EQ(frame.series.interval, Interval::d1);
}

TEST(BitgetKlineParser, rest_error_bodies_are_errors) {
  BitgetKlineParser parser;
  std::vector<Candle> candles;
  // §4.3 (third-party logs): {"code":"429","msg":"Too Many Requests","requestTime":...,"data":null}.
  auto limited = parser.parse_rest(R"({"code":"429","msg":"Too Many Requests","requestTime":1695800278693,"data":null})",
                                   Market::spot, Interval::m1, from_epoch_ms(0), candles);
  ASSERT_FALSE(limited);
  EXPECT_EQ(limited.error().code, ErrorCode::rate_limited);
  auto bad = parser.parse_rest(R"({"code":"40034","msg":"Parameter does not exist","requestTime":1,"data":null})",
                               Market::spot, Interval::m1, from_epoch_ms(0), candles);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(parser.stats().rejected, 2u);
}

}  // namespace
}  // namespace twinstar::venue::bitget
