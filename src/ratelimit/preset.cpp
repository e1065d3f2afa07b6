#include "ratelimit/preset.hpp"

#include <algorithm>
#include <array>
#include <chrono>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "ratelimit/cost.hpp"

namespace twinstar {

using std::chrono::days;
using std::chrono::minutes;
using std::chrono::seconds;

namespace {

__extension__ typedef __int128 Int128;

constexpr std::int64_t kMaxLimit = 1'000'000'000'000;  // keeps token arithmetic far from overflow
constexpr Duration kMaxWindow = days(7);

constexpr std::array<std::string_view, 5> kPresetNames = {"bybit", "binance_spot", "binance_usdm", "okx",
                                                           "bitget"};

BucketSpec bucket(std::string name, std::int64_t limit, Duration window, Scope scope, BucketMode mode,
                  std::string source, std::int64_t max_weight = 1) {
  return BucketSpec{std::move(name), limit, window, scope, mode, max_weight, std::move(source)};
}

EndpointCost endpoint(std::string name, std::vector<WeightSpec> weights) {
  return EndpointCost{std::move(name), std::move(weights)};
}

constexpr auto kIp = Scope::ip;
constexpr auto kAccount = Scope::account;
constexpr auto kConnection = Scope::connection;
constexpr auto kToken = BucketMode::token_bucket;
constexpr auto kStrict = BucketMode::strict;

Preset bybit_preset() {
  Preset p;
  p.name = "bybit";
  p.exchange = Exchange::bybit;
  p.markets = {Market::spot, Market::linear};
  p.buckets = {
      // §1.3: 600 requests per 5 s per IP across all hosts; breaking it is a 403 and a 10-minute ban,
      // so it is strict: no burst may ever reach it.
      bucket("ip", 600, seconds(5), kIp, kStrict, "exchange-api.md §1.3 HTTP IP limit"),
      // §1.3: per-UID rolling 1 s windows, per endpoint (UTA 2.0 Pro). Orders are strict: a rolling
      // window is exactly what a strict bucket keeps, so a round's orders leave at once (up to 9 in
      // any second) instead of being paced one per 125 ms by a token bucket's burst of 1.
      bucket("order_create_linear", 10, seconds(1), kAccount, kStrict, "exchange-api.md §1.3 order/create linear 10/s"),
      bucket("order_create_spot", 20, seconds(1), kAccount, kStrict, "exchange-api.md §1.3 order/create spot 20/s"),
      // §1.3: cancel is 10/s linear, 20/s spot; one bucket at the lower figure covers both.
      bucket("order_cancel", 10, seconds(1), kAccount, kStrict, "exchange-api.md §1.3 order/cancel 10/s"),
      bucket("order_amend", 10, seconds(1), kAccount, kStrict, "exchange-api.md §1.3 order/amend 10/s"),
      // §1.3: order/realtime, order/history and execution/list are 50/s each; shared here (conservative).
      bucket("order_query", 50, seconds(1), kAccount, kToken, "exchange-api.md §1.3 queries 50/s"),
      bucket("position_list", 50, seconds(1), kAccount, kToken, "exchange-api.md §1.3 position/list 50/s"),
  };
  p.endpoints = {
      endpoint("market_data", {{"ip", 1}}),
      endpoint("private", {{"ip", 1}}),
      endpoint("order_create_linear", {{"ip", 1}, {"order_create_linear", 1}}),
      endpoint("order_create_spot", {{"ip", 1}, {"order_create_spot", 1}}),
      endpoint("order_cancel", {{"ip", 1}, {"order_cancel", 1}}),
      endpoint("order_amend", {{"ip", 1}, {"order_amend", 1}}),
      endpoint("order_query", {{"ip", 1}, {"order_query", 1}}),
      endpoint("position_list", {{"ip", 1}, {"position_list", 1}}),
  };
  return p;
}

Preset binance_spot_preset() {
  Preset p;
  p.name = "binance_spot";
  p.exchange = Exchange::binance;
  p.markets = {Market::spot};
  p.buckets = {
      // §2.4: REQUEST_WEIGHT 6,000 per minute per IP (REST and WS-API combined).
      bucket("request_weight", 6000, minutes(1), kIp, kToken, "exchange-api.md §2.4 REQUEST_WEIGHT 6000/min"),
      // §2.4: ORDERS 50 per 10 s and 160,000 per day per account (WS-API samples; live values unconfirmed).
      bucket("orders_10s", 50, seconds(10), kAccount, kToken, "exchange-api.md §2.4 ORDERS 50/10s"),
      bucket("orders_1d", 160'000, days(1), kAccount, kToken, "exchange-api.md §2.4 ORDERS 160000/day"),
      // §2.3: 5 incoming messages per second per connection (pings, pongs and control messages count).
      bucket("ws_messages", 5, seconds(1), kConnection, kStrict, "exchange-api.md §2.3 5 messages/s per connection"),
      // §2.3: at most 300 connections per 5 minutes per IP.
      bucket("ws_connections", 300, minutes(5), kIp, kStrict, "exchange-api.md §2.3 300 connections/5 min"),
  };
  // RAW_REQUESTS (300,000 per 5 min, §2.4) cannot bind before 6,000 weight/min does, so it has no bucket.
  p.endpoints = {
      endpoint("klines", {{"request_weight", 2}}),  // §2.1: GET /api/v3/klines weight 2
      // §2.4: a successful order costs 0 weight since 2026-04-02 (a failed one costs its weight;
      // X-MBX-USED-WEIGHT-1M feedback corrects that).
      endpoint("order", {{"orders_10s", 1}, {"orders_1d", 1}}),
      endpoint("cancel", {{"request_weight", 1}}),
      endpoint("ws_message", {{"ws_messages", 1}}),
      endpoint("ws_connect", {{"ws_connections", 1}}),
  };
  return p;
}

Preset binance_usdm_preset() {
  Preset p;
  p.name = "binance_usdm";
  p.exchange = Exchange::binance;
  p.markets = {Market::linear};
  p.buckets = {
      // §2.4: REQUEST_WEIGHT 2400/min per IP.
      bucket("request_weight", 2400, minutes(1), kIp, kToken, "exchange-api.md §2.4 USD-M REQUEST_WEIGHT 2400/min", 10),
      // §2.4: ORDERS 300 per 10 s and 1200 per minute per account.
      bucket("orders_10s", 300, seconds(10), kAccount, kToken, "exchange-api.md §2.4 USD-M ORDERS 300/10s"),
      bucket("orders_1m", 1200, minutes(1), kAccount, kToken, "exchange-api.md §2.4 USD-M ORDERS 1200/min"),
      // §2.3: 10 incoming messages per second per connection.
      bucket("ws_messages", 10, seconds(1), kConnection, kStrict, "exchange-api.md §2.3 USD-M 10 messages/s"),
  };
  p.endpoints = {
      // §2.2: weight by limit; 5 for the default limit of 500 (binance_usdm_klines_weight for others).
      endpoint("klines", {{"request_weight", 5}}),
      // §2.4: POST /fapi/v1/order costs 1 on each order limit and 0 IP weight.
      endpoint("order", {{"orders_10s", 1}, {"orders_1m", 1}}),
      endpoint("cancel", {{"request_weight", 1}}),
      endpoint("ws_message", {{"ws_messages", 1}}),
  };
  return p;
}

Preset okx_preset() {
  Preset p;
  p.name = "okx";
  p.exchange = Exchange::okx;
  p.markets = {Market::spot, Market::linear};
  p.buckets = {
      // §3.1: GET /api/v5/market/candles 40 requests per 2 s per IP.
      bucket("candles", 40, seconds(2), kIp, kToken, "exchange-api.md §3.1 candles 40/2s"),
      // §3.1: GET /api/v5/market/history-candles 20 requests per 2 s per IP.
      bucket("history_candles", 20, seconds(2), kIp, kToken, "exchange-api.md §3.1 history-candles 20/2s"),
      // §3.3: place order 60 per 2 s per User ID + instrument; one bucket per account is conservative.
      bucket("place_order", 60, seconds(2), kAccount, kToken, "exchange-api.md §3.3 place order 60/2s"),
      // §3.2: 3 WebSocket connection requests per second per IP.
      bucket("ws_connections", 3, seconds(1), kIp, kStrict, "exchange-api.md §3.2 3 connection requests/s"),
  };
  p.endpoints = {
      endpoint("candles", {{"candles", 1}}),
      endpoint("history_candles", {{"history_candles", 1}}),
      endpoint("place_order", {{"place_order", 1}}),
      endpoint("ws_connect", {{"ws_connections", 1}}),
  };
  return p;
}

Preset bitget_preset() {
  Preset p;
  p.name = "bitget";
  p.exchange = Exchange::bitget;
  p.markets = {Market::spot, Market::linear};
  p.buckets = {
      // §4.1/§4.3: market data 20 requests per second per IP.
      bucket("market_data", 20, seconds(1), kIp, kToken, "exchange-api.md §4.3 market data 20/s"),
      // §4.3: place or cancel order 10 per second per UID (separate endpoints).
      bucket("place_order", 10, seconds(1), kAccount, kToken, "exchange-api.md §4.3 place order 10/s"),
      bucket("cancel_order", 10, seconds(1), kAccount, kToken, "exchange-api.md §4.3 cancel order 10/s"),
      // §4.3: set leverage, position queries and margin-mode changes 5 per second.
      bucket("positions", 5, seconds(1), kAccount, kToken, "exchange-api.md §4.3 positions 5/s"),
      // §4.2: 10 messages per second per connection, pings included.
      bucket("ws_messages", 10, seconds(1), kConnection, kStrict, "exchange-api.md §4.2 10 messages/s"),
      // §4.2 (newer page): 300 connection requests per IP per 5 minutes.
      bucket("ws_connections", 300, minutes(5), kIp, kStrict, "exchange-api.md §4.2 300 connections/5 min"),
  };
  p.endpoints = {
      endpoint("candles", {{"market_data", 1}}),
      endpoint("place_order", {{"place_order", 1}}),
      endpoint("cancel_order", {{"cancel_order", 1}}),
      endpoint("positions", {{"positions", 1}}),
      endpoint("ws_message", {{"ws_messages", 1}}),
      endpoint("ws_connect", {{"ws_connections", 1}}),
  };
  return p;
}

std::string bucket_names(const Preset& p) {
  std::vector<std::string_view> names;
  for (const auto& b : p.buckets) names.push_back(b.name);
  return fmt::format("{}", fmt::join(names, ", "));
}

bool valid_fraction(Ratio r) { return r.is_positive() && r <= Ratio::from_units(1); }

}  // namespace

std::string_view to_string(Scope s) noexcept {
  switch (s) {
    case Scope::ip: return "ip";
    case Scope::account: return "account";
    case Scope::connection: return "connection";
  }
  return "unknown";
}

std::string_view to_string(BucketMode m) noexcept {
  switch (m) {
    case BucketMode::token_bucket: return "token_bucket";
    case BucketMode::strict: return "strict";
  }
  return "unknown";
}

std::string_view to_string(Priority p) noexcept {
  switch (p) {
    case Priority::critical: return "critical";
    case Priority::trading: return "trading";
    case Priority::market_data: return "market_data";
  }
  return "unknown";
}

Result<BucketLimits> effective_limits(const BucketSpec& spec, Ratio safety_margin, Ratio burst_fraction) {
  if (spec.limit < 1 || spec.limit > kMaxLimit) {
    return make_error(ErrorCode::config_error, "bucket {}: limit must be in [1, {}], got {}", spec.name, kMaxLimit,
                      spec.limit);
  }
  if (spec.window <= Duration::zero() || spec.window > kMaxWindow) {
    return make_error(ErrorCode::config_error, "bucket {}: window must be in (0, 7d], got {}", spec.name,
                      format_duration(spec.window));
  }
  if (!valid_fraction(safety_margin)) {
    return make_error(ErrorCode::config_error, "bucket {}: safety margin must be in (0, 1], got {}", spec.name,
                      safety_margin);
  }
  if (!valid_fraction(burst_fraction)) {
    return make_error(ErrorCode::config_error, "bucket {}: burst fraction must be in (0, 1], got {}", spec.name,
                      burst_fraction);
  }
  // floor(limit * margin); at least 1, which is still within a published limit >= 1.
  const auto scaled = static_cast<Int128>(spec.limit) * safety_margin.raw() / kDecimalScale;
  BucketLimits out;
  out.effective_limit = std::max<std::int64_t>(1, static_cast<std::int64_t>(scaled));
  if (spec.max_weight < 1 || spec.max_weight > out.effective_limit) {
    return make_error(ErrorCode::config_error, "bucket {}: max_weight must be in [1, {}] (the effective limit), got {}",
                      spec.name, out.effective_limit, spec.max_weight);
  }
  out.mode = spec.mode;
  if (spec.mode == BucketMode::token_bucket) {
    const auto product = static_cast<Int128>(out.effective_limit) * burst_fraction.raw();
    const auto burst = static_cast<std::int64_t>((product + kDecimalScale - 1) / kDecimalScale);  // ceil
    out.capacity = std::max(spec.max_weight, burst);
    if (out.capacity >= out.effective_limit) out.mode = BucketMode::strict;  // nothing left to refill
  }
  if (out.mode == BucketMode::strict) {
    out.capacity = out.effective_limit;
    out.refill_per_window = 0;
    if (out.effective_limit > kMaxStrictCapacity) {
      return make_error(ErrorCode::config_error,
                        "bucket {}: a strict bucket keeps one entry per request, so its effective limit must be at "
                        "most {}, got {}; use token_bucket",
                        spec.name, kMaxStrictCapacity, out.effective_limit);
    }
  } else {
    out.refill_per_window = out.effective_limit - out.capacity;
  }
  return out;
}

std::span<const std::string_view> preset_names() noexcept { return kPresetNames; }

Result<Preset> preset(std::string_view name) {
  if (name == "bybit") return bybit_preset();
  if (name == "binance_spot") return binance_spot_preset();
  if (name == "binance_usdm") return binance_usdm_preset();
  if (name == "okx") return okx_preset();
  if (name == "bitget") return bitget_preset();
  return make_error(ErrorCode::not_found, "unknown rate-limit preset '{}'; valid presets: {}", name,
                    fmt::join(kPresetNames, ", "));
}

std::string_view default_preset_name(Exchange exchange, Market market) noexcept {
  switch (exchange) {
    case Exchange::bybit: return "bybit";
    case Exchange::binance: return market == Market::spot ? "binance_spot" : "binance_usdm";
    case Exchange::okx: return "okx";
    case Exchange::bitget: return "bitget";
  }
  return "bybit";
}

Status apply_override(Preset& preset, std::string_view bucket_name, std::optional<std::int64_t> limit,
                      std::optional<Duration> window, std::optional<bool> strict) {
  auto it = std::find_if(preset.buckets.begin(), preset.buckets.end(),
                         [&](const BucketSpec& b) { return b.name == bucket_name; });
  if (it == preset.buckets.end()) {
    return make_error(ErrorCode::not_found, "rate-limit preset {} has no bucket '{}'; valid buckets: {}", preset.name,
                      bucket_name, bucket_names(preset));
  }
  BucketSpec changed = *it;
  if (limit) changed.limit = *limit;
  if (window) changed.window = *window;
  if (strict) changed.mode = *strict ? BucketMode::strict : BucketMode::token_bucket;
  if (auto limits = effective_limits(changed, preset.safety_margin, preset.burst_fraction); !limits) {
    return make_error(ErrorCode::config_error, "rate-limit preset {}: {}", preset.name, limits.error().message);
  }
  *it = std::move(changed);
  return {};
}

Status set_safety_margin(Preset& preset, Ratio margin) {
  if (!valid_fraction(margin)) {
    return make_error(ErrorCode::config_error, "rate-limit preset {}: safety_margin must be in (0, 1], got {}",
                      preset.name, margin);
  }
  preset.safety_margin = margin;
  return {};
}

Status validate(const Preset& preset) {
  auto fail = [&](const std::string& what) {
    return make_error(ErrorCode::config_error, "rate-limit preset {}: {}", preset.name.empty() ? "?" : preset.name,
                      what);
  };
  if (preset.name.empty()) return fail("the preset needs a name");
  if (preset.markets.empty()) return fail("the preset covers no market");
  if (preset.buckets.empty()) return fail("the preset has no bucket");
  if (preset.buckets.size() > 255) return fail("at most 255 buckets");
  std::vector<BucketLimits> limits;
  for (std::size_t i = 0; i < preset.buckets.size(); ++i) {
    const auto& b = preset.buckets[i];
    if (b.name.empty()) return fail(fmt::format("bucket #{} has no name", i + 1));
    for (std::size_t j = 0; j < i; ++j) {
      if (preset.buckets[j].name == b.name) return fail(fmt::format("bucket '{}' is defined twice", b.name));
    }
    auto l = effective_limits(b, preset.safety_margin, preset.burst_fraction);
    if (!l) return fail(l.error().message);
    limits.push_back(*l);
  }
  for (std::size_t e = 0; e < preset.endpoints.size(); ++e) {
    const auto& ep = preset.endpoints[e];
    if (ep.name.empty()) return fail(fmt::format("endpoint #{} has no name", e + 1));
    for (std::size_t j = 0; j < e; ++j) {
      if (preset.endpoints[j].name == ep.name) return fail(fmt::format("endpoint '{}' is defined twice", ep.name));
    }
    if (ep.weights.size() > kMaxCostItems) {
      return fail(fmt::format("endpoint '{}' costs {} buckets; at most {}", ep.name, ep.weights.size(), kMaxCostItems));
    }
    for (const auto& w : ep.weights) {
      auto it = std::find_if(preset.buckets.begin(), preset.buckets.end(),
                             [&](const BucketSpec& b) { return b.name == w.bucket; });
      if (it == preset.buckets.end()) {
        return fail(fmt::format("endpoint '{}' names unknown bucket '{}'; valid buckets: {}", ep.name, w.bucket,
                                bucket_names(preset)));
      }
      const auto& l = limits[static_cast<std::size_t>(it - preset.buckets.begin())];
      if (w.weight < 0 || w.weight > l.capacity) {
        return fail(fmt::format("endpoint '{}': weight {} in bucket '{}' must be in [0, {}]", ep.name, w.weight,
                                w.bucket, l.capacity));
      }
    }
  }
  return {};
}

}  // namespace twinstar
