// Bybit v5 private trading end to end against `twinstar sim` on loopback: orders, queries,
// the private stream, clock skew and refused credentials.
#include "venue/bybit/bybit_trading.hpp"

#include <condition_variable>

#include "sim_fixture.hpp"

namespace twinstar::venue::sim::testing {
namespace {

using bybit::BybitTrading;
using bybit::BybitTradingOptions;

class BybitTradingSim : public SimFixture {
 protected:
  std::unique_ptr<BybitTrading> trading(Clock& c, std::string secret = {}) {
    BybitTradingOptions o;
    o.rest_url = sim->rest_url();
    o.private_ws_url = sim->ws_url("/v5/private");
    o.api_key = options.accounts[0].api_key;
    o.api_secret = secret.empty() ? options.accounts[0].api_secret : secret;
    // Limiter waits are simulated time, which the driver runs 50x fast: a slow (sanitizer)
    // build must not turn a short wait into a timeout.
    o.limiter_timeout = std::chrono::hours(1);
    auto limiter = registry.limiter(twinstar::Exchange::bybit, "alice");
    EXPECT_TRUE(limiter);
    auto t = BybitTrading::create(o, *limiter, c);
    EXPECT_TRUE(t) << (t ? "" : t.error().message);
    return t ? std::move(*t) : nullptr;
  }

  // Collects stream events; waits (bounded, real time) for a predicate over them.
  struct Events {
    std::mutex mutex;
    std::condition_variable cv;
    std::vector<OrderState> orders;
    std::vector<Fill> fills;
    TradingEvents handlers() {
      return TradingEvents{
          [this](const OrderState& o) {
            std::lock_guard l(mutex);
            orders.push_back(o);
            cv.notify_all();
          },
          [this](const Fill& f) {
            std::lock_guard l(mutex);
            fills.push_back(f);
            cv.notify_all();
          },
          {}};
    }
    template <class P>
    bool wait(P pred) {
      std::unique_lock l(mutex);
      return cv.wait_for(l, 5s, [&] { return pred(*this); });
    }
  };

  // The limiter refills on the injected clock: keep simulated time moving (50 ms per real ms)
  // while a test runs, as a live engine's clock would.
  void drive(ManualClock* also = nullptr) {
    driver = std::jthread([this, also](std::stop_token st) {
      for (int i = 0; i < 120'000 && !st.stop_requested(); ++i) {
        clock.advance(50ms);
        if (also) also->advance(50ms);
        std::this_thread::sleep_for(1ms);
      }
    });
  }
  void TearDown() override {
    driver = {};
    SimFixture::TearDown();
  }

