#include "engine/trading_loop.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "capital/ledger.hpp"
#include "strategy/strategy.hpp"

namespace twinstar {
namespace {

using namespace std::chrono;

const Timestamp kStart = Timestamp(sys_days(year(2026) / 1 / 5));

// Records what it is handed, on whichever thread calls it.
class RecordingBot final : public Bot {
 public:
  RecordingBot(std::string name, std::vector<SeriesKey> series, CapitalLedger& ledger, OrderGateway& gateway, Clock& clock)
      : name_(std::move(name)), series_(std::move(series)), trader_(TraderOptions{.bot = name_}, ledger, gateway, clock) {}
  const std::string& name() const noexcept override { return name_; }
  std::vector<SeriesKey> subscriptions() const override { return series_; }
  void on_candle(const SeriesKey& key, const Candle& c) override { seen.emplace_back(key.symbol.str(), to_epoch_ms(c.open_time), c.closed, c.close); }
  void on_order_update(const OrderUpdate& u) override { updates.push_back(u.client_id); }
  void on_time(Timestamp) override { ++ticks; }
  Trader& trader() noexcept override { return trader_; }
  const Trader& trader() const noexcept override { return trader_; }
  std::size_t warmup() const noexcept override { return 0; }
  void warm_up(const SeriesKey&, const Candle&) override {}
  const Strategy& strategy() const noexcept override { return *strategy_; }
  void set_strategy(std::unique_ptr<Strategy> s) override { strategy_ = std::move(s); }

  std::vector<std::tuple<std::string, std::int64_t, bool, Price>> seen;
  std::vector<std::string> updates;
  std::atomic<int> ticks = 0;  // read by the test thread while the loop ticks

