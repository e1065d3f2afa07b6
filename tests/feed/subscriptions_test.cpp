// Reference counting and endpoint overrides.
#include <gtest/gtest.h>

#include "feed/endpoints.hpp"
#include "feed/subscriptions.hpp"

namespace twinstar::feed {
namespace {

SeriesKey key(std::string_view symbol, Interval i = Interval::m15) {
  return SeriesKey{Exchange::bybit, Market::linear, *Symbol::parse(symbol), i};
}

TEST(SubscriptionCounts, two_subscribers_share_a_topic_and_the_last_one_removes_it) {
  SubscriptionCounts counts;
  EXPECT_TRUE(counts.add(key("BTCUSDT")));   // first: subscribe on the venue
  EXPECT_FALSE(counts.add(key("BTCUSDT")));  // second bot: shared
  EXPECT_TRUE(counts.add(key("BTCUSDT", Interval::m1)));  // another interval is another topic
  EXPECT_EQ(counts.series(), 2u);
  EXPECT_EQ(counts.count(key("BTCUSDT")), 2u);
  EXPECT_FALSE(counts.remove(key("BTCUSDT")));
  EXPECT_TRUE(counts.remove(key("BTCUSDT")));  // last: unsubscribe
  EXPECT_FALSE(counts.remove(key("BTCUSDT")));  // unknown now
  EXPECT_EQ(counts.series(), 1u);
}

TEST(Endpoints, an_http_override_derives_the_sim_websocket_path) {
  auto e = parse_endpoint_override(Exchange::bybit, Market::linear, "http://127.0.0.1:9000/");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->rest_url, "http://127.0.0.1:9000");
  EXPECT_EQ(e->ws_url, "ws://127.0.0.1:9000/v5/public/linear");
  auto both = parse_endpoint_override(Exchange::okx, Market::spot, "https://www.okx.com,wss://ws.okx.com:8443/ws/v5/business");
  ASSERT_TRUE(both);
  EXPECT_EQ(both->ws_url, "wss://ws.okx.com:8443/ws/v5/business");
  EXPECT_FALSE(parse_endpoint_override(Exchange::bybit, Market::linear, "ws://127.0.0.1:9000"));
  EXPECT_FALSE(parse_endpoint_override(Exchange::bybit, Market::linear, "http://127.0.0.1:9000,http://x"));
}

TEST(Endpoints, mainnet_candles_use_the_documented_hosts) {
  EXPECT_EQ(default_endpoints(Exchange::binance, Market::linear)->ws_url, "wss://fstream.binance.com/market/ws");
  EXPECT_EQ(default_endpoints(Exchange::okx, Market::linear)->ws_url, "wss://ws.okx.com:8443/ws/v5/business");
  EXPECT_EQ(default_endpoints(Exchange::bybit, Market::spot)->ws_url, "wss://stream.bybit.com/v5/public/spot");
  EXPECT_EQ(default_endpoints(Exchange::bitget, Market::linear)->rest_url, "https://api.bitget.com");
  EXPECT_FALSE(default_endpoints(Exchange::okx, Market::linear, Network::testnet));
}

}  // namespace
}  // namespace twinstar::feed
