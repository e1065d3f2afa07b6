#pragma once
// Absolute URLs as the clients need them: scheme, host, port and the path prefix.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace twinstar::net {

struct Url {
  std::string scheme;  // "http", "https", "ws", "wss"
  std::string host;    // "api.bybit.com", "127.0.0.1"
  std::uint16_t port = 0;
  std::string target;  // path and query, "/" when empty
  bool tls() const noexcept { return scheme == "https" || scheme == "wss"; }
  std::string origin() const;  // "https://api.bybit.com:443"
};

// Errors: invalid_argument naming the URL and what is wrong (scheme, host, port).
Result<Url> parse_url(std::string_view text);

}  // namespace twinstar::net
