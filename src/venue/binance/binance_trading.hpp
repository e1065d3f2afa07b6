#pragma once
// Binance USDⓈ-M futures private trading (exchange-api.md §2.4–§2.6): signed REST orders and
// queries (HMAC query signing, recvWindow), the user-data stream (listenKey on the routed
// /private path, ORDER_TRADE_UPDATE events), server-time sync.

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/clock.hpp"
#include "net/http_client_pool.hpp"
#include "ratelimit/limiter.hpp"
#include "venue/binance/binance_signer.hpp"
#include "venue/common/trading.hpp"

namespace twinstar::venue::binance {

struct BinanceTradingOptions {
  std::string rest_url = "https://fapi.binance.com";
  std::string private_ws_base = "wss://fstream.binance.com/private";  // §2.6 routed user-data path
  std::string api_key;
  std::string api_secret;  // never logged
  std::int64_t recv_window_ms = kDefaultRecvWindowMs;
  Duration limiter_timeout = std::chrono::seconds(10);
  Duration listen_key_keepalive = std::chrono::minutes(30);  // the key lives 60 minutes (§2.6)
  net::HttpClientOptions http;
  std::size_t http_connections = 1;  // callers served at once, each on its own keep-alive connection
};

// ORDER_TRADE_UPDATE into the order's state and, for execution type TRADE, the fill.
// Errors: parse_error; not_found for other events (ACCOUNT_UPDATE, listenKeyExpired, ...).
struct OrderTradeUpdate {
  OrderState order;
  std::optional<Fill> fill;
};
Result<OrderTradeUpdate> parse_order_trade_update(std::string_view event);
Result<TradeOrderStatus> parse_order_status(std::string_view text);

class BinanceUsdmTrading final : public VenueTrading {
 public:
  // `limiter` is the account's shared binance_usdm limiter. Errors: invalid_argument.
  static Result<std::unique_ptr<BinanceUsdmTrading>> create(BinanceTradingOptions options,
                                                            std::shared_ptr<VenueLimiter> limiter, Clock& clock);
  ~BinanceUsdmTrading() override;

  Result<Duration> sync_time() override;
  Duration clock_offset() const noexcept override { return Duration(offset_ns_.load()); }
  Result<OrderAck> place_order(const PlaceOrder& order) override;
  Status cancel_order(Market market, const Symbol& symbol, const std::string& client_id) override;
  Result<std::vector<OrderState>> open_orders(Market market, std::optional<Symbol> symbol) override;
  Result<std::optional<OrderState>> find_order(Market market, const Symbol& symbol, const std::string& client_id) override;
  Result<std::vector<PositionState>> positions(std::optional<Symbol> symbol) override;
  Result<std::vector<Balance>> balances() override;
  Result<InstrumentRules> instrument_rules(Market market, const Symbol& symbol) override;
  Status start_stream(TradingEvents events) override;
  void stop_stream() override;

 private:
  BinanceUsdmTrading(BinanceTradingOptions options, std::shared_ptr<VenueLimiter> limiter, Clock& clock);
  // Sends `params` (signed unless `sign` is false) and returns the JSON body of a 2xx answer.
  Result<std::string> call(std::string_view method, std::string_view path, std::string params, const Cost& cost,
                           Priority priority, bool sign = true);
  Result<Cost> weight(std::int64_t w) const;
  std::int64_t venue_now_ms() const;
  struct StreamStart;
  void stream_loop(std::stop_token stop, TradingEvents events, std::shared_ptr<StreamStart> start);

  BinanceTradingOptions options_;
  std::shared_ptr<VenueLimiter> limiter_;
  Clock& clock_;
  BinanceSigner signer_;
  std::unique_ptr<net::HttpClientPool> http_;  // one caller per connection at a time
  std::atomic<std::int64_t> offset_ns_{0};
  std::jthread stream_;  // the user-data stream; stopped by stop_stream() or the destructor
};

}  // namespace twinstar::venue::binance
