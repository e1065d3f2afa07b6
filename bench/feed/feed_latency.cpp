// Frame-to-consumer latency on loopback: a Beast server pushes Bybit kline frames for 50
// symbols to a MarketFeed; each frame carries its send time (µs since start, in the volume
// field) and the consumer records now − sent. Prints p50/p99/max and the frame rate.
//   build/release/bench/feed/feed_latency [seconds=3] [frames_per_ms=5 | N@P] [nagle|socket]
// "N@P" pushes N frames every P ms: 1@5 is 200 frames/s spread out (50 Binance kline streams at
// one push per 250 ms each), 50@1000 a burst of 50 once a second (the closes of 50 symbols).
// "nagle" leaves Nagle's algorithm on for the server's sockets (the behaviour before
// ServerOptions::tcp_no_delay), to measure the difference in one run. "socket" reads the frames
// with a bare net::WsClient on the calling thread (no codec, queue or dispatcher): the
// transport's share of the latency.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "feed/market_feed.hpp"
#include "net/server.hpp"
#include "net/ws_client.hpp"

namespace {

using namespace twinstar;
using Steady = std::chrono::steady_clock;
const auto kStart = Steady::now();

std::int64_t micros_now() {
  return std::chrono::duration_cast<std::chrono::microseconds>(Steady::now() - kStart).count();
}

class Pusher : public net::ServerHandler {
 public:
  net::HttpResponse on_http(const net::HttpRequest&) override { return {}; }
  void on_ws_open(const std::shared_ptr<net::WsSession>& s) override { session = s; }
  void on_ws_message(const std::shared_ptr<net::WsSession>&, std::string_view text) override {
    if (text.find("subscribe") != std::string_view::npos) subscribed = true;
  }
  void on_ws_close(const std::shared_ptr<net::WsSession>&, std::string_view) override { session.reset(); }
  void push(int n) {
    if (!session || !subscribed) return;
    for (int i = 0; i < n; ++i) {
      const int s = static_cast<int>(counter++ % 50);
      session->send(fmt::format(
          R"({{"topic":"kline.1.SYM{:02d}USDT","data":[{{"start":1672324800000,"end":1672324859999,"interval":"1","open":"100","close":"100","high":"100","low":"100","volume":"{}","turnover":"1","confirm":false,"timestamp":1}}],"ts":1,"type":"snapshot"}})",
          s, micros_now()));
    }
  }
  std::shared_ptr<net::WsSession> session;  // io thread
  bool subscribed = false;                  // io thread
  std::uint64_t counter = 0;                // io thread
};

class LatencyRecorder final : public feed::CandleConsumer {
 public:
  void on_candle(const SeriesKey&, const Candle& c) override {
    const auto sent = c.volume.raw() / 100'000'000;  // whole units = µs
    if (samples.size() < samples.capacity()) samples.push_back(micros_now() - sent);
  }
  std::vector<std::int64_t> samples;  // one dispatcher thread writes; read after stop()
};

}  // namespace

int main(int argc, char** argv) {
  const int seconds = argc > 1 ? std::atoi(argv[1]) : 3;
  const std::string_view rate = argc > 2 ? argv[2] : "5";
  const auto at = rate.find('@');
  const int per_ms = std::max(1, std::atoi(std::string(rate.substr(0, at)).c_str()));  // frames per tick
  const auto tick = std::chrono::milliseconds(at == std::string_view::npos ? 1 : std::max(1, std::atoi(std::string(rate.substr(at + 1)).c_str())));
  const bool nagle = argc > 3 && std::string_view(argv[3]) == "nagle";
  Pusher pusher;
  net::ServerOptions so;
  so.tcp_no_delay = !nagle;
  net::Server server(so, pusher);
  if (!server.start()) return 1;
  if (argc > 3 && std::string_view(argv[3]) == "socket") {
    auto ws = net::WsClient::connect(fmt::format("ws://127.0.0.1:{}/v5/public/linear", server.port()));
    if (!ws || !(*ws)->send(R"({"op":"subscribe"})")) return 1;
    server.every(tick, [&] { pusher.push(per_ms); });
    std::vector<std::int64_t> v;
    v.reserve(2'000'000);
    const auto end = Steady::now() + std::chrono::seconds(seconds);
    while (Steady::now() < end) {
      auto m = (*ws)->read(std::chrono::milliseconds(100));
      if (!m) continue;
      const auto at = micros_now();
      const auto k = m->find(R"("volume":")");
      if (k != std::string::npos) v.push_back(at - std::atoll(m->c_str() + k + 10));
    }
    server.stop();
    if (v.empty()) return 1;
    std::sort(v.begin(), v.end());
    std::printf("bare socket read: %zu frames, latency p50 %lld us, p99 %lld us, max %lld us\n", v.size(),
                (long long)v[v.size() / 2], (long long)v[v.size() * 99 / 100], (long long)v.back());
    return 0;
  }
  RealClock& clock = RealClock::instance();
  RateLimiterRegistry registry(clock);
  feed::FeedOptions o;
  o.endpoints = {fmt::format("http://127.0.0.1:{}", server.port()), fmt::format("ws://127.0.0.1:{}/v5/public/linear", server.port())};
  o.backfill = false;
  auto f = feed::MarketFeed::create(o, registry, clock);
  if (!f) return 1;
  auto rec = std::make_shared<LatencyRecorder>();
  rec->samples.reserve(2'000'000);
  for (int s = 0; s < 50; ++s) (void)(*f)->subscribe(*Symbol::parse(fmt::format("SYM{:02d}USDT", s)), Interval::m1, rec, true);
  (void)(*f)->start();
  server.every(tick, [&] { pusher.push(per_ms); });
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  server.stop();
  (*f)->stop();
  auto& v = rec->samples;
  if (v.empty()) {
    std::puts("no samples");
    return 1;
  }
  std::sort(v.begin(), v.end());
  const auto st = (*f)->stats();
  std::printf("server sockets: %s\n", nagle ? "Nagle on (before)" : "TCP_NODELAY");
  std::printf("frames %llu in %d s (%.0f/s), delivered %zu, coalesced %llu\n", (unsigned long long)st.frames, seconds,
              double(st.frames) / seconds, v.size(), (unsigned long long)st.queue.coalesced);
  std::printf("frame-to-consumer latency: p50 %lld us, p99 %lld us, max %lld us\n", (long long)v[v.size() / 2],
              (long long)v[v.size() * 99 / 100], (long long)v.back());
  return 0;
}
