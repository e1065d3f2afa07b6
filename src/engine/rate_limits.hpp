#pragma once
// The [[rate_limits]] section of the config turned into limiter presets.

#include <vector>

#include "config/config.hpp"
#include "ratelimit/limiter.hpp"
#include "ratelimit/preset.hpp"

namespace twinstar {

// A built-in preset with the config's margin and bucket overrides applied.
// Errors: unknown preset or bucket (naming the valid ones), a bad limit or window.
Result<Preset> preset_from_config(const RateLimitConfig& config, const std::string& source);
// Configures every [[rate_limits]] entry on the registry (before any limiter is handed out).
Status configure_rate_limits(RateLimiterRegistry& registry, const std::vector<RateLimitConfig>& configs,
                             const std::string& source);

}  // namespace twinstar
