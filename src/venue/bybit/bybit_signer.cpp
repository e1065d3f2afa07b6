#include "venue/bybit/bybit_signer.hpp"

#include <fmt/format.h>

#include "core/json_writer.hpp"
#include "net/crypto.hpp"

namespace twinstar::venue::bybit {

std::string rest_sign_payload(std::string_view timestamp_ms, std::string_view api_key, std::string_view recv_window,
                              std::string_view payload) {
  std::string s;
  s.reserve(timestamp_ms.size() + api_key.size() + recv_window.size() + payload.size());
  s.append(timestamp_ms).append(api_key).append(recv_window).append(payload);
  return s;
}

std::string rest_signature(std::string_view secret, std::string_view timestamp_ms, std::string_view api_key,
                           std::string_view recv_window, std::string_view payload) {
  return net::hmac_sha256_hex(secret, rest_sign_payload(timestamp_ms, api_key, recv_window, payload));
}

std::string ws_auth_signature(std::string_view secret, std::int64_t expires_ms) {
  return net::hmac_sha256_hex(secret, fmt::format("GET/realtime{}", expires_ms));
}

SignedHeaders BybitSigner::sign_rest(std::int64_t timestamp_ms, std::string_view payload,
                                     std::int64_t recv_window_ms) const {
  SignedHeaders h;
  h.api_key = api_key_;
  h.timestamp = std::to_string(timestamp_ms);
  h.recv_window = std::to_string(recv_window_ms);
  h.sign = rest_signature(api_secret_, h.timestamp, api_key_, h.recv_window, payload);
  return h;
}

std::string BybitSigner::ws_auth_frame(std::int64_t expires_ms) const {
  JsonWriter w;
  w.begin_object().field("op", "auth").key("args").begin_array();
  w.value(api_key_).value(expires_ms).value(ws_auth_signature(api_secret_, expires_ms));
  w.end_array().end_object();
  return w.take();
}

}  // namespace twinstar::venue::bybit
