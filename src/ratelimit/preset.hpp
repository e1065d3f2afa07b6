#pragma once
// Rate-limit rules: buckets, their scopes and modes, and the per-exchange presets taken from
// ../shared/reference/exchange-api.md, with a safety margin and per-bucket overrides.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/decimal.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/time.hpp"

namespace twinstar {

// Who shares a bucket: every account behind one IP, one account (UID), or one WebSocket
// connection (the venues' per-connection message limits).
enum class Scope : std::uint8_t { ip, account, connection };

enum class BucketMode : std::uint8_t {
  token_bucket,  // a small burst then a steady refill; still never more than the limit in any window
  strict,        // exact sliding window log: for venues that forbid bursts
};

std::string_view to_string(Scope s) noexcept;
std::string_view to_string(BucketMode m) noexcept;

// One published limit: at most `limit` weight per `window`.
struct BucketSpec {
  std::string name;               // "request_weight", "orders_10s", "candles", ...
  std::int64_t limit = 0;         // published limit per window (before the safety margin)
  Duration window{};
  Scope scope = Scope::ip;
  BucketMode mode = BucketMode::token_bucket;
  std::int64_t max_weight = 1;    // largest single request expected; the burst is never smaller
  std::string source;             // where the number comes from ("exchange-api.md §2.4")
};

// A request's price in one bucket, by name (resolved once to a Cost by VenueLimiter).
struct WeightSpec {
  std::string bucket;
  std::int64_t weight = 1;
};

// The price of one kind of request ("klines", "order"), so adapters need no bucket names.
struct EndpointCost {
  std::string name;
  std::vector<WeightSpec> weights;
};

inline constexpr Ratio kDefaultSafetyMargin = Ratio::from_raw(90'000'000);   // 0.9
inline constexpr Ratio kDefaultBurstFraction = Ratio::from_raw(10'000'000);  // 0.1
// A strict bucket keeps one log entry per request in its window; this bounds its memory.
inline constexpr std::int64_t kMaxStrictCapacity = 1 << 20;

struct Preset {
  std::string name;                      // "bybit", "binance_spot", ...
  Exchange exchange = Exchange::bybit;
  std::vector<Market> markets;           // the markets whose requests share these buckets
  Ratio safety_margin = kDefaultSafetyMargin;
  Ratio burst_fraction = kDefaultBurstFraction;
  std::vector<BucketSpec> buckets;
  std::vector<EndpointCost> endpoints;
};

// What a bucket enforces once the margin is applied.
struct BucketLimits {
  std::int64_t effective_limit = 0;  // max(1, floor(limit * safety_margin)): never exceeded in any window
  std::int64_t capacity = 0;         // most weight one acquire may take (token bucket: the burst)
  std::int64_t refill_per_window = 0;  // token bucket: effective_limit - capacity; strict: 0
  BucketMode mode = BucketMode::token_bucket;  // token_bucket becomes strict when too small to split
};

// Effective numbers for one bucket. A token bucket gets burst C = max(max_weight,
// ceil(burst_fraction * E)) and refill (E - C) per window, so C + refill <= E in every window;
// when C >= E it is enforced as strict instead (e.g. a limit of 1: a refill would allow 2).
// Errors: config_error for a limit, window, margin or max_weight that breaks the rules.
Result<BucketLimits> effective_limits(const BucketSpec& spec, Ratio safety_margin,
                                      Ratio burst_fraction = kDefaultBurstFraction);

// Names accepted by preset(): bybit, binance_spot, binance_usdm, okx, bitget.
std::span<const std::string_view> preset_names() noexcept;

// A built-in preset. Errors: not_found naming the valid presets.
Result<Preset> preset(std::string_view name);

// The preset used when a venue is not configured explicitly (Binance: spot or usdm by market).
std::string_view default_preset_name(Exchange exchange, Market market) noexcept;

// Overrides one bucket; unset fields keep the preset's value. strict=false selects token_bucket.
// Errors: not_found naming the bucket and the valid ones; config_error for a bad limit or window.
Status apply_override(Preset& preset, std::string_view bucket, std::optional<std::int64_t> limit,
                      std::optional<Duration> window, std::optional<bool> strict);

// Errors: config_error unless 0 < margin <= 1.
Status set_safety_margin(Preset& preset, Ratio margin);

// Checks every bucket, name and endpoint cost. Errors: config_error naming the preset and the rule.
Status validate(const Preset& preset);

}  // namespace twinstar
