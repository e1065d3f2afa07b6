// Crash-test child: appends and flushes candles forever, acknowledging each completed flush on a
// pipe ("SYMBOL INDEX" per series, INDEX = newest candle the flush persisted), until killed.
// Usage: store_crash_child DATA_DIR ACK_FD SEED [COMPACT_EVERY [GROUP]]
// Flushes go to the journal; every COMPACT_EVERY flushes (default 5) the journal is merged into
// the hive layout, so kills land in flushes and in merges. GROUP 0 (default) writes AAAUSDT..EEEUSDT,
// GROUP 1 FFFUSDT..JJJUSDT: two children of different groups share one data folder.

#include <unistd.h>

#include <cstdio>
#include <random>
#include <string>

#include "core/clock.hpp"
#include "store/candle_store.hpp"
#include "store_test_util.hpp"

using namespace twinstar;
using namespace twinstar::store;

int main(int argc, char** argv) {
  if (argc < 4 || argc > 6) return 2;
  const int ack_fd = std::stoi(argv[2]);
  std::mt19937 rng(static_cast<unsigned>(std::stoul(argv[3])));
  ManualClock clock;
  StoreOptions o;
  o.data_dir = argv[1];
  o.ring_capacity = 200;
  o.max_resident_series = 3;  // 5 series: evictions (with their own flushes) happen too
  o.durability = Durability::fsync;
  o.compact_every_flushes = argc >= 5 ? std::stoul(argv[4]) : 5;
  const int group = argc == 6 ? std::stoi(argv[5]) : 0;
  auto store = CandleStore::open(o, clock);
  if (!store) {
    std::fprintf(stderr, "crash child: %s\n", store.error().message.c_str());
    return 3;
  }
  const char* all_symbols[] = {"AAAUSDT", "BBBUSDT", "CCCUSDT", "DDDUSDT", "EEEUSDT",
                               "FFFUSDT", "GGGUSDT", "HHHUSDT", "IIIUSDT", "JJJUSDT"};
  const char* const* symbols = all_symbols + (group == 1 ? 5 : 0);
  std::int64_t next[5];
  for (int s = 0; s < 5; ++s) {
    auto snap = (*store)->snapshot(testing::key(symbols[s], Interval::m1), 1);
    next[s] = 0;
    if (snap && !snap->closed.empty()) {
      next[s] = (to_epoch_ms(snap->closed.back().open_time) - to_epoch_ms(testing::candle_at(0, Interval::m1).open_time)) / 60'000 + 1;
    }
  }
  while (true) {
    for (int s = 0; s < 5; ++s) {
      const int n = std::uniform_int_distribution<int>(1, 40)(rng);
      for (int i = 0; i < n; ++i) {
        auto r = (*store)->append(testing::key(symbols[s], Interval::m1), testing::candle_at(next[s], Interval::m1, symbols[s][0] - 'A'));
        if (!r) {
          std::fprintf(stderr, "crash child: append: %s\n", r.error().message.c_str());
          return 4;
        }
        ++next[s];
      }
    }
    auto f = (*store)->flush();
    if (!f) {
      std::fprintf(stderr, "crash child: flush: %s\n", f.error().message.c_str());
      return 5;
    }
    std::string ack;
    for (int s = 0; s < 5; ++s) ack += std::string(symbols[s]) + " " + std::to_string(next[s] - 1) + "\n";
    if (::write(ack_fd, ack.data(), ack.size()) != static_cast<ssize_t>(ack.size())) return 6;
  }
}
