#pragma once
// OKX v5 request signing (HMAC-SHA256, base64) for REST and the WebSocket login.
// Reference: exchange-api.md §3.4; verified against the §6 vectors in tests/venue_protocol.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/time.hpp"

namespace twinstar::venue::okx {

inline constexpr std::string_view kHeaderApiKey = "OK-ACCESS-KEY";
inline constexpr std::string_view kHeaderSign = "OK-ACCESS-SIGN";
inline constexpr std::string_view kHeaderTimestamp = "OK-ACCESS-TIMESTAMP";
inline constexpr std::string_view kHeaderPassphrase = "OK-ACCESS-PASSPHRASE";
inline constexpr std::string_view kHeaderSimulated = "x-simulated-trading";  // "1" on demo
inline constexpr std::string_view kWsLoginPath = "/users/self/verify";

// "2020-12-08T09:08:57.715Z": ISO-8601 UTC with milliseconds, as OK-ACCESS-TIMESTAMP wants.
std::string rest_timestamp(TimestampMs t);
// timestamp + METHOD + requestPath (with "?query" for GET) + body.
std::string rest_sign_payload(std::string_view timestamp, std::string_view method, std::string_view request_path,
                              std::string_view body);
// base64(HMAC_SHA256(secret, rest_sign_payload(...))).
std::string rest_signature(std::string_view secret, std::string_view timestamp, std::string_view method,
                           std::string_view request_path, std::string_view body);
// WS login: base64(HMAC_SHA256(secret, unix_seconds + "GET" + "/users/self/verify")).
std::string ws_login_signature(std::string_view secret, std::int64_t unix_seconds);

struct SignedHeaders {
  std::string api_key;
  std::string sign;
  std::string timestamp;
  std::string passphrase;
};

// Holds one account's key, secret and passphrase.
class OkxSigner {
 public:
  OkxSigner(std::string api_key, std::string api_secret, std::string passphrase)
      : api_key_(std::move(api_key)), api_secret_(std::move(api_secret)), passphrase_(std::move(passphrase)) {}
  // Headers for a request; `method` is upper-cased, `request_path` includes the query string.
  SignedHeaders sign_rest(TimestampMs now, std::string_view method, std::string_view request_path,
                          std::string_view body = {}) const;
  // {"op":"login","args":[{"apiKey":..,"passphrase":..,"timestamp":"<s>","sign":..}]}; the
  // login expires 30 s after `unix_seconds`.
  std::string ws_login_frame(std::int64_t unix_seconds) const;

 private:
  std::string api_key_;
  std::string api_secret_;
  std::string passphrase_;
};

}  // namespace twinstar::venue::okx
