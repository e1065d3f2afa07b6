// Subscribe/unsubscribe frame builders: exact frames against the reference's formats, and the
// per-message limits (Bybit spot 10 args, Bybit 21,000-char args, OKX 64 KB, Bitget 4 KB).

#include "venue/common/subscription.hpp"

#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include "venue/binance/binance_kline_request.hpp"
#include "venue/bitget/bitget_kline_request.hpp"
#include "venue/bybit/bybit_kline_request.hpp"
#include "venue/okx/okx_kline_request.hpp"

namespace twinstar::venue {
namespace {

Symbol symbol_of(std::string_view s) { return Symbol::parse(s).value(); }

std::vector<KlineTopic> topics(int n, Interval interval = Interval::m1) {
  std::vector<KlineTopic> out;
  for (int i = 0; i < n; ++i) out.push_back({symbol_of(fmt::format("SYM{}USDT", i)), interval});
  return out;
}

// Every frame is one valid JSON object and carries its topics in order, once.
void expect_valid_json(const std::vector<WsRequest>& frames, std::size_t topic_total) {
  simdjson::dom::parser parser;
  std::size_t next = 0;
  for (const auto& f : frames) {
    simdjson::dom::element doc;
    EXPECT_EQ(parser.parse(f.text).get(doc), simdjson::SUCCESS) << f.text;
    EXPECT_EQ(f.first_topic, next);
    next += f.topic_count;
  }
  EXPECT_EQ(next, topic_total);
}

TEST(BybitSubscribe, spot_frames_carry_at_most_ten_args) {
  auto frames = bybit::build_subscribe_frames(Market::spot, SubscribeOp::subscribe, topics(25), 7);
  ASSERT_TRUE(frames) << frames.error().message;
  ASSERT_EQ(frames->size(), 3u);
  EXPECT_EQ((*frames)[0].topic_count, 10u);
  EXPECT_EQ((*frames)[1].topic_count, 10u);
  EXPECT_EQ((*frames)[2].topic_count, 5u);
  EXPECT_EQ((*frames)[0].request_id, "7");
  EXPECT_EQ((*frames)[2].request_id, "9");
  expect_valid_json(*frames, 25);
  // §1.2: {"op":"subscribe","args":["kline.5.BTCUSDT"]} plus the optional req_id.
  auto one = bybit::build_subscribe_frames(Market::linear, SubscribeOp::subscribe,
                                           std::vector<KlineTopic>{{symbol_of("BTCUSDT"), Interval::m5}}, 1);
  ASSERT_TRUE(one);
  EXPECT_EQ((*one)[0].text, R"({"req_id":"1","op":"subscribe","args":["kline.5.BTCUSDT"]})");
  auto off = bybit::build_subscribe_frames(Market::linear, SubscribeOp::unsubscribe,
                                           std::vector<KlineTopic>{{symbol_of("BTCUSDT"), Interval::d1}}, 2);
  ASSERT_TRUE(off);
  EXPECT_EQ((*off)[0].text, R"({"req_id":"2","op":"unsubscribe","args":["kline.D.BTCUSDT"]})");
  EXPECT_EQ(bybit::ping_frame("100001"), R"({"req_id":"100001","op":"ping"})");
  EXPECT_EQ(bybit::ping_frame(), R"({"op":"ping"})");
}

TEST(BybitSubscribe, linear_frames_keep_the_args_array_under_21000_characters) {
  auto frames = bybit::build_subscribe_frames(Market::linear, SubscribeOp::subscribe, topics(2000, Interval::m15), 1);
  ASSERT_TRUE(frames);
  EXPECT_GT(frames->size(), 1u);
  for (const auto& f : *frames) {
    const auto open = f.text.find('[');
    const auto close = f.text.rfind(']');
    EXPECT_LT(close - open + 1, 21'000u);
  }
  expect_valid_json(*frames, 2000);
  EXPECT_FALSE(bybit::build_subscribe_frames(Market::linear, SubscribeOp::subscribe, {}, 1));
  EXPECT_FALSE(bybit::build_subscribe_frames(Market::linear, SubscribeOp::subscribe,
                                             std::vector<KlineTopic>{{symbol_of("BTCUSDT"), Interval::s1}}, 1));
}

TEST(BinanceSubscribe, frames_use_method_params_and_integer_ids) {
  auto one = binance::build_subscribe_frames(Market::spot, SubscribeOp::subscribe,
                                             std::vector<KlineTopic>{{symbol_of("BTCUSDT"), Interval::m1}, {symbol_of("ETHUSDT"), Interval::h4}}, 1);
  ASSERT_TRUE(one);
  ASSERT_EQ(one->size(), 1u);
  // §2.3: {"method": "SUBSCRIBE", "params": [...], "id": 1}.
  EXPECT_EQ((*one)[0].text, R"({"method":"SUBSCRIBE","params":["btcusdt@kline_1m","ethusdt@kline_4h"],"id":1})");
  auto off = binance::build_subscribe_frames(Market::linear, SubscribeOp::unsubscribe,
                                             std::vector<KlineTopic>{{symbol_of("BTCUSDT"), Interval::m1}}, 12);
  ASSERT_TRUE(off);
  EXPECT_EQ((*off)[0].text, R"({"method":"UNSUBSCRIBE","params":["btcusdt@kline_1m"],"id":12})");
  auto many = binance::build_subscribe_frames(Market::spot, SubscribeOp::subscribe, topics(450), 1);
  ASSERT_TRUE(many);
  ASSERT_EQ(many->size(), 3u);
  EXPECT_EQ((*many)[2].topic_count, 50u);
  expect_valid_json(*many, 450);
}

TEST(OkxSubscribe, frames_match_the_documented_shape_and_stay_under_64_kb) {
  auto one = okx::build_subscribe_frames(Market::spot, SubscribeOp::subscribe,
                                         std::vector<KlineTopic>{{symbol_of("BTCUSDT"), Interval::m1}}, 1512);
  ASSERT_TRUE(one);
  // §3.2 sample, compacted: {"id":"1512","op":"subscribe","args":[{"channel":..,"instId":"BTC-USDT"}]}.
  EXPECT_EQ((*one)[0].text, R"({"id":"1512","op":"subscribe","args":[{"channel":"candle1m","instId":"BTC-USDT"}]})");
  auto swap = okx::build_subscribe_frames(Market::linear, SubscribeOp::unsubscribe,
                                          std::vector<KlineTopic>{{symbol_of("ETHUSDT"), Interval::h1}}, 2);
  ASSERT_TRUE(swap);
  EXPECT_EQ((*swap)[0].text, R"({"id":"2","op":"unsubscribe","args":[{"channel":"candle1H","instId":"ETH-USDT-SWAP"}]})");
  auto many = okx::build_subscribe_frames(Market::spot, SubscribeOp::subscribe, topics(3000), 1);
  ASSERT_TRUE(many);
  EXPECT_GT(many->size(), 1u);
  for (const auto& f : *many) EXPECT_LE(f.text.size(), okx::kSubscribeMaxBytes);
  expect_valid_json(*many, 3000);
}

TEST(BitgetSubscribe, frames_match_the_documented_shape_and_stay_under_4_kb) {
  auto one = bitget::build_subscribe_frames(Market::linear, SubscribeOp::subscribe,
                                            std::vector<KlineTopic>{{symbol_of("BTCUSDT"), Interval::m1}});
  ASSERT_TRUE(one);
  // §4.2 sample, compacted.
  EXPECT_EQ((*one)[0].text, R"({"op":"subscribe","args":[{"instType":"USDT-FUTURES","channel":"candle1m","instId":"BTCUSDT"}]})");
  EXPECT_EQ((*one)[0].request_id, "");
  auto spot = bitget::build_subscribe_frames(Market::spot, SubscribeOp::unsubscribe,
                                             std::vector<KlineTopic>{{symbol_of("ETHUSDT"), Interval::d1}});
  ASSERT_TRUE(spot);
  EXPECT_EQ((*spot)[0].text, R"({"op":"unsubscribe","args":[{"instType":"SPOT","channel":"candle1Dutc","instId":"ETHUSDT"}]})");
  auto many = bitget::build_subscribe_frames(Market::spot, SubscribeOp::subscribe, topics(200));
  ASSERT_TRUE(many);
  EXPECT_GT(many->size(), 1u);
  for (const auto& f : *many) EXPECT_LE(f.text.size(), bitget::kSubscribeMaxBytes);
  expect_valid_json(*many, 200);
}

TEST(WsLimits, each_venue_reports_its_connection_limits) {
  EXPECT_EQ(ws_limits(Exchange::bybit, Market::spot).max_args_per_message, 10u);
  EXPECT_EQ(ws_limits(Exchange::bybit, Market::linear).max_args_per_message, 0u);
  EXPECT_EQ(ws_limits(Exchange::bybit, Market::linear).max_args_bytes, 20'999u);
  EXPECT_EQ(ws_limits(Exchange::bybit, Market::linear).ping_interval, std::chrono::seconds(20));
  EXPECT_EQ(ws_limits(Exchange::binance, Market::spot).max_topics_per_connection, 1024u);
  EXPECT_EQ(ws_limits(Exchange::binance, Market::linear).max_topics_per_connection, 200u);
  EXPECT_EQ(ws_limits(Exchange::binance, Market::spot).max_messages_per_second, 5);
  EXPECT_EQ(ws_limits(Exchange::binance, Market::linear).max_messages_per_second, 10);
  EXPECT_EQ(ws_limits(Exchange::binance, Market::linear).ping_interval, Duration(0));
  EXPECT_EQ(ws_limits(Exchange::okx, Market::spot).max_subscribe_ops_per_hour, 480);
  EXPECT_LT(ws_limits(Exchange::okx, Market::spot).ping_interval, std::chrono::seconds(30));
  EXPECT_EQ(ws_limits(Exchange::bitget, Market::spot).max_topics_per_connection, 50u);
  EXPECT_EQ(ws_limits(Exchange::bitget, Market::linear).max_subscribe_ops_per_hour, 240);
  EXPECT_EQ(ws_limits(Exchange::bitget, Market::linear).max_messages_per_second, 10);
}

}  // namespace
}  // namespace twinstar::venue
