// Golden tests for the Bybit v5 kline parser: the reference sheet's samples, byte for byte,
// then malformed and truncated variants.

#include "venue/bybit/bybit_kline_parser.hpp"

#include <string>

#include <gtest/gtest.h>

#include "golden.hpp"

namespace twinstar::venue::bybit {
namespace {

using testing::expect_candle;
using testing::make_candle;

// exchange-api.md §1.1, response sample (exact).
constexpr std::string_view kRestSample = R"({
    "retCode": 0,
    "retMsg": "OK",
    "result": {
        "symbol": "BTCUSD",
        "category": "inverse",
        "list": [
            [
                "1670608800000",
                "17071",
                "17073",
                "17027",
                "17055.5",
                "268611",
                "15.74462667"
            ],
            [
                "1670605200000",
                "17071.5",
                "17071.5",
                "17061",
                "17071",
                "4177",
                "0.24469757"
            ],
            [
                "1670601600000",
                "17086.5",
                "17088",
                "16978",
                "17071.5",
                "6356",
                "0.37288112"
            ]
        ]
    },
    "retExtInfo": {},
    "time": 1672025956592
})";

// exchange-api.md §1.2, kline push (exact).
constexpr std::string_view kPushSample = R"({
    "topic": "kline.5.BTCUSDT",
    "data": [
        {
            "start": 1672324800000,
            "end": 1672325099999,
            "interval": "5",
            "open": "16649.5",
            "close": "16677",
            "high": "16677",
            "low": "16608",
            "volume": "2.081",
            "turnover": "34666.4005",
            "confirm": false,
            "timestamp": 1672324988882
        }
    ],
    "ts": 1672324988882,
    "type": "snapshot"
})";

TEST(BybitKlineParser, rest_sample_parses_oldest_first_with_every_field) {
  BybitKlineParser parser(Market::linear);
  std::vector<Candle> candles;
  // The sample's newest row opened 1670608800000 (1h candles); at `now` = its open + 30 min it
  // is still open, the two older rows have closed.
  const auto now = from_epoch_ms(1670608800000 + 30 * 60 * 1000);
  ASSERT_TRUE(parser.parse_rest(kRestSample, Interval::h1, now, candles)) << "sample must parse";
  ASSERT_EQ(candles.size(), 3u);
  expect_candle(candles[0], make_candle(1670601600000, "17086.5", "17088", "16978", "17071.5", "6356", "0.37288112", true));
  expect_candle(candles[1], make_candle(1670605200000, "17071.5", "17071.5", "17061", "17071", "4177", "0.24469757", true));
  expect_candle(candles[2], make_candle(1670608800000, "17071", "17073", "17027", "17055.5", "268611", "15.74462667", false));
  EXPECT_EQ(parser.stats().frames, 1u);
  EXPECT_EQ(parser.stats().rejected, 0u);
  EXPECT_EQ(parser.stats().candles, 3u);
  EXPECT_EQ(parser.stats().reordered, 0u);
}

TEST(BybitKlineParser, push_sample_parses_to_an_open_candle_of_its_topic) {
  BybitKlineParser parser(Market::linear);
  KlineFrame frame;
  ASSERT_TRUE(parser.parse_frame(kPushSample, frame));
  EXPECT_EQ(frame.kind, FrameKind::kline);
  ASSERT_TRUE(frame.has_series);
  EXPECT_EQ(frame.series.exchange, Exchange::bybit);
  EXPECT_EQ(frame.series.market, Market::linear);
  EXPECT_EQ(frame.series.symbol.view(), "BTCUSDT");
  EXPECT_EQ(frame.series.interval, Interval::m5);
  EXPECT_EQ(frame.venue_time_ms, 1672324988882);
  ASSERT_EQ(frame.candles.size(), 1u);
  expect_candle(frame.candles[0], make_candle(1672324800000, "16649.5", "16677", "16608", "16677", "2.081", "34666.4005", false));
  EXPECT_EQ(parser.stats().rejected, 0u);
}

TEST(BybitKlineParser, confirmed_push_is_closed_and_spot_market_comes_from_the_parser) {
  BybitKlineParser parser(Market::spot);
  KlineFrame frame;
  std::string text(kPushSample);
  text.replace(text.find("\"confirm\": false"), 16, "\"confirm\": true");
  ASSERT_TRUE(parser.parse_frame(text, frame));
  EXPECT_EQ(frame.series.market, Market::spot);
  ASSERT_EQ(frame.candles.size(), 1u);
  EXPECT_TRUE(frame.candles[0].closed);
}

