// Binance USDⓈ-M private trading against a small fake of the venue on 127.0.0.1 that checks
// what the real one checks: the API key, the HMAC signature over the query (§2.5 rules, the
// signer is verified against the official vectors in tests/venue_protocol) and the timestamp
// window (-1021), and pushes ORDER_TRADE_UPDATE on the user-data stream.
#include "venue/binance/binance_trading.hpp"

#include <condition_variable>
#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "net/server.hpp"

namespace twinstar::venue::binance {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kKey = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83";
constexpr std::string_view kSecret = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";

class FakeBinance : public net::ServerHandler {
 public:
  explicit FakeBinance(Clock& clock) : clock_(clock) {}

  net::HttpResponse on_http(const net::HttpRequest& r) override {
    const auto now = to_epoch_ms(clock_.now());
    if (r.path == "/fapi/v1/time") return ok(fmt::format(R"({{"serverTime":{}}})", now));
    if (r.header("X-MBX-APIKEY") != kKey) return fail(401, -2015, "Invalid API-key, IP, or permissions for action.");
    if (r.path == "/fapi/v1/listenKey") return ok(R"({"listenKey":"key123"})");
    const auto sig = r.query.rfind("&signature=");
    if (sig == std::string::npos) return fail(400, -1102, "Mandatory parameter 'signature' was not sent.");
    const std::string payload = r.query.substr(0, sig);
    if (rest_signature(kSecret, payload, r.body) != r.query.substr(sig + 11)) {
      return fail(400, -1022, "Signature for this request is not valid.");
    }
    std::map<std::string, std::string> p;
    for (auto& [k, v] : net::parse_query(payload)) p[k] = v;
    const auto ts = std::stoll(p["timestamp"]);
    const auto window = std::stoll(p["recvWindow"]);
    if (!(ts < now + 1000 && now - ts <= window)) {
      return fail(400, -1021, "Timestamp for this request is outside of the recvWindow.");
    }
    if (r.path == "/fapi/v1/order" && r.method == "POST") {
      Order o{p["symbol"], p["newClientOrderId"], p["side"], p["type"], p["quantity"], p.count("price") ? p["price"] : "0",
              p["type"] == "MARKET" ? "FILLED" : "NEW", next_id++};
      if (o.status == "FILLED") position += std::stod(o.qty) * (o.side == "BUY" ? 1 : -1);
      orders[o.client] = o;
      push(o, o.status == "FILLED" ? "TRADE" : "NEW");
      return ok(json(o));
    }
    if (r.path == "/fapi/v1/order" && r.method == "DELETE") {
      auto it = orders.find(p["origClientOrderId"]);
      if (it == orders.end() || it->second.status != "NEW") return fail(400, -2011, "Unknown order sent.");
      it->second.status = "CANCELED";
      push(it->second, "CANCELED");
      return ok(json(it->second));
    }
    if (r.path == "/fapi/v1/openOrders") {
      std::string items;
      for (const auto& [id, o] : orders) {
        if (o.status == "NEW") items += (items.empty() ? "" : ",") + json(o);
      }
      return ok("[" + items + "]");
    }
    if (r.path == "/fapi/v2/positionRisk") {
      return ok(fmt::format(R"([{{"symbol":"BTCUSDT","positionAmt":"{:.3f}","entryPrice":"60000.0","unRealizedProfit":"1.5"}}])",
                            position));
    }
    if (r.path == "/fapi/v2/balance") {
      return ok(R"([{"asset":"USDT","balance":"1000.0","crossUnPnl":"1.5","availableBalance":"900.0"}])");
    }
    return fail(404, -1000, "unknown path");
  }
  std::optional<net::HttpResponse> on_ws_upgrade(const net::HttpRequest& r) override {
    if (r.path == "/private/ws" && r.query.find("listenKey=key123") != std::string::npos) return std::nullopt;
    net::HttpResponse res;
    res.status = 404;
    return res;
  }
  void on_ws_open(const std::shared_ptr<net::WsSession>& s) override { sessions.push_back(s); }
  void on_ws_message(const std::shared_ptr<net::WsSession>&, std::string_view) override {}
  void on_ws_close(const std::shared_ptr<net::WsSession>& s, std::string_view) override { std::erase(sessions, s); }

