#pragma once
#include <CLI/CLI.hpp>

#include "app/app_options.hpp"

namespace twinstar {

// `twinstar backtest`: replay stored (or CSV) candles through the live bots and ledger rules.
void add_backtest_command(CLI::App& root, AppOptions& options);

}  // namespace twinstar