  RateLimiterRegistry registry{clock};
  std::jthread driver;
};

PlaceOrder limit_buy(std::string id, std::string_view price) {
  PlaceOrder o;
  o.symbol = *Symbol::parse("BTCUSDT");
  o.side = TradeSide::buy;
  o.type = TradeOrderType::limit;
  o.quantity = *Quantity::parse("0.01");
  o.price = *Price::parse(price);
  o.client_id = std::move(id);
  return o;
}

TEST_F(BybitTradingSim, limit_order_rests_shows_in_open_orders_and_cancels_with_stream_updates) {
  start_sim();
  auto t = trading(clock);
  ASSERT_TRUE(t);
  drive();
  Events events;
  ASSERT_TRUE(t->start_stream(events.handlers()));
  auto ack = t->place_order(limit_buy("bot1-0001", "1000"));  // far below the market: rests
  ASSERT_TRUE(ack) << ack.error().message;
  EXPECT_EQ(ack->client_id, "bot1-0001");
  EXPECT_FALSE(ack->order_id.empty());
  auto open = t->open_orders(twinstar::Market::linear, *Symbol::parse("BTCUSDT"));
  ASSERT_TRUE(open) << open.error().message;
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ((*open)[0].client_id, "bot1-0001");
  EXPECT_EQ((*open)[0].status, TradeOrderStatus::open);
  EXPECT_EQ((*open)[0].price, *Price::parse("1000"));
  ASSERT_TRUE(t->cancel_order(twinstar::Market::linear, *Symbol::parse("BTCUSDT"), "bot1-0001"));
  auto after = t->open_orders(twinstar::Market::linear, *Symbol::parse("BTCUSDT"));
  ASSERT_TRUE(after);
  EXPECT_TRUE(after->empty());
  auto again = t->cancel_order(twinstar::Market::linear, *Symbol::parse("BTCUSDT"), "bot1-0001");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::not_found) << again.error().message;
  EXPECT_TRUE(events.wait([](Events& e) {
    return std::any_of(e.orders.begin(), e.orders.end(),
                       [](const OrderState& o) { return o.client_id == "bot1-0001" && o.status == TradeOrderStatus::cancelled; });
  }));
  t->stop_stream();
}

TEST_F(BybitTradingSim, market_order_fills_into_a_position_and_the_balance_and_fill_stream_show_it) {
  start_sim();
  auto t = trading(clock);
  ASSERT_TRUE(t);
  Events events;
  ASSERT_TRUE(t->start_stream(events.handlers()));
  auto before = t->balances();
  ASSERT_TRUE(before) << before.error().message;
  ASSERT_FALSE(before->empty());
  EXPECT_EQ((*before)[0].coin, "USDT");
  PlaceOrder o;
  o.symbol = *Symbol::parse("BTCUSDT");
  o.side = TradeSide::buy;
  o.quantity = *Quantity::parse("0.01");
  o.client_id = "bot1-0002";
  ASSERT_TRUE(t->place_order(o));
  drive();  // the sim matches on its tick
  std::this_thread::sleep_for(50ms);
  auto pos = t->positions(*Symbol::parse("BTCUSDT"));
  ASSERT_TRUE(pos) << pos.error().message;
  ASSERT_EQ(pos->size(), 1u);
  EXPECT_EQ((*pos)[0].size, *Quantity::parse("0.01"));
  EXPECT_EQ((*pos)[0].side, TradeSide::buy);
  EXPECT_TRUE(events.wait([](Events& e) {
    return std::any_of(e.fills.begin(), e.fills.end(), [](const Fill& f) { return f.client_id == "bot1-0002"; });
  }));
  auto after = t->balances();
  ASSERT_TRUE(after);
  EXPECT_LT((*after)[0].available, (*before)[0].available);  // margin and fee are taken
  EXPECT_EQ(std::int64_t((*stats())["violations"]), 0);
}

TEST_F(BybitTradingSim, clock_skew_is_a_clear_error_and_signing_uses_the_venue_time_after_sync) {
  start_sim();
  ManualClock skewed(clock.now() - 30s);  // this host's clock is 30 s behind the venue
  auto t = trading(skewed);
  ASSERT_TRUE(t);  // no clock driver here: both clocks stand still, so the offset is exact
  auto before_sync = t->open_orders(twinstar::Market::linear, std::nullopt);
  ASSERT_FALSE(before_sync);
  EXPECT_NE(before_sync.error().message.find("clock skew"), std::string::npos) << before_sync.error().message;
  auto offset = t->sync_time();
  ASSERT_FALSE(offset);
  EXPECT_EQ(offset.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(offset.error().message.find("30000 ms behind"), std::string::npos) << offset.error().message;
  auto after_sync = t->open_orders(twinstar::Market::linear, std::nullopt);
  EXPECT_TRUE(after_sync) << after_sync.error().message;
}

TEST_F(BybitTradingSim, wrong_secret_is_refused_without_logging_it) {
  start_sim();
  auto t = trading(clock, "not-the-secret");
  ASSERT_TRUE(t);
  auto r = t->balances();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("credentials refused"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find("not-the-secret"), std::string::npos);
  Events events;
  auto st = t->start_stream(events.handlers());
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("auth refused"), std::string::npos) << st.error().message;
}

}  // namespace
}  // namespace twinstar::venue::sim::testing
