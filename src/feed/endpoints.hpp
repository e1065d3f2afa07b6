#pragma once
// Where a venue's public REST and WebSocket live: mainnet, testnet, or an override such as
// `twinstar sim` on loopback.

#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/ids.hpp"

namespace twinstar::feed {

enum class Network : std::uint8_t { mainnet, testnet };

struct MarketEndpoints {
  std::string rest_url;  // "https://api.bybit.com"
  std::string ws_url;    // "wss://stream.bybit.com/v5/public/linear"
};

// The documented hosts (exchange-api.md §1.1, §1.2, §2.1–§2.3, §3.1–§3.2, §4.1–§4.2).
// Errors: invalid_argument for a venue without a public testnet in the reference.
Result<MarketEndpoints> default_endpoints(Exchange exchange, Market market, Network network = Network::mainnet);

// `--endpoint` text: "REST_URL" or "REST_URL,WS_URL". With only a REST URL, the WebSocket URL is
// the same host with ws(s):// and the venue's public path, which is how `twinstar sim` serves
// Bybit (http://127.0.0.1:P → ws://127.0.0.1:P/v5/public/linear).
// Errors: invalid_argument naming the bad URL.
Result<MarketEndpoints> parse_endpoint_override(Exchange exchange, Market market, std::string_view text);

}  // namespace twinstar::feed