 private:
  struct Order {
    std::string symbol, client, side, type, qty, price, status;
    std::int64_t id = 0;
  };
  static std::string json(const Order& o) {
    return fmt::format(
        R"({{"orderId":{},"symbol":"{}","status":"{}","clientOrderId":"{}","price":"{}","avgPrice":"0","origQty":"{}","executedQty":"{}","type":"{}","side":"{}"}})",
        o.id, o.symbol, o.status, o.client, o.price, o.qty, o.status == "FILLED" ? o.qty : "0", o.type, o.side);
  }
  void push(const Order& o, std::string_view exec) {
    const bool trade = exec == "TRADE";
    const auto event = fmt::format(
        R"({{"e":"ORDER_TRADE_UPDATE","E":1,"T":1,"o":{{"s":"{}","c":"{}","S":"{}","o":"{}","q":"{}","p":"{}","ap":"{}","x":"{}","X":"{}","i":{},"l":"{}","z":"{}","L":"{}","n":"{}","T":1700000000000,"t":{}}}}})",
        o.symbol, o.client, o.side, o.type, o.qty, o.price, trade ? "60000" : "0", exec, o.status, o.id, trade ? o.qty : "0",
        trade ? o.qty : "0", trade ? "60000" : "0", trade ? "0.24" : "0", o.id * 10);
    for (auto& s : sessions) s->send(event);
  }
  static net::HttpResponse ok(std::string body) {
    net::HttpResponse r;
    r.body = std::move(body);
    return r;
  }
  static net::HttpResponse fail(int status, int code, std::string_view msg) {
    net::HttpResponse r;
    r.status = status;
    r.body = fmt::format(R"({{"code":{},"msg":"{}"}})", code, msg);
    return r;
  }
  Clock& clock_;
  std::map<std::string, Order> orders;  // io thread
  std::vector<std::shared_ptr<net::WsSession>> sessions;  // io thread
  std::int64_t next_id = 1;
  double position = 0;
};

class BinanceTradingFake : public ::testing::Test {
 protected:
  void SetUp() override {
    server = std::make_unique<net::Server>(net::ServerOptions{}, venue);
    ASSERT_TRUE(server->start());
    driver = std::jthread([this](std::stop_token st) {  // limiter refills on the injected clock
      for (int i = 0; i < 120'000 && !st.stop_requested(); ++i) {
        clock.advance(20ms);
        skewed.advance(20ms);
        std::this_thread::sleep_for(1ms);
      }
    });
  }
  void TearDown() override {
    driver = {};
    server->stop();
  }
  std::unique_ptr<BinanceUsdmTrading> trading(Clock& c, std::string secret = std::string(kSecret)) {
    BinanceTradingOptions o;
    o.rest_url = fmt::format("http://127.0.0.1:{}", server->port());
    o.private_ws_base = fmt::format("ws://127.0.0.1:{}/private", server->port());
    o.api_key = std::string(kKey);
    o.api_secret = std::move(secret);
    auto t = BinanceUsdmTrading::create(o, *registry.limiter(Exchange::binance, "main", Market::linear), c);
    EXPECT_TRUE(t);
    return t ? std::move(*t) : nullptr;
  }

