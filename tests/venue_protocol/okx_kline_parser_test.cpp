// Golden tests for the OKX v5 kline parser: the reference sheet's samples byte for byte, then
// malformed and truncated variants.

#include "venue/okx/okx_kline_parser.hpp"

#include <string>

#include <gtest/gtest.h>

#include "golden.hpp"

namespace twinstar::venue::okx {
namespace {

using testing::expect_candle;
using testing::make_candle;

// exchange-api.md §3.1 (exact). Both rows share one ts in the doc.
constexpr std::string_view kRestSample = R"({
    "code":"0",
    "msg":"",
    "data":[
        [
            "1597026383085",
            "3.721",
            "3.743",
            "3.677",
            "3.708",
            "8422410",
            "22698348.04828491",
            "12698348.04828491",
            "0"
        ],
        [
            "1597026383085",
            "3.731",
            "3.799",
            "3.494",
            "3.72",
            "24912403",
            "67632347.24399722",
            "37632347.24399722",
            "1"
        ]
    ]
})";

// §3.2 push (exact, with the sheet's indentation).
constexpr std::string_view kPushSample = R"(    {
      "arg": {
        "channel": "candle1D",
        "instId": "BTC-USDT"
      },
      "data": [
        [
          "1597026383085",
          "8533.02",
          "8553.74",
          "8527.17",
          "8548.26",
          "45247",
          "529.5858061",
          "5529.5858061",
          "0"
        ]
      ]
    })";

TEST(OkxKlineParser, rest_sample_parses_oldest_first_with_confirm) {
  OkxKlineParser parser;
  std::vector<Candle> candles;
  ASSERT_TRUE(parser.parse_rest(kRestSample, Market::spot, candles));
  ASSERT_EQ(candles.size(), 2u);
  // OKX sends newest first; reversed, the doc's second row comes first. Spot: volume = vol,
  // turnover = volCcyQuote.
  expect_candle(candles[0], make_candle(1597026383085, "3.731", "3.799", "3.494", "3.72", "24912403", "37632347.24399722", true));
  expect_candle(candles[1], make_candle(1597026383085, "3.721", "3.743", "3.677", "3.708", "8422410", "12698348.04828491", false));
  EXPECT_EQ(parser.stats().rejected, 0u);
  EXPECT_EQ(parser.stats().reordered, 0u);
}

TEST(OkxKlineParser, rest_sample_for_a_swap_takes_base_volume_from_volccy) {
  OkxKlineParser parser;
  std::vector<Candle> candles;
  ASSERT_TRUE(parser.parse_rest(kRestSample, Market::linear, candles));
  ASSERT_EQ(candles.size(), 2u);
  // Swaps: vol counts contracts; volCcy is the base volume.
  EXPECT_EQ(candles[0].volume, Quantity::parse("67632347.24399722").value());
  EXPECT_EQ(candles[1].volume, Quantity::parse("22698348.04828491").value());
  EXPECT_EQ(candles[1].turnover, Money::parse("12698348.04828491").value());
}

TEST(OkxKlineParser, push_sample_on_the_utc8_daily_channel_needs_the_opt_in) {
  KlineFrame frame;
  OkxKlineParser strict;
  auto refused = strict.parse_frame(kPushSample, frame);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("candle1D"), std::string::npos) << refused.error().message;
  EXPECT_EQ(strict.stats().rejected, 1u);

  OkxKlineParser lenient(OkxParseOptions{.accept_utc8_aligned = true});
  ASSERT_TRUE(lenient.parse_frame(kPushSample, frame));
  EXPECT_EQ(frame.kind, FrameKind::kline);
  ASSERT_TRUE(frame.has_series);
  EXPECT_EQ(frame.series.exchange, Exchange::okx);
  EXPECT_EQ(frame.series.market, Market::spot);
  EXPECT_EQ(frame.series.symbol.view(), "BTC-USDT");
  EXPECT_EQ(frame.series.interval, Interval::d1);
  ASSERT_EQ(frame.candles.size(), 1u);
  expect_candle(frame.candles[0], make_candle(1597026383085, "8533.02", "8553.74", "8527.17", "8548.26", "45247", "5529.5858061", false));
}

