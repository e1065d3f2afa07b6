#pragma once
// Binance request signing (HMAC-SHA256, lowercase hex), spot and USDⓈ-M REST and the spot
// WebSocket API. Reference: exchange-api.md §2.5; verified against S1–S3, W1–W2, F1 and the
// corrected F3 in tests/venue_protocol.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace twinstar::venue::binance {

inline constexpr std::string_view kHeaderApiKey = "X-MBX-APIKEY";
inline constexpr std::int64_t kDefaultRecvWindowMs = 5000;
inline constexpr std::int64_t kMaxRecvWindowMs = 60000;  // spot; the USDⓈ-M page states none (§2.5)

// REST: hex(HMAC_SHA256(secret, query + body)), the query string and the urlencoded body
// concatenated with no separator, each byte for byte as sent (non-ASCII percent-encoded first).
std::string rest_signature(std::string_view secret, std::string_view query, std::string_view body = {});

using Param = std::pair<std::string, std::string>;
// WebSocket API: every param but `signature`, sorted by name, joined k=v&k=v, raw UTF-8 (not
// percent-encoded).
std::string ws_api_sign_payload(std::span<const Param> params);
std::string ws_api_signature(std::string_view secret, std::span<const Param> params);

// Holds one account's key pair.
class BinanceSigner {
 public:
  BinanceSigner(std::string api_key, std::string api_secret)
      : api_key_(std::move(api_key)), api_secret_(std::move(api_secret)) {}
  const std::string& api_key() const noexcept { return api_key_; }
  // `params_query` + "&recvWindow=..&timestamp=..&signature=<hex>", the signature covering the
  // query before it plus `body`. Send the result as the query string and `body` unchanged.
  std::string signed_query(std::string_view params_query, std::int64_t timestamp_ms,
                           std::int64_t recv_window_ms = kDefaultRecvWindowMs, std::string_view body = {}) const;

 private:
  std::string api_key_;
  std::string api_secret_;
};

}  // namespace twinstar::venue::binance
