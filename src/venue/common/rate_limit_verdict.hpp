#pragma once
// "Too many requests" answers, turned into plain numbers the rate limiter can act on. Plain
// structs only: src/ratelimit consumes them, this module does not depend on it.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/ids.hpp"
#include "core/time.hpp"

namespace twinstar::venue {

// Which window the venue says was exceeded.
enum class LimitScope : std::uint8_t {
  none,            // not rate limited
  ip,              // the IP's request weight or count (Binance REQUEST_WEIGHT, -1003)
  ip_ban,          // the IP is banned (Binance 418, Bybit 403): stop every session on this IP
  endpoint,        // one endpoint's window, per IP for public and per account for private calls
                   // (Bybit 10006, OKX 50011, Bitget 429)
  account_orders,  // the account's order-count limits (Binance -1015, OKX 50061)
  system,          // venue-wide protection, not the caller's fault (Bybit HTTP 429, Binance -1008)
};

std::string_view to_string(LimitScope scope) noexcept;

struct RateLimitVerdict {
  bool is_rate_limited = false;
  std::optional<Duration> pause_for;  // how long to stop sending, when the venue says so
  LimitScope bucket_hint = LimitScope::none;
  std::string venue_code;             // "-1003", "10006", "50011", "429", or the HTTP status
};

// One response header, viewed. Builds from any header type with `name` and `value` members
// (net::Header included), so venue code needs nothing from net but its crypto helpers:
//   std::vector<HeaderRef> refs(response.headers.begin(), response.headers.end());
struct HeaderRef {
  std::string_view name;
  std::string_view value;

  HeaderRef() = default;
  HeaderRef(std::string_view n, std::string_view v) : name(n), value(v) {}
  template <class H>
    requires requires(const H& h) {
      std::string_view(h.name);
      std::string_view(h.value);
    }
  HeaderRef(const H& h) : name(h.name), value(h.value) {}  // NOLINT: implicit on purpose
};


// One HTTP answer as the client saw it.
struct HttpAnswer {
  int status = 200;
  std::span<const HeaderRef> headers;
  std::string_view body;
};

// Classifies an answer from `exchange`. `now` turns Bybit's reset timestamp into a pause.
// Never fails: an unreadable body just is not evidence of a rate limit.
RateLimitVerdict classify_rate_limit(Exchange exchange, const HttpAnswer& answer, TimestampMs now);

namespace detail {

// The first header named `name` (case-insensitive), if present.
std::optional<std::string_view> find_header(std::span<const HeaderRef> headers, std::string_view name) noexcept;
// A header holding a non-negative decimal integer; nullopt when absent or not a number.
std::optional<std::int64_t> integer_header(std::span<const HeaderRef> headers, std::string_view name) noexcept;
// Upper bound for millisecond timestamps read from headers (2100-01-01).
inline constexpr std::int64_t kMaxEpochMsForHeaders = 4'102'444'800'000;
// Retry-After as delta-seconds (the form Binance sends); nullopt otherwise.
std::optional<Duration> retry_after(std::span<const HeaderRef> headers) noexcept;
// The text of a top-level scalar field of a JSON object body ("code", "retCode"); nullopt when
// the body is not a JSON object or lacks it.
std::optional<std::string> body_field(std::string_view body, std::string_view key);

}  // namespace detail

}  // namespace twinstar::venue
