#include "venue/okx/okx_usage.hpp"

#include <string>

namespace twinstar::venue::okx {

RateLimitVerdict classify_response(const HttpAnswer& answer) {
  RateLimitVerdict v;
  const auto code = detail::body_field(answer.body, "code");
  if (code == "50011" || (answer.status == 429 && code != "50061")) {
    v.is_rate_limited = true;
    v.bucket_hint = LimitScope::endpoint;
  } else if (code == "50061") {
    v.is_rate_limited = true;
    v.bucket_hint = LimitScope::account_orders;
  }
  if (v.is_rate_limited) {
    v.venue_code = code ? *code : std::to_string(answer.status);
    v.pause_for = detail::retry_after(answer.headers);
  }
  return v;
}

}  // namespace twinstar::venue::okx