TEST(OkxKlineParser, push_on_utc_and_minute_channels_parses_and_confirm_closes) {
  OkxKlineParser parser;
  KlineFrame frame;
  std::string daily(kPushSample);
  daily.replace(daily.find("candle1D"), 8, "candle1Dutc");
  ASSERT_TRUE(parser.parse_frame(daily, frame));
  EXPECT_EQ(frame.series.interval, Interval::d1);

  std::string swap(kPushSample);
  swap.replace(swap.find("candle1D"), 8, "candle1m");
  swap.replace(swap.find("\"BTC-USDT\""), 10, "\"BTC-USDT-SWAP\"");
  swap.replace(swap.rfind("\"0\""), 3, "\"1\"");
  ASSERT_TRUE(parser.parse_frame(swap, frame));
  EXPECT_EQ(frame.series.market, Market::linear);
  EXPECT_EQ(frame.series.symbol.view(), "BTC-USDT-SWAP");
  EXPECT_EQ(frame.series.interval, Interval::m1);
  ASSERT_EQ(frame.candles.size(), 1u);
  expect_candle(frame.candles[0], make_candle(1597026383085, "8533.02", "8553.74", "8527.17", "8548.26", "529.5858061", "5529.5858061", true));
}

TEST(OkxKlineParser, events_and_pong_are_typed) {
  OkxKlineParser parser;
  KlineFrame frame;
  ASSERT_TRUE(parser.parse_frame("pong", frame));
  EXPECT_EQ(frame.kind, FrameKind::pong);
  ASSERT_TRUE(parser.parse_frame(
      R"({"id":"1512","event":"subscribe","arg":{"channel":"candle1m","instId":"BTC-USDT"},"connId":"a4d3ae55"})", frame));
  EXPECT_EQ(frame.kind, FrameKind::subscribe_ack);
  EXPECT_EQ(frame.request_id, "1512");
  ASSERT_TRUE(frame.has_series);
  EXPECT_EQ(frame.series.symbol.view(), "BTC-USDT");
  EXPECT_EQ(frame.series.interval, Interval::m1);
  ASSERT_TRUE(parser.parse_frame(R"({"event":"unsubscribe","arg":{"channel":"candle1m","instId":"BTC-USDT"},"connId":"a"})",
                                 frame));
  EXPECT_EQ(frame.kind, FrameKind::unsubscribe_ack);
  ASSERT_TRUE(parser.parse_frame(
      R"({"id":"1512","event":"error","code":"60012","msg":"Invalid request: {\"op\": \"subscribe\", \"argss\":[{ \"channel\" : \"candle1m\", \"instId\" : \"BTC-USDT\"}]}","connId":"a4d3ae55"})",
      frame));
  EXPECT_EQ(frame.kind, FrameKind::request_error);
  EXPECT_EQ(frame.code, "60012");
  EXPECT_NE(frame.message.find("argss"), std::string::npos);
  ASSERT_TRUE(parser.parse_frame(R"({"event":"login","code":"0","msg":"","connId":"a4d3ae55"})", frame));
  EXPECT_EQ(frame.kind, FrameKind::login_ack);
  ASSERT_TRUE(parser.parse_frame(R"({"event":"login","code":"60009","msg":"Login failed.","connId":"a4d3ae55"})", frame));
  EXPECT_EQ(frame.kind, FrameKind::request_error);
  // §3.2: the 64008 upgrade notice.
  ASSERT_TRUE(parser.parse_frame(
      R"({"event":"notice","code":"64008","msg":"The connection will soon be closed for a service upgrade. Please reconnect.","connId":"a4d3ae55"})",
      frame));
  EXPECT_EQ(frame.kind, FrameKind::notice);
  EXPECT_EQ(frame.code, "64008");
  ASSERT_TRUE(parser.parse_frame(R"({"event":"channel-conn-count-error","channel":"orders","connCount":"30","connId":"a"})", frame));
  EXPECT_EQ(frame.kind, FrameKind::request_error);
  EXPECT_EQ(parser.stats().rejected, 0u);
  EXPECT_FALSE(parser.parse_frame(R"({"event":"party"})", frame));
  EXPECT_FALSE(parser.parse_frame("ping", frame));
  EXPECT_EQ(parser.stats().rejected, 2u);
}

