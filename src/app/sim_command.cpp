#include "app/sim_command.hpp"

#include <csignal>
#include <ctime>
#include <memory>

#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include "core/clock.hpp"
#include "venue/sim/sim_server.hpp"

namespace twinstar {

namespace {

struct SimCliOptions {
  int port = 0;
  std::string host = "127.0.0.1";
  std::size_t symbols = 50;
  std::uint64_t seed = 1;
  double speed = 1.0;
  std::string replay;
  std::string start;
  std::string faults;
  std::string accounts;
  std::string ip_ban;
  std::string slippage;
  double run_for = 0;  // real seconds; 0 = until Ctrl-C
  int latency_ms = 0;  // real milliseconds before each REST answer and order-channel reply
};

constexpr const char* kFaultsHelp =
    "Fault injection, comma-separated, seeded by --seed; periods and durations are simulated time:\n"
    "  drop=N        every N, one WebSocket connection is cut (no close frame)\n"
    "  stall=N:D     every N, one connection receives nothing for D, then everything\n"
    "  dup=P         each push is sent twice with probability P\n"
    "  delay=P:D     with probability P a push (and what follows it) is held back D\n"
    "  rest5xx=P     a REST call answers HTTP 503 with probability P\n"
    "  timeout=P[:D] a REST call gets no answer with probability P; closed after D (default 30s)\n"
    "  refuse=N:D    every N, new connections are refused for D\n"
    "e.g. drop=30s,stall=60s:5s,dup=0.01,delay=0.05:200ms,rest5xx=0.02,timeout=0.01,refuse=120s:10s";

void run_sim(const SimCliOptions& cli) {
  using namespace venue::sim;
  SimOptions o;
  o.seed = cli.seed;
  o.speed = cli.speed;
  o.latency = std::chrono::milliseconds(cli.latency_ms);
  o.symbols = cli.symbols;
  o.server.address = cli.host;
  o.server.port = static_cast<std::uint16_t>(cli.port);
  auto fail = [](const std::string& msg) {
    fmt::print(stderr, "twinstar sim: {}\n", msg);
    throw CommandFailed{2};
  };
  if (!cli.replay.empty()) o.replay = cli.replay;
  if (!cli.start.empty()) {
    auto t = parse_iso8601(cli.start);
    if (!t) fail("--start: " + t.error().message);
    o.start = *t;
  }
  if (!cli.faults.empty()) {
    auto f = parse_fault_spec(cli.faults);
    if (!f) fail(f.error().message);
    o.faults = *f;
  }
  if (!cli.accounts.empty()) {
    auto a = load_accounts_file(cli.accounts);
    if (!a) fail(a.error().message);
    o.accounts = *a;
  }
  if (!cli.ip_ban.empty()) {
    auto d = parse_duration(cli.ip_ban);
    if (!d) fail("--ip-ban: " + d.error().message);
    o.ip_ban = *d;
  }
  if (!cli.slippage.empty()) {
    auto r = Ratio::parse(cli.slippage);
    if (!r || r->is_negative()) fail("--slippage: expected a non-negative ratio such as 0.0005");
    o.slippage = *r;
  }

  // The simulated clock starts where the market does: now (synthetic) or inside the replay.
  const Timestamp wall_now = RealClock::instance().now();
  auto source = make_market_source(o, wall_now);
  if (!source) fail(source.error().message);
  const Timestamp start = (*source)->default_start();
  AcceleratedClock clock(start, o.speed);
  const std::string market_text = (*source)->describe();
  SimServer sim(o, std::move(*source), clock);

  // Signals are taken synchronously: block them before the io thread starts so it inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  if (auto s = sim.start(); !s) fail(s.error().message);

  fmt::print("twinstar sim: Bybit v5 protocol on {}\n", sim.rest_url());
  fmt::print("  REST        {}\n", sim.rest_url());
  fmt::print("  public WS   {}  {}\n", sim.ws_url("/v5/public/linear"), sim.ws_url("/v5/public/spot"));
  fmt::print("  private WS  {}\n", sim.ws_url("/v5/private"));
  fmt::print("  trade WS    {}\n", sim.ws_url("/v5/trade"));
  fmt::print("  stats       {}/sim/stats\n", sim.rest_url());
  fmt::print("  market      {}\n", market_text);
  fmt::print("  clock       starts {} at {}x, seed {}\n", format_iso8601(start), o.speed, o.seed);
  fmt::print("  faults      {}\n", o.faults.describe());
  // These are the sim's own paper accounts, not real credentials: printing them is the point.
  fmt::print("  test API keys (paper accounts of this sim only):\n");
  for (const auto& a : o.accounts) {
    fmt::print("    {:<10} key {}  secret {}  USDT {}\n", a.name, a.api_key, a.api_secret, a.usdt);
  }
  fmt::print("Ctrl-C stops.\n");
  std::fflush(stdout);

  if (cli.run_for > 0) {
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(cli.run_for);
    ts.tv_nsec = static_cast<long>((cli.run_for - static_cast<double>(ts.tv_sec)) * 1e9);
    sigtimedwait(&signals, nullptr, &ts);
  } else {
    int sig = 0;
    sigwait(&signals, &sig);
  }
  sim.stop();
  pthread_sigmask(SIG_UNBLOCK, &signals, nullptr);
  fmt::print("twinstar sim: stopped\n");
}

}  // namespace

void add_sim_command(CLI::App& root, AppOptions& options) {
  (void)options;
  auto cli = std::make_shared<SimCliOptions>();
  auto* cmd = root.add_subcommand(
      "sim",
      "Run the built-in exchange: Bybit v5 REST + WebSocket on loopback, synthetic or replayed candles,\n"
      "paper accounts, Bybit's rate limits and optional fault injection (docs/SIM.md)");
  cmd->add_option("--port", cli->port, "TCP port; 0 picks a free one and prints it")->check(CLI::Range(0, 65535));
  cmd->add_option("--host", cli->host, "Address to bind (default 127.0.0.1; loopback only unless you mean it)");
  cmd->add_option("--symbols", cli->symbols, "Synthetic symbols: BTCUSDT, ETHUSDT, SOLUSDT, ... (default 50)")
      ->check(CLI::Range(1, 2000));
  cmd->add_option("--seed", cli->seed, "Seed of the market path and the fault schedule (default 1)");
  cmd->add_option("--speed", cli->speed, "Simulated seconds per real second (900: a 15-minute candle a second)")
      ->check(CLI::Range(0.001, 1e7));
  cmd->add_option("--replay", cli->replay, "Replay candles from a CSV file or folder (e.g. ../shared/data/bybit-linear)")
      ->type_name("PATH");
  cmd->add_option("--start", cli->start, "Simulated start time, ISO 8601 (default: now; replay: after 1000 bars)");
  cmd->add_option("--faults", cli->faults, kFaultsHelp)->type_name("SPEC");
  cmd->add_option("--accounts", cli->accounts, "Paper accounts (TOML [[account]] api_key, api_secret, usdt)")
      ->type_name("FILE")
      ->check(CLI::ExistingFile);
  cmd->add_option("--ip-ban", cli->ip_ban, "How long an IP over 600 requests / 5 s is banned (simulated; default 10m)");
  cmd->add_option("--slippage", cli->slippage, "Market-order slippage as a ratio (default 0.0005 = 5 bps)");
  cmd->add_option("--latency", cli->latency_ms,
                  "Real milliseconds added before every REST answer and /v5/trade reply: a venue far away (default 0)")
      ->check(CLI::Range(0, 10'000));
  cmd->add_option("--run-for", cli->run_for, "Stop after this many real seconds (default: run until Ctrl-C)");
  cmd->callback([cli] { run_sim(*cli); });
}

}  // namespace twinstar
