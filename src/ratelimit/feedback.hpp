#pragma once
// Reading the venues' rate-limit answers: usage headers, 429/418/403 and "too many requests"
// codes, and how long each one says to stop.

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/ids.hpp"
#include "core/time.hpp"

namespace twinstar {

struct HttpHeader {
  std::string_view name;   // matched case-insensitively
  std::string_view value;
};

// A header's integer value: surrounding spaces and tabs allowed, nothing else.
std::optional<std::int64_t> parse_header_int(std::string_view text) noexcept;

// The value of header `name` (case-insensitive), if present.
std::optional<std::string_view> find_header(std::span<const HttpHeader> headers, std::string_view name) noexcept;

// What a venue's answer says about rate limits.
struct VenueResponse {
  Exchange exchange = Exchange::bybit;
  int http_status = 200;
  std::optional<std::int64_t> venue_code;  // Bybit retCode, Binance code, OKX/Bitget code, when the body had one
  std::span<const HttpHeader> headers;
};

struct RetryPolicy {
  Duration default_pause = std::chrono::seconds(5);    // when the venue names no time (OKX, Bitget, ...)
  Duration bybit_ip_ban = std::chrono::minutes(10);    // §1.3: after a 403 "wait at least 10 minutes"
  Duration max_pause = std::chrono::days(3);           // §2.4: Binance bans last 2 minutes to 3 days
};

// Which buckets a rate-limit answer stops.
enum class PauseTarget : std::uint8_t {
  request,          // the buckets the refused request used (an endpoint limit)
  request_account,  // the refused request's account-scoped buckets (a per-UID limit)
  ip,               // every IP-scoped bucket of the venue (an IP ban)
};

std::string_view to_string(PauseTarget t) noexcept;

struct RetryAfter {
  Duration pause{};
  PauseTarget target = PauseTarget::request;
  std::string_view reason;  // static text: "bybit 403: IP banned for at least 10 minutes"
};

// nullopt unless the answer is a rate-limit signal; otherwise how long to pause and what:
//   Binance 429/418 (and -1003/-1015): Retry-After seconds (§2.4), 403 WAF: default pause;
//   Bybit 403: IP ban of policy.bybit_ip_ban (§1.3); retCode 10006 or 429: until
//   X-Bapi-Limit-Reset-Timestamp (ms) when it is in the future, else the default;
//   OKX 50011/50061 or 429 and Bitget 429: the default pause (no header is documented, §3.3 §4.3).
// The pause is clamped to [0, policy.max_pause]. Thread: any.
std::optional<RetryAfter> retry_after_from(const VenueResponse& response, Timestamp now,
                                           const RetryPolicy& policy = {});

// Binance spot GET /api/v3/klines: weight 2 whatever the limit (§2.1).
constexpr std::int64_t binance_spot_klines_weight(std::int64_t /*limit*/) noexcept { return 2; }

// Binance USDⓈ-M GET /fapi/v1/klines by `limit` (§2.2): [1,100) 1; [100,500) 2; [500,1000] 5; >1000 10.
// A limit below 1 means "not sent", which the venue treats as its default of 500.
constexpr std::int64_t binance_usdm_klines_weight(std::int64_t limit) noexcept {
  if (limit < 1) limit = 500;
  if (limit < 100) return 1;
  if (limit < 500) return 2;
  if (limit <= 1000) return 5;
  return 10;
}

}  // namespace twinstar
