// Golden payloads through the feed's codec: each venue's closed-candle rule, subscribe frames
// and heartbeats; malformed frames are counted errors.
#include "feed/venue_codec.hpp"

#include <gtest/gtest.h>

namespace twinstar::feed {
namespace {

std::unique_ptr<VenueCodec> codec(Exchange e, Market m) { return std::move(*VenueCodec::create(e, m)); }

TEST(VenueCodec, bybit_confirm_marks_the_candle_closed) {
  auto c = codec(Exchange::bybit, Market::linear);
  venue::KlineFrame f;
  // exchange-api.md §1.2 push, with confirm true.
  ASSERT_TRUE(c->parse(R"({"topic":"kline.5.BTCUSDT","data":[{"start":1672324800000,"end":1672325099999,"interval":"5","open":"16649.5","close":"16677","high":"16677","low":"16608","volume":"2.081","turnover":"34666.4005","confirm":true,"timestamp":1672324988882}],"ts":1672324988882,"type":"snapshot"})", f));
  ASSERT_EQ(f.kind, venue::FrameKind::kline);
  EXPECT_EQ(f.series.symbol.view(), "BTCUSDT");
  EXPECT_EQ(f.series.interval, Interval::m5);
  ASSERT_EQ(f.candles.size(), 1u);
  EXPECT_TRUE(f.candles[0].closed);
  EXPECT_EQ(f.candles[0].close, Price::parse("16677").value());
  auto frames = c->subscribe_frames(venue::SubscribeOp::subscribe,
                                    std::vector<venue::KlineTopic>{{*Symbol::parse("BTCUSDT"), Interval::m1}}, 7);
  ASSERT_TRUE(frames);
  ASSERT_EQ(frames->size(), 1u);
  EXPECT_NE((*frames)[0].text.find("kline.1.BTCUSDT"), std::string::npos);
  EXPECT_NE(c->ping_text().find("ping"), std::string::npos);
}

TEST(VenueCodec, binance_x_flag_marks_the_candle_closed_and_the_server_pings) {
  auto c = codec(Exchange::binance, Market::spot);
  venue::KlineFrame f;
  ASSERT_TRUE(c->parse(R"({"e":"kline","E":1672515782136,"s":"BNBBTC","k":{"t":1672515780000,"T":1672515839999,"s":"BNBBTC","i":"1m","f":100,"L":200,"o":"0.0010","c":"0.0020","h":"0.0025","l":"0.0015","v":"1000","n":100,"x":true,"q":"1.0000","V":"500","Q":"0.500","B":"123456"}})", f));
  ASSERT_EQ(f.candles.size(), 1u);
  EXPECT_TRUE(f.candles[0].closed);
  EXPECT_TRUE(c->ping_text().empty());
}

TEST(VenueCodec, okx_confirm_column_marks_the_candle_closed) {
  auto c = codec(Exchange::okx, Market::spot);
  venue::KlineFrame f;
  ASSERT_TRUE(c->parse(R"({"arg":{"channel":"candle1m","instId":"BTC-USDT"},"data":[["1597026360000","8533.02","8553.74","8527.17","8548.26","45247","529.5858061","5529.5858061","1"]]})", f));
  ASSERT_EQ(f.candles.size(), 1u);
  EXPECT_TRUE(f.candles[0].closed);
  EXPECT_EQ(c->ping_text(), "ping");
  ASSERT_TRUE(c->parse("pong", f));
  EXPECT_EQ(f.kind, venue::FrameKind::pong);
}

TEST(VenueCodec, okx_symbols_are_spelled_as_its_frames_report_them) {
  EXPECT_EQ(venue_symbol(Exchange::okx, Market::linear, *Symbol::parse("BTCUSDT"))->view(), "BTC-USDT-SWAP");
  EXPECT_EQ(venue_symbol(Exchange::okx, Market::spot, *Symbol::parse("BTCUSDT"))->view(), "BTC-USDT");
  EXPECT_EQ(venue_symbol(Exchange::bybit, Market::linear, *Symbol::parse("BTCUSDT"))->view(), "BTCUSDT");
  auto c = codec(Exchange::okx, Market::linear);
  venue::KlineFrame f;
  ASSERT_TRUE(c->parse(R"({"arg":{"channel":"candle1m","instId":"BTC-USDT-SWAP"},"data":[["1597026360000","1","2","1","2","5","5","5","0"]]})", f));
  EXPECT_EQ(f.series.symbol, *venue_symbol(Exchange::okx, Market::linear, *Symbol::parse("BTCUSDT")));
  auto frames = c->subscribe_frames(venue::SubscribeOp::subscribe,
                                    std::vector<venue::KlineTopic>{{f.series.symbol, Interval::m1}}, 1);
  ASSERT_TRUE(frames) << frames.error().message;
  EXPECT_NE((*frames)[0].text.find("BTC-USDT-SWAP"), std::string::npos);
}

// OKX answers each channel of a subscribe frame on its own under the frame's id; the error for a
// channel that does not exist carries no "arg", but its message names it.
TEST(VenueCodec, okx_error_for_a_channel_that_does_not_exist_names_it) {
  auto c = codec(Exchange::okx, Market::linear);
  venue::KlineFrame f;
  ASSERT_TRUE(c->parse(R"({"id":"7","event":"error","code":"60018","msg":"Wrong URL or channel:candle1m,instId:LUNA-USDT-SWAP doesn't exist. Please use the correct URL, channel and parameters referring to API document.","connId":"a4d3ae55"})", f));
  EXPECT_EQ(f.kind, venue::FrameKind::request_error);
  EXPECT_EQ(f.request_id, "7");
  EXPECT_EQ(f.code, "60018");
  ASSERT_TRUE(f.has_series);
  EXPECT_EQ(f.series.symbol.view(), "LUNA-USDT-SWAP");
  EXPECT_EQ(f.series.market, Market::linear);
  EXPECT_EQ(f.series.interval, Interval::m1);
  // An error about the frame as a whole names no channel.
  ASSERT_TRUE(c->parse(R"({"id":"8","event":"error","code":"60012","msg":"Invalid request: {\"op\": \"subscribe\", \"argss\":[{ \"channel\" : \"candle1m\", \"instId\" : \"BTC-USDT\"}]}","connId":"a4d3ae55"})", f));
  EXPECT_EQ(f.kind, venue::FrameKind::request_error);
  EXPECT_FALSE(f.has_series);
}

TEST(VenueCodec, bitget_candle_closes_when_the_next_one_starts) {
  auto c = codec(Exchange::bitget, Market::spot);
  venue::KlineFrame f;
  auto push = [](std::string_view ts, std::string_view close) {
    return fmt::format(R"({{"action":"update","arg":{{"instType":"SPOT","channel":"candle1m","instId":"BTCUSDT"}},"data":[["{}","1","9","1","{}","5","5","5"]],"ts":1}})",
                       ts, close);
  };
  ASSERT_TRUE(c->parse(push("1695672780000", "2"), f));
  ASSERT_EQ(f.candles.size(), 1u);
  EXPECT_FALSE(f.candles[0].closed);
  ASSERT_TRUE(c->parse(push("1695672780000", "3"), f));
  EXPECT_FALSE(f.candles.back().closed);
  ASSERT_TRUE(c->parse(push("1695672840000", "4"), f));  // the next minute starts
  ASSERT_EQ(f.candles.size(), 2u);
  EXPECT_TRUE(f.candles[0].closed);
  EXPECT_EQ(to_epoch_ms(f.candles[0].open_time), 1695672780000);
  EXPECT_EQ(f.candles[0].close, Price::from_units(3));  // its last pushed values
  EXPECT_FALSE(f.candles[1].closed);
}

TEST(VenueCodec, malformed_and_truncated_frames_are_counted_errors) {
  for (auto e : kAllExchanges) {
    auto c = codec(e, Market::linear);
    venue::KlineFrame f;
    EXPECT_FALSE(c->parse("{\"topic\":\"kline.1.BTC", f));
    EXPECT_FALSE(c->parse("[1,2", f));
    EXPECT_FALSE(c->parse("", f));
    EXPECT_EQ(c->stats().rejected, 3u) << to_string(e);
  }
}

}  // namespace
}  // namespace twinstar::feed
