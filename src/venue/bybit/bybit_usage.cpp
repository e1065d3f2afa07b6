#include "venue/bybit/bybit_usage.hpp"

#include <string>

namespace twinstar::venue::bybit {

BybitUsage read_usage(std::span<const HeaderRef> headers) {
  BybitUsage usage;
  usage.remaining = detail::integer_header(headers, "X-Bapi-Limit-Status");
  usage.limit = detail::integer_header(headers, "X-Bapi-Limit");
  if (auto reset = detail::integer_header(headers, "X-Bapi-Limit-Reset-Timestamp")) {
    if (*reset > 0 && *reset <= detail::kMaxEpochMsForHeaders) usage.reset_at = from_epoch_ms(*reset);
  }
  return usage;
}

RateLimitVerdict classify_response(const HttpAnswer& answer, TimestampMs now) {
  RateLimitVerdict v;
  if (answer.status == 403) {
    v.is_rate_limited = true;
    v.bucket_hint = LimitScope::ip_ban;
    v.pause_for = Duration(kIpBanPause);
    v.venue_code = "403";
    return v;
  }
  if (answer.status == 429) {
    v.is_rate_limited = true;
    v.bucket_hint = LimitScope::system;
    v.venue_code = "429";
    v.pause_for = detail::retry_after(answer.headers);
    return v;
  }
  // ❓ §1.3: the HTTP status paired with retCode 10006 is not documented; look at every body.
  if (detail::body_field(answer.body, "retCode") == "10006") {
    v.is_rate_limited = true;
    v.bucket_hint = LimitScope::endpoint;
    v.venue_code = "10006";
    const auto usage = read_usage(answer.headers);
    if (usage.reset_at && *usage.reset_at > now) v.pause_for = Duration(*usage.reset_at - now);
  }
  return v;
}

}  // namespace twinstar::venue::bybit
