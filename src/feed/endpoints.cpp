#include "feed/endpoints.hpp"

#include "net/url.hpp"

namespace twinstar::feed {

namespace {

std::string public_ws_path(Exchange exchange, Market market) {
  switch (exchange) {
    case Exchange::bybit: return market == Market::spot ? "/v5/public/spot" : "/v5/public/linear";
    case Exchange::binance: return market == Market::spot ? "/ws" : "/market/ws";  // §2.3 routed USDⓈ-M path
    case Exchange::okx: return "/ws/v5/business";                                  // §3.2 candles
    case Exchange::bitget: return "/v2/ws/public";                                 // §4.2
  }
  return "/";
}

}  // namespace

Result<MarketEndpoints> default_endpoints(Exchange exchange, Market market, Network network) {
  const bool spot = market == Market::spot;
  if (network == Network::testnet) {
    switch (exchange) {
      case Exchange::bybit:
        return MarketEndpoints{"https://api-testnet.bybit.com",
                               std::string("wss://stream-testnet.bybit.com") + public_ws_path(exchange, market)};
      case Exchange::binance:
        if (spot) return MarketEndpoints{"https://testnet.binance.vision", "wss://stream.testnet.binance.vision/ws"};
        break;
      default: break;
    }
    return make_error(ErrorCode::invalid_argument,
                      "{} {} has no public testnet in the reference; pass --endpoint REST_URL[,WS_URL]", exchange, market);
  }
  switch (exchange) {
    case Exchange::bybit:
      return MarketEndpoints{"https://api.bybit.com", std::string("wss://stream.bybit.com") + public_ws_path(exchange, market)};
    case Exchange::binance:
      return spot ? MarketEndpoints{"https://api.binance.com", "wss://stream.binance.com:9443/ws"}
                  : MarketEndpoints{"https://fapi.binance.com", "wss://fstream.binance.com/market/ws"};
    case Exchange::okx: return MarketEndpoints{"https://www.okx.com", "wss://ws.okx.com:8443/ws/v5/business"};
    case Exchange::bitget: return MarketEndpoints{"https://api.bitget.com", "wss://ws.bitget.com/v2/ws/public"};
  }
  return make_error(ErrorCode::invalid_argument, "unknown exchange");
}

Result<MarketEndpoints> parse_endpoint_override(Exchange exchange, Market market, std::string_view text) {
  MarketEndpoints out;
  const auto comma = text.find(',');
  out.rest_url = std::string(text.substr(0, comma));
  auto rest = net::parse_url(out.rest_url);
  if (!rest) return std::unexpected(rest.error());
  if (rest->scheme != "http" && rest->scheme != "https") {
    return make_error(ErrorCode::invalid_argument, "--endpoint: REST URL '{}' must be http:// or https://", out.rest_url);
  }
  while (!out.rest_url.empty() && out.rest_url.back() == '/') out.rest_url.pop_back();
  if (comma != std::string_view::npos) {
    out.ws_url = std::string(text.substr(comma + 1));
    auto ws = net::parse_url(out.ws_url);
    if (!ws) return std::unexpected(ws.error());
    if (ws->scheme != "ws" && ws->scheme != "wss") {
      return make_error(ErrorCode::invalid_argument, "--endpoint: WebSocket URL '{}' must be ws:// or wss://", out.ws_url);
    }
  } else {
    out.ws_url = fmt::format("{}://{}:{}{}", rest->tls() ? "wss" : "ws", rest->host, rest->port,
                             public_ws_path(exchange, market));
  }
  return out;
}

}  // namespace twinstar::feed
