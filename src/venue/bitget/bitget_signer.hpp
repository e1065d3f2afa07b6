#pragma once
// Bitget v2 request signing (HMAC-SHA256, base64) for REST and the WebSocket login.
// Reference: exchange-api.md §4.4; verified against the §6 vectors in tests/venue_protocol.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace twinstar::venue::bitget {

inline constexpr std::string_view kHeaderApiKey = "ACCESS-KEY";
inline constexpr std::string_view kHeaderSign = "ACCESS-SIGN";
inline constexpr std::string_view kHeaderTimestamp = "ACCESS-TIMESTAMP";
inline constexpr std::string_view kHeaderPassphrase = "ACCESS-PASSPHRASE";
inline constexpr std::string_view kHeaderDemo = "paptrading";  // "1" on demo
inline constexpr std::string_view kWsLoginPath = "/user/verify";

using Param = std::pair<std::string, std::string>;
// The query string sorted by key (⚠️ §4.4: the newer docs require ascending keys; the older
// page does not, and sorted is accepted by both), values percent-encoded. Send exactly this.
std::string sorted_query(std::span<const Param> params);

// timestamp_ms + METHOD + path [+ "?" + query] + body.
std::string rest_sign_payload(std::string_view timestamp_ms, std::string_view method, std::string_view path,
                              std::string_view query, std::string_view body);
// base64(HMAC_SHA256(secret, rest_sign_payload(...))).
std::string rest_signature(std::string_view secret, std::string_view timestamp_ms, std::string_view method,
                           std::string_view path, std::string_view query, std::string_view body);
// WS login: base64(HMAC_SHA256(secret, timestamp + "GET" + "/user/verify")). ⚠️ §4.4: every
// client library sends the timestamp in seconds (one zh page says ms); pass what you send.
std::string ws_login_signature(std::string_view secret, std::int64_t timestamp);

struct SignedHeaders {
  std::string api_key;
  std::string sign;
  std::string timestamp;
  std::string passphrase;
};

class BitgetSigner {
 public:
  BitgetSigner(std::string api_key, std::string api_secret, std::string passphrase)
      : api_key_(std::move(api_key)), api_secret_(std::move(api_secret)), passphrase_(std::move(passphrase)) {}
  SignedHeaders sign_rest(std::int64_t timestamp_ms, std::string_view method, std::string_view path,
                          std::string_view query = {}, std::string_view body = {}) const;
  // {"op":"login","args":[{"apiKey":..,"passphrase":..,"timestamp":"<s>","sign":..}]}.
  std::string ws_login_frame(std::int64_t unix_seconds) const;

 private:
  std::string api_key_;
  std::string api_secret_;
  std::string passphrase_;
};

}  // namespace twinstar::venue::bitget
