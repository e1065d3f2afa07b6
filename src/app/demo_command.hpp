#pragma once
#include <CLI/CLI.hpp>

#include "app/app_options.hpp"

namespace twinstar {

// `twinstar demo` (what `make run` starts): both bots trading side by side on the simulated
// market through the shared limiter, ledger and store, with a status report as they go.
void add_demo_command(CLI::App& root, AppOptions& options);

}  // namespace twinstar
