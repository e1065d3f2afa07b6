#include "venue/bitget/bitget_usage.hpp"

#include <string>

namespace twinstar::venue::bitget {

RateLimitVerdict classify_response(const HttpAnswer& answer) {
  RateLimitVerdict v;
  std::optional<std::string> code;
  if (answer.status != 200 || answer.body.find("\"429\"") != std::string_view::npos) {
    code = detail::body_field(answer.body, "code");
  }
  if (answer.status == 429 || code == "429") {
    v.is_rate_limited = true;
    v.bucket_hint = LimitScope::endpoint;
    v.venue_code = "429";
    v.pause_for = detail::retry_after(answer.headers);
  }
  return v;
}

}  // namespace twinstar::venue::bitget