  ManualClock clock{*parse_iso8601("2025-01-01T00:00:00Z")};
  ManualClock skewed{*parse_iso8601("2025-01-01T00:00:00Z") + 20s};  // 20 s ahead of the venue
  FakeBinance venue{clock};
  std::unique_ptr<net::Server> server;
  RateLimiterRegistry registry{clock};
  std::jthread driver;
};

PlaceOrder order(std::string id, TradeOrderType type) {
  PlaceOrder o;
  o.symbol = *Symbol::parse("BTCUSDT");
  o.type = type;
  o.quantity = *Quantity::parse("0.010");
  if (type == TradeOrderType::limit) o.price = *Price::parse("50000");
  o.client_id = std::move(id);
  return o;
}

TEST_F(BinanceTradingFake, orders_queries_and_the_user_data_stream) {
  auto t = trading(clock);
  ASSERT_TRUE(t);
  std::mutex m;
  std::condition_variable cv;
  std::vector<OrderState> updates;
  std::vector<Fill> fills;
  ASSERT_TRUE(t->start_stream(TradingEvents{
      [&](const OrderState& o) { std::lock_guard l(m); updates.push_back(o); cv.notify_all(); },
      [&](const Fill& f) { std::lock_guard l(m); fills.push_back(f); cv.notify_all(); },
      {}}));
  auto ack = t->place_order(order("bot1-b1", TradeOrderType::limit));
  ASSERT_TRUE(ack) << ack.error().message;
  EXPECT_EQ(ack->client_id, "bot1-b1");
  EXPECT_EQ(ack->order_id, "1");
  auto open = t->open_orders(Market::linear, *Symbol::parse("BTCUSDT"));
  ASSERT_TRUE(open) << open.error().message;
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ((*open)[0].status, TradeOrderStatus::open);
  EXPECT_EQ((*open)[0].price, *Price::parse("50000"));
  ASSERT_TRUE(t->cancel_order(Market::linear, *Symbol::parse("BTCUSDT"), "bot1-b1"));
  auto gone = t->cancel_order(Market::linear, *Symbol::parse("BTCUSDT"), "bot1-b1");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ErrorCode::not_found) << gone.error().message;
  ASSERT_TRUE(t->place_order(order("bot1-b2", TradeOrderType::market)));
  auto pos = t->positions(*Symbol::parse("BTCUSDT"));
  ASSERT_TRUE(pos) << pos.error().message;
  ASSERT_EQ(pos->size(), 1u);
  EXPECT_EQ((*pos)[0].size, *Quantity::parse("0.01"));
  auto bal = t->balances();
  ASSERT_TRUE(bal) << bal.error().message;
  EXPECT_EQ((*bal)[0].available, *Money::parse("900"));
  std::unique_lock l(m);
  EXPECT_TRUE(cv.wait_for(l, 5s, [&] { return !fills.empty() && updates.size() >= 3; }));
  EXPECT_EQ(fills[0].client_id, "bot1-b2");
  EXPECT_EQ(fills[0].price, *Price::parse("60000"));
  EXPECT_TRUE(std::any_of(updates.begin(), updates.end(),
                          [](const OrderState& o) { return o.client_id == "bot1-b1" && o.status == TradeOrderStatus::cancelled; }));
  l.unlock();
  t->stop_stream();
}

TEST_F(BinanceTradingFake, clock_skew_is_a_clear_error_and_corrected_after_sync) {
  auto t = trading(skewed);
  ASSERT_TRUE(t);
  auto before = t->open_orders(Market::linear, std::nullopt);
  ASSERT_FALSE(before);
  EXPECT_NE(before.error().message.find("clock skew"), std::string::npos) << before.error().message;
  auto offset = t->sync_time();
  ASSERT_FALSE(offset);
  EXPECT_NE(offset.error().message.find("ahead of"), std::string::npos) << offset.error().message;
  EXPECT_TRUE(t->open_orders(Market::linear, std::nullopt));
}

TEST_F(BinanceTradingFake, a_wrong_secret_is_refused_and_never_printed) {
  auto t = trading(clock, "wrong-secret");
  auto r = t->balances();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("credentials refused"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find("wrong-secret"), std::string::npos);
}

TEST(BinanceOrderTradeUpdate, trade_event_gives_the_order_and_its_fill) {
  auto u = parse_order_trade_update(
      R"({"e":"ORDER_TRADE_UPDATE","E":1568879465651,"T":1568879465650,"o":{"s":"BTCUSDT","c":"TEST","S":"SELL","o":"LIMIT","f":"GTC","q":"0.001","p":"9910","ap":"9910","sp":"0","x":"TRADE","X":"FILLED","i":8886774,"l":"0.001","z":"0.001","L":"9910","N":"USDT","n":"0.0039","T":1568879465650,"t":1234}})");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->order.status, TradeOrderStatus::filled);
  EXPECT_EQ(u->order.side, TradeSide::sell);
  EXPECT_EQ(u->order.order_id, "8886774");
  ASSERT_TRUE(u->fill);
  EXPECT_EQ(u->fill->quantity, *Quantity::parse("0.001"));
  EXPECT_EQ(u->fill->fee, *Money::parse("0.0039"));
  EXPECT_FALSE(parse_order_trade_update(R"({"e":"ACCOUNT_UPDATE"})"));
  EXPECT_FALSE(parse_order_trade_update("{\"e\":\"ORDER_TRA"));
}

}  // namespace
}  // namespace twinstar::venue::binance
