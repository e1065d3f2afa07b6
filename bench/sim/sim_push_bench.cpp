// Kline pushes per second the sim sustains on its one io thread across 100 symbols (candle
// aggregation + JSON encode + WebSocket send to a loopback client), and the same-run baseline:
// the same server pushing pre-encoded frames of the same size (transport only).
#include <benchmark/benchmark.h>

#include <thread>

#include "core/clock.hpp"
#include "net/server.hpp"
#include "test_client.hpp"
#include "venue/sim/sim_server.hpp"

namespace {

using namespace std::chrono_literals;
using namespace twinstar;
using twinstar::testing::HttpClient;
using twinstar::testing::WsClient;

constexpr int kSymbols = 100;
constexpr int kMinutesPerBatch = 50;  // one clock jump: 50 confirms + 1 update per topic

std::string subscribe_frame(const std::vector<std::string>& symbols) {
  std::string sub = R"({"op":"subscribe","args":[)";
  for (std::size_t i = 0; i < symbols.size(); ++i) sub += (i ? ",\"" : "\"") + ("kline.1." + symbols[i]) + "\"";
  return sub + "]}";
}

void BM_SimKlinePushes(benchmark::State& state) {
  using namespace venue::sim;
  ManualClock clock(*parse_iso8601("2025-01-01T00:00:00Z"));
  SimOptions o;
  o.symbols = kSymbols;
  o.tick = 1ms;
  o.history = 2h;
  o.idle_timeout = std::chrono::hours(24 * 365);  // this client never pings
  o.server.ws_send_queue_bytes = 64u << 20;
  auto source = make_market_source(o, clock.now());
  SimServer sim(o, std::move(*source), clock);
  if (!sim.start()) {
    state.SkipWithError("sim did not start");
    return;
  }
  std::vector<std::string> symbols;
  auto c = WsClient::connect(sim.port(), "/v5/public/linear");
  HttpClient http(sim.port());
  // Symbol names from the sim itself.
  auto info = http.get("/v5/market/instruments-info?category=linear");
  symbols.clear();
  for (std::size_t at = 0; (at = info->body.find("\"symbol\":\"", at)) != std::string::npos;) {
    at += 10;
    symbols.push_back(info->body.substr(at, info->body.find('"', at) - at));
  }
  (*c)->send(subscribe_frame(symbols));
  (*c)->read(5s);  // ack
  std::int64_t frames = 0, bytes = 0;
  for (auto _ : state) {
    clock.advance(std::chrono::minutes(kMinutesPerBatch));
    int confirms = 0;
    while (confirms < kSymbols * kMinutesPerBatch) {
      auto m = (*c)->read(10s);
      if (!m) {
        state.SkipWithError("push stream stopped");
        return;
      }
      ++frames;
      bytes += static_cast<std::int64_t>(m->size());
      confirms += m->find("\"confirm\":true") != std::string::npos;
    }
  }
  state.SetItemsProcessed(frames);
  state.SetBytesProcessed(bytes);
  state.counters["frame_bytes"] = frames ? static_cast<double>(bytes) / static_cast<double>(frames) : 0;
  sim.stop();
}
BENCHMARK(BM_SimKlinePushes)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3.0);

// Baseline: "go:N" makes the server push N copies of a kline-sized frame (no market, no encode).
class RawPush : public net::ServerHandler {
 public:
  explicit RawPush(std::shared_ptr<const std::string> frame) : frame_(std::move(frame)) {}
  net::HttpResponse on_http(const net::HttpRequest&) override { return {}; }
  void on_ws_open(const std::shared_ptr<net::WsSession>&) override {}
  void on_ws_message(const std::shared_ptr<net::WsSession>& s, std::string_view text) override {
    const int n = std::stoi(std::string(text.substr(3)));
    for (int i = 0; i < n; ++i) s->send(frame_);
  }
  void on_ws_close(const std::shared_ptr<net::WsSession>&, std::string_view) override {}

 private:
  std::shared_ptr<const std::string> frame_;
};

void BM_RawBeastPushesSameSize(benchmark::State& state) {
  // A real sim frame's size: ~300 bytes.
  auto frame = std::make_shared<const std::string>(
      R"({"topic":"kline.1.SIM100USDT","data":[{"start":1735689600000,"end":1735689659999,"interval":"1","open":"12.3456","close":"12.3467","high":"12.3499","low":"12.3401","volume":"8123.4","turnover":"100291.2214","confirm":true,"timestamp":1735689660000}],"ts":1735689660000,"type":"snapshot"})");
  RawPush handler(frame);
  net::ServerOptions o;
  o.ws_send_queue_bytes = 64u << 20;
  net::Server server(o, handler);
  if (!server.start()) {
    state.SkipWithError("server did not start");
    return;
  }
  auto c = WsClient::connect(server.port(), "/");
  const int batch = kSymbols * (kMinutesPerBatch + 1);
  std::int64_t frames = 0;
  for (auto _ : state) {
    (*c)->send("go:" + std::to_string(batch));
    for (int i = 0; i < batch; ++i) {
      if (!(*c)->read(10s)) {
        state.SkipWithError("stream stopped");
        return;
      }
      ++frames;
    }
  }
  state.SetItemsProcessed(frames);
  state.SetBytesProcessed(frames * static_cast<std::int64_t>(frame->size()));
  server.stop();
}
BENCHMARK(BM_RawBeastPushesSameSize)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3.0);

// CPU only: aggregate the candle from base bars and encode the push, 100 symbols per iteration
// (what the io thread does per push before the socket write).
void BM_CandleAndEncodeOnly(benchmark::State& state) {
  using namespace venue::sim;
  SyntheticOptions so;
  so.symbols = kSymbols;
  so.start = *parse_iso8601("2025-01-01T00:00:00Z");
  so.history = 2h;
  venue::sim::Market market(make_synthetic_source(so));
  Timestamp t = so.start;
  std::int64_t frames = 0;
  std::size_t sink = 0;
  for (auto _ : state) {
    t += std::chrono::minutes(1);
    const Timestamp open = t - std::chrono::minutes(1);
    for (std::size_t i = 0; i < kSymbols; ++i) {
      const auto c = market.candle(i, Interval::m1, open, t);
      sink += kline_push("kline.1.BTCUSDT", "1", *c, to_epoch_ms(t) - 1, to_epoch_ms(t)).size();
      ++frames;
    }
  }
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(frames);
}
BENCHMARK(BM_CandleAndEncodeOnly)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
