// Closed candle in -> signal evaluated -> order sent, on loopback: the live engine against an
// in-process `twinstar sim` with 50 symbols on 1-minute candles (a SingleBot on BTCUSDT and a
// MultiTrader on the other 49), strategies tuned to trade often. Every order decided on a
// closed candle contributes one sample: real time from the feed handing the candle to the
// engine to the order being written to the socket. Prints p50/p90/p99/max and the count.
//   build/release/bench/engine/engine_latency [simulated_hours=3] [speed=300] [senders_per_account=4] [ws|rest] [latency_ms=0]
// ws (default): orders over the order channel (Bybit /v5/trade); rest: REST only, as before it.
// latency_ms: real time the sim holds every REST answer and channel reply (a venue's round trip).

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <unistd.h>

#include "engine/live_engine.hpp"
#include "venue/sim/sim_server.hpp"

using namespace twinstar;
using namespace std::chrono;

int main(int argc, char** argv) {
  const double hours_arg = argc > 1 ? std::atof(argv[1]) : 3;
  const double speed = argc > 2 ? std::atof(argv[2]) : 300;
  const int senders = argc > 3 ? std::atoi(argv[3]) : 4;
  const bool channel = argc <= 4 || std::string_view(argv[4]) != "rest";
  const int latency_ms = argc > 5 ? std::atoi(argv[5]) : 0;
  const auto dir = std::filesystem::temp_directory_path() / ("twinstar-engine-latency-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);

  venue::sim::SimOptions so;
  so.speed = speed;
  so.symbols = 50;
  so.latency = std::chrono::milliseconds(latency_ms);
  auto source = venue::sim::make_market_source(so, Timestamp(sys_days(year(2026) / 3 / 2)));
  if (!source) return 1;
  AcceleratedClock clock((*source)->default_start(), speed);
  std::vector<std::string> symbols;
  for (const auto& i : (*source)->instruments()) symbols.push_back(i.symbol.str());
  venue::sim::SimServer sim(so, std::move(*source), clock);
  if (!sim.start()) return 1;

  LiveEngineOptions o;
  o.senders_per_account = static_cast<std::size_t>(std::max(senders, 1));
  o.data_dir = dir;
  o.clock = &clock;
  o.duration = duration_cast<Duration>(duration<double, std::ratio<3600>>(hours_arg));
  o.report_every = hours(24);
  o.warmup_candles = 60;
  o.close_on_stop = true;
  o.feed_stale_after = duration_cast<Duration>(duration<double>(30 * speed));
  AccountEndpoint a;
  a.rest_url = sim.rest_url();
  a.public_ws_url = sim.ws_url("/v5/public/linear");
  a.private_ws_url = sim.ws_url("/v5/private");
  if (channel) a.trade_ws_url = sim.ws_url("/v5/trade");
  a.api_key = venue::sim::default_accounts().front().api_key;
  a.api_secret = venue::sim::default_accounts().front().api_secret;
  o.accounts = {a};
  BotConfig single;
  single.name = "single";
  single.kind = "single";
  single.interval = Interval::m1;
  single.symbols = {symbols.front()};
  single.strategy = "ma_cross";
  single.params = {{"fast", 2}, {"slow", 5}};
  single.sizing.amount = Money::from_units(500);
  single.sizing.lot_size = Quantity::from_raw(100'000);
  single.allow_short = true;
  BotConfig multi = single;
  multi.name = "multi";
  multi.kind = "multi";
  multi.symbols.assign(symbols.begin() + 1, symbols.end());
  multi.strategy = "rsi_reversion";
  multi.params = {{"period", 3}, {"oversold", 45}, {"overbought", 55}};
  multi.sizing.amount = Money::from_units(200);
  multi.max_positions = 10;
  o.bots = {single, multi};
  o.capital.initial_capital = Money::from_units(100'000);

  std::mutex m;
  std::vector<std::int64_t> samples;
  o.on_candle_to_order_ns = [&](std::int64_t ns) {
    std::lock_guard lock(m);
    samples.push_back(ns);
  };
  std::stop_source stop;
  auto ok = run_live_engine(o, stop.get_token(), {});
  sim.stop();
  std::filesystem::remove_all(dir);
  if (!ok) {
    fmt::print(stderr, "error: {}\n", ok.error().message);
    return 1;
  }
  if (samples.empty()) {
    fmt::print(stderr, "no orders decided on a candle\n");
    return 1;
  }
  std::sort(samples.begin(), samples.end());
  auto q = [&](double p) { return samples[std::min(samples.size() - 1, static_cast<std::size_t>(p * samples.size()))] / 1e3; };
  fmt::print("candle->order on loopback, 50 symbols, venue latency {} ms, orders over {}, {} sender(s), {} orders: p50 {:.1f} us  p90 {:.1f} us  p99 {:.1f} us  max {:.1f} us\n",
             latency_ms, channel ? "the WebSocket order channel" : "REST", o.senders_per_account, samples.size(), q(0.5), q(0.9), q(0.99), samples.back() / 1e3);
  return 0;
}
