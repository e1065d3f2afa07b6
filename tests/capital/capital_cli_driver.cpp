// A minimal `twinstar` with only the capital command and the global options, built from the
// app's own sources, so the CLI tests do not depend on which commands main.cpp wires today.

#include <functional>

#include <CLI/CLI.hpp>

#include "app/app_options.hpp"
#include "app/capital_command.hpp"

int main(int argc, char** argv) {
  using namespace twinstar;
  CLI::App app{"twinstar (capital commands only; test driver)"};
  app.require_subcommand(1);
  AppOptions options;
  add_capital_command(app, options);
  const std::function<void(CLI::App*)> add_global_options = [&](CLI::App* cmd) {
    cmd->add_option("--data-dir", options.data_dir, "Where candles, the ledger and state live (default: ./data)")
        ->type_name("DIR");
    cmd->add_option("--config", options.config_path, "Engine configuration (TOML); built-in defaults when omitted")
        ->type_name("FILE");
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
