#pragma once
#include <filesystem>

#include <CLI/CLI.hpp>

#include "app/app_options.hpp"
#include "capital/ledger_types.hpp"

namespace twinstar {

// `twinstar capital show|history|init|deposit|withdraw`: inspect and fund the capital ledger.
void add_capital_command(CLI::App& root, AppOptions& options);

// The ledger options the [capital] config section asks for.
// Errors: config_error (a per-symbol cap names an invalid symbol).
Result<LedgerOptions> ledger_options_from(const CapitalConfig& config);

// Where an engine's ledger lives: <data_dir>/capital/<exchange>.ledger.sqlite
std::filesystem::path ledger_path(const EngineConfig& config);

}  // namespace twinstar
