#include "store/candle_ring.hpp"

#include <gtest/gtest.h>

#include "store_test_util.hpp"

namespace twinstar::store {
namespace {

using testing::candle_at;

TEST(CandleRing, stored_candle_is_56_bytes_and_round_trips) {
  const Candle c = candle_at(3);
  EXPECT_EQ(sizeof(StoredCandle), 56u);
  EXPECT_EQ(StoredCandle::from(c).to_candle(), c);
}

TEST(CandleRing, appends_in_order_and_keeps_newest_when_full) {
  CandleRing ring(4);
  ring.set_requires_flush(false);
  for (int i = 0; i < 6; ++i) ASSERT_EQ(ring.append(candle_at(i)).value(), AppendOutcome::appended);
  ASSERT_EQ(ring.size(), 4u);
  EXPECT_EQ(ring.at(0).to_candle(), candle_at(2));
  EXPECT_EQ(ring.newest().to_candle(), candle_at(5));
  std::vector<Candle> out;
  ring.copy_newest(2, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], candle_at(4));
  EXPECT_EQ(out[1], candle_at(5));
}

TEST(CandleRing, same_closed_candle_twice_is_stored_once) {
  CandleRing ring(8);
  ASSERT_TRUE(ring.append(candle_at(0)));
  ASSERT_TRUE(ring.append(candle_at(1)));
  EXPECT_EQ(ring.append(candle_at(1)).value(), AppendOutcome::duplicate);
  EXPECT_EQ(ring.append(candle_at(0)).value(), AppendOutcome::duplicate);
  EXPECT_EQ(ring.size(), 2u);
  EXPECT_EQ(ring.counters().duplicates, 2u);
}

TEST(CandleRing, conflicting_and_out_of_order_candles_are_refused_and_counted) {
  CandleRing ring(8);
  ASSERT_TRUE(ring.append(candle_at(0)));
  ASSERT_TRUE(ring.append(candle_at(2)));
  Candle changed = candle_at(2);
  changed.close = Price::from_units(1);
  auto conflict = ring.append(changed);
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().reason, AppendRefusal::conflict);
  auto late = ring.append(candle_at(1));  // fills a hole: not the ring's job (write_history)
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().reason, AppendRefusal::out_of_order);
  EXPECT_EQ(ring.size(), 2u);
  EXPECT_EQ(ring.newest().to_candle(), candle_at(2));
  EXPECT_EQ(ring.counters().conflicts, 1u);
  EXPECT_EQ(ring.counters().out_of_order, 1u);
}

TEST(CandleRing, open_candle_is_updated_then_closed) {
  CandleRing ring(8);
  ASSERT_TRUE(ring.append(candle_at(0)));
  EXPECT_EQ(ring.append(candle_at(1, Interval::m15, 1, false)).value(), AppendOutcome::opened);
  EXPECT_EQ(ring.append(candle_at(1, Interval::m15, 2, false)).value(), AppendOutcome::updated_open);
  ASSERT_TRUE(ring.open_candle());
  EXPECT_EQ(*ring.open_candle(), candle_at(1, Interval::m15, 2, false));
  EXPECT_EQ(ring.size(), 1u);
  EXPECT_EQ(ring.append(candle_at(1, Interval::m15, 3)).value(), AppendOutcome::closed_open);
  EXPECT_FALSE(ring.open_candle());
  EXPECT_EQ(ring.size(), 2u);
  EXPECT_EQ(ring.newest().to_candle(), candle_at(1, Interval::m15, 3));
  // A late open update for a closed candle changes nothing.
  EXPECT_EQ(ring.append(candle_at(1, Interval::m15, 9, false)).value(), AppendOutcome::duplicate);
  EXPECT_EQ(ring.newest().to_candle(), candle_at(1, Interval::m15, 3));
}

TEST(CandleRing, an_open_candle_that_never_closed_is_superseded_and_counted) {
  CandleRing ring(8);
  ASSERT_TRUE(ring.append(candle_at(0, Interval::m15, 0, false)));
  EXPECT_EQ(ring.append(candle_at(1, Interval::m15, 0, false)).value(), AppendOutcome::superseded_open);
  EXPECT_EQ(ring.counters().superseded_open, 1u);
  EXPECT_EQ(ring.open_candle()->open_time, candle_at(1).open_time);
}

TEST(CandleRing, never_overwrites_a_candle_that_was_not_flushed) {
  CandleRing ring(3);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(ring.append(candle_at(i)));
  EXPECT_EQ(ring.unflushed(), 3u);
  auto full = ring.append(candle_at(3));
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().reason, AppendRefusal::full);
  ring.mark_flushed_through(to_epoch_ms(candle_at(0).open_time));
  EXPECT_EQ(ring.unflushed(), 2u);
  ASSERT_TRUE(ring.append(candle_at(3)));
  EXPECT_EQ(ring.unflushed(), 3u);
  std::vector<StoredCandle> pending;
  ring.copy_unflushed(pending);
  ASSERT_EQ(pending.size(), 3u);
  EXPECT_EQ(pending.front().to_candle(), candle_at(1));
  EXPECT_EQ(pending.back().to_candle(), candle_at(3));
}

TEST(CandleRing, assign_keeps_the_newest_and_marks_all_persisted) {
  CandleRing ring(3);
  std::vector<StoredCandle> rows;
  for (int i = 0; i < 5; ++i) rows.push_back(StoredCandle::from(candle_at(i)));
  ring.assign(rows);
  EXPECT_EQ(ring.size(), 3u);
  EXPECT_EQ(ring.unflushed(), 0u);
  EXPECT_EQ(ring.at(0).to_candle(), candle_at(2));
  EXPECT_EQ(ring.append(candle_at(5)).value(), AppendOutcome::appended);
}

TEST(CandleRing, assign_takes_over_a_buffer_that_fits_and_copies_one_that_does_not) {
  std::vector<StoredCandle> loaded;
  loaded.reserve(4);
  for (int i = 0; i < 3; ++i) loaded.push_back(StoredCandle::from(candle_at(i)));
  const StoredCandle* buffer = loaded.data();
  CandleRing ring(4);
  ring.assign(std::move(loaded));
  ASSERT_EQ(ring.size(), 3u);
  EXPECT_EQ(&ring.at(0), buffer);  // adopted, not copied
  EXPECT_EQ(ring.unflushed(), 0u);
  // The adopted buffer works as the ring: it fills, then wraps around keeping the newest.
  for (int i = 3; i < 7; ++i) ASSERT_EQ(ring.append(candle_at(i)).value(), AppendOutcome::appended);
  ASSERT_EQ(ring.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(ring.at(i).to_candle(), candle_at(3 + i));
  EXPECT_EQ(ring.memory_bytes(), sizeof(CandleRing) + 4 * sizeof(StoredCandle));

  std::vector<StoredCandle> big;  // more spare room than the ring accounts for: copied
  big.reserve(9);  // more than twice the ring's 4 slots
  for (int i = 0; i < 2; ++i) big.push_back(StoredCandle::from(candle_at(i)));
  CandleRing other(4);
  other.assign(std::move(big));
  ASSERT_EQ(other.size(), 2u);
  EXPECT_NE(&other.at(0), big.data());
  EXPECT_EQ(other.newest().to_candle(), candle_at(1));
}

TEST(CandleRing, memory_is_56_bytes_per_candle_plus_a_fixed_header) {
  CandleRing ring(1000);
  EXPECT_LE(ring.memory_bytes(), 1000 * 56 + 256);
}

}  // namespace
}  // namespace twinstar::store
