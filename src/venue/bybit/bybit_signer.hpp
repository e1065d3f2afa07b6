#pragma once
// Bybit v5 request signing (HMAC-SHA256, lowercase hex), for REST and the private WebSocket.
// Reference: exchange-api.md §1.4; verified against the §6 vectors in tests/venue.

#include <cstdint>
#include <string>
#include <string_view>

namespace twinstar::venue::bybit {

inline constexpr std::string_view kHeaderApiKey = "X-BAPI-API-KEY";
inline constexpr std::string_view kHeaderTimestamp = "X-BAPI-TIMESTAMP";
inline constexpr std::string_view kHeaderSign = "X-BAPI-SIGN";
inline constexpr std::string_view kHeaderRecvWindow = "X-BAPI-RECV-WINDOW";
inline constexpr std::int64_t kDefaultRecvWindowMs = 5000;

// The exact string Bybit signs: timestamp + api_key + recv_window + payload, where payload is
// the query string (GET) or the JSON body (POST) byte for byte as sent.
std::string rest_sign_payload(std::string_view timestamp_ms, std::string_view api_key, std::string_view recv_window,
                              std::string_view payload);
// hex(HMAC_SHA256(secret, rest_sign_payload(...))).
std::string rest_signature(std::string_view secret, std::string_view timestamp_ms, std::string_view api_key,
                           std::string_view recv_window, std::string_view payload);
// Private WS auth: hex(HMAC_SHA256(secret, "GET/realtime" + expires_ms)).
std::string ws_auth_signature(std::string_view secret, std::int64_t expires_ms);

struct SignedHeaders {
  std::string api_key;
  std::string timestamp;
  std::string sign;
  std::string recv_window;
};

// Holds one account's key pair and signs requests with it.
class BybitSigner {
 public:
  BybitSigner(std::string api_key, std::string api_secret) : api_key_(std::move(api_key)), api_secret_(std::move(api_secret)) {}
  const std::string& api_key() const noexcept { return api_key_; }
  // Headers for a request whose query string (GET) or body (POST) is `payload`.
  SignedHeaders sign_rest(std::int64_t timestamp_ms, std::string_view payload,
                          std::int64_t recv_window_ms = kDefaultRecvWindowMs) const;
  // The `{"op":"auth","args":[key, expires, signature]}` frame.
  std::string ws_auth_frame(std::int64_t expires_ms) const;

 private:
  std::string api_key_;
  std::string api_secret_;
};

}  // namespace twinstar::venue::bybit