TEST(BybitKlineParser, every_truncation_of_the_samples_is_rejected_and_counted) {
  BybitKlineParser parser(Market::linear);
  KlineFrame frame;
  std::vector<Candle> candles;
  std::uint64_t expected_rejects = 0;
  for (std::size_t n = 0; n < kPushSample.size(); ++n) {
    EXPECT_FALSE(parser.parse_frame(kPushSample.substr(0, n), frame)) << "prefix " << n;
    EXPECT_TRUE(frame.candles.empty());
    ++expected_rejects;
  }
  for (std::size_t n = 0; n < kRestSample.size(); ++n) {
    EXPECT_FALSE(parser.parse_rest(kRestSample.substr(0, n), Interval::h1, from_epoch_ms(0), candles)) << "prefix " << n;
    EXPECT_TRUE(candles.empty());
    ++expected_rejects;
  }
  EXPECT_EQ(parser.stats().rejected, expected_rejects);
}

struct Variant {
  std::string_view name;
  std::string_view from;
  std::string_view to;
  std::string_view message_part;
};

TEST(BybitKlineParser, malformed_pushes_return_an_error_naming_the_problem) {
  const Variant variants[] = {
      {"bad decimal", "\"16649.5\"", "\"16649.5x\"", "open"},
      {"nine decimals in a price", "\"16608\"", "\"16608.123456789\"", "low"},
      {"confirm as a string", "\"confirm\": false", "\"confirm\": \"false\"", "confirm"},
      {"missing confirm", "\"confirm\": false,", "", "missing \"confirm\""},
      {"missing start", "\"start\": 1672324800000,", "", "missing \"start\""},
      {"start as a float", "1672324800000,", "1672324800000.5,", "start"},
      {"negative start", "\"start\": 1672324800000", "\"start\": -1", "start"},
      {"unknown interval", "kline.5.", "kline.7.", "kline.7.BTCUSDT"},
      {"topic that is not a kline", "kline.5.BTCUSDT", "orderbook.1.BTCUSDT", "unexpected topic"},
      {"topic without a symbol", "kline.5.BTCUSDT", "kline.5", "malformed topic"},
      {"symbol with a bad character", "kline.5.BTCUSDT", "kline.5.BTC$USDT", "invalid symbol"},
      {"data interval differs from topic", "\"interval\": \"5\"", "\"interval\": \"15\"", "differs"},
      {"data is a string", "\"data\": [", "\"data\": \"x\", \"d\": [", "data"},
      {"trailing content", "\"snapshot\"\n}", "\"snapshot\"\n} {}", "after the JSON value"},
      {"root is an array", "{\n    \"topic\"", "[{\n    \"topic\"", "frame"},
      {"volume is null", "\"2.081\"", "null", "volume"},
  };
  BybitKlineParser parser(Market::linear);
  KlineFrame frame;
  std::uint64_t rejects = 0;
  for (const auto& v : variants) {
    std::string text(kPushSample);
    const auto at = text.find(v.from);
    ASSERT_NE(at, std::string::npos) << v.name;
    text.replace(at, v.from.size(), v.to);
    auto result = parser.parse_frame(text, frame);
    ASSERT_FALSE(result) << v.name << " should be rejected";
    ++rejects;
    EXPECT_EQ(result.error().code, ErrorCode::parse_error) << v.name;
    EXPECT_NE(result.error().message.find(v.message_part), std::string::npos)
        << v.name << ": message was \"" << result.error().message << "\"";
    EXPECT_NE(result.error().message.find("bybit frame"), std::string::npos) << v.name;
  }
  EXPECT_EQ(parser.stats().rejected, rejects);
}

TEST(BybitKlineParser, empty_data_array_is_rejected) {
  BybitKlineParser parser(Market::linear);
  KlineFrame frame;
  EXPECT_FALSE(parser.parse_frame(R"({"topic":"kline.5.BTCUSDT","data":[],"ts":1,"type":"snapshot"})", frame));
  EXPECT_EQ(parser.stats().rejected, 1u);
}

