// Bad input gets Bybit's error answers, and the server keeps serving everyone else.
#include "sim_fixture.hpp"

namespace twinstar::venue::sim::testing {
namespace {

using SimBadInput = SimFixture;

std::unique_ptr<Json> next(WsClient& c) {
  auto m = c.read(5s);
  EXPECT_TRUE(m);
  return parse(m ? *m : "{}");
}

TEST_F(SimBadInput, public_websocket_answers_errors_and_keeps_the_connection) {
  start_sim();
  auto c = ws("/v5/public/linear");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->send("{not json"));
  auto j = next(*c);
  EXPECT_FALSE(bool((*j)["success"]));
  EXPECT_EQ(str((*j)["ret_msg"]), "error:request not json");

  ASSERT_TRUE(c->send(R"({"op":"dance","req_id":"7"})"));
  j = next(*c);
  EXPECT_FALSE(bool((*j)["success"]));
  EXPECT_EQ(str((*j)["op"]), "dance");
  EXPECT_EQ(str((*j)["req_id"]), "7");

  ASSERT_TRUE(c->send(R"({"op":"subscribe","args":["kline.7.BTCUSDT"]})"));
  j = next(*c);
  EXPECT_FALSE(bool((*j)["success"]));
  EXPECT_EQ(str((*j)["ret_msg"]), "error:handler not found,topic:kline.7.BTCUSDT");

  ASSERT_TRUE(c->send(R"({"op":"subscribe","args":["kline.1.NOPEUSDT"]})"));
  j = next(*c);
  EXPECT_FALSE(bool((*j)["success"]));

  ASSERT_TRUE(c->send(R"({"op":"subscribe","args":["orderbook.1.BTCUSDT"]})"));
  EXPECT_FALSE(bool((*next(*c))["success"]));

  std::string huge = R"({"op":"subscribe","args":[)";
  for (int i = 0; i < 1200; ++i) huge += std::string(i ? "," : "") + "\"kline.1.BTCUSDT" + std::to_string(i) + "\"";
  huge += "]}";
  ASSERT_TRUE(c->send(huge));
  j = next(*c);
  EXPECT_FALSE(bool((*j)["success"]));
  EXPECT_EQ(str((*j)["ret_msg"]), "error:args length >21000");

  ASSERT_TRUE(c->send(R"({"op":"subscribe","args":["kline.1.BTCUSDT"]})"));
  EXPECT_TRUE(bool((*next(*c))["success"]));
  ASSERT_TRUE(c->send(R"({"op":"subscribe","args":["kline.1.BTCUSDT"]})"));
  EXPECT_FALSE(bool((*next(*c))["success"]));  // already subscribed

