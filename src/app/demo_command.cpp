#include "app/demo_command.hpp"

#include <csignal>
#include <cstdlib>
#include <thread>

#include <fmt/core.h>

#include "core/clock.hpp"
#include "app/control_command.hpp"
#include "app/signal_watcher.hpp"
#include "engine/engine_control.hpp"
#include "engine/paper_engine.hpp"
#include "observe/control_server.hpp"

namespace twinstar {

namespace {

struct DemoArgs {
  double speed = 900;
  std::string duration;
  std::string report_every = "6h";
  std::uint64_t seed = 1;
  std::size_t symbols = 50;
  bool keep_ledger = false;
  std::uint16_t control_port = 0;
};

void run(const AppOptions& app, const DemoArgs& a) {
  const EngineConfig& config = app.config();
  PaperEngineOptions o;
  o.data_dir = std::filesystem::path(config.data_dir) / "demo";
  o.speed = a.speed;
  if (!(o.speed > 0)) {
    fmt::print(stderr, "error: --speed must be positive, got {}\n", a.speed);
    throw CommandFailed{2};
  }
  auto parse = [](const std::string& flag, const std::string& text) {
    auto d = parse_duration(text);
    if (!d) {
      fmt::print(stderr, "error: {}: {}\n", flag, d.error().message);
      throw CommandFailed{2};
    }
    return *d;
  };
  if (!a.duration.empty()) o.duration = parse("--duration", a.duration);
  o.report_every = parse("--report-every", a.report_every);
  o.seed = a.seed;
  o.start = RealClock::instance().now();
  o.market_symbols = a.symbols;
  o.bots = config.bots;
  o.capital = config.capital;
  o.rate_limits = config.rate_limits;
  o.fresh_ledger = !a.keep_ledger;

  fmt::print("twinstar demo: {} bots on a simulated Bybit linear market of {} symbols, {}x real time, data in {}\n",
             o.bots.empty() ? std::string("2 (SingleBot BTCUSDT + MultiTrader on 30 symbols)") : std::to_string(o.bots.size()),
             o.market_symbols, o.speed, o.data_dir.string());
  fmt::print("shared services: one Bybit rate limiter (account \"paper\"), one capital ledger ({} {}, cap {} of equity), one candle store\n",
             o.capital.initial_capital, "USDT", o.capital.max_allocation_ratio);
  fmt::print("Ctrl-C stops cleanly.\n");
  std::stop_source stop;
  SignalWatcher watcher(stop);
  // The control endpoint: `twinstar status` and `twinstar bot ...` from another terminal.
  EngineMailbox mailbox;
  o.mailbox = &mailbox;
  observe::ControlServer control({.state_dir = control_state_dir(app), .port = a.control_port, .engine_name = "demo"});
  add_engine_routes(control, mailbox);
  if (auto started = control.start(); !started) {
    fmt::print(stderr, "error: control endpoint: {}\n", started.error().message);
    throw CommandFailed{1};
  }
  fmt::print("control: http://127.0.0.1:{} (twinstar status, twinstar bot pause|resume|stop|symbols|params)\n\n", control.port());
  auto ok = run_paper_engine(o, stop.get_token(), [](const EngineStatus& s) {
    fmt::print("{}", format_status(s));
    std::fflush(stdout);
  });
  if (!ok) {
    fmt::print(stderr, "error: {}\n", ok.error().message);
    throw CommandFailed{1};
  }
}

}  // namespace

void add_demo_command(CLI::App& root, AppOptions& options) {
  auto args = std::make_shared<DemoArgs>();
  auto* cmd = root.add_subcommand(
      "demo",
      "Both bots trading side by side (a SingleBot on BTCUSDT, a MultiTrader on 30 other symbols, or the\n"
      "[[bots]] of --config) on the simulated market, sharing one rate limiter, one capital ledger and one\n"
      "candle store, with a status report as they go. What `make run` starts.");
  cmd->add_option("--speed", args->speed, "Simulated seconds per real second (default 900: a 15-minute candle a second)");
  cmd->add_option("--duration", args->duration, "Simulated time to run, e.g. 24h (default: until Ctrl-C)")->type_name("DURATION");
  cmd->add_option("--report-every", args->report_every, "Simulated time between status reports (default 6h)")
      ->type_name("DURATION");
  cmd->add_option("--seed", args->seed, "Seed of the simulated market (same seed, same market)");
  cmd->add_option("--symbols", args->symbols, "Symbols the simulated market lists (default 50)");
  cmd->add_flag("--keep-ledger", args->keep_ledger, "Continue the previous demo's paper account instead of starting fresh");
  cmd->add_option("--control-port", args->control_port, "Port of the loopback control endpoint (default 0: a free port, in DATA_DIR/state/control.json)");
  cmd->callback([&options, args] { run(options, *args); });
}

}  // namespace twinstar
