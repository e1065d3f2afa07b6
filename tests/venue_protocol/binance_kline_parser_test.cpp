// Golden tests for the Binance kline parser (spot and USDⓈ-M): the reference sheet's samples,
// byte for byte where the sheet gives JSON, then malformed and truncated variants.

#include "venue/binance/binance_kline_parser.hpp"

#include <string>

#include <gtest/gtest.h>

#include "golden.hpp"

namespace twinstar::venue::binance {
namespace {

using testing::expect_candle;
using testing::make_candle;

// exchange-api.md §2.1 prints the row with // comments (javascript); these are its exact values
// with the comments removed, which is what the server sends.
constexpr std::string_view kSpotRestSample = R"([
    [
        1499040000000,
        "0.01634790",
        "0.80000000",
        "0.01575800",
        "0.01577100",
        "148976.11427815",
        1499644799999,
        "2434.19055334",
        308,
        "1756.87402397",
        "28.46694368",
        "0"
    ]
])";

// §2.3 spot kline push, exact values, comments removed.
constexpr std::string_view kSpotPushSample = R"({
    "e": "kline",
    "E": 1672515782136,
    "s": "BNBBTC",
    "k": {
        "t": 1672515780000,
        "T": 1672515839999,
        "s": "BNBBTC",
        "i": "1m",
        "f": 100,
        "L": 200,
        "o": "0.0010",
        "c": "0.0020",
        "h": "0.0025",
        "l": "0.0015",
        "v": "1000",
        "n": 100,
        "x": false,
        "q": "1.0000",
        "V": "500",
        "Q": "0.500",
        "B": "123456"
    }
})";

// §2.3 futures kline push (exact JSON).
constexpr std::string_view kFuturesPushSample = R"({
  "e": "kline",
  "E": 1638747660000,
  "s": "BTCUSDT",
  "k": {
    "t": 1638747660000,
    "T": 1638747719999,
    "s": "BTCUSDT",
    "i": "1m",
    "f": 100,
    "L": 200,
    "o": "0.0010",
    "c": "0.0020",
    "h": "0.0025",
    "l": "0.0015",
    "v": "1000",
    "n": 100,
    "x": false,
    "q": "1.0000",
    "V": "500",
    "Q": "0.500",
    "B": "123456"
  }
})";

TEST(BinanceKlineParser, spot_rest_sample_parses_every_field) {
  BinanceKlineParser parser(Market::spot);
  std::vector<Candle> candles;
  // 1499644799999 is the row's close time: closed at any later `now`.
  ASSERT_TRUE(parser.parse_rest(kSpotRestSample, from_epoch_ms(1499644800000), candles));
  ASSERT_EQ(candles.size(), 1u);
  expect_candle(candles[0], make_candle(1499040000000, "0.01634790", "0.80000000", "0.01575800", "0.01577100",
                                        "148976.11427815", "2434.19055334", true));
  // At its close time the candle is still open.
  ASSERT_TRUE(parser.parse_rest(kSpotRestSample, from_epoch_ms(1499644799999), candles));
  EXPECT_FALSE(candles[0].closed);
  EXPECT_EQ(parser.stats().rejected, 0u);
  EXPECT_EQ(parser.stats().candles, 2u);
}

TEST(BinanceKlineParser, spot_push_sample_parses_with_series_from_the_event) {
  BinanceKlineParser parser(Market::spot);
  KlineFrame frame;
  ASSERT_TRUE(parser.parse_frame(kSpotPushSample, frame));
  EXPECT_EQ(frame.kind, FrameKind::kline);
  ASSERT_TRUE(frame.has_series);
  EXPECT_EQ(frame.series.exchange, Exchange::binance);
  EXPECT_EQ(frame.series.market, Market::spot);
  EXPECT_EQ(frame.series.symbol.view(), "BNBBTC");
  EXPECT_EQ(frame.series.interval, Interval::m1);
  EXPECT_EQ(frame.venue_time_ms, 1672515782136);
  ASSERT_EQ(frame.candles.size(), 1u);
  // The sample's open (0.0010) is below its low (0.0015): the parser reports venue data as sent.
  expect_candle(frame.candles[0], make_candle(1672515780000, "0.0010", "0.0025", "0.0015", "0.0020", "1000", "1.0000", false));
}

TEST(BinanceKlineParser, futures_push_sample_parses_on_a_usdm_parser) {
  BinanceKlineParser parser(Market::linear);
  KlineFrame frame;
  ASSERT_TRUE(parser.parse_frame(kFuturesPushSample, frame));
  EXPECT_EQ(frame.series.market, Market::linear);
  EXPECT_EQ(frame.series.symbol.view(), "BTCUSDT");
  EXPECT_EQ(frame.series.interval, Interval::m1);
  EXPECT_EQ(frame.venue_time_ms, 1638747660000);
  ASSERT_EQ(frame.candles.size(), 1u);
  expect_candle(frame.candles[0], make_candle(1638747660000, "0.0010", "0.0025", "0.0015", "0.0020", "1000", "1.0000", false));
}