TEST(BybitKlineParser, control_frames_are_typed) {
  // Shapes described in §1.2 ("ret_msg":"subscribe" on spot, "" on linear; the pong formats) as
  // Bybit's connect page prints them.
  struct Case {
    std::string_view text;
    FrameKind kind;
    std::string_view request_id;
    std::string_view message;
  };
  const Case cases[] = {
      {R"({"success":true,"ret_msg":"subscribe","conn_id":"2324d924-aa4d-45b0-a858-7b8be29ab52b","req_id":"10001","op":"subscribe"})",
       FrameKind::subscribe_ack, "10001", ""},
      {R"({"success":true,"ret_msg":"","conn_id":"3cd84cb1-4d06-4a05-930a-2efe5fc70f0f","req_id":"","op":"subscribe"})",
       FrameKind::subscribe_ack, "", ""},
      {R"({"success":false,"ret_msg":"error:handler not found","conn_id":"2324d924","req_id":"7","op":"subscribe"})",
       FrameKind::request_error, "7", "error:handler not found"},
      {R"({"success":true,"ret_msg":"","conn_id":"x","req_id":"8","op":"unsubscribe"})", FrameKind::unsubscribe_ack, "8", ""},
      {R"({"success":true,"ret_msg":"pong","conn_id":"0970e817-426e-429a-a679-ff7f55e0b16a","op":"ping"})", FrameKind::pong,
       "", ""},
      {R"({"req_id":"100001","op":"pong","args":["1675418560633"],"conn_id":"cfcb4ocsvfriu23r3er0-1b"})", FrameKind::pong,
       "100001", ""},
      {R"({"success":true,"ret_msg":"","op":"auth","conn_id":"cejreaspqfh3sjdnldmg-p"})", FrameKind::login_ack, "", ""},
      {R"({"success":true,"conn_id":"c","data":{"failTopics":[],"successTopics":["kline.5.BTCUSDT"]},"type":"COMMAND_RESP"})",
       FrameKind::subscribe_ack, "", ""},
      {R"({"success":true,"conn_id":"c","data":{"failTopics":["kline.5.NOPE"],"successTopics":[]},"type":"COMMAND_RESP"})",
       FrameKind::request_error, "", "failTopics: kline.5.NOPE"},
  };
  BybitKlineParser parser(Market::spot);
  KlineFrame frame;
  for (const auto& c : cases) {
    ASSERT_TRUE(parser.parse_frame(c.text, frame)) << c.text;
    EXPECT_EQ(frame.kind, c.kind) << c.text;
    EXPECT_EQ(frame.request_id, c.request_id) << c.text;
    EXPECT_EQ(frame.message, c.message) << c.text;
    EXPECT_TRUE(frame.candles.empty());
  }
  EXPECT_EQ(parser.stats().rejected, 0u);
  EXPECT_FALSE(parser.parse_frame(R"({"success":true,"op":"dance"})", frame));
  EXPECT_FALSE(parser.parse_frame(R"({"hello":"world"})", frame));
  EXPECT_FALSE(parser.parse_frame("pong", frame));
  EXPECT_EQ(parser.stats().rejected, 3u);
}

TEST(BybitKlineParser, rest_error_envelopes_are_errors_with_the_venue_code) {
  BybitKlineParser parser(Market::linear);
  std::vector<Candle> candles;
  auto limited = parser.parse_rest(R"({"retCode":10006,"retMsg":"Too many visits!","result":{},"retExtInfo":{},"time":1})",
                                   Interval::m1, from_epoch_ms(0), candles);
  ASSERT_FALSE(limited);
  EXPECT_EQ(limited.error().code, ErrorCode::rate_limited);
  EXPECT_NE(limited.error().message.find("Too many visits!"), std::string::npos);
  auto invalid = parser.parse_rest(R"({"retCode":10001,"retMsg":"params error","result":{},"retExtInfo":{},"time":1})",
                                   Interval::m1, from_epoch_ms(0), candles);
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.error().code, ErrorCode::invalid_argument);
  EXPECT_FALSE(parser.parse_rest(R"({"retCode":0,"retMsg":"OK","result":{},"time":1})", Interval::m1, from_epoch_ms(0), candles));
  // A six-element row (turnover missing).
  EXPECT_FALSE(parser.parse_rest(
      R"({"retCode":0,"retMsg":"OK","result":{"list":[["1670608800000","1","1","1","1","1"]]}})", Interval::m1,
      from_epoch_ms(0), candles));
  EXPECT_EQ(parser.stats().rejected, 4u);
}

TEST(BybitKlineParser, rest_page_out_of_documented_order_is_sorted_and_counted) {
  BybitKlineParser parser(Market::linear);
  std::vector<Candle> candles;
  ASSERT_TRUE(parser.parse_rest(
      R"({"retCode":0,"retMsg":"OK","result":{"list":[["60000","1","1","1","1","1","1"],["120000","2","2","2","2","2","2"]]}})",
      Interval::m1, from_epoch_ms(10'000'000), candles));
  ASSERT_EQ(candles.size(), 2u);
  EXPECT_EQ(to_epoch_ms(candles[0].open_time), 60000);
  EXPECT_EQ(to_epoch_ms(candles[1].open_time), 120000);
  EXPECT_EQ(parser.stats().reordered, 1u);
}

}  // namespace
}  // namespace twinstar::venue::bybit
