// Candle store benchmarks: batch flush, steady-state flush, restart load, ring append rate,
// resident bytes per candle. Each group has a baseline measured in the same run.

#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include <benchmark/benchmark.h>

#include "core/clock.hpp"
#include "store/candle_store.hpp"

namespace {

using namespace twinstar;
using namespace twinstar::store;
namespace fs = std::filesystem;

// CPU of the whole process (DuckDB's worker threads included), in ms: on a busy machine this
// is steadier than wall time.
double process_cpu_ms() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

// Minor page faults of the process so far (first touches of new memory: costly on this VM).
double minor_faults() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_minflt);
}

fs::path fresh_dir(const char* tag) {
  static std::atomic<int> n{0};
  const fs::path p = fs::temp_directory_path() / fmt::format("twinstar-bench-{}-{}-{}", ::getpid(), tag, n++);
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

SeriesKey key_of(int i, Interval interval = Interval::m15) {
  return SeriesKey{Exchange::bybit, Market::linear, *Symbol::parse(fmt::format("SYM{:03}USDT", i)), interval};
}

Candle candle(std::int64_t index, int series, Interval interval = Interval::m15) {
  const auto len = std::chrono::duration_cast<std::chrono::milliseconds>(interval_length(interval)).count();
  const std::int64_t p = 4'200'000'000'000 + ((index * 7919 + series * 104729) % 10'000) * 1'000'000;
  return Candle{from_epoch_ms(1'704'067'200'000 + index * len), Price::from_raw(p), Price::from_raw(p + 900'000'000),
                Price::from_raw(p - 800'000'000), Price::from_raw(p + 100'000'000), Quantity::from_raw(12'345'678'900 + index),
                Money::from_raw(987'654'321'000'000 + index), true};
}

StoreOptions options(const fs::path& dir, Durability d, std::size_t capacity = 1000, std::size_t resident = 100) {
  StoreOptions o;
  o.data_dir = dir;
  o.ring_capacity = capacity;
  o.max_resident_series = resident;
  o.durability = d;
  o.compact_every_flushes = 0;
  o.load_on_open = true;
  if (const char* t = std::getenv("STORE_BENCH_DUCKDB_THREADS")) o.duckdb_threads = std::atoi(t);  // for comparisons
  return o;
}

// 50 symbols x 1,000 candles written from scratch in one flush (the original: ~200 ms): new
// series, no files yet, in a store that is already running (DuckDB warmed up by one flush).
void BM_BatchFlushFromScratch(benchmark::State& state) {
  const auto durability = static_cast<Durability>(state.range(0));
  ManualClock clock;
  const fs::path dir = fresh_dir("batch");
  auto store = CandleStore::open(options(dir, durability), clock).value();
  (void)store->append(key_of(999), candle(0, 999));
  (void)store->flush();  // the first COPY of a process pays DuckDB's warm-up; see BM_FirstFlushAfterStart
  int round = 0;
  double cpu = 0;
  for (auto _ : state) {
    state.PauseTiming();
    ++round;
    for (int s = 0; s < 50; ++s) {
      const SeriesKey k = key_of(round * 100 + s);
      for (int i = 0; i < 1000; ++i) (void)store->append(k, candle(i, s));
    }
    state.ResumeTiming();
    const double c0 = process_cpu_ms();
    auto r = store->flush();
    cpu += process_cpu_ms() - c0;
    state.PauseTiming();
    if (!r || r->candles != 50'000 || r->files != 1) state.SkipWithError("flush failed");
    (void)store->evict_to(0);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * 50'000);
  state.SetLabel(durability == Durability::fsync ? "fsync" : "rename_only");
  state.counters["process_cpu_ms"] = cpu / static_cast<double>(state.iterations());
  store.reset();
  fs::remove_all(dir);
}
BENCHMARK(BM_BatchFlushFromScratch)->Arg(static_cast<int>(Durability::fsync))->Arg(static_cast<int>(Durability::rename_only))
    ->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(20);

// Baseline: the previous design, one hive part file per series per flush (CandleArchive::write),
// for the same 50 x 1,000 candles in one call.
void BM_PartPerSeriesFlushBaseline(benchmark::State& state) {
  const auto durability = static_cast<Durability>(state.range(0));
  const fs::path dir = fresh_dir("perseries");
  ArchiveOptions ao;
  ao.durability = durability;
  auto archive = CandleArchive::open(dir, ao).value();
  std::vector<SeriesBatch> batches;
  for (int s = 0; s < 50; ++s) {
    SeriesBatch b{key_of(s), {}};
    for (int i = 0; i < 1000; ++i) b.candles.push_back(StoredCandle::from(candle(i, s)));
    batches.push_back(std::move(b));
  }
  (void)archive->write(std::span(batches).subspan(0, 1));  // warm-up
  double cpu = 0;
  for (auto _ : state) {
    const double c0 = process_cpu_ms();
    auto r = archive->write(batches);
    cpu += process_cpu_ms() - c0;
    if (!r || r->files != 50) state.SkipWithError("write failed");
  }
  state.SetItemsProcessed(state.iterations() * 50'000);
  state.SetLabel(durability == Durability::fsync ? "fsync" : "rename_only");
  state.counters["process_cpu_ms"] = cpu / static_cast<double>(state.iterations());
  archive.reset();
  fs::remove_all(dir);
}
BENCHMARK(BM_PartPerSeriesFlushBaseline)->Arg(static_cast<int>(Durability::fsync))->Arg(static_cast<int>(Durability::rename_only))
    ->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(10);

// Baseline for the batch: the same 50 x 1,000 candles saved one symbol per flush (the original's "one by one").
void BM_OneByOneFlushBaseline(benchmark::State& state) {
  const auto durability = static_cast<Durability>(state.range(0));
  ManualClock clock;
  const fs::path dir = fresh_dir("onebyone");
  auto store = CandleStore::open(options(dir, durability), clock).value();
  (void)store->append(key_of(999), candle(0, 999));
  (void)store->flush();
  int round = 0;
  for (auto _ : state) {
    ++round;
    for (int s = 0; s < 50; ++s) {
      state.PauseTiming();
      const SeriesKey k = key_of(round * 100 + s);
      for (int i = 0; i < 1000; ++i) (void)store->append(k, candle(i, s));
      state.ResumeTiming();
      if (!store->flush()) state.SkipWithError("flush failed");
    }
    state.PauseTiming();
    (void)store->evict_to(0);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * 50'000);
  state.SetLabel(durability == Durability::fsync ? "fsync" : "rename_only");
  store.reset();
  fs::remove_all(dir);
}
BENCHMARK(BM_OneByOneFlushBaseline)->Arg(static_cast<int>(Durability::fsync))->Arg(static_cast<int>(Durability::rename_only))
    ->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);

// The first flush after start: a fresh store (and DuckDB instance) writing 50 x 1,000.
void BM_FirstFlushAfterStart(benchmark::State& state) {
  ManualClock clock;
  for (auto _ : state) {
    state.PauseTiming();
    const fs::path dir = fresh_dir("first");
    auto store = CandleStore::open(options(dir, Durability::rename_only), clock).value();
    for (int s = 0; s < 50; ++s) {
      for (int i = 0; i < 1000; ++i) (void)store->append(key_of(s), candle(i, s));
    }
    state.ResumeTiming();
    if (!store->flush()) state.SkipWithError("flush failed");
    state.PauseTiming();
    store.reset();
    fs::remove_all(dir);
    state.ResumeTiming();
  }
}
BENCHMARK(BM_FirstFlushAfterStart)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);

// Steady state: every 15-minute close, one new candle per symbol for 50 symbols, then flush.
void BM_SteadyStateFlush(benchmark::State& state) {
  const auto durability = static_cast<Durability>(state.range(0));
  ManualClock clock;
  const fs::path dir = fresh_dir("steady");
  auto store = CandleStore::open(options(dir, durability), clock).value();
  for (int s = 0; s < 50; ++s) {
    for (int i = 0; i < 1000; ++i) (void)store->append(key_of(s), candle(i, s));
  }
  (void)store->flush();
  std::int64_t next = 1000;
  double cpu = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (int s = 0; s < 50; ++s) (void)store->append(key_of(s), candle(next, s));
    ++next;
    state.ResumeTiming();
    const double c0 = process_cpu_ms();
    auto r = store->flush();
    cpu += process_cpu_ms() - c0;
    if (!r || r->candles != 50) state.SkipWithError("flush failed");
  }
  state.SetLabel(durability == Durability::fsync ? "fsync" : "rename_only");
  state.counters["process_cpu_ms"] = cpu / static_cast<double>(state.iterations());
  store.reset();
  fs::remove_all(dir);
}
BENCHMARK(BM_SteadyStateFlush)->Arg(static_cast<int>(Durability::fsync))->Arg(static_cast<int>(Durability::rename_only))
    ->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(50);

// The journal merge that follows every 64 steady-state flushes: 64 journal files of 50 series x 1
// candle merged into the hive layout (50 series whose month already holds 1,000 candles).
void BM_JournalMerge64SteadyFlushes(benchmark::State& state) {
  ManualClock clock;
  const fs::path dir = fresh_dir("merge");
  auto store = CandleStore::open(options(dir, Durability::rename_only), clock).value();
  for (int s = 0; s < 50; ++s) {
    for (int i = 0; i < 1000; ++i) (void)store->append(key_of(s), candle(i, s));
  }
  (void)store->flush();
  (void)store->compact();
  std::int64_t next = 1000;
  double cpu = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (int f = 0; f < 64; ++f) {
      for (int s = 0; s < 50; ++s) (void)store->append(key_of(s), candle(next, s));
      ++next;
      (void)store->flush();
    }
    state.ResumeTiming();
    const double c0 = process_cpu_ms();
    auto r = store->compact();
    cpu += process_cpu_ms() - c0;
    if (!r || r->journal_files_merged != 64) state.SkipWithError("merge failed");
  }
  state.counters["process_cpu_ms"] = cpu / static_cast<double>(state.iterations());
  store.reset();
  fs::remove_all(dir);
}
BENCHMARK(BM_JournalMerge64SteadyFlushes)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

// The disk's floor under the fsync numbers: write and fsync 50 files of 40 kB, as a flush must.
void BM_Fsync50FilesBaseline(benchmark::State& state) {
  const fs::path dir = fresh_dir("fsync");
  std::string buf(40'000, 'x');
  for (auto _ : state) {
    for (int i = 0; i < 50; ++i) {
      const fs::path p = dir / std::to_string(i);
      const int fd = ::open(p.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
      if (::write(fd, buf.data(), buf.size()) < 0) state.SkipWithError("write");
      ::fsync(fd);
      ::close(fd);
    }
  }
  fs::remove_all(dir);
}
BENCHMARK(BM_Fsync50FilesBaseline)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(10);

// Removes a folder the benchmarks share when the program ends (each run left 13-42 MB in /tmp).
struct RemoveAtExit {
  fs::path dir;
  ~RemoveAtExit() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

// Restart: open a store of 100 series x 10,000 candles and load them all into memory.
const fs::path& restart_dir() {
  static const RemoveAtExit cleanup{[] {
    const fs::path d = fresh_dir("restart");
    ManualClock clock;
    auto store = CandleStore::open(options(d, Durability::rename_only, 10'000, 100), clock).value();
    for (int s = 0; s < 100; ++s) {
      std::vector<Candle> history;
      for (int i = 0; i < 10'000; ++i) history.push_back(candle(i, s));
      (void)store->write_history(key_of(s), history);
    }
    (void)store->compact();
    return d;
  }()};
  return cleanup.dir;
}

void BM_RestartLoad100x10000(benchmark::State& state) {
  const fs::path& dir = restart_dir();
  const auto capacity = static_cast<std::size_t>(state.range(0));
  ManualClock clock;
  std::size_t loaded = 0;
  double cpu = 0, faults = 0;
  for (auto _ : state) {
    const double c0 = process_cpu_ms(), f0 = minor_faults();
    auto store = CandleStore::open(options(dir, Durability::rename_only, capacity, 100), clock).value();
    cpu += process_cpu_ms() - c0;
    faults += minor_faults() - f0;
    loaded = store->open_report().candles_loaded;
    state.PauseTiming();
    store.reset();
    state.ResumeTiming();
  }
  if (loaded != capacity * 100) state.SkipWithError("did not load every series");
  state.counters["candles"] = static_cast<double>(loaded);
  state.counters["process_cpu_ms"] = cpu / static_cast<double>(state.iterations());
  state.counters["page_faults"] = faults / static_cast<double>(state.iterations());
}
// Arg: ring capacity — 10,000 loads all 1,000,000 candles; 1,000 (the default) the newest 1,000 of each.
BENCHMARK(BM_RestartLoad100x10000)->Arg(10'000)->Arg(1'000)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(10);

// Restart after a crash, before any merge: 100 series x 1,000 candles, all still in the journal
// (20 flush files of 5,000 rows each).
void BM_RestartLoadFromJournal100x1000(benchmark::State& state) {
  static const RemoveAtExit cleanup{[] {
    const fs::path d = fresh_dir("restart-journal");
    ManualClock clock;
    auto o = options(d, Durability::rename_only, 1000, 100);
    o.compact_on_close = false;
    auto store = CandleStore::open(o, clock).value();
    for (int chunk = 0; chunk < 20; ++chunk) {
      for (int s = 0; s < 100; ++s) {
        for (int i = chunk * 50; i < chunk * 50 + 50; ++i) (void)store->append(key_of(s), candle(i, s));
      }
      (void)store->flush();
    }
    return d;
  }()};
  const fs::path& dir = cleanup.dir;
  ManualClock clock;
  std::size_t loaded = 0;
  double cpu = 0;
  for (auto _ : state) {
    const double c0 = process_cpu_ms();
    auto o = options(dir, Durability::rename_only, 1000, 100);
    o.compact_on_close = false;
    auto store = CandleStore::open(o, clock).value();
    cpu += process_cpu_ms() - c0;
    loaded = store->open_report().candles_loaded;
    state.PauseTiming();
    store.reset();
    state.ResumeTiming();
  }
  if (loaded != 100'000) state.SkipWithError("did not load every series");
  state.counters["candles"] = static_cast<double>(loaded);
  state.counters["process_cpu_ms"] = cpu / static_cast<double>(state.iterations());
}
BENCHMARK(BM_RestartLoadFromJournal100x1000)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(10);

// Baseline for the restart: opening an empty store (DuckDB start-up, lock, folder scan).
void BM_OpenEmptyStoreBaseline(benchmark::State& state) {
  const fs::path dir = fresh_dir("empty");
  ManualClock clock;
  for (auto _ : state) {
    auto store = CandleStore::open(options(dir, Durability::rename_only), clock).value();
    state.PauseTiming();
    store.reset();
    state.ResumeTiming();
  }
  fs::remove_all(dir);
}
BENCHMARK(BM_OpenEmptyStoreBaseline)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(10);

// Ring append rate, single thread: closed candles into a full ring (the steady state).
void BM_RingAppendClosed(benchmark::State& state) {
  CandleRing ring(1000);
  ring.set_requires_flush(false);
  std::int64_t i = 0;
  for (auto _ : state) {
    auto r = ring.append(candle(i++, 0));
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RingAppendClosed);

// Ring update rate of the open candle (what most WebSocket ticks are).
void BM_RingUpdateOpen(benchmark::State& state) {
  CandleRing ring(1000);
  Candle c = candle(0, 0);
  c.closed = false;
  for (auto _ : state) {
    c.close = Price::from_raw(c.close.raw() + 1);
    auto r = ring.append(c);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RingUpdateOpen);

// The same through CandleStore::append (hash lookup + series lock), memory-only.
void BM_StoreAppendOpenUpdate(benchmark::State& state) {
  ManualClock clock;
  StoreOptions o;
  auto store = CandleStore::open(o, clock).value();
  const SeriesKey k = key_of(1);
  Candle c = candle(0, 0);
  c.closed = false;
  for (auto _ : state) {
    c.close = Price::from_raw(c.close.raw() + 1);
    auto r = store->append(k, c);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StoreAppendOpenUpdate);

// Resident bytes per candle: heap growth of 100 series x 1,000 candles, measured by malloc.
void BM_ResidentBytesPerCandle(benchmark::State& state) {
  double per_candle = 0;
  for (auto _ : state) {
    ManualClock clock;
    StoreOptions o;
    o.ring_capacity = 1000;
    const auto before = mallinfo2().uordblks;
    auto store = CandleStore::open(o, clock).value();
    for (int s = 0; s < 100; ++s) {
      for (int i = 0; i < 1000; ++i) (void)store->append(key_of(s), candle(i, s));
    }
    const auto after = mallinfo2().uordblks;
    per_candle = static_cast<double>(after - before) / 100'000.0;
    state.counters["store_reported_bytes_per_candle"] =
        static_cast<double>(store->get_stats().resident_bytes) / static_cast<double>(store->get_stats().candles_resident);
  }
  state.counters["heap_bytes_per_candle"] = per_candle;
  state.counters["original_plan_bytes_per_candle"] = 50;
}
BENCHMARK(BM_ResidentBytesPerCandle)->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