TEST(BinanceKlineParser, combined_stream_wrapper_gives_the_same_candle) {
  BinanceKlineParser parser(Market::spot);
  KlineFrame raw;
  KlineFrame combined;
  ASSERT_TRUE(parser.parse_frame(kSpotPushSample, raw));
  // §2.3: combined events are {"stream":"<streamName>","data":<rawPayload>}.
  const std::string wrapped = "{\"stream\":\"bnbbtc@kline_1m\",\"data\":" + std::string(kSpotPushSample) + "}";
  ASSERT_TRUE(parser.parse_frame(wrapped, combined));
  EXPECT_EQ(combined.kind, FrameKind::kline);
  EXPECT_EQ(combined.series, raw.series);
  ASSERT_EQ(combined.candles.size(), 1u);
  expect_candle(combined.candles[0], raw.candles[0]);
  // The UTC+8 variant of the stream name carries the same payload shape.
  const std::string utc8 = "{\"stream\":\"bnbbtc@kline_1m@+08:00\",\"data\":" + std::string(kSpotPushSample) + "}";
  EXPECT_TRUE(parser.parse_frame(utc8, combined));
  // A stream name that does not match the payload is a wiring bug worth rejecting.
  const std::string wrong = "{\"stream\":\"ethbtc@kline_1m\",\"data\":" + std::string(kSpotPushSample) + "}";
  EXPECT_FALSE(parser.parse_frame(wrong, combined));
  const std::string wrong_interval = "{\"stream\":\"bnbbtc@kline_15m\",\"data\":" + std::string(kSpotPushSample) + "}";
  EXPECT_FALSE(parser.parse_frame(wrong_interval, combined));
  EXPECT_EQ(parser.stats().rejected, 2u);
}

TEST(BinanceKlineParser, closed_kline_has_x_true) {
  BinanceKlineParser parser(Market::linear);
  KlineFrame frame;
  std::string text(kFuturesPushSample);
  text.replace(text.find("\"x\": false"), 10, "\"x\": true");
  ASSERT_TRUE(parser.parse_frame(text, frame));
  EXPECT_TRUE(frame.candles[0].closed);
}

TEST(BinanceKlineParser, control_frames_are_typed) {
  BinanceKlineParser parser(Market::spot);
  KlineFrame frame;
  // §2.3: the reply to SUBSCRIBE is {"result": null, "id": 1}.
  ASSERT_TRUE(parser.parse_frame(R"({"result": null, "id": 1})", frame));
  EXPECT_EQ(frame.kind, FrameKind::subscribe_ack);
  EXPECT_EQ(frame.request_id, "1");
  ASSERT_TRUE(parser.parse_frame(R"({"result":["btcusdt@kline_1m"],"id":"list-7"})", frame));
  EXPECT_EQ(frame.kind, FrameKind::subscribe_ack);
  EXPECT_EQ(frame.request_id, "list-7");
  // §2.3: serverShutdown since 2026-05-08 ({"e":"serverShutdown","E":...}; E chosen here).
  ASSERT_TRUE(parser.parse_frame(R"({"e":"serverShutdown","E":1778198400000})", frame));
  EXPECT_EQ(frame.kind, FrameKind::server_shutdown);
  EXPECT_EQ(frame.venue_time_ms, 1778198400000);
  // Error replies, in the nested and the flat shape Binance's stream docs show.
  ASSERT_TRUE(parser.parse_frame(R"({"error":{"code":2,"msg":"Invalid request: unknown variant"},"id":3})", frame));
  EXPECT_EQ(frame.kind, FrameKind::request_error);
  EXPECT_EQ(frame.code, "2");
  EXPECT_EQ(frame.message, "Invalid request: unknown variant");
  EXPECT_EQ(frame.request_id, "3");
  ASSERT_TRUE(parser.parse_frame(R"({"code": 0, "msg": "Unknown property","id": null})", frame));
  EXPECT_EQ(frame.kind, FrameKind::request_error);
  EXPECT_EQ(frame.code, "0");
  EXPECT_EQ(frame.message, "Unknown property");
  EXPECT_EQ(frame.request_id, "");
  EXPECT_EQ(parser.stats().rejected, 0u);
}

