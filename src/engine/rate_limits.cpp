#include "engine/rate_limits.hpp"

namespace twinstar {

Result<Preset> preset_from_config(const RateLimitConfig& c, const std::string& source) {
  auto where = [&](const Error& e) {
    return make_error(ErrorCode::config_error, "{}: rate_limits preset {}: {}", source.empty() ? "config" : source, c.preset,
                      e.message);
  };
  auto p = preset(c.preset);
  if (!p) return where(p.error());
  if (c.safety_margin) {
    if (auto ok = set_safety_margin(*p, *c.safety_margin); !ok) return where(ok.error());
  }
  for (const auto& [bucket, o] : c.buckets) {
    if (auto ok = apply_override(*p, bucket, o.limit, o.window, o.strict); !ok) return where(ok.error());
  }
  if (auto ok = validate(*p); !ok) return where(ok.error());
  return p;
}

Status configure_rate_limits(RateLimiterRegistry& registry, const std::vector<RateLimitConfig>& configs,
                             const std::string& source) {
  for (const auto& c : configs) {
    auto p = preset_from_config(c, source);
    if (!p) return std::unexpected(p.error());
    if (auto ok = registry.configure(*p); !ok) return ok;
  }
  return {};
}

}  // namespace twinstar
