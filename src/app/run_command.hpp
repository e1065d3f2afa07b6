#pragma once
#include <CLI/CLI.hpp>

#include "app/app_options.hpp"

namespace twinstar {

// `twinstar run --config FILE`: the live engine over the network (engine/live_engine.hpp).
void add_run_command(CLI::App& root, AppOptions& options);

}  // namespace twinstar
