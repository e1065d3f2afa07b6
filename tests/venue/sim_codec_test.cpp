// Golden tests: Bybit's documented samples (exchange-api.md §1 and the connect page) round-trip
// through the sim's encoders and request parser.
#include <algorithm>

#include <gtest/gtest.h>

#include "venue/sim/bybit_codec.hpp"
#include "venue/sim/json_in.hpp"

namespace twinstar::venue::sim {
namespace {

// Removes insignificant whitespace and // comments, as the documented samples are pretty-printed.
std::string minify(std::string_view json) {
  std::string out;
  bool in_string = false;
  for (std::size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      out += c;
      if (c == '\\') out += json[++i];
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '/' && i + 1 < json.size() && json[i + 1] == '/') {
      while (i < json.size() && json[i] != '\n') ++i;
      continue;
    }
    if (c == '"') in_string = true;
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') out += c;
  }
  return out;
}

Price px(const char* s) { return *Price::parse(s); }

TEST(SimCodec, kline_push_matches_the_documented_sample) {
  constexpr std::string_view kDoc = R"({
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
  Candle c;
  c.open_time = from_epoch_ms(1672324800000);
  c.open = px("16649.5");
  c.close = px("16677");
  c.high = px("16677");
  c.low = px("16608");
  c.volume = *Quantity::parse("2.081");
  c.turnover = *Money::parse("34666.4005");
  c.closed = false;
  EXPECT_EQ(kline_push("kline.5.BTCUSDT", "5", c, 1672325099999, 1672324988882), minify(kDoc));
}

TEST(SimCodec, rest_kline_response_matches_the_documented_sample) {
  constexpr std::string_view kDoc = R"({
    "retCode": 0,
    "retMsg": "OK",
    "result": {
        "symbol": "BTCUSD",
        "category": "inverse",
        "list": [
            ["1670608800000","17071","17073","17027","17055.5","268611","15.74462667"],
            ["1670605200000","17071.5","17071.5","17061","17071","4177","0.24469757"],
            ["1670601600000","17086.5","17088","16978","17071.5","6356","0.37288112"]
        ]
    },
    "retExtInfo": {},
    "time": 1672025956592
})";
  auto row = [](std::int64_t t, const char* o, const char* h, const char* l, const char* c, const char* v, const char* tu) {
    Candle k;
    k.open_time = from_epoch_ms(t);
    k.open = px(o);
    k.high = px(h);
    k.low = px(l);
    k.close = px(c);
    k.volume = *Quantity::parse(v);
    k.turnover = *Money::parse(tu);
    return k;
  };
  const std::vector<Candle> rows = {row(1670608800000, "17071", "17073", "17027", "17055.5", "268611", "15.74462667"),
                                    row(1670605200000, "17071.5", "17071.5", "17061", "17071", "4177", "0.24469757"),
                                    row(1670601600000, "17086.5", "17088", "16978", "17071.5", "6356", "0.37288112")};
  EXPECT_EQ(rest_ok(kline_result("BTCUSD", "inverse", rows), 1672025956592), minify(kDoc));
}

