// Backtest throughput: candles per second through the bots, the strategy, the ledger and the
// fill model (single series and a 12-series MultiTrader), the store read on its own and the
// full path from the store, and a 100-point parameter sweep. Each group has a baseline in the
// same run: a bare loop over the same candles computing the same moving averages.

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>

#include <benchmark/benchmark.h>

#include "backtest/data_source.hpp"
#include "backtest/engine.hpp"
#include "backtest/sweep.hpp"
#include "bot/bot_factory.hpp"
#include "core/clock.hpp"
#include "store/candle_store.hpp"

namespace {

using namespace twinstar;
namespace fs = std::filesystem;

double process_cpu_s() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

SeriesKey key_of(int i, Interval interval = Interval::h1) {
  return SeriesKey{Exchange::binance, Market::spot, *Symbol::parse(fmt::format("SYM{:02}USDT", i)), interval};
}

// A deterministic random walk of candles (about 1 % per bar), so the averages cross often.
std::vector<Candle> walk(std::size_t n, std::uint64_t seed, std::int64_t step_ms = 3'600'000) {
  std::vector<Candle> out;
  out.reserve(n);
  std::uint64_t s = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  auto next = [&] {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(s >> 11) / static_cast<double>(1ULL << 53) - 0.5;  // [-0.5, 0.5)
  };
  double price = 100 + static_cast<double>(seed % 7) * 10;
  for (std::size_t i = 0; i < n; ++i) {
    const double open = price;
    const double close = std::max(1.0, open * (1 + next() * 0.02));
    const double high = std::max(open, close) * (1 + std::abs(next()) * 0.01);
    const double low = std::min(open, close) * (1 - std::abs(next()) * 0.01);
    Candle c;
    c.open_time = from_epoch_ms(1'577'836'800'000 + static_cast<std::int64_t>(i) * step_ms);
    c.open = *Price::from_double(open);
    c.high = *Price::from_double(high);
    c.low = *Price::from_double(low);
    c.close = *Price::from_double(close);
    c.volume = Quantity::from_units(10);
    c.closed = true;
    out.push_back(c);
    price = close;
  }
  return out;
}

const std::vector<SeriesData>& single_series() {
  static const std::vector<SeriesData> data{{key_of(0), walk(240'000, 1)}};
  return data;
}

// The same 240k candles as minute bars: 5.5 months, 6 monthly files in the store (the hourly
// series spans 27 years, 330 files).
const std::vector<SeriesData>& single_series_1m() {
  static const std::vector<SeriesData> data{{key_of(0, Interval::m1), walk(240'000, 1, 60'000)}};
  return data;
}

const std::vector<SeriesData>& twelve_series() {
  static const std::vector<SeriesData> data = [] {
    std::vector<SeriesData> d;
    for (int i = 0; i < 12; ++i) d.push_back({key_of(i), walk(24'000, static_cast<std::uint64_t>(i) + 1)});
    return d;
  }();
  return data;
}

std::size_t count(const std::vector<SeriesData>& data) {
  std::size_t n = 0;
  for (const auto& s : data) n += s.candles.size();
  return n;
}

BotConfig bot_config(const std::vector<SeriesData>& data) {
  BotConfig b;
  b.exchange = Exchange::binance;
  b.market = Market::spot;
  b.interval = data.front().key.interval;
  for (const auto& s : data) b.symbols.push_back(s.key.symbol.str());
  b.kind = b.symbols.size() == 1 ? "single" : "multi";
  b.name = b.kind;
  b.strategy = "ma_cross";
  b.params = {{"fast", 10}, {"slow", 30}};
  b.max_positions = b.kind == "single" ? 1 : 4;
  b.sizing.mode = "percent_available";
  b.sizing.fraction = b.kind == "single" ? Ratio::from_units(1) : *Ratio::parse("0.2");
  b.sizing.lot_size = *Quantity::parse("0.0001");
  return b;
}

BacktestOptions options() {
  BacktestOptions o;
  o.fill.commission = *Ratio::parse("0.001");
  o.ledger.initial_capital = Money::from_units(10'000);
  return o;
}

BotFactory factory(const BotConfig& config) {
  return [config](CapitalLedger& ledger, OrderGateway& gateway, Clock& clock, SymbolClaims& claims) {
    std::vector<std::unique_ptr<Bot>> bots;
    bots.push_back(*make_bot(config, ledger, gateway, clock, claims));
    return bots;
  };
}

// Baseline: the same two simple moving averages and their crossings, in a bare loop.
std::size_t bare_sma_cross(const std::vector<SeriesData>& data, std::size_t fast_n, std::size_t slow_n) {
  std::size_t crosses = 0;
  std::vector<double> ring(slow_n);
  for (const auto& s : data) {
    double fast = 0, slow = 0, prev = 0;
    for (std::size_t i = 0; i < s.candles.size(); ++i) {
      const double close = s.candles[i].close.to_double();
      fast += close;
      slow += close;
      if (i >= fast_n) fast -= ring[(i - fast_n) % slow_n];
      if (i >= slow_n) slow -= ring[i % slow_n];
      ring[i % slow_n] = close;
      if (i + 1 < slow_n) continue;
      const double diff = fast / static_cast<double>(fast_n) - slow / static_cast<double>(slow_n);
      crosses += (prev <= 0 && diff > 0) || (prev >= 0 && diff < 0);
      prev = diff;
    }
  }
  return crosses;
}

void run_baseline(benchmark::State& state, const std::vector<SeriesData>& data) {
  for (auto _ : state) benchmark::DoNotOptimize(bare_sma_cross(data, 10, 30));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * count(data)));
}

void run_engine(benchmark::State& state, const std::vector<SeriesData>& data) {
  const auto make = factory(bot_config(data));
  const auto o = options();
  std::size_t trades = 0;
  for (auto _ : state) {
    auto r = run_backtest(data, make, o);
    if (!r) {
      state.SkipWithError(r.error().message.c_str());
      return;
    }
    trades = r->trades.size();
    benchmark::DoNotOptimize(r->metrics.equity_final);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * count(data)));
  state.counters["trades"] = static_cast<double>(trades);
}

void BM_baseline_sma_single(benchmark::State& state) { run_baseline(state, single_series()); }
void BM_backtest_single_ma_cross(benchmark::State& state) { run_engine(state, single_series()); }
void BM_baseline_sma_12_series(benchmark::State& state) { run_baseline(state, twelve_series()); }
void BM_backtest_multi_12_series(benchmark::State& state) { run_engine(state, twelve_series()); }

// Removes the temporary store when the program ends.
struct RemoveAtExit {
  fs::path dir;
  ~RemoveAtExit() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

// Series written once to a store in a temporary folder (one per data set), read back as the CLI does.
fs::path write_store(const std::vector<SeriesData>& data, std::string_view name) {
  const fs::path d = fs::temp_directory_path() / fmt::format("twinstar-backtest-bench-{}-{}", name, ::getpid());
  fs::remove_all(d);
  ManualClock clock(Timestamp(std::chrono::hours(24 * 365 * 60)));
  store::StoreOptions o;
  o.data_dir = d;
  o.load_on_open = false;
  auto s = store::CandleStore::open(o, clock);
  if (!s) throw std::runtime_error(s.error().message);
  for (const auto& series : data) {
    if (auto w = (*s)->write_history(series.key, series.candles); !w) throw std::runtime_error(w.error().message);
  }
  return d;
}

const fs::path& stored_twelve() {
  static const RemoveAtExit cleanup{write_store(twelve_series(), "12")};
  return cleanup.dir;
}
const fs::path& stored_single() {
  static const RemoveAtExit cleanup{write_store(single_series(), "1h")};
  return cleanup.dir;
}
const fs::path& stored_single_1m() {
  static const RemoveAtExit cleanup{write_store(single_series_1m(), "1m")};
  return cleanup.dir;
}

std::vector<SeriesKey> keys_of(const std::vector<SeriesData>& data) {
  std::vector<SeriesKey> keys;
  for (const auto& s : data) keys.push_back(s.key);
  return keys;
}

// load_from_store alone, or (with_backtest) followed by the backtest: the full path.
void run_from_store(benchmark::State& state, const fs::path& dir, const std::vector<SeriesData>& data, bool with_backtest) {
  const auto keys = keys_of(data);
  const auto make = factory(bot_config(data));
  const auto o = options();
  for (auto _ : state) {
    auto d = load_from_store(dir, keys, {}, VolumeColumns::skip);  // as `twinstar backtest` reads
    if (!d) {
      state.SkipWithError(d.error().message.c_str());
      return;
    }
    if (with_backtest) {
      auto r = run_backtest(*d, make, o);
      benchmark::DoNotOptimize(r->metrics.equity_final);
    }
    benchmark::DoNotOptimize(d->size());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * count(data)));
}

void BM_store_read_12_series(benchmark::State& state) { run_from_store(state, stored_twelve(), twelve_series(), false); }
void BM_full_path_store_multi_12_series(benchmark::State& state) {
  run_from_store(state, stored_twelve(), twelve_series(), true);
}
void BM_store_read_single_1h(benchmark::State& state) { run_from_store(state, stored_single(), single_series(), false); }
void BM_full_path_store_single_1h(benchmark::State& state) { run_from_store(state, stored_single(), single_series(), true); }
void BM_store_read_single_1m(benchmark::State& state) {
  run_from_store(state, stored_single_1m(), single_series_1m(), false);
}
void BM_full_path_store_single_1m(benchmark::State& state) {
  run_from_store(state, stored_single_1m(), single_series_1m(), true);
}
void BM_backtest_single_1m_ma_cross(benchmark::State& state) { run_engine(state, single_series_1m()); }

// 100 parameter sets (fast 5..14 x slow 30..75) over 12 series x 24,000 candles, as the CLI's
// --sweep runs them. Wall time is the figure of interest; process CPU time is reported beside it.
void BM_sweep_100_sets_12x24k(benchmark::State& state) {
  const auto& data = twelve_series();
  const auto config = bot_config(data);
  auto grid = sweep_grid(config.params, {{"fast", 5, 14, 1}, {"slow", 30, 75, 5}});
  const auto o = options();
  const double cpu0 = process_cpu_s();
  for (auto _ : state) {
    auto rows = run_sweep(data, {config}, config.name, *grid, o, "sharpe", static_cast<unsigned>(state.range(0)));
    if (!rows) {
      state.SkipWithError(rows.error().message.c_str());
      return;
    }
    benchmark::DoNotOptimize(rows->front().metrics.sharpe);
  }
  state.counters["process_cpu_s"] = (process_cpu_s() - cpu0) / static_cast<double>(state.iterations());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * grid->size() * count(data)));
}

// The baseline for the sweep: 100 bare loops over the same candles, on one thread.
void BM_baseline_sweep_100_sets_12x24k(benchmark::State& state) {
  const auto& data = twelve_series();
  for (auto _ : state) {
    std::size_t crosses = 0;
    for (std::size_t fast = 5; fast <= 14; ++fast) {
      for (std::size_t slow = 30; slow <= 75; slow += 5) crosses += bare_sma_cross(data, fast, slow);
    }
    benchmark::DoNotOptimize(crosses);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * 100 * count(data)));
}

BENCHMARK(BM_baseline_sma_single)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_backtest_single_ma_cross)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_baseline_sma_12_series)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_backtest_multi_12_series)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_store_read_12_series)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();
BENCHMARK(BM_full_path_store_multi_12_series)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();
BENCHMARK(BM_backtest_single_1m_ma_cross)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_store_read_single_1h)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();
BENCHMARK(BM_full_path_store_single_1h)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();
BENCHMARK(BM_store_read_single_1m)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();
BENCHMARK(BM_full_path_store_single_1m)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();
BENCHMARK(BM_baseline_sweep_100_sets_12x24k)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_sweep_100_sets_12x24k)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
