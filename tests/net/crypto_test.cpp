#include <gtest/gtest.h>

#include "net/crypto.hpp"

namespace twinstar::net {
namespace {

// exchange-api.md §6: secret TESTSECRET0123456789abcdef, verified there with Python and openssl.
constexpr std::string_view kSecret = "TESTSECRET0123456789abcdef";

TEST(Crypto, hmac_hex_matches_the_reference_bybit_get_vector) {
  EXPECT_EQ(hmac_sha256_hex(kSecret, "1658384314791XXXXXXXXXX5000category=option&symbol=BTC-29JUL22-25000-C"),
            "1d5a4cc36a6b6955094385ae8dc4049f66c2ecaceb9a474f59fbbab4100e49c7");
}

TEST(Crypto, hmac_base64_matches_the_reference_okx_vector) {
  const auto d = hmac_sha256(kSecret, "2020-12-08T09:08:57.715ZGET/api/v5/account/balance?ccy=BTC");
  EXPECT_EQ(to_base64(d.data(), d.size()), "TtsoXTYE0D72BcEvKMh7D6/vsKxG8+PL4BgMZel4r4Q=");
}

TEST(Crypto, hex_and_base64_of_known_bytes) {
  const std::uint8_t bytes[] = {0x00, 0xff, 0x10, 0xab};
  EXPECT_EQ(to_hex(bytes, 4), "00ff10ab");
  EXPECT_EQ(to_base64(bytes, 4), "AP8Qqw==");
}

TEST(Crypto, constant_time_equal_compares_whole_strings) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
}

}  // namespace
}  // namespace twinstar::net
