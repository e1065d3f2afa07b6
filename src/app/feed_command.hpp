#pragma once
#include <CLI/CLI.hpp>

#include "app/app_options.hpp"

namespace twinstar {

// `twinstar feed`: live candles of many symbols over one multiplexed connection, into the store.
// `twinstar download`: REST history into the store through the rate limiter, resumable.
void add_feed_command(CLI::App& root, AppOptions& options);

}  // namespace twinstar
