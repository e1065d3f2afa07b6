#include "venue/binance/binance_signer.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "net/crypto.hpp"

namespace twinstar::venue::binance {

std::string rest_signature(std::string_view secret, std::string_view query, std::string_view body) {
  std::string payload;
  payload.reserve(query.size() + body.size());
  payload.append(query).append(body);
  return net::hmac_sha256_hex(secret, payload);
}

std::string ws_api_sign_payload(std::span<const Param> params) {
  std::vector<const Param*> sorted;
  sorted.reserve(params.size());
  for (const auto& p : params) {
    if (p.first != "signature") sorted.push_back(&p);
  }
  std::stable_sort(sorted.begin(), sorted.end(), [](const Param* a, const Param* b) { return a->first < b->first; });
  std::string out;
  for (const Param* p : sorted) {
    if (!out.empty()) out += '&';
    out.append(p->first).append("=").append(p->second);
  }
  return out;
}

std::string ws_api_signature(std::string_view secret, std::span<const Param> params) {
  return net::hmac_sha256_hex(secret, ws_api_sign_payload(params));
}

std::string BinanceSigner::signed_query(std::string_view params_query, std::int64_t timestamp_ms,
                                        std::int64_t recv_window_ms, std::string_view body) const {
  std::string query(params_query);
  if (!query.empty()) query += '&';
  query += fmt::format("recvWindow={}&timestamp={}", recv_window_ms, timestamp_ms);
  const std::string signature = rest_signature(api_secret_, query, body);
  query += "&signature=";
  query += signature;
  return query;
}

}  // namespace twinstar::venue::binance