TEST(SimCodec, websocket_replies_match_the_documented_samples) {
  // Public spot subscribe ack, spot pong, private pong, private subscribe, auth success.
  EXPECT_EQ(ws_op_reply(WsChannel::spot, true, "subscribe", "2324d924-aa4d-45b0-a858-7b8be29ab52b", "10001", "subscribe"),
            minify(R"({"success": true, "ret_msg": "subscribe", "conn_id": "2324d924-aa4d-45b0-a858-7b8be29ab52b",
                       "req_id": "10001", "op": "subscribe"})"));
  EXPECT_EQ(ws_op_reply(WsChannel::spot, true, "pong", "0970e817-426e-429a-a679-ff7f55e0b16a", std::nullopt, "ping"),
            minify(R"({"success": true, "ret_msg": "pong", "conn_id": "0970e817-426e-429a-a679-ff7f55e0b16a", "op": "ping"})"));
  EXPECT_EQ(ws_private_pong("test", 1675418560633, "cfcb4ocsvfriu23r3er0-1b"),
            minify(R"({"req_id": "test", "op": "pong", "args": ["1675418560633"], "conn_id": "cfcb4ocsvfriu23r3er0-1b"})"));
  EXPECT_EQ(ws_op_reply(WsChannel::private_, true, "", "cejreassvfrsfvb9v1a0-2m", std::nullopt, "subscribe"),
            minify(R"({"success": true, "ret_msg": "", "op": "subscribe", "conn_id": "cejreassvfrsfvb9v1a0-2m"})"));
  EXPECT_EQ(ws_op_reply(WsChannel::private_, true, "", "cejreaspqfh3sjdnldmg-p", std::nullopt, "auth"),
            minify(R"({"success": true, "ret_msg": "", "op": "auth", "conn_id": "cejreaspqfh3sjdnldmg-p"})"));
  // Linear always carries req_id (empty when the request had none), and ret_msg "" on subscribe.
  EXPECT_EQ(ws_op_reply(WsChannel::linear, true, "", "c1", std::nullopt, "subscribe"),
            R"({"success":true,"ret_msg":"","conn_id":"c1","req_id":"","op":"subscribe"})");
}

TEST(SimCodec, documented_subscribe_request_parses_into_op_req_id_and_args) {
  const std::string doc = minify(R"({
    "req_id": "test", // optional
    "op": "subscribe",
    "args": [
        "orderbook.1.BTCUSDT",
        "publicTrade.BTCUSDT",
        "orderbook.1.ETHUSDT"
    ]
})");
  auto m = parse_flat_json(doc);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->string("req_id"), "test");
  EXPECT_EQ(m->string("op"), "subscribe");
  const JsonField* args = m->find("args");
  ASSERT_NE(args, nullptr);
  EXPECT_EQ(args->items, (std::vector<std::string>{"orderbook.1.BTCUSDT", "publicTrade.BTCUSDT", "orderbook.1.ETHUSDT"}));
}

TEST(SimCodec, documented_order_create_body_parses_with_exact_strings) {
  auto m = parse_flat_json(R"({"category": "linear", "symbol": "BTCUSDT", "side": "Sell", "orderType": "Limit", "qty": "1", "price": "30000", "timeInForce": "GTC", "positionIdx": 0, "orderLinkId": "usdt-test-02", "reduceOnly": true})");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->string("qty"), "1");
  EXPECT_EQ(m->string("price"), "30000");
  EXPECT_EQ(m->string("orderLinkId"), "usdt-test-02");
  EXPECT_EQ(m->find("positionIdx")->kind, JsonKind::number);
  EXPECT_EQ(m->find("positionIdx")->text, "0");
  EXPECT_EQ(m->find("reduceOnly")->text, "true");
}

TEST(SimCodec, documented_auth_request_parses_with_a_numeric_expires) {
  auto m = parse_flat_json(minify(R"({
    "req_id": "10001", // optional
    "op": "auth",
    "args": ["api_key", 1662350400000, "signature"]
})"));
  ASSERT_TRUE(m);
  const JsonField* args = m->find("args");
  ASSERT_NE(args, nullptr);
  ASSERT_EQ(args->items.size(), 3u);
  EXPECT_EQ(args->item_kinds[1], JsonKind::number);
  EXPECT_EQ(args->items[1], "1662350400000");
}

TEST(SimCodec, malformed_frames_are_rejected) {
  EXPECT_FALSE(parse_flat_json("{\"op\":"));
  EXPECT_FALSE(parse_flat_json("[1,2]"));
  EXPECT_FALSE(parse_flat_json("{\"op\":\"ping\"} trailing"));
  EXPECT_FALSE(parse_flat_json(""));
}

TEST(SimCodec, rest_error_envelope_has_an_empty_result) {
  EXPECT_EQ(rest_error(10006, "Too many visits!", 1),
            R"({"retCode":10006,"retMsg":"Too many visits!","result":{},"retExtInfo":{},"time":1})");
}

}  // namespace
}  // namespace twinstar::venue::sim
