#include "venue/bitget/bitget_signer.hpp"

#include <algorithm>
#include <vector>

#include "core/json_writer.hpp"
#include "net/crypto.hpp"
#include "venue/common/query.hpp"

namespace twinstar::venue::bitget {

namespace {

std::string base64_hmac(std::string_view secret, std::string_view payload) {
  const auto digest = net::hmac_sha256(secret, payload);
  return net::to_base64(digest.data(), digest.size());
}

}  // namespace

std::string sorted_query(std::span<const Param> params) {
  std::vector<const Param*> sorted;
  sorted.reserve(params.size());
  for (const auto& p : params) sorted.push_back(&p);
  std::stable_sort(sorted.begin(), sorted.end(), [](const Param* a, const Param* b) { return a->first < b->first; });
  std::string out;
  detail::QueryBuilder q(out);
  for (const Param* p : sorted) q.add(p->first, std::string_view(p->second));
  return out;
}

std::string rest_sign_payload(std::string_view timestamp_ms, std::string_view method, std::string_view path,
                              std::string_view query, std::string_view body) {
  std::string s;
  s.reserve(timestamp_ms.size() + method.size() + path.size() + query.size() + body.size() + 1);
  s.append(timestamp_ms);
  for (char c : method) s += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  s.append(path);
  if (!query.empty()) s.append("?").append(query);
  s.append(body);
  return s;
}

std::string rest_signature(std::string_view secret, std::string_view timestamp_ms, std::string_view method,
                           std::string_view path, std::string_view query, std::string_view body) {
  return base64_hmac(secret, rest_sign_payload(timestamp_ms, method, path, query, body));
}

std::string ws_login_signature(std::string_view secret, std::int64_t timestamp) {
  return base64_hmac(secret, std::to_string(timestamp) + "GET" + std::string(kWsLoginPath));
}

SignedHeaders BitgetSigner::sign_rest(std::int64_t timestamp_ms, std::string_view method, std::string_view path,
                                      std::string_view query, std::string_view body) const {
  SignedHeaders h;
  h.api_key = api_key_;
  h.timestamp = std::to_string(timestamp_ms);
  h.sign = rest_signature(api_secret_, h.timestamp, method, path, query, body);
  h.passphrase = passphrase_;
  return h;
}

std::string BitgetSigner::ws_login_frame(std::int64_t unix_seconds) const {
  JsonWriter w;
  w.begin_object().field("op", "login").key("args").begin_array().begin_object();
  w.field("apiKey", api_key_).field("passphrase", passphrase_).field("timestamp", std::to_string(unix_seconds));
  w.field("sign", ws_login_signature(api_secret_, unix_seconds));
  w.end_object().end_array().end_object();
  return w.take();
}

}  // namespace twinstar::venue::bitget
