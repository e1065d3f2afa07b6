#pragma once
// Binance usage headers and "too many requests" answers, as limiter feedback.
// Reference: exchange-api.md §2.4.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/time.hpp"
#include "venue/common/rate_limit_verdict.hpp"

namespace twinstar::venue::binance {

enum class UsageKind : std::uint8_t { request_weight, order_count };

// One X-MBX-USED-WEIGHT-(n)(unit) or X-MBX-ORDER-COUNT-(n)(unit) header.
struct UsageCounter {
  UsageKind kind = UsageKind::request_weight;
  Duration window{};  // n × unit; the unit letters are S, M (minute), H, D
  std::int64_t count = 0;
};

struct BinanceUsage {
  std::optional<std::int64_t> used_weight_1m;   // X-MBX-USED-WEIGHT-1M
  std::optional<std::int64_t> order_count_10s;  // X-MBX-ORDER-COUNT-10S
  std::optional<std::int64_t> order_count_1m;   // X-MBX-ORDER-COUNT-1M (USDⓈ-M)
  std::optional<std::int64_t> order_count_1d;   // X-MBX-ORDER-COUNT-1D (spot)
  std::vector<UsageCounter> counters;           // every such header, the four above included
};

// Reads the usage headers of any Binance answer; headers that do not parse are skipped.
BinanceUsage read_usage(std::span<const HeaderRef> headers);

// 418 → ip_ban; 429 → ip (account_orders when the body says -1015); bodies with -1003 → ip,
// -1015 → account_orders, -1008 → system. pause_for from Retry-After (seconds) when sent.
RateLimitVerdict classify_response(const HttpAnswer& answer);

}  // namespace twinstar::venue::binance
