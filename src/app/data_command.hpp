#pragma once
#include <CLI/CLI.hpp>

#include "app/app_options.hpp"

namespace twinstar {

// `twinstar data import-csv|ls|check|resample|export|sql|compact`: the candle store from the
// command line (<data-dir>/candles, Parquet, hive-partitioned).
void add_data_command(CLI::App& root, AppOptions& options);

}  // namespace twinstar