TEST(BinanceKlineParser, every_truncation_is_rejected_and_counted) {
  BinanceKlineParser parser(Market::spot);
  KlineFrame frame;
  std::vector<Candle> candles;
  std::uint64_t n_rejects = 0;
  for (std::size_t n = 0; n < kSpotPushSample.size(); ++n) {
    EXPECT_FALSE(parser.parse_frame(kSpotPushSample.substr(0, n), frame)) << "prefix " << n;
    ++n_rejects;
  }
  for (std::size_t n = 0; n < kSpotRestSample.size(); ++n) {
    EXPECT_FALSE(parser.parse_rest(kSpotRestSample.substr(0, n), from_epoch_ms(0), candles)) << "prefix " << n;
    EXPECT_TRUE(candles.empty());
    ++n_rejects;
  }
  EXPECT_EQ(parser.stats().rejected, n_rejects);
}

TEST(BinanceKlineParser, malformed_events_name_the_problem) {
  struct Variant {
    std::string_view name;
    std::string_view from;
    std::string_view to;
    std::string_view message_part;
  };
  const Variant variants[] = {
      {"x missing", "\"x\": false,", "", "k.x"},
      {"q missing", "\"q\": \"1.0000\",", "", "k.q"},
      {"t as a string of letters", "\"t\": 1672515780000", "\"t\": \"soon\"", "k.t"},
      {"bad decimal", "\"o\": \"0.0010\"", "\"o\": \"0.00.10\"", "k.o"},
      {"x as a number", "\"x\": false", "\"x\": 0", "k.x"},
      {"unknown interval", "\"i\": \"1m\"", "\"i\": \"7m\"", "7m"},
      {"symbols differ", "\"s\": \"BNBBTC\",\n    \"k\"", "\"s\": \"ETHBTC\",\n    \"k\"", "differs"},
      {"other event", "\"e\": \"kline\"", "\"e\": \"aggTrade\"", "\"k\" in a \"aggTrade\" event"},
      {"k is an array", "\"k\": {", "\"k\": [], \"kk\": {", "k"},
      {"trailing bytes", "\n}", "\n}}", "after the JSON value"},
  };
  BinanceKlineParser parser(Market::spot);
  KlineFrame frame;
  std::uint64_t rejects = 0;
  for (const auto& v : variants) {
    std::string text(kSpotPushSample);
    const auto at = v.name == "trailing bytes" ? text.rfind(v.from) : text.find(v.from);
    ASSERT_NE(at, std::string::npos) << v.name;
    text.replace(at, v.from.size(), v.to);
    auto result = parser.parse_frame(text, frame);
    ASSERT_FALSE(result) << v.name;
    ++rejects;
    EXPECT_NE(result.error().message.find(v.message_part), std::string::npos)
        << v.name << ": " << result.error().message;
  }
  // A 1s stream is fine on spot but USDⓈ-M has no 1s.
  BinanceKlineParser usdm(Market::linear);
  std::string one_second(kFuturesPushSample);
  one_second.replace(one_second.find("\"i\": \"1m\""), 9, "\"i\": \"1s\"");
  EXPECT_FALSE(usdm.parse_frame(one_second, frame));
  EXPECT_EQ(usdm.stats().rejected, 1u);
  EXPECT_FALSE(parser.parse_frame(R"({"id":5})", frame));
  EXPECT_FALSE(parser.parse_frame(R"({"stream":"bnbbtc@kline_1m"})", frame));
  rejects += 2;
  EXPECT_EQ(parser.stats().rejected, rejects);
}

TEST(BinanceKlineParser, rest_error_bodies_are_errors) {
  BinanceKlineParser parser(Market::linear);
  std::vector<Candle> candles;
  auto limited = parser.parse_rest(R"({"code":-1003,"msg":"Too many requests; current limit is 2400 request weight per 1 MINUTE."})",
                                   from_epoch_ms(0), candles);
  ASSERT_FALSE(limited);
  EXPECT_EQ(limited.error().code, ErrorCode::rate_limited);
  auto invalid = parser.parse_rest(R"({"code": -1121, "msg": "Invalid symbol."})", from_epoch_ms(0), candles);
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(invalid.error().message.find("Invalid symbol."), std::string::npos);
  // Seven elements: no quote volume.
  EXPECT_FALSE(parser.parse_rest(R"([[1499040000000,"1","1","1","1","1",1499644799999]])", from_epoch_ms(0), candles));
  EXPECT_EQ(parser.stats().rejected, 3u);
  // An empty page is a valid answer (nothing in the range).
  EXPECT_TRUE(parser.parse_rest("[]", from_epoch_ms(0), candles));
  EXPECT_TRUE(candles.empty());
}

}  // namespace
}  // namespace twinstar::venue::binance
