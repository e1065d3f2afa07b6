// The feed writes while bots read, a flusher persists and an evictor forces reloads:
// every snapshot is consistent, and everything appended ends up on disk exactly once.

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "store/candle_store.hpp"
#include "store_test_util.hpp"

namespace twinstar::store {
namespace {

using testing::candle_at;
using testing::key;

TEST(StoreConcurrency, readers_always_see_consistent_snapshots_while_the_feed_writes_and_flushes) {
  testing::TempDir dir;
  ManualClock clock;
  StoreOptions o;
  o.data_dir = dir.path();
  o.ring_capacity = 64;
  o.max_resident_series = 8;  // every series fits; the flusher's evict_to(3) forces reloads
  o.durability = Durability::rename_only;
  o.compact_every_flushes = 4;
  auto store = CandleStore::open(o, clock).value();
  constexpr int kSeries = 8;
  constexpr int kCandles = 300;
  auto name = [](int s) { return std::string(1, static_cast<char>('A' + s)) + "XUSDT"; };
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::atomic<long> snapshots{0};

  std::thread feed([&] {
    for (int i = 0; i < kCandles; ++i) {
      for (int s = 0; s < kSeries; ++s) {
        for (bool closed : {false, true}) {  // an open update, then the closed candle
          auto r = store->append(key(name(s)), candle_at(i, Interval::m15, s, closed));
          if (!r) {
            ++bad;
            ADD_FAILURE() << "append: " << r.error().message;
          }
        }
      }
    }
    done = true;
  });
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&, r] {
      while (!done) {
        for (int s = r; s < kSeries; s += 2) {
          auto snap = store->snapshot(key(name(s)));
          if (!snap) continue;  // not created yet
          ++snapshots;
          const auto& c = snap->closed;
          for (std::size_t i = 0; i < c.size(); ++i) {
            const auto idx = (to_epoch_ms(c[i].open_time) - to_epoch_ms(candle_at(0).open_time)) / 900'000;
            if (c[i] != candle_at(idx, Interval::m15, s) || (i > 0 && c[i].open_time != c[i - 1].open_time + std::chrono::minutes(15))) {
              ++bad;
              ADD_FAILURE() << "snapshot of " << name(s) << " inconsistent at " << i;
            }
          }
          if (snap->open && !c.empty() && snap->open->open_time <= c.back().open_time) {
            ++bad;
            ADD_FAILURE() << "open candle not after the closed ones in " << name(s);
          }
        }
      }
    });
  }
  std::thread flusher([&] {
    for (int round = 0; !done; ++round) {
      if (!store->flush()) ++bad;
      if (round % 8 == 7 && !store->evict_to(3)) ++bad;
      std::this_thread::sleep_for(std::chrono::milliseconds(3));
    }
  });
  feed.join();
  for (auto& t : readers) t.join();
  flusher.join();
  ASSERT_TRUE(store->flush());
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(snapshots.load(), 0);
  store.reset();

  auto reopened = CandleStore::open(o, clock).value();
  auto archive = CandleArchive::open(dir.path(), ArchiveOptions{Durability::rename_only, false, 0}).value();
  auto rows = archive->read(archive->list().value(), 0).value();
  ASSERT_EQ(rows.series.size(), static_cast<std::size_t>(kSeries));
  for (const auto& s : rows.series) {
    EXPECT_EQ(s.duplicate_rows + s.conflicting_rows, 0u);
    ASSERT_EQ(s.candles.size(), static_cast<std::size_t>(kCandles));
    const int seed = s.key.symbol.view()[0] - 'A';
    for (int i = 0; i < kCandles; ++i) EXPECT_EQ(s.candles[i].to_candle(), candle_at(i, Interval::m15, seed));
  }
}

}  // namespace
}  // namespace twinstar::store
