#pragma once
#include <CLI/CLI.hpp>

#include "app/app_options.hpp"

namespace twinstar {

// `twinstar config check|show`: validate a config file and print the settings in force.
void add_config_command(CLI::App& root, AppOptions& options);

}  // namespace twinstar
