#include "venue/common/rate_limit_verdict.hpp"

#include <charconv>

#include "core/text.hpp"
#include "venue/binance/binance_usage.hpp"
#include "venue/bitget/bitget_usage.hpp"
#include "venue/bybit/bybit_usage.hpp"
#include "venue/common/json_read.hpp"
#include "venue/okx/okx_usage.hpp"

namespace twinstar::venue {

std::string_view to_string(LimitScope scope) noexcept {
  switch (scope) {
    case LimitScope::none: return "none";
    case LimitScope::ip: return "ip";
    case LimitScope::ip_ban: return "ip_ban";
    case LimitScope::endpoint: return "endpoint";
    case LimitScope::account_orders: return "account_orders";
    case LimitScope::system: return "system";
  }
  return "?";
}

RateLimitVerdict classify_rate_limit(Exchange exchange, const HttpAnswer& answer, TimestampMs now) {
  switch (exchange) {
    case Exchange::bybit: return bybit::classify_response(answer, now);
    case Exchange::binance: return binance::classify_response(answer);
    case Exchange::okx: return okx::classify_response(answer);
    case Exchange::bitget: return bitget::classify_response(answer);
  }
  return {};
}

namespace detail {

std::optional<std::string_view> find_header(std::span<const HeaderRef> headers, std::string_view name) noexcept {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return std::nullopt;
}

std::optional<std::int64_t> integer_header(std::span<const HeaderRef> headers, std::string_view name) noexcept {
  auto value = find_header(headers, name);
  if (!value) return std::nullopt;
  std::string_view text = *value;
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  std::int64_t n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size() || n < 0) return std::nullopt;
  return n;
}

std::optional<Duration> retry_after(std::span<const HeaderRef> headers) noexcept {
  auto seconds = integer_header(headers, "Retry-After");
  // Binance bans last at most 3 days; anything longer is not a delta we trust.
  if (!seconds || *seconds > 7 * 24 * 3600) return std::nullopt;
  return std::chrono::seconds(*seconds);
}

std::optional<std::string> body_field(std::string_view body, std::string_view key) {
  namespace od = simdjson::ondemand;
  if (body.empty() || body.find('{') == std::string_view::npos) return std::nullopt;
  JsonState json;
  od::document doc;
  if (!json.iterate(body, doc)) return std::nullopt;
  od::object obj;
  if (doc.get_object().get(obj)) return std::nullopt;
  for (auto field_result : obj) {
    od::field field;
    if (std::move(field_result).get(field)) return std::nullopt;
    if (field.key() != key) continue;
    std::string_view text;
    if (!read_scalar_text(field.value(), text, key)) return std::nullopt;
    return std::string(text);
  }
  return std::nullopt;
}

}  // namespace detail

}  // namespace twinstar::venue
