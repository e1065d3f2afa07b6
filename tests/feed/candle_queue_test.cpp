// The feed's bounded queue: open updates coalesce, closed candles are never dropped.
#include "feed/candle_queue.hpp"

#include <thread>

#include <gtest/gtest.h>

namespace twinstar::feed {
namespace {

SeriesKey m1_key(std::string_view symbol) { return SeriesKey{Exchange::bybit, Market::linear, *Symbol::parse(symbol), Interval::m1}; }

CandleEvent event(std::string_view symbol, std::int64_t minute, bool closed, std::int64_t close = 1) {
  CandleEvent e;
  e.series = m1_key(symbol);
  e.candle.open_time = from_epoch_ms(minute * 60'000);
  e.candle.close = Price::from_units(close);
  e.candle.closed = closed;
  return e;
}

TEST(CandleQueue, open_updates_of_the_same_candle_coalesce_in_place) {
  CandleQueue q(16);
  ASSERT_TRUE(q.push(event("BTCUSDT", 1, false, 1)));
  ASSERT_TRUE(q.push(event("ETHUSDT", 1, false, 5)));
  ASSERT_TRUE(q.push(event("BTCUSDT", 1, false, 2)));
  ASSERT_TRUE(q.push(event("BTCUSDT", 1, false, 3)));
  std::vector<CandleEvent> out;
  ASSERT_TRUE(q.pop_batch(out, 10));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].series.symbol.view(), "BTCUSDT");
  EXPECT_EQ(out[0].candle.close, Price::from_units(3));  // the newest values, in the first one's place
  EXPECT_EQ(q.stats().coalesced, 2u);
}

TEST(CandleQueue, a_close_replaces_the_queued_update_of_its_candle_and_is_not_coalesced_further) {
  CandleQueue q(16);
  q.push(event("BTCUSDT", 1, false, 1));
  q.push(event("BTCUSDT", 1, true, 2));
  q.push(event("BTCUSDT", 2, false, 3));
  q.push(event("BTCUSDT", 2, false, 4));
  std::vector<CandleEvent> out;
  q.pop_batch(out, 10);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].candle.closed);
  EXPECT_EQ(out[0].candle.close, Price::from_units(2));
  EXPECT_FALSE(out[1].candle.closed);
  EXPECT_EQ(out[1].candle.close, Price::from_units(4));
}

TEST(CandleQueue, when_full_open_updates_are_dropped_but_closed_candles_wait_for_room) {
  CandleQueue q(4);
  for (int m = 0; m < 4; ++m) ASSERT_TRUE(q.push(event("BTCUSDT", m, true)));
  ASSERT_TRUE(q.push(event("ETHUSDT", 9, false)));  // full, nothing to coalesce: dropped
  EXPECT_EQ(q.stats().dropped_open, 1u);
  std::thread producer([&] {
    for (int m = 4; m < 200; ++m) ASSERT_TRUE(q.push(event("BTCUSDT", m, true)));
    q.close();
  });
  std::vector<CandleEvent> all;
  std::vector<CandleEvent> batch;
  for (int i = 0; i < 10'000; ++i) {  // bounded: 200 candles arrive in far fewer batches
    batch.clear();
    if (!q.pop_batch(batch, 3)) break;
    all.insert(all.end(), batch.begin(), batch.end());
  }
  producer.join();
  ASSERT_EQ(all.size(), 200u);
  for (int m = 0; m < 200; ++m) EXPECT_EQ(to_epoch_ms(all[m].candle.open_time), m * 60'000);
  const auto s = q.stats();
  EXPECT_LE(s.max_depth, 4u);
  EXPECT_EQ(s.dropped_open, 1u);
}

TEST(CandleQueue, close_wakes_a_blocked_producer_and_refuses_more) {
  CandleQueue q(1);
  ASSERT_TRUE(q.push(event("BTCUSDT", 0, true)));
  std::atomic<int> result{-1};
  std::thread producer([&] { result = q.push(event("BTCUSDT", 1, true)) ? 1 : 0; });
  while (q.stats().waits == 0) std::this_thread::yield();
  q.close();
  producer.join();
  EXPECT_EQ(result.load(), 0);
  std::vector<CandleEvent> out;
  EXPECT_TRUE(q.pop_batch(out, 10));  // what was queued still drains
  EXPECT_FALSE(q.pop_batch(out, 10));
}

}  // namespace
}  // namespace twinstar::feed
