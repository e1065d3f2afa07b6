// Signing test vectors: Binance's official S1–S3, W1–W2, F1 and the corrected F3
// (exchange-api.md §2.5), and the computed OKX and Bitget vectors of §6.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/time.hpp"
#include "venue/binance/binance_signer.hpp"
#include "venue/bitget/bitget_signer.hpp"
#include "venue/okx/okx_signer.hpp"

namespace twinstar::venue {
namespace {

constexpr std::string_view kBinanceSpotSecret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
constexpr std::string_view kBinanceFuturesSecret = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";
constexpr std::string_view kSection6Secret = "TESTSECRET0123456789abcdef";

TEST(BinanceSigner, official_spot_rest_vectors_s1_s2_s3) {
  // S1: everything in the query.
  EXPECT_EQ(binance::rest_signature(kBinanceSpotSecret,
                                    "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow="
                                    "5000&timestamp=1499827319559"),
            "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71");
  // S2: non-ASCII symbol, percent-encoded before signing.
  EXPECT_EQ(binance::rest_signature(kBinanceSpotSecret,
                                    "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT&"
                                    "timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"),
            "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3");
  // S3: query and body concatenated with no '&' between them.
  EXPECT_EQ(binance::rest_signature(kBinanceSpotSecret, "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC",
                                    "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"),
            "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77");
}

TEST(BinanceSigner, signed_query_appends_recv_window_timestamp_and_signature) {
  const binance::BinanceSigner signer("vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
                                      std::string(kBinanceSpotSecret));
  // S1 again, built by the signer from its parameters.
  EXPECT_EQ(signer.signed_query("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1", 1499827319559),
            "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp="
            "1499827319559&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71");
}

TEST(BinanceSigner, official_ws_api_vectors_w1_w2_sign_sorted_params) {
  const std::string key = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
  // W1, params in the request's (unsorted) order.
  const std::vector<binance::Param> w1 = {
      {"symbol", "BTCUSDT"},   {"side", "SELL"},          {"type", "LIMIT"},      {"timeInForce", "GTC"},
      {"quantity", "0.01000000"}, {"price", "52000.00"}, {"recvWindow", "100"}, {"timestamp", "1645423376532"},
      {"apiKey", key},
  };
  EXPECT_EQ(binance::ws_api_sign_payload(w1),
            "apiKey=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A&price=52000.00&quantity=0.01000000&"
            "recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT");
  EXPECT_EQ(binance::ws_api_signature(kBinanceSpotSecret, w1),
            "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24");
  // W2: raw UTF-8 symbol, quantity 1.00000000 as signed (the doc's JSON shows 0.01000000, §2.5).
  const std::vector<binance::Param> w2 = {
      {"symbol", "\xEF\xBC\x91\xEF\xBC\x92\xEF\xBC\x93\xEF\xBC\x94\xEF\xBC\x95\xEF\xBC\x96"},
      {"side", "BUY"},
      {"type", "LIMIT"},
      {"timeInForce", "GTC"},
      {"quantity", "1.00000000"},
      {"price", "0.10000000"},
      {"recvWindow", "5000"},
      {"timestamp", "1645423376532"},
      {"apiKey", key},
      {"signature", "ignored"},
  };
  EXPECT_EQ(binance::ws_api_signature(kBinanceSpotSecret, w2),
            "b33892ae8e687c939f4468c6268ddd4c40ac1af18ad19a064864c47bae0752cd");
}

TEST(BinanceSigner, official_futures_vector_f1_and_corrected_f3) {
  const std::string_view f1 =
      "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943";
  // F1 as a query, or as a body with an empty query: the same bytes are signed.
  EXPECT_EQ(binance::rest_signature(kBinanceFuturesSecret, f1),
            "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9");
  EXPECT_EQ(binance::rest_signature(kBinanceFuturesSecret, "", f1),
            "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9");
  // F3 (mixed): the doc prints f9d0ae5e...; the intended payload signs to 30baaf0f... (§2.5).
  const auto f3 = binance::rest_signature(kBinanceFuturesSecret, "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC",
                                          "quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943");
  EXPECT_EQ(f3, "30baaf0fab549bbeda7f5ef201898b34122da25fd23c646cac2c529aebe670a4");
  EXPECT_NE(f3, "f9d0ae5e813ef6ccf15c2b5a434047a0181cb5a342b903b367ca6d27a66e36f2");
}

TEST(OkxSigner, section6_rest_and_ws_login_vectors) {
  const auto ts = parse_iso8601("2020-12-08T09:08:57.715Z").value();
  EXPECT_EQ(okx::rest_timestamp(floor_ms(ts)), "2020-12-08T09:08:57.715Z");
  EXPECT_EQ(okx::rest_sign_payload("2020-12-08T09:08:57.715Z", "GET", "/api/v5/account/balance?ccy=BTC", ""),
            "2020-12-08T09:08:57.715ZGET/api/v5/account/balance?ccy=BTC");
  EXPECT_EQ(okx::rest_signature(kSection6Secret, "2020-12-08T09:08:57.715Z", "GET", "/api/v5/account/balance?ccy=BTC", ""),
            "TtsoXTYE0D72BcEvKMh7D6/vsKxG8+PL4BgMZel4r4Q=");
  EXPECT_EQ(okx::rest_signature(kSection6Secret, "2020-12-08T09:08:57.715Z", "post", "/api/v5/trade/order",
                                R"({"instId":"BTC-USDT","tdMode":"cash","clOrdId":"b15","side":"buy","ordType":"limit","px":"2.15","sz":"2"})"),
            "S9feVJL2uTau/Pfzh4PPOruIvJHGr5OgiM69YaT9vgE=");
  EXPECT_EQ(okx::ws_login_signature(kSection6Secret, 1538054050), "NpfvXUvnH7WSkMeAHsQNvden2PFNh7QLjFSjQm6W5tc=");

  const okx::OkxSigner signer("key-1", std::string(kSection6Secret), "pass phrase");
  const auto headers = signer.sign_rest(floor_ms(ts), "GET", "/api/v5/account/balance?ccy=BTC");
  EXPECT_EQ(headers.timestamp, "2020-12-08T09:08:57.715Z");
  EXPECT_EQ(headers.sign, "TtsoXTYE0D72BcEvKMh7D6/vsKxG8+PL4BgMZel4r4Q=");
  EXPECT_EQ(headers.passphrase, "pass phrase");
  EXPECT_EQ(signer.ws_login_frame(1538054050),
            R"({"op":"login","args":[{"apiKey":"key-1","passphrase":"pass phrase","timestamp":"1538054050","sign":"NpfvXUvnH7WSkMeAHsQNvden2PFNh7QLjFSjQm6W5tc="}]})");
}

TEST(BitgetSigner, section6_rest_and_ws_login_vectors) {
  // The query is sorted by key before it is sent and signed.
  const std::vector<bitget::Param> params = {{"symbol", "BTCUSDT"}, {"limit", "20"}};
  const std::string query = bitget::sorted_query(params);
  EXPECT_EQ(query, "limit=20&symbol=BTCUSDT");
  EXPECT_EQ(bitget::rest_sign_payload("16273667805456", "GET", "/api/v2/mix/market/merge-depth", query, ""),
            "16273667805456GET/api/v2/mix/market/merge-depth?limit=20&symbol=BTCUSDT");
  EXPECT_EQ(bitget::rest_signature(kSection6Secret, "16273667805456", "GET", "/api/v2/mix/market/merge-depth", query, ""),
            "oipODm/wMiHhRepaeIf0CHMRkgzsXzef8YCd81+JROw=");
  EXPECT_EQ(bitget::rest_signature(kSection6Secret, "16273667805456", "POST", "/api/v2/mix/order/place-order", "",
                                   R"({"productType":"usdt-futures","symbol":"BTCUSDT","size":"8","marginMode":"crossed","side":"buy","orderType":"limit","clientOid":"channel#123456"})"),
            "Yx1KU0uGgSrtXwpI0g9ITJh8aJYN/hXvfTsY5uvc++8=");
  EXPECT_EQ(bitget::ws_login_signature(kSection6Secret, 1538054050), "EpTja2ezJldzv6uLvlKxS9GFgfIKLFF6KIgnBhrmaqM=");

  const bitget::BitgetSigner signer("key-2", std::string(kSection6Secret), "pp");
  const auto headers = signer.sign_rest(16273667805456, "get", "/api/v2/mix/market/merge-depth", query);
  EXPECT_EQ(headers.timestamp, "16273667805456");
  EXPECT_EQ(headers.sign, "oipODm/wMiHhRepaeIf0CHMRkgzsXzef8YCd81+JROw=");
  EXPECT_EQ(signer.ws_login_frame(1538054050),
            R"({"op":"login","args":[{"apiKey":"key-2","passphrase":"pp","timestamp":"1538054050","sign":"EpTja2ezJldzv6uLvlKxS9GFgfIKLFF6KIgnBhrmaqM="}]})");
}

TEST(BitgetSigner, sorted_query_percent_encodes_values) {
  const std::vector<bitget::Param> params = {{"b", "x y"}, {"a", "1/2"}};
  EXPECT_EQ(bitget::sorted_query(params), "a=1%2F2&b=x%20y");
}

}  // namespace
}  // namespace twinstar::venue
