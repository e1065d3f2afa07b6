#pragma once
// Bitget "too many requests" answers, as limiter feedback. ❓ §4.3: no documented usage
// headers or Retry-After; the 429 body comes from third-party logs.

#include "venue/common/rate_limit_verdict.hpp"

namespace twinstar::venue::bitget {

// HTTP 429, or a body with code "429" → endpoint (market data is 20 req/s per IP, orders
// 10 req/s per UID). pause_for only if a Retry-After header shows up.
RateLimitVerdict classify_response(const HttpAnswer& answer);

}  // namespace twinstar::venue::bitget
