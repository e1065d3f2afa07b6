#pragma once
#include <CLI/CLI.hpp>

#include "app/app_options.hpp"

namespace twinstar {

// `twinstar sim`: run the built-in exchange (Bybit v5 protocol on loopback) until Ctrl-C.
void add_sim_command(CLI::App& root, AppOptions& options);

}  // namespace twinstar
