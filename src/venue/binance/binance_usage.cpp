#include "venue/binance/binance_usage.hpp"

#include <charconv>
#include <string>
#include <string_view>

#include "core/text.hpp"

namespace twinstar::venue::binance {

namespace {

bool istarts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

// "10S" → 10 s, "1M" → 1 minute, "1D" → 1 day.
std::optional<Duration> parse_window(std::string_view spec) {
  if (spec.size() < 2) return std::nullopt;
  std::int64_t n = 0;
  const char* end = spec.data() + spec.size() - 1;
  auto [ptr, ec] = std::from_chars(spec.data(), end, n);
  if (ec != std::errc{} || ptr != end || n <= 0 || n > 1'000'000) return std::nullopt;
  switch (spec.back()) {
    case 'S': case 's': return std::chrono::seconds(n);
    case 'M': case 'm': return std::chrono::minutes(n);
    case 'H': case 'h': return std::chrono::hours(n);
    case 'D': case 'd': return std::chrono::days(n);
    default: return std::nullopt;
  }
}

std::optional<std::int64_t> parse_count(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  std::int64_t n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size() || n < 0) return std::nullopt;
  return n;
}

}  // namespace

BinanceUsage read_usage(std::span<const HeaderRef> headers) {
  constexpr std::string_view kWeight = "X-MBX-USED-WEIGHT-";
  constexpr std::string_view kOrders = "X-MBX-ORDER-COUNT-";
  BinanceUsage usage;
  for (const auto& h : headers) {
    UsageCounter c;
    std::string_view spec;
    if (istarts_with(h.name, kWeight)) {
      c.kind = UsageKind::request_weight;
      spec = h.name.substr(kWeight.size());
    } else if (istarts_with(h.name, kOrders)) {
      c.kind = UsageKind::order_count;
      spec = h.name.substr(kOrders.size());
    } else {
      continue;
    }
    auto window = parse_window(spec);
    auto count = parse_count(h.value);
    if (!window || !count) continue;
    c.window = *window;
    c.count = *count;
    usage.counters.push_back(c);
    if (c.kind == UsageKind::request_weight && c.window == std::chrono::minutes(1)) usage.used_weight_1m = c.count;
    if (c.kind == UsageKind::order_count && c.window == std::chrono::seconds(10)) usage.order_count_10s = c.count;
    if (c.kind == UsageKind::order_count && c.window == std::chrono::minutes(1)) usage.order_count_1m = c.count;
    if (c.kind == UsageKind::order_count && c.window == std::chrono::days(1)) usage.order_count_1d = c.count;
  }
  return usage;
}

RateLimitVerdict classify_response(const HttpAnswer& answer) {
  RateLimitVerdict v;
  std::optional<std::string> code;
  if (answer.status != 200 || answer.body.starts_with("{")) code = detail::body_field(answer.body, "code");
  if (answer.status == 418) {
    v.is_rate_limited = true;
    v.bucket_hint = LimitScope::ip_ban;
  } else if (answer.status == 429) {
    v.is_rate_limited = true;
    v.bucket_hint = code == "-1015" ? LimitScope::account_orders : LimitScope::ip;
  } else if (code == "-1003") {
    v.is_rate_limited = true;
    v.bucket_hint = LimitScope::ip;
  } else if (code == "-1015") {
    v.is_rate_limited = true;
    v.bucket_hint = LimitScope::account_orders;
  } else if (code == "-1008") {
    v.is_rate_limited = true;
    v.bucket_hint = LimitScope::system;
  }
  if (!v.is_rate_limited) return v;
  v.venue_code = code ? *code : std::to_string(answer.status);
  v.pause_for = detail::retry_after(answer.headers);
  return v;
}

}  // namespace twinstar::venue::binance
