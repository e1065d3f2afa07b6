// Usage headers and "too many requests" classification (exchange-api.md §1.3, §2.4, §3.3, §4.3).

#include "venue/common/rate_limit_verdict.hpp"

#include <vector>

#include <gtest/gtest.h>

#include "net/http_types.hpp"

#include "venue/binance/binance_usage.hpp"
#include "venue/bybit/bybit_usage.hpp"

namespace twinstar::venue {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

RateLimitVerdict classify(Exchange e, int status, std::vector<net::Header> headers, std::string_view body,
                          TimestampMs now = from_epoch_ms(1'700'000'000'000)) {
  // Headers as the net module's client hands them over, viewed as HeaderRef.
  const std::vector<HeaderRef> refs(headers.begin(), headers.end());
  return classify_rate_limit(e, HttpAnswer{status, refs, body}, now);
}

TEST(BinanceUsage, reads_weight_and_order_count_headers) {
  const std::vector<net::Header> headers = {
      {"Content-Type", "application/json"},
      {"x-mbx-used-weight-1m", "1187"},     // header names are case-insensitive
      {"X-MBX-USED-WEIGHT", "1187"},        // no interval: skipped
      {"X-MBX-ORDER-COUNT-10S", "7"},
      {"X-MBX-ORDER-COUNT-1D", "160"},
      {"X-MBX-ORDER-COUNT-1M", " 42 "},
      {"X-MBX-USED-WEIGHT-1S", "abc"},      // not a number: skipped
  };
  const std::vector<HeaderRef> refs(headers.begin(), headers.end());
  const auto usage = binance::read_usage(refs);
  EXPECT_EQ(usage.used_weight_1m, 1187);
  EXPECT_EQ(usage.order_count_10s, 7);
  EXPECT_EQ(usage.order_count_1d, 160);
  EXPECT_EQ(usage.order_count_1m, 42);
  ASSERT_EQ(usage.counters.size(), 4u);
  EXPECT_EQ(usage.counters[0].kind, binance::UsageKind::request_weight);
  EXPECT_EQ(usage.counters[0].window, minutes(1));
  EXPECT_EQ(usage.counters[1].window, seconds(10));
  EXPECT_FALSE(binance::read_usage({}).used_weight_1m);
}

TEST(BinanceUsage, classifies_429_418_and_error_codes) {
  auto v = classify(Exchange::binance, 429, {{"Retry-After", "30"}},
                    R"({"code":-1003,"msg":"Too many requests; current limit is 6000 request weight per 1 MINUTE."})");
  EXPECT_TRUE(v.is_rate_limited);
  EXPECT_EQ(v.bucket_hint, LimitScope::ip);
  EXPECT_EQ(v.pause_for, Duration(seconds(30)));
  EXPECT_EQ(v.venue_code, "-1003");
  v = classify(Exchange::binance, 418, {{"retry-after", "7200"}}, R"({"code":-1003,"msg":"Way too many requests; IP banned"})");
  EXPECT_EQ(v.bucket_hint, LimitScope::ip_ban);
  EXPECT_EQ(v.pause_for, Duration(seconds(7200)));
  v = classify(Exchange::binance, 429, {}, R"({"code":-1015,"msg":"Too many new orders."})");
  EXPECT_EQ(v.bucket_hint, LimitScope::account_orders);
  EXPECT_FALSE(v.pause_for);
  v = classify(Exchange::binance, 400, {}, R"({"code":-1015,"msg":"Too many new orders; current limit is 50 orders per 10 SECOND."})");
  EXPECT_TRUE(v.is_rate_limited);
  EXPECT_EQ(v.bucket_hint, LimitScope::account_orders);
  v = classify(Exchange::binance, 503, {}, R"({"code":-1008,"msg":"Server is currently overloaded with other requests."})");
  EXPECT_EQ(v.bucket_hint, LimitScope::system);
  v = classify(Exchange::binance, 200, {{"X-MBX-USED-WEIGHT-1M", "2"}}, R"([[1499040000000,"0.1"]])");
  EXPECT_FALSE(v.is_rate_limited);
  EXPECT_EQ(v.bucket_hint, LimitScope::none);
  v = classify(Exchange::binance, 400, {}, R"({"code":-1121,"msg":"Invalid symbol."})");
  EXPECT_FALSE(v.is_rate_limited);
  // A garbage Retry-After is ignored, the 429 still counts.
  v = classify(Exchange::binance, 429, {{"Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"}}, "");
  EXPECT_TRUE(v.is_rate_limited);
  EXPECT_FALSE(v.pause_for);
  EXPECT_EQ(v.venue_code, "429");
}

TEST(BybitUsage, reads_limit_headers) {
  const std::vector<net::Header> headers = {
      {"X-Bapi-Limit-Status", "99"}, {"X-Bapi-Limit", "100"}, {"X-Bapi-Limit-Reset-Timestamp", "1672738134824"}};
  const std::vector<HeaderRef> refs(headers.begin(), headers.end());
  const auto usage = bybit::read_usage(refs);
  EXPECT_EQ(usage.remaining, 99);
  EXPECT_EQ(usage.limit, 100);
  EXPECT_EQ(usage.reset_at, from_epoch_ms(1672738134824));
  const std::vector<HeaderRef> negative = {{"X-Bapi-Limit", "-1"}};
  EXPECT_FALSE(bybit::read_usage(negative).limit);
}

TEST(BybitUsage, classifies_ip_ban_uid_limit_and_system_protection) {
  auto v = classify(Exchange::bybit, 403, {}, "access too frequent");
  EXPECT_TRUE(v.is_rate_limited);
  EXPECT_EQ(v.bucket_hint, LimitScope::ip_ban);
  EXPECT_EQ(v.pause_for, Duration(minutes(10)));
  const TimestampMs now = from_epoch_ms(1672738133324);
  v = classify(Exchange::bybit, 200, {{"X-Bapi-Limit-Status", "0"}, {"X-Bapi-Limit-Reset-Timestamp", "1672738134824"}},
               R"({"retCode":10006,"retMsg":"Too many visits!","result":{},"retExtInfo":{},"time":1672738133324})", now);
  EXPECT_TRUE(v.is_rate_limited);
  EXPECT_EQ(v.bucket_hint, LimitScope::endpoint);
  EXPECT_EQ(v.pause_for, Duration(milliseconds(1500)));
  EXPECT_EQ(v.venue_code, "10006");
  // A reset timestamp in the past gives no pause.
  v = classify(Exchange::bybit, 200, {{"X-Bapi-Limit-Reset-Timestamp", "1672738133000"}},
               R"({"retCode":10006,"retMsg":"Too many visits!"})", now);
  EXPECT_TRUE(v.is_rate_limited);
  EXPECT_FALSE(v.pause_for);
  v = classify(Exchange::bybit, 429, {}, "");
  EXPECT_EQ(v.bucket_hint, LimitScope::system);
  v = classify(Exchange::bybit, 200, {}, R"({"retCode":0,"retMsg":"OK","result":{}})");
  EXPECT_FALSE(v.is_rate_limited);
}

TEST(OkxUsage, classifies_50011_with_200_or_429_and_50061) {
  const std::string_view k50011 =
      R"({"code":"50011","msg":"Rate limit reached. Please refer to API documentation and throttle requests accordingly.","data":[]})";
  auto v = classify(Exchange::okx, 200, {}, k50011);
  EXPECT_TRUE(v.is_rate_limited);
  EXPECT_EQ(v.bucket_hint, LimitScope::endpoint);
  EXPECT_EQ(v.venue_code, "50011");
  EXPECT_FALSE(v.pause_for);
  v = classify(Exchange::okx, 429, {}, k50011);
  EXPECT_EQ(v.bucket_hint, LimitScope::endpoint);
  v = classify(Exchange::okx, 200, {}, R"({"code":"50061","msg":"Sub-account rate limit exceeded.","data":[]})");
  EXPECT_EQ(v.bucket_hint, LimitScope::account_orders);
  v = classify(Exchange::okx, 429, {}, "Too Many Requests");
  EXPECT_TRUE(v.is_rate_limited);
  EXPECT_EQ(v.venue_code, "429");
  v = classify(Exchange::okx, 200, {}, R"({"code":"0","msg":"","data":[]})");
  EXPECT_FALSE(v.is_rate_limited);
}

TEST(BitgetUsage, classifies_429_status_or_body) {
  auto v = classify(Exchange::bitget, 429, {}, R"({"code":"429","msg":"Too Many Requests","requestTime":1695800278693,"data":null})");
  EXPECT_TRUE(v.is_rate_limited);
  EXPECT_EQ(v.bucket_hint, LimitScope::endpoint);
  v = classify(Exchange::bitget, 200, {}, R"({"code":"429","msg":"Too Many Requests","requestTime":1,"data":null})");
  EXPECT_TRUE(v.is_rate_limited);
  v = classify(Exchange::bitget, 200, {}, R"({"code":"00000","msg":"success","requestTime":1,"data":[["1","429"]]})");
  EXPECT_FALSE(v.is_rate_limited);
}

TEST(RateLimitVerdict, unreadable_bodies_are_not_evidence) {
  for (Exchange e : kAllExchanges) {
    auto v = classify(e, 200, {}, "{\"code\":");
    EXPECT_FALSE(v.is_rate_limited) << to_string(e);
    v = classify(e, 500, {}, "\xff\xfe");
    EXPECT_FALSE(v.is_rate_limited) << to_string(e);
  }
}

}  // namespace
}  // namespace twinstar::venue
