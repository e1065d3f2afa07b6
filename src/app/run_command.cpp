#include "app/run_command.hpp"

#include <cstdio>
#include <optional>

#include <fmt/core.h>

#include "app/control_command.hpp"
#include "app/signal_watcher.hpp"
#include "config/secrets.hpp"
#include "core/clock.hpp"
#include "engine/engine_control.hpp"
#include "engine/live_engine.hpp"
#include "feed/endpoints.hpp"
#include "observe/control_server.hpp"
#include "ratelimit/limiter.hpp"
#include "venue/common/trading.hpp"
#include "venue/sim/sim_server.hpp"

namespace twinstar {

namespace {

struct RunArgs {
  double speed = 1;
  std::string duration;
  std::string report_every = "1h";
  std::uint16_t control_port = 0;
  bool close_on_stop = false;
  // The embedded sim (accounts with endpoint = "sim").
  std::uint64_t sim_seed = 1;
  std::size_t sim_symbols = 50;
  std::string sim_faults;
};

// Bybit's private stream and order entry live next to the public streams: ws(s)://host/v5/private,
// ws(s)://host/v5/trade.
std::string bybit_ws_path(const std::string& public_ws, std::string_view path_wanted) {
  const auto scheme_end = public_ws.find("://");
  const auto path = public_ws.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  return (path == std::string::npos ? public_ws : public_ws.substr(0, path)) + std::string(path_wanted);
}

AccountEndpoint resolve_account(const AccountConfig& a, const venue::sim::SimServer* sim) {
  AccountEndpoint e;
  e.name = a.name;
  e.exchange = a.exchange;
  e.market = a.market;
  const bool use_sim = a.endpoint == "sim";
  if (use_sim) {
    e.rest_url = sim->rest_url();
    e.public_ws_url = sim->ws_url(a.market == Market::spot ? "/v5/public/spot" : "/v5/public/linear");
    e.private_ws_url = sim->ws_url("/v5/private");
  } else if (a.endpoint.empty() || a.endpoint == "mainnet" || a.endpoint == "testnet") {
    auto d = feed::default_endpoints(a.exchange, a.market, a.endpoint == "testnet" ? feed::Network::testnet : feed::Network::mainnet);
    if (!d) fail(2, fmt::format("account {}: {}", a.name, d.error().message));
    e.rest_url = d->rest_url;
    e.public_ws_url = d->ws_url;
    if (a.exchange == Exchange::bybit) {
      e.private_ws_url = a.endpoint == "testnet" ? "wss://stream-testnet.bybit.com/v5/private" : "wss://stream.bybit.com/v5/private";
    } else {
      e.private_ws_url = a.endpoint == "testnet" ? "wss://fstream.binancefuture.com/private" : "wss://fstream.binance.com/private";
    }
  } else {
    auto d = feed::parse_endpoint_override(a.exchange, a.market, a.endpoint);
    if (!d) fail(2, fmt::format("account {}: endpoint: {}", a.name, d.error().message));
    e.rest_url = d->rest_url;
    e.public_ws_url = d->ws_url;
    e.private_ws_url = a.exchange == Exchange::bybit ? bybit_ws_path(d->ws_url, "/v5/private") : d->ws_url;
  }
  if (a.exchange == Exchange::bybit && a.order_entry == "websocket") e.trade_ws_url = bybit_ws_path(e.private_ws_url, "/v5/trade");
  auto creds = load_credentials(a);
  if (use_sim && (!creds || creds->api_key.empty())) {
    // The embedded sim's own paper account (docs/SIM.md), not a real credential.
    const auto paper = venue::sim::default_accounts().front();
    e.api_key = paper.api_key;
    e.api_secret = paper.api_secret;
    return e;
  }
  if (!creds) fail(2, fmt::format("account {}: {}", a.name, creds.error().message));
  e.api_key = creds->api_key;
  e.api_secret = std::string(creds->api_secret.reveal());
  return e;
}

void run(const AppOptions& app, const RunArgs& args) {
  if (app.config_path.empty()) fail(2, "twinstar run needs --config FILE with [[accounts]] and [[bots]] (see examples/)");
  const EngineConfig& config = app.config();
  if (!(args.speed > 0)) fail(2, fmt::format("--speed must be positive, got {}", args.speed));
  LiveEngineOptions o;
  o.data_dir = config.data_dir;
  o.bots = config.bots;
  o.capital = config.capital;
  o.rate_limits = config.rate_limits;
  o.close_on_stop = args.close_on_stop;
  // Frames of an accelerated sim are spaced in simulated time; the allowance is 30 s of real time.
  if (args.speed > 1) o.feed_stale_after = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(30 * args.speed));
  auto parse = [](const std::string& flag, const std::string& text) {
    auto d = parse_duration(text);
    if (!d) fail(2, fmt::format("{}: {}", flag, d.error().message));
    return *d;
  };
  if (!args.duration.empty()) o.duration = parse("--duration", args.duration);
  o.report_every = parse("--report-every", args.report_every);

  std::stop_source stop;
  SignalWatcher watcher(stop);

