#pragma once
// Plain HTTP request/response values and URL helpers: what handlers see instead of Beast types.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/text.hpp"

namespace twinstar::net {

struct Header {
  std::string name;
  std::string value;
};

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: "/v5/market/kline?category=linear&symbol=BTCUSDT"
  std::string path;    // target before '?'
  std::string query;   // target after '?', raw (signers sign it byte for byte)
  std::vector<Header> headers;
  std::string body;
  std::string remote_ip;

  // Value of the first header named `name` (case-insensitive); empty when absent.
  std::string_view header(std::string_view name) const noexcept;
  bool has_header(std::string_view name) const noexcept;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<Header> headers;
  std::string body;
  // When set, nothing is sent: the connection is held silent this long, then closed
  // (how a server that times out looks to a client).
  std::optional<std::chrono::milliseconds> hang_for;
  // When set, the answer leaves this much later (real time): a far server's latency.
  std::optional<std::chrono::milliseconds> delay;
};

// Splits "a=1&b=x%20y" into decoded pairs, in order. Keys without '=' get an empty value.
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query);
// Percent-decoding; '+' becomes a space (form encoding, as browsers and client libraries send it).
std::string url_decode(std::string_view text);

using twinstar::iequals;

}  // namespace twinstar::net
