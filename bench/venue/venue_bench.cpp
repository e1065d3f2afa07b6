// Parse + dispatch of WebSocket kline pushes, per venue, against a baseline measured in the
// same run: simdjson's own DOM parse of the same bytes (full validation, no field access).
// Frames rotate over 50 symbols, as one multiplexed connection would deliver them.

#include <benchmark/benchmark.h>

#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>

#include "venue/binance/binance_kline_parser.hpp"
#include "venue/bitget/bitget_kline_parser.hpp"
#include "venue/bybit/bybit_kline_parser.hpp"
#include "venue/okx/okx_kline_parser.hpp"

namespace {

using namespace twinstar;
using namespace twinstar::venue;

constexpr int kSymbols = 50;
constexpr int kFrames = 1000;

std::string price(int i, int k) { return fmt::format("{}.{}", 16000 + (i * 37 + k) % 900, (i * 13 + k) % 100); }

std::vector<std::string> bybit_frames() {
  std::vector<std::string> out;
  for (int i = 0; i < kFrames; ++i) {
    const int s = i % kSymbols;
    const long start = 1672324800000L + (i / kSymbols) * 60000L;
    out.push_back(fmt::format(
        R"({{"topic":"kline.1.SYM{:02d}USDT","data":[{{"start":{},"end":{},"interval":"1","open":"{}","close":"{}","high":"{}","low":"{}","volume":"2.081","turnover":"34666.4005","confirm":{},"timestamp":{}}}],"ts":{},"type":"snapshot"}})",
        s, start, start + 59999, price(i, 0), price(i, 1), price(i, 2), price(i, 3), i % 7 == 0 ? "true" : "false",
        start + 1234, start + 1234));
  }
  return out;
}

std::vector<std::string> binance_frames() {
  std::vector<std::string> out;
  for (int i = 0; i < kFrames; ++i) {
    const int s = i % kSymbols;
    const long start = 1672515780000L + (i / kSymbols) * 60000L;
    out.push_back(fmt::format(
        R"({{"stream":"sym{:02d}usdt@kline_1m","data":{{"e":"kline","E":{},"s":"SYM{:02d}USDT","k":{{"t":{},"T":{},"s":"SYM{:02d}USDT","i":"1m","f":100,"L":200,"o":"{}","c":"{}","h":"{}","l":"{}","v":"1000","n":100,"x":{},"q":"1.0000","V":"500","Q":"0.500","B":"123456"}}}}}})",
        s, start + 1500, s, start, start + 59999, s, price(i, 0), price(i, 1), price(i, 2), price(i, 3),
        i % 7 == 0 ? "true" : "false"));
  }
  return out;
}

std::vector<std::string> okx_frames() {
  std::vector<std::string> out;
  for (int i = 0; i < kFrames; ++i) {
    const int s = i % kSymbols;
    const long start = 1597026383085L + (i / kSymbols) * 60000L;
    out.push_back(fmt::format(
        R"({{"arg":{{"channel":"candle1m","instId":"SYM{:02d}-USDT"}},"data":[["{}","{}","{}","{}","{}","45247","529.5858061","5529.5858061","{}"]]}})",
        s, start, price(i, 0), price(i, 1), price(i, 2), price(i, 3), i % 7 == 0 ? "1" : "0"));
  }
  return out;
}

std::vector<std::string> bitget_frames() {
  std::vector<std::string> out;
  for (int i = 0; i < kFrames; ++i) {
    const int s = i % kSymbols;
    const long start = 1695672780000L + (i / kSymbols) * 60000L;
    out.push_back(fmt::format(
        R"({{"action":"update","arg":{{"instType":"USDT-FUTURES","channel":"candle1m","instId":"SYM{:02d}USDT"}},"data":[["{}","{}","{}","{}","{}","12.5","27506.25","27506.25"]],"ts":{}}})",
        s, start, price(i, 0), price(i, 1), price(i, 2), price(i, 3), start + 500));
  }
  return out;
}

// The consumer side of dispatch: candles routed by series to a per-series sink.
struct Sink {
  std::uint64_t candles = 0;
  std::uint64_t closed = 0;
  Price last_close;
};

class Dispatcher {
 public:
  void deliver(const KlineFrame& frame) {
    if (frame.kind != FrameKind::kline) return;
    auto [it, inserted] = index_.try_emplace(frame.series, sinks_.size());
    if (inserted) sinks_.emplace_back();
    Sink& sink = sinks_[it->second];
    for (const Candle& c : frame.candles) {
      ++sink.candles;
      sink.closed += c.closed ? 1 : 0;
      sink.last_close = c.close;
    }
  }
  std::size_t series() const { return sinks_.size(); }