  ASSERT_TRUE(c->send(R"({"req_id":"100001","op":"ping"})"));
  j = next(*c);
  EXPECT_TRUE(bool((*j)["success"]));
  EXPECT_EQ(str((*j)["ret_msg"]), "pong");
  EXPECT_EQ(str((*j)["req_id"]), "100001");
  EXPECT_GE(std::int64_t((*stats())["ws"]["errors"]), 7);
}

TEST_F(SimBadInput, spot_takes_at_most_ten_args_per_subscribe) {
  start_sim();
  auto c = ws("/v5/public/spot");
  ASSERT_TRUE(c);
  std::string sub = R"({"op":"subscribe","args":[)";
  auto info = parse(http->get("/v5/market/instruments-info?category=spot")->body);
  auto list = simdjson::dom::array((*info)["result"]["list"]);
  for (int i = 0; i < 11; ++i) sub += std::string(i ? "," : "") + "\"kline.1." + str(list.at(i)["symbol"]) + "\"";
  sub += "]}";
  ASSERT_TRUE(c->send(sub));
  auto j = next(*c);
  EXPECT_FALSE(bool((*j)["success"]));
  EXPECT_EQ(str((*j)["ret_msg"]), "error:args size >10");
  ASSERT_TRUE(c->send(R"({"op":"subscribe","args":["kline.1.BTCUSDT"]})"));
  j = next(*c);
  EXPECT_TRUE(bool((*j)["success"]));
  EXPECT_EQ(str((*j)["ret_msg"]), "subscribe");
}

TEST_F(SimBadInput, oversized_frame_closes_that_connection_only) {
  start_sim();
  auto bad = ws("/v5/public/linear");
  auto good = ws("/v5/public/linear");
  ASSERT_TRUE(bad && good);
  // The server may reset the link before the client finishes writing: either way it ends.
  (void)bad->send(std::string(200'000, ' '));
  EXPECT_FALSE(bad->read(5s));
  EXPECT_TRUE(bad->is_closed());
  ASSERT_TRUE(good->send(R"({"op":"ping"})"));
  EXPECT_EQ(str((*next(*good))["ret_msg"]), "pong");
}

TEST_F(SimBadInput, private_stream_rejects_bad_auth_and_unauthenticated_subscribes) {
  start_sim();
  auto c = ws("/v5/private");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->send(R"({"op":"subscribe","args":["order"]})"));
  auto j = next(*c);
  EXPECT_FALSE(bool((*j)["success"]));
  EXPECT_EQ(str((*j)["ret_msg"]), "Request not authorized");

  const auto& acc = options.accounts[0];
  const bybit::BybitSigner wrong_secret(acc.api_key, "not-the-secret");
  ASSERT_TRUE(c->send(wrong_secret.ws_auth_frame(now_ms() + 5000)));
  EXPECT_FALSE(bool((*next(*c))["success"]));
  const bybit::BybitSigner right(acc.api_key, acc.api_secret);
  ASSERT_TRUE(c->send(right.ws_auth_frame(now_ms() - 1)));  // expired
  EXPECT_FALSE(bool((*next(*c))["success"]));
  const bybit::BybitSigner unknown("NOSUCHKEY", acc.api_secret);
  ASSERT_TRUE(c->send(unknown.ws_auth_frame(now_ms() + 5000)));
  EXPECT_FALSE(bool((*next(*c))["success"]));
  ASSERT_TRUE(c->send(R"({"op":"auth","args":["only-one"]})"));
  EXPECT_EQ(str((*next(*c))["ret_msg"]), "Params Error");

  ASSERT_TRUE(c->send(right.ws_auth_frame(now_ms() + 5000)));
  EXPECT_TRUE(bool((*next(*c))["success"]));
  ASSERT_TRUE(c->send(R"({"op":"subscribe","args":["order","order.linear"]})"));
  EXPECT_FALSE(bool((*next(*c))["success"]));  // all-in-one and per-category mixed
  ASSERT_TRUE(c->send(R"({"req_id":"p1","op":"ping"})"));
  j = next(*c);
  EXPECT_EQ(str((*j)["op"]), "pong");
  EXPECT_EQ(str((*j)["req_id"]), "p1");
}

TEST_F(SimBadInput, rest_rejects_bad_signatures_stale_timestamps_and_unknown_keys_like_bybit) {
  start_sim();
  const std::string query = "category=linear";
  auto code = [&](const HttpResult& r) { return std::int64_t((*parse(r.body))["retCode"]); };
  // Bad signature.
  auto r = http->get("/v5/order/realtime?" + query, sign_headers(query, 0, 0, "wrong-secret"));
  ASSERT_TRUE(r);
  EXPECT_EQ(code(*r), 10004);
  EXPECT_NE(r->body.find("error sign!"), std::string::npos);
  // Signed a different query than sent.
  r = http->get("/v5/order/realtime?category=spot", sign_headers(query));
  EXPECT_EQ(code(*r), 10004);
  // Stale (older than recv_window) and future (>= server time + 1000) timestamps.
  r = http->get("/v5/order/realtime?" + query, sign_headers(query, 0, -5001));
  EXPECT_EQ(code(*r), 10002);
  r = http->get("/v5/order/realtime?" + query, sign_headers(query, 0, 1000));
  EXPECT_EQ(code(*r), 10002);
  r = http->get("/v5/order/realtime?" + query, sign_headers(query, 0, 999));
  EXPECT_EQ(code(*r), 0);
  // Unknown and missing keys.
  auto headers = sign_headers(query);
  headers[0].value = "NOSUCHKEY";
  r = http->get("/v5/order/realtime?" + query, headers);
  EXPECT_EQ(code(*r), 10003);
  r = http->get("/v5/order/realtime?" + query);
  EXPECT_EQ(code(*r), 10003);
  auto s = stats();
  EXPECT_EQ(std::int64_t((*s)["rest"]["auth_failures"]["10004"]), 2);
  EXPECT_EQ(std::int64_t((*s)["rest"]["auth_failures"]["10002"]), 2);
  EXPECT_EQ(std::int64_t((*s)["rest"]["auth_failures"]["10003"]), 2);
}

TEST_F(SimBadInput, rest_parameter_errors_answer_10001) {
  start_sim();
  auto code = [&](const std::string& target) {
    auto r = http->get(target);
    EXPECT_TRUE(r);
    return std::int64_t((*parse(r->body))["retCode"]);
  };
  EXPECT_EQ(code("/v5/market/kline?category=linear&symbol=BTCUSDT&interval=7"), 10001);
  EXPECT_EQ(code("/v5/market/kline?category=linear&symbol=BTCUSDT&interval=1&limit=0"), 10001);
  EXPECT_EQ(code("/v5/market/kline?category=linear&symbol=BTCUSDT&interval=1&limit=1001"), 10001);
  EXPECT_EQ(code("/v5/market/kline?category=linear&symbol=NOPE&interval=1"), 10001);
  EXPECT_EQ(code("/v5/market/kline?category=option&symbol=BTCUSDT&interval=1"), 10001);
  EXPECT_EQ(code("/v5/market/tickers"), 10001);
  EXPECT_EQ(code("/v5/market/kline?symbol=BTCUSDT&interval=1"), 0);  // category defaults to linear
  EXPECT_EQ(http->get("/v5/market/nothing")->status, 404);
  auto body_code = [&](const std::string& body) {
    return std::int64_t((*parse(signed_post("/v5/order/create", body).body))["retCode"]);
  };
  EXPECT_EQ(body_code("{broken"), 10001);
  EXPECT_EQ(body_code(R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":0.01})"), 10001);
  EXPECT_EQ(body_code(R"({"category":"linear","symbol":"BTCUSDT","side":"Up","orderType":"Market","qty":"0.01"})"), 10001);
  EXPECT_EQ(body_code(R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"0.0001"})"), 10001);
  EXPECT_EQ(body_code(R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"0.01","orderLinkId":"0123456789012345678901234567890123456"})"), 10001);
  EXPECT_EQ(body_code(R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"1000"})"), 110007);
  EXPECT_EQ(body_code(R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"0.01","orderLinkId":"dup"})"), 0);
  EXPECT_EQ(body_code(R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"0.01","orderLinkId":"dup"})"), 110072);
  auto cancel = parse(signed_post("/v5/order/cancel", R"({"category":"linear","symbol":"BTCUSDT","orderId":"nope"})").body);
  EXPECT_EQ(std::int64_t((*cancel)["retCode"]), 110001);
}

}  // namespace
}  // namespace twinstar::venue::sim::testing
