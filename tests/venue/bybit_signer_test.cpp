#include <gtest/gtest.h>

#include "venue/bybit/bybit_signer.hpp"

namespace twinstar::venue::bybit {
namespace {

// exchange-api.md §6 (self-computed, cross-checked with Python hmac and openssl dgst).
constexpr std::string_view kSecret = "TESTSECRET0123456789abcdef";

TEST(BybitSigner, get_request_signs_timestamp_key_window_and_query) {
  EXPECT_EQ(rest_sign_payload("1658384314791", "XXXXXXXXXX", "5000", "category=option&symbol=BTC-29JUL22-25000-C"),
            "1658384314791XXXXXXXXXX5000category=option&symbol=BTC-29JUL22-25000-C");
  EXPECT_EQ(rest_signature(kSecret, "1658384314791", "XXXXXXXXXX", "5000", "category=option&symbol=BTC-29JUL22-25000-C"),
            "1d5a4cc36a6b6955094385ae8dc4049f66c2ecaceb9a474f59fbbab4100e49c7");
}

TEST(BybitSigner, post_request_signs_the_body_byte_for_byte) {
  EXPECT_EQ(rest_signature(kSecret, "1658385579423", "XXXXXXXXXX", "5000", R"({"category": "option"})"),
            "0a66df76c2833d3aba688475fe4120f39039500cb5e889f60cf01acbd8d4438e");
  // One space less is a different request.
  EXPECT_NE(rest_signature(kSecret, "1658385579423", "XXXXXXXXXX", "5000", R"({"category":"option"})"),
            "0a66df76c2833d3aba688475fe4120f39039500cb5e889f60cf01acbd8d4438e");
}

TEST(BybitSigner, websocket_auth_signs_get_realtime_and_expires) {
  EXPECT_EQ(ws_auth_signature(kSecret, 1662350400000),
            "aff0a58fa2e1b988241bc7f6f631ac793eb5fc2f8ab85ffc242316738f842175");
}

TEST(BybitSigner, signer_builds_headers_and_the_auth_frame) {
  const BybitSigner signer("XXXXXXXXXX", std::string(kSecret));
  const auto h = signer.sign_rest(1658384314791, "category=option&symbol=BTC-29JUL22-25000-C");
  EXPECT_EQ(h.api_key, "XXXXXXXXXX");
  EXPECT_EQ(h.timestamp, "1658384314791");
  EXPECT_EQ(h.recv_window, "5000");
  EXPECT_EQ(h.sign, "1d5a4cc36a6b6955094385ae8dc4049f66c2ecaceb9a474f59fbbab4100e49c7");
  EXPECT_EQ(signer.ws_auth_frame(1662350400000),
            R"({"op":"auth","args":["XXXXXXXXXX",1662350400000,"aff0a58fa2e1b988241bc7f6f631ac793eb5fc2f8ab85ffc242316738f842175"]})");
}

}  // namespace
}  // namespace twinstar::venue::bybit
