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
    o.trade_ws_url = sim->ws_url("/v5/trade");
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

// Collects the order channel's replies and written tokens.
struct ChannelLog {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<ChannelReply> replies;
  std::vector<std::uint64_t> written;
  OrderChannelEvents handlers() {
    return OrderChannelEvents{[this](const ChannelReply& r) {
                                std::lock_guard l(mutex);
                                replies.push_back(r);
                                cv.notify_all();
                              },
                              [this](std::uint64_t token) {
                                std::lock_guard l(mutex);
                                written.push_back(token);
                              },
                              {}};
  }
  std::optional<ChannelReply> reply_for(std::uint64_t token) {
    std::unique_lock l(mutex);
    std::optional<ChannelReply> out;
    cv.wait_for(l, 5s, [&] {
      for (const auto& r : replies) {
        if (r.token == token) out = r;
      }
      return out.has_value();
    });
    return out;
  }
};

// WebSocket order entry: orders and cancels leave without waiting, each answered by its token;
// refusals keep REST's error codes; once the venue is gone, sending says so (unavailable) and
// what was unanswered is reported lost.
TEST_F(BybitTradingSim, the_order_channel_places_and_cancels_without_waiting_and_reports_each_answer) {
  start_sim();
  auto t = trading(clock);
  ASSERT_TRUE(t);
  drive();
  Events events;
  ASSERT_TRUE(t->start_stream(events.handlers()));
  ChannelLog log;
  ASSERT_TRUE(t->start_order_channel(log.handlers()));
  PlaceOrder market;
  market.symbol = *Symbol::parse("BTCUSDT");
  market.side = TradeSide::buy;
  market.quantity = *Quantity::parse("0.01");
  market.client_id = "bot1-ws1";
  ASSERT_TRUE(t->send_order(market, 1));
  ASSERT_TRUE(t->send_order(limit_buy("bot1-ws2", "1000"), 2));  // rests
  auto filled = log.reply_for(1);
  ASSERT_TRUE(filled);
  EXPECT_TRUE(filled->result) << filled->result.error().message;
  EXPECT_EQ(filled->client_id, "bot1-ws1");
  EXPECT_FALSE(filled->cancel);
  auto resting = log.reply_for(2);
  ASSERT_TRUE(resting);
  EXPECT_TRUE(resting->result);
  EXPECT_TRUE(events.wait([](Events& e) {
    return std::any_of(e.fills.begin(), e.fills.end(), [](const Fill& f) { return f.client_id == "bot1-ws1"; });
  }));
  ASSERT_TRUE(t->send_cancel(twinstar::Market::linear, *Symbol::parse("BTCUSDT"), "bot1-ws2", 3));
  auto cancelled = log.reply_for(3);
  ASSERT_TRUE(cancelled);
  EXPECT_TRUE(cancelled->result);
  EXPECT_TRUE(cancelled->cancel);
  ASSERT_TRUE(t->send_cancel(twinstar::Market::linear, *Symbol::parse("BTCUSDT"), "bot1-ws2", 4));
  auto gone = log.reply_for(4);
  ASSERT_TRUE(gone);
  ASSERT_FALSE(gone->result);
  EXPECT_EQ(gone->result.error().code, ErrorCode::not_found) << gone->result.error().message;
  PlaceOrder huge = market;  // more than the wallet can margin: the venue refuses it
  huge.quantity = *Quantity::parse("5000");
  huge.client_id = "bot1-ws5";
  ASSERT_TRUE(t->send_order(huge, 5));
  auto refused = log.reply_for(5);
  ASSERT_TRUE(refused);
  ASSERT_FALSE(refused->result);
  EXPECT_EQ(refused->result.error().code, ErrorCode::invalid_argument) << refused->result.error().message;
  {
    std::lock_guard l(log.mutex);
    EXPECT_EQ(log.written, (std::vector<std::uint64_t>{1, 2, 3, 4, 5}));
  }
  EXPECT_EQ(std::int64_t((*stats())["ws"]["orders"]), 5);
  EXPECT_EQ(std::int64_t((*stats())["violations"]), 0);

  // The venue goes away: the channel says it cannot send; nothing waits forever.
  sim->stop();
  bool refused_while_down = false;
  for (int i = 0; i < 200 && !refused_while_down; ++i) {
    auto s = t->send_order(limit_buy("bot1-ws6-" + std::to_string(i), "1000"), 100 + i);
    if (!s) {
      refused_while_down = s.error().code == ErrorCode::unavailable;
    } else {
      auto lost = log.reply_for(100 + i);  // queued or sent just before the drop: reported, never silent
      ASSERT_TRUE(lost);
      EXPECT_FALSE(lost->result);
    }
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(refused_while_down);
  t->stop_order_channel();
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