 private:
  std::string name_;
  std::vector<SeriesKey> series_;
  Trader trader_;
  std::unique_ptr<Strategy> strategy_ = *make_strategy("ma_cross", {});
};

class NullGateway final : public OrderGateway {
 public:
  Status submit(const OrderRequest&) override { return {}; }
  Status cancel(const std::string&, const Symbol&) override { return {}; }
};

SeriesKey key(const char* symbol) { return SeriesKey{Exchange::bybit, Market::linear, *Symbol::parse(symbol), Interval::m15}; }

Candle candle(int i, double close, bool closed) {
  Candle c;
  c.open_time = floor_ms(kStart + minutes(15) * i);
  c.open = c.high = c.low = c.close = Price::from_raw(static_cast<std::int64_t>(close * 1e8));
  c.high = c.close + Price::from_units(1);
  c.volume = Quantity::from_units(1);
  c.closed = closed;
  return c;
}

TEST(TradingLoop, routes_candles_to_subscribers_in_order_and_coalesces_queued_open_updates) {
  ManualClock clock(kStart);
  CapitalLedger ledger = *CapitalLedger::in_memory({}, clock);
  NullGateway gateway;
  TradingLoop loop(clock, clock, {.inbox_capacity = 64});
  auto a = std::make_unique<RecordingBot>("a", std::vector{key("BTCUSDT")}, ledger, gateway, clock);
  auto b = std::make_unique<RecordingBot>("b", std::vector{key("BTCUSDT"), key("ETHUSDT")}, ledger, gateway, clock);
  RecordingBot* pa = a.get();
  RecordingBot* pb = b.get();
  loop.add_bot(std::move(a));
  loop.add_bot(std::move(b));

  // Queued before the thread starts: three updates of one open candle become one (the newest).
  loop.post_candle(key("BTCUSDT"), candle(0, 100, false));
  loop.post_candle(key("BTCUSDT"), candle(0, 101, false));
  loop.post_candle(key("ETHUSDT"), candle(0, 50, true));
  loop.post_candle(key("BTCUSDT"), candle(0, 102, false));
  loop.post_candle(key("BTCUSDT"), candle(0, 103, true));
  loop.post_candle(key("SOLUSDT"), candle(0, 10, true));  // nobody watches it
  loop.start();
  ASSERT_TRUE(loop.call([] {}));

  using Seen = std::tuple<std::string, std::int64_t, bool, Price>;
  const auto t0 = to_epoch_ms(floor_ms(kStart));
  EXPECT_EQ(pa->seen, (std::vector<Seen>{{"BTCUSDT", t0, false, Price::from_units(102)}, {"BTCUSDT", t0, true, Price::from_units(103)}}));
  EXPECT_EQ(pb->seen, (std::vector<Seen>{{"BTCUSDT", t0, false, Price::from_units(102)},
                                         {"ETHUSDT", t0, true, Price::from_units(50)},
                                         {"BTCUSDT", t0, true, Price::from_units(103)}}));
  const auto s = loop.stats();
  EXPECT_EQ(s.coalesced, 2u);
  EXPECT_EQ(s.candles, 3u);
  EXPECT_EQ(s.open_updates, 1u);
  EXPECT_EQ(loop.handling_latency().count(), 3u);

  // Order updates: to the owner only ("<bot>-<n>" ids); unknown ids are counted.
  loop.post_order_update(OrderUpdate{.client_id = "nobody-1"});
  ASSERT_TRUE(loop.call([] {}));
  EXPECT_EQ(loop.stats().unrouted_updates, 1u);

  // Ticks follow the engine clock.
  const int ticks = pa->ticks.load();
  clock.advance(seconds(3));
  ASSERT_TRUE(loop.call([] {}));
  for (int i = 0; i < 100 && pa->ticks == ticks; ++i) {
    clock.advance(seconds(1));
    std::this_thread::sleep_for(milliseconds(1));
  }
  EXPECT_GT(pa->ticks.load(), ticks);
  loop.stop();
  auto after = loop.call([] {}, milliseconds(100));
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code, ErrorCode::cancelled);
}

TEST(TradingLoop, a_full_inbox_blocks_producers_without_dropping_closed_candles) {
  ManualClock clock(kStart);
  CapitalLedger ledger = *CapitalLedger::in_memory({}, clock);
  NullGateway gateway;
  TradingLoop loop(clock, clock, {.inbox_capacity = 4});
  auto a = std::make_unique<RecordingBot>("a", std::vector{key("BTCUSDT")}, ledger, gateway, clock);
  RecordingBot* pa = a.get();
  loop.add_bot(std::move(a));
  std::thread producer([&] {
    for (int i = 0; i < 200; ++i) loop.post_candle(key("BTCUSDT"), candle(i, 100 + i, true));
  });
  // The producer fills the inbox and waits; starting the loop drains it.
  while (loop.stats().blocked_pushes == 0) std::this_thread::sleep_for(milliseconds(1));
  loop.start();
  producer.join();
  ASSERT_TRUE(loop.call([] {}));
  ASSERT_EQ(pa->seen.size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(std::get<3>(pa->seen[static_cast<std::size_t>(i)]), Price::from_units(100 + i));
  EXPECT_LE(loop.stats().high_water, 4u);
}

// The original MultiTrader iterated its symbol list while another thread replaced it. Here the
// list changes only on the trading thread, between candles, while a feed thread streams
// candles of every symbol (run under ThreadSanitizer in CI).
TEST(TradingLoop, symbol_list_changes_while_the_multitrader_scans_never_race) {
  ManualClock clock(kStart);
  CapitalLedger ledger = *CapitalLedger::in_memory({}, clock);
  NullGateway gateway;
  TradingLoop loop(clock, clock, {.inbox_capacity = 256});
  std::vector<Symbol> all;
  for (int i = 0; i < 40; ++i) all.push_back(*Symbol::parse(fmt::format("S{}USDT", i)));
  auto strategy = make_strategy("ma_cross", {{"fast", 2}, {"slow", 5}});
  ASSERT_TRUE(strategy);
  TraderOptions o{.bot = "multi", .max_positions = 3};
  auto multi = std::make_unique<MultiTrader>(Exchange::bybit, Market::linear, Interval::m15,
                                             std::vector<Symbol>(all.begin(), all.begin() + 20), std::move(*strategy), o,
                                             ledger, gateway, clock);
  MultiTrader* m = multi.get();
  loop.add_bot(std::move(multi));
  loop.start();

  std::atomic<bool> done{false};
  std::thread feed([&] {
    for (int bar = 0; bar < 60; ++bar) {
      for (const Symbol& s : all) {
        loop.post_candle(SeriesKey{Exchange::bybit, Market::linear, s, Interval::m15},
                         candle(bar, 100 + (bar % 7) * (1 + static_cast<int>(s.str().size() % 3)), true));
      }
    }
    done = true;
  });
  std::size_t changes = 0;
  while (!done || changes < 20) {
    const std::size_t first = changes % 20;
    auto changed = loop.call([&] {
      m->set_symbols(std::vector<Symbol>(all.begin() + static_cast<std::ptrdiff_t>(first),
                                         all.begin() + static_cast<std::ptrdiff_t>(first + 20)));
      loop.refresh_routes();
    });
    ASSERT_TRUE(changed) << changed.error().message;
    ++changes;
  }
  feed.join();
  ASSERT_TRUE(loop.call([&] {
    EXPECT_EQ(m->symbols().size(), 20u);
    EXPECT_EQ(m->subscriptions().size(), 20u);
  }));
  EXPECT_EQ(loop.stats().candles, 60u * 40u);
}

// What the loop thread posts while it handles an event (an order refused as a round is sent)
// goes in even past the capacity: waiting for room would be waiting for itself.
TEST(TradingLoop, the_loop_thread_never_waits_for_room_in_its_own_inbox) {
  ManualClock clock(kStart);
  CapitalLedger ledger = *CapitalLedger::in_memory({}, clock);
  NullGateway gateway;
  TradingLoop loop(clock, clock, {.inbox_capacity = 2});
  auto bot = std::make_unique<RecordingBot>("a", std::vector{key("BTCUSDT")}, ledger, gateway, clock);
  RecordingBot* b = bot.get();
  loop.add_bot(std::move(bot));
  loop.start();
  auto done = loop.call([&] {
    for (int i = 0; i < 5; ++i) loop.post_order_update(OrderUpdate{"a-" + std::to_string(i), OrderStatus::rejected, {}, {}, {}, clock.now(), ""});
  });
  ASSERT_TRUE(done) << done.error().message;  // a loop thread waiting for itself never answers
  ASSERT_TRUE(loop.call([] {}));  // after the five (this thread may wait for room: it is not the loop)
  loop.stop();
  EXPECT_EQ(loop.stats().order_updates, 5u);
  EXPECT_GE(loop.stats().high_water, 5u);  // past the capacity of 2
  (void)b;
}

}  // namespace
}  // namespace twinstar