 private:
  std::unordered_map<SeriesKey, std::size_t> index_;
  std::vector<Sink> sinks_;
};

template <class Parser, class... Extra>
void run_parse_dispatch(benchmark::State& state, Parser& parser, const std::vector<std::string>& frames, Extra&... extra) {
  KlineFrame frame;
  Dispatcher dispatch;
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& text = frames[i];
    if (++i == frames.size()) i = 0;
    if (!parser.parse_frame(text, frame)) state.SkipWithError("frame rejected");
    (extra.apply(frame), ...);
    dispatch.deliver(frame);
  }
  state.SetItemsProcessed(state.iterations());
  std::size_t bytes = 0;
  for (const auto& f : frames) bytes += f.size();
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * (bytes / frames.size())));
  state.counters["series"] = static_cast<double>(dispatch.series());
  state.counters["rejected"] = static_cast<double>(parser.stats().rejected);
}

void run_simdjson_dom(benchmark::State& state, const std::vector<std::string>& frames) {
  simdjson::dom::parser parser;
  std::vector<simdjson::padded_string> padded(frames.begin(), frames.end());
  std::size_t i = 0;
  for (auto _ : state) {
    simdjson::dom::element doc;
    if (parser.parse(padded[i]).get(doc)) state.SkipWithError("simdjson rejected a frame");
    benchmark::DoNotOptimize(doc);
    if (++i == padded.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Bybit_ParseDispatch(benchmark::State& state) {
  static const auto frames = bybit_frames();
  bybit::BybitKlineParser parser(Market::linear);
  run_parse_dispatch(state, parser, frames);
}
void BM_Bybit_SimdjsonDomBaseline(benchmark::State& state) { run_simdjson_dom(state, bybit_frames()); }

void BM_Binance_ParseDispatch(benchmark::State& state) {
  static const auto frames = binance_frames();
  binance::BinanceKlineParser parser(Market::linear);
  run_parse_dispatch(state, parser, frames);
}
void BM_Binance_SimdjsonDomBaseline(benchmark::State& state) { run_simdjson_dom(state, binance_frames()); }

void BM_Okx_ParseDispatch(benchmark::State& state) {
  static const auto frames = okx_frames();
  okx::OkxKlineParser parser;
  run_parse_dispatch(state, parser, frames);
}
void BM_Okx_SimdjsonDomBaseline(benchmark::State& state) { run_simdjson_dom(state, okx_frames()); }

void BM_Bitget_ParseCloseDispatch(benchmark::State& state) {
  static const auto frames = bitget_frames();
  bitget::BitgetKlineParser parser;
  bitget::BitgetCandleCloser closer;
  run_parse_dispatch(state, parser, frames, closer);
}
void BM_Bitget_SimdjsonDomBaseline(benchmark::State& state) { run_simdjson_dom(state, bitget_frames()); }

BENCHMARK(BM_Bybit_ParseDispatch);
BENCHMARK(BM_Bybit_SimdjsonDomBaseline);
BENCHMARK(BM_Binance_ParseDispatch);
BENCHMARK(BM_Binance_SimdjsonDomBaseline);
BENCHMARK(BM_Okx_ParseDispatch);
BENCHMARK(BM_Okx_SimdjsonDomBaseline);
BENCHMARK(BM_Bitget_ParseCloseDispatch);
BENCHMARK(BM_Bitget_SimdjsonDomBaseline);

}  // namespace

BENCHMARK_MAIN();
