// A plain Beast client (tests/net/test_client) against the sim over loopback: market data on
// one connection for 50 symbols, signed orders over REST, fills on the private stream.
#include <map>

#include <fmt/format.h>

#include "sim_fixture.hpp"

namespace twinstar::venue::sim::testing {
namespace {

using SimEndToEnd = SimFixture;

TEST_F(SimEndToEnd, fifty_symbols_on_one_connection_receive_every_confirmed_candle_in_order) {
  start_sim();
  auto info = http->get("/v5/market/instruments-info?category=linear");
  ASSERT_TRUE(info);
  auto ij = parse(info->body);
  std::vector<std::string> symbols;
  for (auto item : simdjson::dom::array(ij->root["result"]["list"])) symbols.push_back(str(item["symbol"]));
  ASSERT_EQ(symbols.size(), 50u);

  auto c = ws("/v5/public/linear");
  ASSERT_TRUE(c);
  std::string sub = R"({"req_id":"sub-1","op":"subscribe","args":[)";
  for (std::size_t i = 0; i < symbols.size(); ++i) sub += (i ? ",\"" : "\"") + ("kline.1." + symbols[i]) + "\"";
  sub += "]}";
  ASSERT_TRUE(c->send(sub));
  auto ack = read_until(*c, [](const Json& j) { return j.root["op"].error() == simdjson::SUCCESS; });
  ASSERT_TRUE(ack);
  EXPECT_TRUE(bool((*ack)["success"]));
  EXPECT_EQ(str((*ack)["ret_msg"]), "");
  EXPECT_EQ(str((*ack)["req_id"]), "sub-1");

  const std::int64_t t0 = now_ms();
  std::map<std::string, std::vector<std::pair<std::int64_t, std::string>>> confirmed;  // symbol -> (start, close)
  std::map<std::string, std::string> first_open;  // symbol -> open of the candle after
  constexpr int kMinutes = 3;
  for (int minute = 1; minute <= kMinutes; ++minute) {
    advance(60s);
    int got = 0;
    for (int frames = 0; frames < 2000 && got < 50; ++frames) {
      auto m = c->read(5s);
      ASSERT_TRUE(m) << "after " << got << " confirms in minute " << minute;
      auto j = parse(*m);
      const std::string topic = str((*j)["topic"]);
      auto d = (*j)["data"].at(0);
      EXPECT_EQ(str(d["interval"]), "1");
      if (!bool(d["confirm"])) continue;
      ++got;
      const std::int64_t start = std::int64_t(d["start"]);
      EXPECT_EQ(std::int64_t(d["end"]), start + 59'999);
      EXPECT_EQ(std::int64_t((*j)["ts"]), start + 60'000);
      EXPECT_EQ(str((*j)["type"]), "snapshot");
      confirmed[topic.substr(8)].emplace_back(start, str(d["close"]));
    }
    EXPECT_EQ(got, 50) << "minute " << minute;
  }
  ASSERT_EQ(confirmed.size(), 50u);
  for (const auto& [symbol, list] : confirmed) {
    ASSERT_EQ(list.size(), static_cast<std::size_t>(kMinutes)) << symbol;
    for (int k = 0; k < kMinutes; ++k) EXPECT_EQ(list[k].first, t0 + 60'000 * k) << symbol;
  }
  // REST agrees with what was pushed.
  auto k = http->get("/v5/market/kline?category=linear&symbol=BTCUSDT&interval=1&limit=4");
  ASSERT_TRUE(k);
  auto kj = parse(k->body);
  auto rows = simdjson::dom::array(kj->root["result"]["list"]);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(str(rows.at(1).at(0)), std::to_string(t0 + 120'000));
  EXPECT_EQ(str(rows.at(1).at(4)), confirmed["BTCUSDT"][2].second);
}

TEST_F(SimEndToEnd, signed_orders_fill_and_show_on_the_private_stream_with_fees_in_the_wallet) {
  start_sim();
  auto priv = ws("/v5/private");
  ASSERT_TRUE(priv);
  const auto& acc = options.accounts[0];
  const bybit::BybitSigner signer(acc.api_key, acc.api_secret);
  ASSERT_TRUE(priv->send(signer.ws_auth_frame(now_ms() + 10'000)));
  auto auth = read_until(*priv, [](const Json&) { return true; });
  ASSERT_TRUE(auth);
  EXPECT_TRUE(bool((*auth)["success"]));
  EXPECT_EQ(str((*auth)["op"]), "auth");
  ASSERT_TRUE(priv->send(R"({"op":"subscribe","args":["order","execution","position","wallet"]})"));
  auto sub = read_until(*priv, [](const Json&) { return true; });
  ASSERT_TRUE(sub);
  EXPECT_TRUE(bool((*sub)["success"]));

  // Market buy 0.01 BTC.
  auto r = signed_post("/v5/order/create",
                       R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"0.01","orderLinkId":"e2e-1"})");
  ASSERT_EQ(r.status, 200);
  auto rj = parse(r.body);
  ASSERT_EQ(std::int64_t((*rj)["retCode"]), 0) << r.body;
  const std::string order_id = str((*rj)["result"]["orderId"]);
  EXPECT_EQ(str((*rj)["result"]["orderLinkId"]), "e2e-1");
  EXPECT_FALSE(r.header("X-Bapi-Limit").empty());

  std::map<std::string, std::unique_ptr<Json>> seen;
  for (int i = 0; i < 20 && seen.size() < 4; ++i) {
    auto m = priv->read(5s);
    ASSERT_TRUE(m);
    auto j = parse(*m);
    seen[str((*j)["topic"])] = std::move(j);
  }
  ASSERT_EQ(seen.size(), 4u);
  auto order = (*seen["order"])["data"].at(0);
  EXPECT_EQ(str(order["orderId"]), order_id);
  EXPECT_EQ(str(order["orderStatus"]), "Filled");
  EXPECT_EQ(str(order["cumExecQty"]), "0.01");
  auto exec = (*seen["execution"])["data"].at(0);
  const Money exec_value = *Money::parse(str(exec["execValue"]));
  const Money fee = *Money::parse(str(exec["execFee"]));
  EXPECT_EQ(fee, apply_ratio(exec_value, *Ratio::parse("0.00055"), Rounding::half_even));
  EXPECT_FALSE(bool(exec["isMaker"]));
  auto pos = (*seen["position"])["data"].at(0);
  EXPECT_EQ(str(pos["size"]), "0.01");
  EXPECT_EQ(str(pos["side"]), "Buy");
  auto wallet = (*seen["wallet"])["data"].at(0);
  EXPECT_EQ(*Money::parse(str(wallet["totalWalletBalance"])), Money::from_units(100'000) - fee);

  // A limit far below the market rests, then is cancelled.
  r = signed_post("/v5/order/create",
                  R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.01","price":"1000","orderLinkId":"e2e-2"})");
  rj = parse(r.body);
  ASSERT_EQ(std::int64_t((*rj)["retCode"]), 0) << r.body;
  const std::string limit_id = str((*rj)["result"]["orderId"]);
  auto open = signed_get("/v5/order/realtime", "category=linear&symbol=BTCUSDT");
  auto oj = parse(open.body);
  ASSERT_EQ(simdjson::dom::array((*oj)["result"]["list"]).size(), 1u) << open.body;
  EXPECT_EQ(str((*oj)["result"]["list"].at(0)["orderStatus"]), "New");
  r = signed_post("/v5/order/cancel", R"({"category":"linear","symbol":"BTCUSDT","orderLinkId":"e2e-2"})");
  rj = parse(r.body);
  ASSERT_EQ(std::int64_t((*rj)["retCode"]), 0) << r.body;
  EXPECT_EQ(str((*rj)["result"]["orderId"]), limit_id);
  auto cancelled = read_until(*priv, [&](const Json& j) {
    return str(j["topic"]) == "order" && str(j["data"].at(0)["orderStatus"]) == "Cancelled";
  }, 20);
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(str((*cancelled)["data"].at(0)["orderId"]), limit_id);

  // The REST views agree.
  auto hist = parse(signed_get("/v5/order/history", "category=linear").body);
  EXPECT_EQ(simdjson::dom::array((*hist)["result"]["list"]).size(), 2u);
  auto execs = parse(signed_get("/v5/execution/list", "category=linear&symbol=BTCUSDT").body);
  EXPECT_EQ(simdjson::dom::array((*execs)["result"]["list"]).size(), 1u);
  auto plist = parse(signed_get("/v5/position/list", "category=linear&symbol=BTCUSDT").body);
  EXPECT_EQ(str((*plist)["result"]["list"].at(0)["size"]), "0.01");
  auto wb = parse(signed_get("/v5/account/wallet-balance", "accountType=UNIFIED").body);
  EXPECT_EQ(*Money::parse(str((*wb)["result"]["list"].at(0)["totalWalletBalance"])), Money::from_units(100'000) - fee);
  auto info = parse(signed_get("/v5/account/info", "").body);
  EXPECT_EQ(std::int64_t((*info)["retCode"]), 0);
  auto key = parse(signed_get("/v5/user/query-api", "").body);
  EXPECT_EQ(str((*key)["result"]["apiKey"]), acc.api_key);
  // The other account saw nothing.
  auto other = parse(signed_get("/v5/order/history", "category=linear", 1).body);
  EXPECT_EQ(simdjson::dom::array((*other)["result"]["list"]).size(), 0u);
}

TEST_F(SimEndToEnd, resting_limit_order_fills_as_maker_when_the_price_crosses_it) {
  start_sim();
  auto t = parse(http->get("/v5/market/tickers?category=linear&symbol=ETHUSDT")->body);
  const Price last = *Price::parse(str((*t)["result"]["list"].at(0)["lastPrice"]));
  // 0.1 % below the market: the seeded path crosses it within the hour.
  const Price limit = Price::from_raw(last.raw() - last.raw() / 1000 / 1'000'000 * 1'000'000);
  auto r = signed_post("/v5/order/create", fmt::format(R"({{"category":"linear","symbol":"ETHUSDT","side":"Buy","orderType":"Limit","qty":"0.1","price":"{}"}})", limit.to_string()));
  auto rj = parse(r.body);
  ASSERT_EQ(std::int64_t((*rj)["retCode"]), 0) << r.body;
  bool filled = false;
  for (int minute = 0; minute < 240 && !filled; ++minute) {
    advance(60s);
    auto h = parse(signed_get("/v5/order/history", "category=linear&symbol=ETHUSDT").body);
    filled = str((*h)["result"]["list"].at(0)["orderStatus"]) == "Filled";
  }
  ASSERT_TRUE(filled);
  auto e = parse(signed_get("/v5/execution/list", "category=linear&symbol=ETHUSDT").body);
  auto exec = (*e)["result"]["list"].at(0);
  EXPECT_TRUE(bool(exec["isMaker"]));
  EXPECT_EQ(str(exec["execPrice"]), limit.to_string());
  EXPECT_EQ(str(exec["feeRate"]), "0.0002");
}

TEST_F(SimEndToEnd, spot_buy_and_sell_move_usdt_and_the_base_coin) {
  start_sim();
  auto r = signed_post("/v5/order/create", R"({"category":"spot","symbol":"SOLUSDT","side":"Buy","orderType":"Market","qty":"1.5","marketUnit":"baseCoin"})");
  ASSERT_EQ(std::int64_t((*parse(r.body))["retCode"]), 0) << r.body;
  auto wb = parse(signed_get("/v5/account/wallet-balance", "accountType=UNIFIED").body);
  auto coins = simdjson::dom::array((*wb)["result"]["list"].at(0)["coin"]);
  ASSERT_EQ(coins.size(), 2u);
  EXPECT_EQ(str(coins.at(1)["coin"]), "SOL");
  EXPECT_EQ(str(coins.at(1)["walletBalance"]), "1.5");
  r = signed_post("/v5/order/create", R"({"category":"spot","symbol":"SOLUSDT","side":"Sell","orderType":"Market","qty":"2"})");
  EXPECT_EQ(std::int64_t((*parse(r.body))["retCode"]), 170131) << r.body;  // more than held
  r = signed_post("/v5/order/create", R"({"category":"spot","symbol":"SOLUSDT","side":"Sell","orderType":"Market","qty":"1.5"})");
  EXPECT_EQ(std::int64_t((*parse(r.body))["retCode"]), 0) << r.body;
}

// Order entry over /v5/trade (Bybit's WebSocket trade guideline): auth, then order.create and
// order.cancel frames answered by reqId with REST's result as data and the limit headers; the
// fill shows on the private stream like a REST order's. Refusals keep their REST retCodes.
TEST_F(SimEndToEnd, orders_over_the_trade_websocket_are_answered_by_req_id_and_fill_like_rest_orders) {
  start_sim();
  const auto& acc = options.accounts[0];
  const bybit::BybitSigner signer(acc.api_key, acc.api_secret);
  auto trade = ws("/v5/trade");
  ASSERT_TRUE(trade);
  auto next = [&] { return read_until(*trade, [](const Json&) { return true; }, 1); };
  auto header = [&](std::int64_t offset_ms = 0) {
    return fmt::format(R"("header":{{"X-BAPI-TIMESTAMP":"{}","X-BAPI-RECV-WINDOW":"5000"}})", now_ms() + offset_ms);
  };
  // Before auth: refused.
  ASSERT_TRUE(trade->send(R"({"reqId":"early","op":"order.create",)" + header() +
                          R"(,"args":[{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"0.01"}]})"));
  auto early = next();
  ASSERT_TRUE(early);
  EXPECT_EQ(std::int64_t((*early)["retCode"]), 10003);
  EXPECT_EQ(str((*early)["reqId"]), "early");
  // Auth: the private stream's signature, answered in the trade shape.
  ASSERT_TRUE(trade->send(signer.ws_auth_frame(now_ms() + 10'000)));
  auto auth = next();
  ASSERT_TRUE(auth);
  EXPECT_EQ(std::int64_t((*auth)["retCode"]), 0);
  EXPECT_EQ(str((*auth)["op"]), "auth");
  EXPECT_FALSE(str((*auth)["connId"]).empty());
  ASSERT_TRUE(trade->send(signer.ws_auth_frame(now_ms() + 10'000)));
  auto again = next();
  ASSERT_TRUE(again);
  EXPECT_EQ(std::int64_t((*again)["retCode"]), 20001);

  auto priv = ws("/v5/private");
  ASSERT_TRUE(priv);
  ASSERT_TRUE(priv->send(signer.ws_auth_frame(now_ms() + 10'000)));
  ASSERT_TRUE(read_until(*priv, [](const Json&) { return true; }));
  ASSERT_TRUE(priv->send(R"({"op":"subscribe","args":["order"]})"));
  ASSERT_TRUE(read_until(*priv, [](const Json&) { return true; }));

  ASSERT_TRUE(trade->send(R"({"reqId":"c:ws-1","op":"order.create",)" + header() +
                          R"(,"args":[{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"0.01","orderLinkId":"ws-1"}]})"));
  auto created = next();
  ASSERT_TRUE(created);
  EXPECT_EQ(std::int64_t((*created)["retCode"]), 0) << simdjson::to_string((*created).root);
  EXPECT_EQ(str((*created)["reqId"]), "c:ws-1");
  EXPECT_EQ(str((*created)["op"]), "order.create");
  EXPECT_EQ(str((*created)["data"]["orderLinkId"]), "ws-1");
  EXPECT_FALSE(str((*created)["data"]["orderId"]).empty());
  EXPECT_EQ(str((*created)["header"]["X-Bapi-Limit"]), std::to_string(options.order_create_linear));
  EXPECT_EQ(str((*created)["header"]["X-Bapi-Limit-Status"]), std::to_string(options.order_create_linear - 1));
  EXPECT_EQ(str((*created)["header"]["Timenow"]), std::to_string(now_ms()));
  auto filled = read_until(*priv, [](const Json& j) { return str(j["topic"]) == "order"; }, 20);
  ASSERT_TRUE(filled);
  EXPECT_EQ(str((*filled)["data"].at(0)["orderLinkId"]), "ws-1");
  EXPECT_EQ(str((*filled)["data"].at(0)["orderStatus"]), "Filled");

  // A resting limit, cancelled over the channel; the cancel of a gone order keeps REST's 110001.
  ASSERT_TRUE(trade->send(R"({"reqId":"c:ws-2","op":"order.create",)" + header() +
                          R"(,"args":[{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.01","price":"1000","orderLinkId":"ws-2"}]})"));
  auto resting = next();
  ASSERT_TRUE(resting);
  EXPECT_EQ(std::int64_t((*resting)["retCode"]), 0);
  ASSERT_TRUE(trade->send(R"({"reqId":"x:ws-2","op":"order.cancel",)" + header() +
                          R"(,"args":[{"category":"linear","symbol":"BTCUSDT","orderLinkId":"ws-2"}]})"));
  auto cancelled = next();
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(std::int64_t((*cancelled)["retCode"]), 0);
  EXPECT_EQ(str((*cancelled)["op"]), "order.cancel");
  EXPECT_EQ(str((*cancelled)["data"]["orderLinkId"]), "ws-2");
  ASSERT_TRUE(trade->send(R"({"reqId":"x:ws-2b","op":"order.cancel",)" + header() +
                          R"(,"args":[{"category":"linear","symbol":"BTCUSDT","orderLinkId":"ws-2"}]})"));
  auto gone = next();
  ASSERT_TRUE(gone);
  EXPECT_EQ(std::int64_t((*gone)["retCode"]), 110001);

  // Bad frames: a stale timestamp, no header, two args, an unknown op. Each named, none fatal.
  const std::string order = R"([{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Market","qty":"0.01"}])";
  ASSERT_TRUE(trade->send(R"({"reqId":"stale","op":"order.create",)" + header(-60'000) + R"(,"args":)" + order + "}"));
  auto stale = next();
  ASSERT_TRUE(stale);
  EXPECT_EQ(std::int64_t((*stale)["retCode"]), 10002);
  ASSERT_TRUE(trade->send(R"({"reqId":"nohdr","op":"order.create","args":)" + order + "}"));
  auto nohdr = next();
  ASSERT_TRUE(nohdr);
  EXPECT_EQ(std::int64_t((*nohdr)["retCode"]), 10001);
  ASSERT_TRUE(trade->send(R"({"reqId":"two","op":"order.create",)" + header() +
                          R"(,"args":[{"category":"linear"},{"category":"linear"}]})"));
  auto two = next();
  ASSERT_TRUE(two);
  EXPECT_EQ(std::int64_t((*two)["retCode"]), 10001);
  ASSERT_TRUE(trade->send(R"({"reqId":"amend","op":"order.amend",)" + header() + R"(,"args":)" + order + "}"));
  auto amend = next();
  ASSERT_TRUE(amend);
  EXPECT_EQ(std::int64_t((*amend)["retCode"]), 10404);
  ASSERT_TRUE(trade->send(R"({"op":"ping"})"));
  auto pong = next();
  ASSERT_TRUE(pong);
  EXPECT_EQ(str((*pong)["op"]), "pong");
  EXPECT_EQ(std::int64_t((*stats())["ws"]["orders"]), 4);  // the two creates and two cancels that reached the book
}

// --latency: every REST answer and order-channel reply leaves that much later (a far venue);
// market pushes do not wait. Only a lower bound is checked (never an upper one).
TEST_F(SimEndToEnd, latency_holds_back_rest_answers_and_order_channel_replies) {
  options.latency = 60ms;
  start_sim();
  auto t0 = std::chrono::steady_clock::now();
  auto r = http->get("/v5/market/time");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 60ms);
  const auto& acc = options.accounts[0];
  const bybit::BybitSigner signer(acc.api_key, acc.api_secret);
  auto trade = ws("/v5/trade");
  ASSERT_TRUE(trade);
  t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(trade->send(signer.ws_auth_frame(now_ms() + 10'000)));
  auto auth = read_until(*trade, [](const Json&) { return true; }, 1);
  ASSERT_TRUE(auth);
  EXPECT_EQ(std::int64_t((*auth)["retCode"]), 0);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 60ms);
}

}  // namespace
}  // namespace twinstar::venue::sim::testing