TEST(OkxKlineParser, every_truncation_is_rejected_and_counted) {
  OkxKlineParser parser(OkxParseOptions{.accept_utc8_aligned = true});
  KlineFrame frame;
  std::vector<Candle> candles;
  std::uint64_t n_rejects = 0;
  for (std::size_t n = 0; n < kPushSample.size(); ++n) {
    // "    " (the sheet's leading indentation) alone is empty JSON: rejected too.
    EXPECT_FALSE(parser.parse_frame(kPushSample.substr(0, n), frame)) << "prefix " << n;
    ++n_rejects;
  }
  for (std::size_t n = 0; n < kRestSample.size(); ++n) {
    EXPECT_FALSE(parser.parse_rest(kRestSample.substr(0, n), Market::spot, candles)) << "prefix " << n;
    ++n_rejects;
  }
  EXPECT_EQ(parser.stats().rejected, n_rejects);
}

TEST(OkxKlineParser, malformed_frames_name_the_problem) {
  struct Variant {
    std::string_view name;
    std::string_view from;
    std::string_view to;
    std::string_view message_part;
  };
  const Variant variants[] = {
      {"confirm missing", ",\n          \"0\"\n", "\n", "expected at least 9"},
      {"confirm not 0/1", "\"0\"\n        ]", "\"2\"\n        ]", "confirm"},
      {"bad price", "\"8553.74\"", "\"8553,74\"", "[2] high"},
      {"ts not a number", "\"1597026383085\"", "\"15970263830x5\"", "[0] open time"},
      {"dated future", "\"BTC-USDT\"", "\"BTC-USD-200329\"", "instId"},
      {"not a candle channel", "candle1D", "tickers", "not a candle channel"},
      {"arg missing", "\"arg\": {", "\"argh\": {", "without \"arg\""},
      {"data empty", "[\n        [", "[], \"x\": [\n        [", "empty data"},
      {"row is an object", "[\n        [", "[\n        {\"a\":1}, [", "row"},
  };
  OkxKlineParser parser(OkxParseOptions{.accept_utc8_aligned = true});
  KlineFrame frame;
  std::uint64_t rejects = 0;
  for (const auto& v : variants) {
    std::string text(kPushSample);
    const auto at = text.find(v.from);
    ASSERT_NE(at, std::string::npos) << v.name;
    text.replace(at, v.from.size(), v.to);
    auto result = parser.parse_frame(text, frame);
    ASSERT_FALSE(result) << v.name;
    ++rejects;
    EXPECT_NE(result.error().message.find(v.message_part), std::string::npos) << v.name << ": " << result.error().message;
  }
  EXPECT_EQ(parser.stats().rejected, rejects);
}

TEST(OkxKlineParser, rest_error_codes_map_to_error_kinds) {
  OkxKlineParser parser;
  std::vector<Candle> candles;
  auto limited = parser.parse_rest(
      R"({"code":"50011","msg":"Rate limit reached. Please refer to API documentation and throttle requests accordingly.","data":[]})",
      Market::spot, candles);
  ASSERT_FALSE(limited);
  EXPECT_EQ(limited.error().code, ErrorCode::rate_limited);
  auto bad = parser.parse_rest(R"({"code":"51001","msg":"Instrument ID does not exist.","data":[]})", Market::spot, candles);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(parser.stats().rejected, 2u);
}

TEST(OkxKlineParser, inst_id_decides_the_market) {
  EXPECT_EQ(market_of_inst_id("BTC-USDT").value(), Market::spot);
  EXPECT_EQ(market_of_inst_id("BTC-USDT-SWAP").value(), Market::linear);
  EXPECT_FALSE(market_of_inst_id("BTCUSDT"));
  EXPECT_FALSE(market_of_inst_id("BTC-USD-240329"));
  EXPECT_FALSE(market_of_inst_id("-USDT"));
  EXPECT_FALSE(market_of_inst_id("BTC--SWAP"));
}

}  // namespace
}  // namespace twinstar::venue::okx
