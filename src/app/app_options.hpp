#pragma once
// Options every subcommand accepts, and the config they resolve to.

#include <string>

#include "config/config.hpp"

namespace twinstar {

struct AppOptions {
  std::string data_dir;      // --data-dir (empty: the config's data_dir, default ./data)
  std::string config_path;   // --config (empty: built-in defaults)
  std::string instance;      // --instance (empty: the config's instance, default none)

  // Loads --config once (defaults when none), applies --data-dir and --instance; exits with a clear error on bad config.
  const EngineConfig& config() const;

 private:
  mutable std::optional<EngineConfig> config_;
};

// Thrown by command callbacks after printing their error; main turns it into the exit code.
struct CommandFailed {
  int exit_code = 1;
};

// Prints "error: <message>" to stderr and ends the command with `exit_code`.
[[noreturn]] void fail(int exit_code, const std::string& message);

}  // namespace twinstar