  // Accounts on "sim" share one embedded `twinstar sim` on loopback and its clock.
  bool wants_sim = false;
  for (const auto& a : config.accounts) wants_sim |= a.endpoint == "sim";
  std::optional<AcceleratedClock> clock;
  std::unique_ptr<venue::sim::SimServer> sim;
  if (wants_sim) {
    venue::sim::SimOptions so;
    so.speed = args.speed;
    so.seed = args.sim_seed;
    so.symbols = args.sim_symbols;
    if (!args.sim_faults.empty()) {
      auto f = venue::sim::parse_fault_spec(args.sim_faults);
      if (!f) fail(2, "--sim-faults: " + f.error().message);
      so.faults = *f;
    }
    auto source = venue::sim::make_market_source(so, RealClock::instance().now());
    if (!source) fail(1, source.error().message);
    clock.emplace((*source)->default_start(), args.speed);
    sim = std::make_unique<venue::sim::SimServer>(so, std::move(*source), *clock);
    if (auto ok = sim->start(); !ok) fail(1, "embedded sim: " + ok.error().message);
    fmt::print("embedded sim: Bybit v5 on {} ({} symbols, {}x, faults: {})\n", sim->rest_url(), so.symbols, args.speed,
               so.faults.describe());
  }
  for (const auto& a : config.accounts) o.accounts.push_back(resolve_account(a, sim.get()));
  if (!clock) {
    // The engine runs on the venue's time: measured once, then advanced at --speed (1 for a real
    // exchange; the sim's speed for an external `twinstar sim`).
    if (o.accounts.empty()) fail(2, "config: no [[accounts]]");
    RateLimiterRegistry probe_limits(RealClock::instance());
    auto limiter = probe_limits.limiter(o.accounts.front().exchange, "probe");
    if (!limiter) fail(1, limiter.error().message);
    auto probe = make_venue_trading(o.accounts.front(), *limiter, RealClock::instance());
    if (!probe) fail(2, probe.error().message);
    auto offset = (*probe)->sync_time();
    if (!offset && offset.error().code != ErrorCode::invalid_argument) {
      fail(1, fmt::format("account {}: {}", o.accounts.front().name, offset.error().message));
    }
    // A sim at --speed > 1 is hours ahead: reported as an error, measured all the same.
    const Duration skew = (*probe)->clock_offset();
    clock.emplace(RealClock::instance().now() + skew, args.speed);
  }
  o.clock = &*clock;

  EngineMailbox mailbox;
  o.mailbox = &mailbox;
  observe::ControlServer control({.state_dir = control_state_dir(app), .port = args.control_port, .engine_name = "run"});
  add_engine_routes(control, mailbox);
  if (auto started = control.start(); !started) fail(1, "control endpoint: " + started.error().message);
  fmt::print("twinstar run{}: {} bot(s) on {} account(s), data in {}; control http://127.0.0.1:{} (twinstar status{}, twinstar bot ...)\n",
             config.instance.empty() ? "" : " [" + config.instance + "]", o.bots.size(), o.accounts.size(), o.data_dir.string(),
             control.port(), config.instance.empty() ? "" : " --instance " + config.instance);
  std::fflush(stdout);
  o.on_notice = [](std::string_view text) {
    fmt::print("{}\n", text);
    std::fflush(stdout);
  };
  auto ok = run_live_engine(o, stop.get_token(), [](const EngineStatus& s) {
    fmt::print("{}", format_status(s));
    std::fflush(stdout);
  });
  if (sim) sim->stop();
  if (!ok) fail(ok.error().code == ErrorCode::config_error ? 2 : 1, ok.error().message);
}

}  // namespace

void add_run_command(CLI::App& root, AppOptions& options) {
  auto args = std::make_shared<RunArgs>();
  auto* cmd = root.add_subcommand(
      "run",
      "The live engine: every [[bots]] entry of --config on its [[accounts]] entry (Bybit v5, Binance USDⓈ-M,\n"
      "or endpoint = \"sim\" for an embedded `twinstar sim`), sharing one market feed, one candle store, one rate\n"
      "limiter per account and one capital ledger. Orders are journaled before they are sent; on start the\n"
      "engine reconciles with the venue and prints what it fixed.");
  cmd->add_option("--speed", args->speed,
                  "Clock speed against the venue: 1 for a real exchange; a `twinstar sim`'s --speed (default 1)");
  cmd->add_option("--duration", args->duration, "Engine-clock time to run, e.g. 24h (default: until Ctrl-C)")->type_name("DURATION");
  cmd->add_option("--report-every", args->report_every, "Engine-clock time between status reports (default 1h)")->type_name("DURATION");
  cmd->add_option("--control-port", args->control_port, "Port of the loopback control endpoint (default 0: a free port)");
  cmd->add_flag("--close-on-stop", args->close_on_stop, "Close every position with a market order before exiting");
  cmd->add_option("--sim-seed", args->sim_seed, "Embedded sim: seed of the market (default 1)");
  cmd->add_option("--sim-symbols", args->sim_symbols, "Embedded sim: symbols listed (default 50)");
  cmd->add_option("--sim-faults", args->sim_faults, "Embedded sim: faults to inject (see twinstar sim --help)")->type_name("SPEC");
  cmd->callback([&options, args] { run(options, *args); });
}

}  // namespace twinstar
