#include "venue/okx/okx_signer.hpp"

#include "core/json_writer.hpp"
#include "net/crypto.hpp"

namespace twinstar::venue::okx {

namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string base64_hmac(std::string_view secret, std::string_view payload) {
  const auto digest = net::hmac_sha256(secret, payload);
  return net::to_base64(digest.data(), digest.size());
}

}  // namespace

std::string rest_timestamp(TimestampMs t) { return format_iso8601(t); }

std::string rest_sign_payload(std::string_view timestamp, std::string_view method, std::string_view request_path,
                              std::string_view body) {
  std::string s;
  s.reserve(timestamp.size() + method.size() + request_path.size() + body.size());
  s.append(timestamp).append(upper(method)).append(request_path).append(body);
  return s;
}

std::string rest_signature(std::string_view secret, std::string_view timestamp, std::string_view method,
                           std::string_view request_path, std::string_view body) {
  return base64_hmac(secret, rest_sign_payload(timestamp, method, request_path, body));
}

std::string ws_login_signature(std::string_view secret, std::int64_t unix_seconds) {
  return base64_hmac(secret, std::to_string(unix_seconds) + "GET" + std::string(kWsLoginPath));
}

SignedHeaders OkxSigner::sign_rest(TimestampMs now, std::string_view method, std::string_view request_path,
                                   std::string_view body) const {
  SignedHeaders h;
  h.api_key = api_key_;
  h.timestamp = rest_timestamp(now);
  h.sign = rest_signature(api_secret_, h.timestamp, method, request_path, body);
  h.passphrase = passphrase_;
  return h;
}

std::string OkxSigner::ws_login_frame(std::int64_t unix_seconds) const {
  JsonWriter w;
  w.begin_object().field("op", "login").key("args").begin_array().begin_object();
  w.field("apiKey", api_key_).field("passphrase", passphrase_).field("timestamp", std::to_string(unix_seconds));
  w.field("sign", ws_login_signature(api_secret_, unix_seconds));
  w.end_object().end_array().end_object();
  return w.take();
}

}  // namespace twinstar::venue::okx
