#pragma once
// Bybit usage headers and "too many requests" answers, as limiter feedback.
// Reference: exchange-api.md §1.3.

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>

#include "core/time.hpp"
#include "venue/common/rate_limit_verdict.hpp"

namespace twinstar::venue::bybit {

// §1.3: after an HTTP 403 IP ban, stop every session and wait at least 10 minutes.
inline constexpr auto kIpBanPause = std::chrono::minutes(10);

struct BybitUsage {
  std::optional<std::int64_t> remaining;  // X-Bapi-Limit-Status: requests left in the window
  std::optional<std::int64_t> limit;      // X-Bapi-Limit: the endpoint's current limit
  // X-Bapi-Limit-Reset-Timestamp: when the window resets once over the limit; otherwise the
  // current time.
  std::optional<TimestampMs> reset_at;
};

BybitUsage read_usage(std::span<const HeaderRef> headers);

// HTTP 403 → ip_ban for 10 minutes; retCode 10006 → endpoint (per UID), paused until the
// reset timestamp when it lies after `now`; HTTP 429 → system ("System level frequency
// protection").
RateLimitVerdict classify_response(const HttpAnswer& answer, TimestampMs now);

}  // namespace twinstar::venue::bybit
