// Limiter hot path against same-run baselines: an uncontended std::mutex lock/unlock (the floor
// of any locked design), an atomic increment, and a bare clock read. Results: docs/PERFORMANCE.md.

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>

#include <benchmark/benchmark.h>

#include "core/clock.hpp"
#include "ratelimit/limiter.hpp"

namespace twinstar {
namespace {

using namespace std::chrono_literals;

// A bucket that never runs dry during a run, so every call is a grant (the common case).
Preset roomy_preset(BucketMode mode) {
  Preset p;
  p.name = "bench";
  p.exchange = Exchange::bybit;
  p.markets = {Market::linear};
  const std::int64_t limit = mode == BucketMode::strict ? kMaxStrictCapacity : 1'000'000'000'000;
  p.buckets = {BucketSpec{"b", limit, mode == BucketMode::strict ? 1ns : 1s, Scope::ip, mode, 1, "bench"}};
  return p;
}

void BM_baseline_mutex_lock_unlock(benchmark::State& state) {
  std::mutex m;
  for (auto _ : state) {
    m.lock();
    benchmark::ClobberMemory();
    m.unlock();
  }
}
BENCHMARK(BM_baseline_mutex_lock_unlock);

void BM_baseline_atomic_increment(benchmark::State& state) {
  std::atomic<std::uint64_t> n{0};
  for (auto _ : state) benchmark::DoNotOptimize(n.fetch_add(1, std::memory_order_relaxed));
}
BENCHMARK(BM_baseline_atomic_increment);

void BM_baseline_real_clock_now(benchmark::State& state) {
  Clock& clock = RealClock::instance();
  for (auto _ : state) benchmark::DoNotOptimize(clock.now());
}
BENCHMARK(BM_baseline_real_clock_now);

// try_acquire on one token bucket, uncontended, on the clock production uses.
void BM_try_acquire_token_bucket_real_clock(benchmark::State& state) {
  RateLimiterRegistry registry(RealClock::instance());
  (void)registry.configure(roomy_preset(BucketMode::token_bucket));
  auto limiter = *registry.limiter(Exchange::bybit, "a");
  const Cost cost = *limiter->cost({{"b", 1}});
  std::int64_t refused = 0;
  for (auto _ : state) {
    if (!limiter->try_acquire(cost)) ++refused;
  }
  state.counters["refused"] = static_cast<double>(refused);
}
BENCHMARK(BM_try_acquire_token_bucket_real_clock);

// The same with a ManualClock (an atomic load): the limiter's own cost without the clock read.
void BM_try_acquire_token_bucket_manual_clock(benchmark::State& state) {
  ManualClock clock;
  RateLimiterRegistry registry(clock);
  (void)registry.configure(roomy_preset(BucketMode::token_bucket));
  auto limiter = *registry.limiter(Exchange::bybit, "a");
  const Cost cost = *limiter->cost({{"b", 1}});
  std::int64_t refused = 0;
  for (auto _ : state) {
    if (!limiter->try_acquire(cost)) ++refused;
  }
  state.counters["refused"] = static_cast<double>(refused);
}
BENCHMARK(BM_try_acquire_token_bucket_manual_clock);

// Strict sliding window: each grant appends to the log and expires the oldest entries.
void BM_try_acquire_strict_real_clock(benchmark::State& state) {
  RateLimiterRegistry registry(RealClock::instance());
  (void)registry.configure(roomy_preset(BucketMode::strict));
  auto limiter = *registry.limiter(Exchange::bybit, "a");
  const Cost cost = *limiter->cost({{"b", 1}});
  std::int64_t refused = 0;
  for (auto _ : state) {
    if (!limiter->try_acquire(cost)) ++refused;
  }
  state.counters["refused"] = static_cast<double>(refused);
}
BENCHMARK(BM_try_acquire_strict_real_clock);

// A real two-bucket request (Bybit order: IP window + per-UID order bucket), mostly refused once
// the order bucket is dry: the refusal path, which must not allocate either.
void BM_try_acquire_bybit_order_real_clock(benchmark::State& state) {
  RateLimiterRegistry registry(RealClock::instance());
  auto limiter = *registry.limiter(Exchange::bybit, "a");
  const Cost cost = *limiter->endpoint_cost("order_create_linear");
  std::int64_t granted = 0;
  for (auto _ : state) {
    if (limiter->try_acquire(cost)) ++granted;
  }
  state.counters["granted"] = static_cast<double>(granted);
}
BENCHMARK(BM_try_acquire_bybit_order_real_clock);

// Two threads on one limiter (one venue mutex), and the same two threads on a bare mutex.
struct Shared {
  RateLimiterRegistry registry{RealClock::instance()};
  std::shared_ptr<VenueLimiter> limiter;
  Cost cost;
  std::mutex mutex;
  Shared() {
    (void)registry.configure(roomy_preset(BucketMode::token_bucket));
    limiter = *registry.limiter(Exchange::bybit, "a");
    cost = *limiter->cost({{"b", 1}});
  }
};
Shared& shared() {
  static Shared* s = new Shared();  // thread-safe static init; lives for the whole process
  return *s;
}

void BM_try_acquire_contended(benchmark::State& state) {
  Shared& s = shared();
  for (auto _ : state) benchmark::DoNotOptimize(s.limiter->try_acquire(s.cost));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_try_acquire_contended)->Threads(1)->Threads(2)->UseRealTime();

void BM_baseline_mutex_contended(benchmark::State& state) {
  std::mutex& m = shared().mutex;
  for (auto _ : state) {
    m.lock();
    benchmark::ClobberMemory();
    m.unlock();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_baseline_mutex_contended)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace twinstar

// glibc skips the bus-locked instruction in mutexes while a process has only ever had one thread;
// the engine always has many, so start (and end) one before measuring, for honest baselines.
int main(int argc, char** argv) {
  std::thread([] {}).join();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
