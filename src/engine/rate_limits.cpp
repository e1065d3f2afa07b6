#include "engine/rate_limits.hpp"

namespace twinstar {

Result<Preset> preset_from_config(const RateLimitConfig& c, const std::string& source) {
  auto where = [&](const Error& e) {
    return make_error(ErrorCode::config_error, "{}: rate_limits preset {}: {}", source.empty() ? "config" : source, c.preset,
                      e.message);
  };
  auto p = preset(c.preset);
  if (!p) return where(p.error());
  // A process holding part of the budget keeps its buckets within that part of the margin.
  const Ratio margin = c.safety_margin.value_or(p->safety_margin);
  const Ratio share = c.share.value_or(Ratio::from_units(1));
  // Both are in (0, 1], so the product is too (rounded down: never more than the share allows).
  const auto scaled = Ratio::from_raw(margin.raw() / 10'000 * share.raw() / 10'000);
  if (auto ok = set_safety_margin(*p, scaled); !ok) return where(ok.error());
  if (share < Ratio::from_units(1)) {
    // A bucket rounds up to 1 when its part is below 1, and two processes each taking 1 of a
    // limit of 1 would exceed it: a budget that small cannot be split.
    for (const auto& b : p->buckets) {
      if (b.scope == Scope::connection) continue;  // per connection: never shared between processes
      if (b.limit * scaled.raw() / kDecimalScale < 1) {
        return where(Error{ErrorCode::config_error,
                           fmt::format("bucket {} allows {} per window: too few to split with share {}", b.name, b.limit,
                                       share.to_string())});
      }
    }
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
