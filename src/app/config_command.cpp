#include "app/config_command.hpp"

#include <fmt/core.h>

#include "bot/bot_factory.hpp"
#include "engine/rate_limits.hpp"

namespace twinstar {

namespace {

void print_config(const EngineConfig& c) {
  fmt::print("source               {}\n", c.source.empty() ? "(built-in defaults)" : c.source);
  fmt::print("data_dir             {}\n", c.data_dir);
  fmt::print("instance             {}\n", c.instance.empty() ? "(none)" : c.instance);
  fmt::print("log_level            {}\n", c.log_level);
  fmt::print("capital.exchange     {}\n", c.capital.exchange);
  fmt::print("capital.initial      {}\n", c.capital.initial_capital);
  fmt::print("capital.max_ratio    {}\n", c.capital.max_allocation_ratio);
  fmt::print("capital.daily_loss   {}\n", c.capital.daily_loss_limit ? c.capital.daily_loss_limit->to_string() : "none");
  fmt::print("capital.max_drawdown {}\n", c.capital.max_drawdown ? c.capital.max_drawdown->to_string() : "none");
  for (const auto& [symbol, cap] : c.capital.per_symbol_cap) fmt::print("{:<21}{}\n", "capital.cap." + symbol, cap);
  for (const auto& [bot, cap] : c.capital.per_bot_cap) fmt::print("{:<21}{}\n", "capital.bot_cap." + bot, cap);
  for (const auto& r : c.rate_limits) {
    fmt::print("rate_limits          preset={} safety_margin={} overrides={}\n", r.preset,
               r.safety_margin ? r.safety_margin->to_string() : "default", r.buckets.size());
  }
  for (const auto& a : c.accounts) {
    // Where the credentials come from, never what they are.
    const std::string creds = !a.key_file.empty() ? "key_file " + a.key_file
                              : !a.api_key_env.empty() ? "env " + a.api_key_env + "/" + a.api_secret_env
                                                       : "none";
    fmt::print("account {:<12} {} {} endpoint={} order_entry={} credentials: {}\n", a.name, a.exchange, a.market,
               a.endpoint.empty() ? "mainnet" : a.endpoint, a.order_entry, creds);
  }
}

}  // namespace

void add_config_command(CLI::App& root, AppOptions& options) {
  auto* cmd = root.add_subcommand("config", "Validate the configuration file and show the settings in force");
  cmd->require_subcommand(1);
  auto* check = cmd->add_subcommand("check", "Validate --config FILE; exit 0 when valid, 2 with the first error");
  check->callback([&options] {
    const auto& c = options.config();
    // What only the modules know: presets and their buckets, strategies and their parameters.
    for (const auto& r : c.rate_limits) {
      if (auto p = preset_from_config(r, c.source); !p) {
        fmt::print(stderr, "error: {}\n", p.error().message);
        throw CommandFailed{2};
      }
    }
    if (auto ok = validate_bots(c.bots, c.source); !ok) {
      fmt::print(stderr, "error: {}\n", ok.error().message);
      throw CommandFailed{2};
    }
    fmt::print("{}: ok\n", c.source.empty() ? "built-in defaults" : c.source);
  });
  auto* show = cmd->add_subcommand("show", "Print the settings in force (defaults filled in; secrets never shown)");
  show->callback([&options] { print_config(options.config()); });
}

}  // namespace twinstar
