#include "app/app_options.hpp"

#include <fmt/core.h>

namespace twinstar {

const EngineConfig& AppOptions::config() const {
  if (!config_) {
    if (config_path.empty()) {
      config_ = EngineConfig{};
    } else {
      auto loaded = load_config(config_path);
      if (!loaded) {
        fmt::print(stderr, "error: {}\n", loaded.error().message);
        throw CommandFailed{2};
      }
      config_ = std::move(*loaded);
    }
    if (!data_dir.empty()) config_->data_dir = data_dir;
    if (!instance.empty()) {
      if (auto ok = validate_instance_name(instance); !ok) {
        fmt::print(stderr, "error: --instance '{}': {}\n", instance, ok.error().message);
        throw CommandFailed{2};
      }
      config_->instance = instance;
    }
  }
  return *config_;
}

void fail(int exit_code, const std::string& message) {
  fmt::print(stderr, "error: {}\n", message);
  throw CommandFailed{exit_code};
}

}  // namespace twinstar
