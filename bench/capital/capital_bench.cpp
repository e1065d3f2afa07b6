// Ledger throughput: reserve + commit + release cycles in memory and durable (SQLite WAL,
// synchronous NORMAL and FULL), each next to a baseline measured in the same run: a bare
// mutex lock/unlock for memory, a minimal one-row SQLite write transaction for the file.
//
//   build/h-cap/bench/capital/capital_bench [--benchmark_filter=...]
// Files go to $TWINSTAR_BENCH_DIR (default: the system temp folder); use a real disk, not tmpfs.

#include <sqlite3.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "capital/ledger.hpp"
#include "core/clock.hpp"

namespace {

using namespace twinstar;

std::filesystem::path bench_dir() {
  const char* env = std::getenv("TWINSTAR_BENCH_DIR");
  std::string tmpl = ((env != nullptr ? std::filesystem::path(env) : std::filesystem::temp_directory_path()) /
                      "twinstar-capital-bench-XXXXXX")
                         .string();
  if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
  return tmpl;
}

const Symbol kSymbol = Symbol::parse("BTCUSDT").value();
const Money kAmount = Money::from_units(100);
const Money kUsed = Money::from_units(99);
const Money kFee = Money::parse("0.05").value();
const Money kPnl = Money::parse("1.25").value();

// One full order lifetime: reserve, fill (partial, with a fee), close with PnL.
void cycle(CapitalLedger& ledger, benchmark::State& state) {
  auto r = ledger.reserve("main", kSymbol, kAmount);
  if (!r) {
    state.SkipWithError(r.error().message.c_str());
    return;
  }
  auto p = r->commit(kUsed, kFee);
  if (!p || !ledger.release(*p, kPnl, kFee)) state.SkipWithError("commit or release failed");
}

void BM_MutexLockUnlock(benchmark::State& state) {
  static std::mutex m;
  for (auto _ : state) {
    m.lock();
    m.unlock();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MutexLockUnlock);
BENCHMARK(BM_MutexLockUnlock)->Threads(2);

// Arg 0: the real clock (live trading; one clock_gettime per change), 1: a manual clock
// (backtests and simulations).
void BM_InMemoryCycle(benchmark::State& state) {
  static std::optional<CapitalLedger> ledger;
  static ManualClock manual;
  if (state.thread_index() == 0) {
    LedgerOptions o;
    o.initial_capital = Money::from_units(1'000'000'000);
    Clock& clock = state.range(0) == 0 ? static_cast<Clock&>(RealClock::instance()) : manual;
    ledger.emplace(CapitalLedger::in_memory(o, clock).value());
  }
  for (auto _ : state) cycle(*ledger, state);
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    state.SetLabel(state.range(0) == 0 ? "RealClock" : "ManualClock");
    ledger.reset();
  }
}
BENCHMARK(BM_InMemoryCycle)->Arg(0)->Arg(1)->UseRealTime();
BENCHMARK(BM_InMemoryCycle)->Arg(0)->Threads(2)->UseRealTime();

const char* sync_name(int durability) { return durability == 0 ? "NORMAL" : "FULL"; }

// The least a durable change can cost here: BEGIN IMMEDIATE, insert one small row, COMMIT,
// on a WAL file with the same synchronous setting and prepared statements.
void BM_SqliteOneRowTransaction(benchmark::State& state) {
  const auto dir = bench_dir();
  sqlite3* db = nullptr;
  sqlite3_open((dir / "baseline.sqlite").c_str(), &db);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
  sqlite3_exec(db, state.range(0) == 0 ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL", nullptr, nullptr,
               nullptr);
  sqlite3_exec(db, "CREATE TABLE t(seq INTEGER PRIMARY KEY, a INTEGER, b TEXT)", nullptr, nullptr, nullptr);
  sqlite3_stmt *begin = nullptr, *insert = nullptr, *commit = nullptr;
  sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, nullptr);
  sqlite3_prepare_v2(db, "INSERT INTO t(a, b) VALUES(?1, 'reserve')", -1, &insert, nullptr);
  sqlite3_prepare_v2(db, "COMMIT", -1, &commit, nullptr);
  std::int64_t i = 0;
  for (auto _ : state) {
    sqlite3_step(begin);
    sqlite3_reset(begin);
    sqlite3_bind_int64(insert, 1, ++i);
    sqlite3_step(insert);
    sqlite3_reset(insert);
    if (sqlite3_step(commit) != SQLITE_DONE) state.SkipWithError("commit failed");
    sqlite3_reset(commit);
  }
  sqlite3_finalize(begin);
  sqlite3_finalize(insert);
  sqlite3_finalize(commit);
  sqlite3_close(db);
  std::filesystem::remove_all(dir);
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(sync_name(static_cast<int>(state.range(0))));
}
BENCHMARK(BM_SqliteOneRowTransaction)->Arg(0)->Arg(1)->UseRealTime();

// A reserve + commit + release cycle is three journal changes. With one caller each is its
// own transaction; concurrent callers share transactions (group commit).
void BM_DurableCycle(benchmark::State& state) {
  static std::filesystem::path dir;
  static std::optional<CapitalLedger> ledger;
  if (state.thread_index() == 0) {
    dir = bench_dir();
    LedgerOptions o;
    o.initial_capital = Money::from_units(1'000'000'000);
    o.durability = state.range(0) == 0 ? Durability::normal : Durability::full;
    auto opened = CapitalLedger::open(dir / "bench.ledger.sqlite", o, RealClock::instance());
    if (!opened) std::abort();
    ledger.emplace(std::move(*opened));
  }
  for (auto _ : state) cycle(*ledger, state);
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    state.SetLabel(sync_name(static_cast<int>(state.range(0))));
    const auto io = ledger->io_stats();
    state.counters["rows_per_txn"] = static_cast<double>(io.rows_written) / static_cast<double>(std::max<std::int64_t>(1, io.transactions));
    ledger.reset();
    std::filesystem::remove_all(dir);
  }
}
BENCHMARK(BM_DurableCycle)->Arg(0)->Threads(1)->Threads(2)->Threads(4)->Threads(8)->UseRealTime();
BENCHMARK(BM_DurableCycle)->Arg(1)->Threads(1)->Threads(8)->Threads(32)->UseRealTime();

// Two processes' worth of contention inside one: two ledger instances on one file, one per
// thread, so every change first applies the other's rows (the multi-process path).
void BM_DurableCycleTwoInstances(benchmark::State& state) {
  static std::filesystem::path dir;
  static std::optional<CapitalLedger> ledgers[2];
  LedgerOptions o;
  o.initial_capital = Money::from_units(1'000'000'000);
  if (state.thread_index() == 0) {
    dir = bench_dir();
    for (auto& l : ledgers) l.emplace(CapitalLedger::open(dir / "two.ledger.sqlite", o, RealClock::instance()).value());
  }
  for (auto _ : state) cycle(*ledgers[state.thread_index()], state);
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    for (auto& l : ledgers) l.reset();
    std::filesystem::remove_all(dir);
  }
}
BENCHMARK(BM_DurableCycleTwoInstances)->Threads(2)->UseRealTime();

// Opening a ledger replays its whole journal: rows per second of replay (plus registration).
void BM_OpenReplaysJournal(benchmark::State& state) {
  const auto dir = bench_dir();
  const auto path = dir / "replay.ledger.sqlite";
  LedgerOptions o;
  o.initial_capital = Money::from_units(1'000'000'000);
  std::int64_t rows = 0;
  {
    auto ledger = CapitalLedger::open(path, o, RealClock::instance()).value();
    std::vector<std::jthread> writers;
    for (int t = 0; t < 8; ++t) {
      writers.emplace_back([&] {
        for (std::int64_t i = 0; i < state.range(0) / 24; ++i) cycle(ledger, state);
      });
    }
    writers.clear();
    rows = ledger.last_seq();
  }
  for (auto _ : state) {
    auto ledger = CapitalLedger::open(path, o, RealClock::instance());
    if (!ledger || ledger->last_seq() < rows) state.SkipWithError("replay failed");
  }
  std::filesystem::remove_all(dir);
  state.SetItemsProcessed(state.iterations() * rows);
  state.counters["rows"] = static_cast<double>(rows);
}
BENCHMARK(BM_OpenReplaysJournal)->Arg(300'000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
