#include "ratelimit/feedback.hpp"

#include <algorithm>
#include <charconv>

#include "core/text.hpp"

namespace twinstar {

std::optional<std::int64_t> parse_header_int(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

namespace {

// Retry-After in delta-seconds (what Binance sends); the HTTP-date form falls back to the default.
std::optional<Duration> retry_after_header(std::span<const HttpHeader> headers) {
  auto v = find_header(headers, "Retry-After");
  if (!v) return std::nullopt;
  auto seconds = parse_header_int(*v);
  if (!seconds || *seconds < 0 || *seconds > 366LL * 24 * 3600) return std::nullopt;
  return std::chrono::seconds(*seconds);
}

// Bybit X-Bapi-Limit-Reset-Timestamp (ms): only meaningful when in the future (§1.3).
std::optional<Duration> bybit_reset(std::span<const HttpHeader> headers, Timestamp now) {
  auto v = find_header(headers, "X-Bapi-Limit-Reset-Timestamp");
  if (!v) return std::nullopt;
  auto ms = parse_header_int(*v);
  if (!ms || *ms <= 0 || *ms > 32'503'680'000'000) return std::nullopt;  // before year 3000
  const Timestamp reset{std::chrono::milliseconds(*ms)};
  if (reset <= now) return std::nullopt;
  return reset - now;
}

}  // namespace

std::string_view to_string(PauseTarget t) noexcept {
  switch (t) {
    case PauseTarget::request: return "request";
    case PauseTarget::request_account: return "request_account";
    case PauseTarget::ip: return "ip";
  }
  return "unknown";
}

std::optional<std::string_view> find_header(std::span<const HttpHeader> headers, std::string_view name) noexcept {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return std::nullopt;
}

std::optional<RetryAfter> retry_after_from(const VenueResponse& response, Timestamp now, const RetryPolicy& policy) {
  const int status = response.http_status;
  const auto code = response.venue_code;
  auto advice = [&](std::optional<Duration> named, PauseTarget target, std::string_view reason) {
    Duration d = named.value_or(policy.default_pause);
    d = std::clamp(d, Duration::zero(), policy.max_pause);
    return std::optional<RetryAfter>(RetryAfter{d, target, reason});
  };
  switch (response.exchange) {
    case Exchange::binance: {
      const auto retry = retry_after_header(response.headers);
      if (status == 418) return advice(retry, PauseTarget::ip, "binance 418: IP banned until Retry-After");
      if (status == 429 || code == -1003) {
        return advice(retry, PauseTarget::ip, "binance 429/-1003: too many requests; wait Retry-After");
      }
      if (code == -1015) return advice(retry, PauseTarget::request_account, "binance -1015: too many new orders");
      if (status == 403) return advice(std::nullopt, PauseTarget::ip, "binance 403: WAF block");
      return std::nullopt;
    }
    case Exchange::bybit: {
      if (status == 403) {
        return advice(policy.bybit_ip_ban, PauseTarget::ip, "bybit 403: IP limit broken; wait at least 10 minutes");
      }
      const auto reset = bybit_reset(response.headers, now);
      if (code == 10006) {
        return advice(reset, PauseTarget::request_account, "bybit 10006: per-UID endpoint limit (Too many visits)");
      }
      if (status == 429) return advice(reset, PauseTarget::request, "bybit 429: system frequency protection");
      return std::nullopt;
    }
    case Exchange::okx: {
      if (code == 50061) return advice(std::nullopt, PauseTarget::request_account, "okx 50061: sub-account order limit");
      if (code == 50011 || status == 429) {
        return advice(retry_after_header(response.headers), PauseTarget::request, "okx 50011/429: rate limit reached");
      }
      return std::nullopt;
    }
    case Exchange::bitget: {
      if (status == 429 || code == 429) {
        return advice(retry_after_header(response.headers), PauseTarget::request, "bitget 429: too many requests");
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace twinstar
