#pragma once
// OKX "too many requests" answers, as limiter feedback. OKX sends no usage headers and no
// Retry-After (§3.3): the limiter's own windows are the only pacing.

#include "venue/common/rate_limit_verdict.hpp"

namespace twinstar::venue::okx {

// code 50011 (with HTTP 200 or 429) → endpoint; 50061 → account_orders (sub-account order
// rate); a bare HTTP 429 → endpoint. No pause hint: none is documented.
RateLimitVerdict classify_response(const HttpAnswer& answer);

}  // namespace twinstar::venue::okx
