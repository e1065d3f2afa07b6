#include <gtest/gtest.h>

#include "net/http_types.hpp"

namespace twinstar::net {
namespace {

TEST(HttpTypes, parse_query_decodes_pairs_in_order) {
  const auto q = parse_query("category=linear&symbol=BTC%2DUSDT&empty=&flag&a+b=c+d");
  ASSERT_EQ(q.size(), 5u);
  EXPECT_EQ(q[0], (std::pair<std::string, std::string>("category", "linear")));
  EXPECT_EQ(q[1].second, "BTC-USDT");
  EXPECT_EQ(q[2].second, "");
  EXPECT_EQ(q[3].first, "flag");
  EXPECT_EQ(q[4], (std::pair<std::string, std::string>("a b", "c d")));
}

TEST(HttpTypes, url_decode_keeps_malformed_escapes_literally) {
  EXPECT_EQ(url_decode("100%"), "100%");
  EXPECT_EQ(url_decode("%zz"), "%zz");
  EXPECT_EQ(url_decode("%41%42"), "AB");
}

TEST(HttpTypes, header_lookup_ignores_case) {
  HttpRequest r;
  r.headers = {{"X-BAPI-API-KEY", "k"}, {"Content-Type", "application/json"}};
  EXPECT_EQ(r.header("x-bapi-api-key"), "k");
  EXPECT_TRUE(r.has_header("content-type"));
  EXPECT_EQ(r.header("missing"), "");
}

}  // namespace
}  // namespace twinstar::net
