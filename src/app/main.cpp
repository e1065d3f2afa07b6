// twinstar: one executable, one subcommand per job.

#include <functional>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "app/app_options.hpp"
#include "app/backtest_command.hpp"
#include "app/capital_command.hpp"
#include "app/config_command.hpp"
#include "app/control_command.hpp"
#include "app/data_command.hpp"
#include "app/demo_command.hpp"
#include "app/feed_command.hpp"
#include "app/run_command.hpp"
#include "app/sim_command.hpp"

#ifndef TWINSTAR_VERSION
#define TWINSTAR_VERSION "0.0.0"
#endif

int main(int argc, char** argv) {
  using namespace twinstar;
  spdlog::set_default_logger(spdlog::stderr_color_mt("twinstar"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");

  CLI::App app{
      "twinstar: run a single-symbol bot and a multi-symbol trader side by side on one exchange account,\n"
      "sharing one rate limiter, one capital ledger and one candle store."};
  app.set_version_flag("--version", std::string("twinstar ") + TWINSTAR_VERSION);
  app.require_subcommand(1);

  AppOptions options;
  std::string log_level = "info";
  add_config_command(app, options);
  add_capital_command(app, options);
  add_data_command(app, options);
  add_backtest_command(app, options);
  add_run_command(app, options);
  add_demo_command(app, options);
  add_sim_command(app, options);
  add_control_commands(app, options);
  add_feed_command(app, options);

  // Every command, at every depth, accepts and documents the global options.
  const std::function<void(CLI::App*)> add_global_options = [&](CLI::App* cmd) {
    cmd->add_option("--data-dir", options.data_dir, "Where candles, the ledger and state live (default: ./data)")
        ->type_name("DIR");
    cmd->add_option("--instance", options.instance,
                    "Which engine on a shared --data-dir (two `twinstar run` processes on one account); default: the "
                    "config's `instance`, else the only one")
        ->type_name("NAME");
    cmd->add_option("--config", options.config_path, "Engine configuration (TOML); built-in defaults when omitted")
        ->type_name("FILE")
        ->check(CLI::Validator(CLI::ExistingFile).description(""));
    cmd->add_option("--log-level", log_level, "Log detail on stderr: trace, debug, info, warn, error, off")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
        ->each([](const std::string& level) { spdlog::set_level(spdlog::level::from_str(level)); });
    for (CLI::App* sub : cmd->get_subcommands([](CLI::App*) { return true; })) add_global_options(sub);
  };
  add_global_options(&app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const CommandFailed& failed) {
    return failed.exit_code;
  }
  return 0;
}
