#pragma once
// Bybit v5 private trading (exchange-api.md §1.3–§1.5): signed REST orders and queries, the
// private WebSocket order/execution stream, server-time sync. Works against `twinstar sim`.

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/clock.hpp"
#include "net/http_client_pool.hpp"
#include "ratelimit/limiter.hpp"
#include "venue/bybit/bybit_signer.hpp"
#include "venue/common/trading.hpp"

namespace twinstar::venue::bybit {

struct BybitTradingOptions {
  std::string rest_url = "https://api.bybit.com";
  std::string private_ws_url = "wss://stream.bybit.com/v5/private";
  std::string trade_ws_url;  // WebSocket order entry (wss://stream.bybit.com/v5/trade); empty: REST only
  Duration channel_reply_timeout = std::chrono::seconds(10);  // real time; then reported lost (io_error)
  std::string api_key;
  std::string api_secret;  // never logged
  std::int64_t recv_window_ms = kDefaultRecvWindowMs;
  Duration limiter_timeout = std::chrono::seconds(10);
  Duration ping_interval = std::chrono::seconds(20);  // §1.2
  net::HttpClientOptions http;
  std::size_t http_connections = 1;  // callers served at once, each on its own keep-alive connection
};

// "Buy"/"Sell" and friends, and the order status text, as Bybit spells them.
Result<TradeOrderStatus> parse_order_status(std::string_view text);
// A /v5/order/realtime or private "order" item into OrderState. Errors: parse_error.
Result<std::vector<OrderState>> parse_order_list(std::string_view json_list_or_push);
// Private "execution" push data into fills. Errors: parse_error.
Result<std::vector<Fill>> parse_executions(std::string_view push);

class BybitTrading final : public VenueTrading {
 public:
  // `limiter` is the account's shared Bybit limiter; `clock` outlives this.
  // Errors: invalid_argument for missing keys or a bad URL.
  static Result<std::unique_ptr<BybitTrading>> create(BybitTradingOptions options, std::shared_ptr<VenueLimiter> limiter,
                                                      Clock& clock);
  ~BybitTrading() override;

  Result<Duration> sync_time() override;
  Result<OrderAck> place_order(const PlaceOrder& order) override;
  Status cancel_order(Market market, const Symbol& symbol, const std::string& client_id) override;
  Result<std::vector<OrderState>> open_orders(Market market, std::optional<Symbol> symbol) override;
  Result<std::optional<OrderState>> find_order(Market market, const Symbol& symbol, const std::string& client_id) override;
  Result<std::vector<PositionState>> positions(std::optional<Symbol> symbol) override;
  Result<std::vector<Balance>> balances() override;
  Result<InstrumentRules> instrument_rules(Market market, const Symbol& symbol) override;
  Status start_stream(TradingEvents events) override;
  void stop_stream() override;
  Status start_order_channel(OrderChannelEvents events) override;
  void stop_order_channel() override;
  Status send_order(const PlaceOrder& order, std::uint64_t token, bool wait = true) override;
  Status send_cancel(Market market, const Symbol& symbol, const std::string& client_id, std::uint64_t token) override;

  Duration clock_offset() const noexcept override { return Duration(offset_ns_.load()); }

 private:
  BybitTrading(BybitTradingOptions options, std::shared_ptr<VenueLimiter> limiter, Clock& clock);
  // A signed call; returns the envelope's `result` text. Errors as in VenueTrading.
  Result<std::string> call(std::string_view method, std::string_view path, std::string_view payload,
                           std::string_view endpoint_cost, Priority priority);
  std::int64_t venue_now_ms() const;
  struct StreamStart;
  void stream_loop(std::stop_token stop, TradingEvents events, std::shared_ptr<StreamStart> start);
  // The order channel: frames waiting for its thread, requests waiting for their answer.
  struct Channel;
  void channel_loop(std::stop_token stop, OrderChannelEvents events, std::shared_ptr<StreamStart> start);
  Status enqueue(std::string req_id, std::string frame, std::string client_id, bool cancel, std::uint64_t token,
                 std::string_view endpoint_cost, bool wait = true);

  BybitTradingOptions options_;
  std::shared_ptr<VenueLimiter> limiter_;
  Clock& clock_;
  BybitSigner signer_;
  std::unique_ptr<net::HttpClientPool> http_;  // one caller per connection at a time
  std::atomic<std::int64_t> offset_ns_{0};
  std::jthread stream_;  // the private stream; owned here, stopped by stop_stream() or the destructor
  std::shared_ptr<Channel> channel_;  // set once by start_order_channel
  std::jthread channel_thread_;       // the order channel; stopped by stop_order_channel() or the destructor
};

}  // namespace twinstar::venue::bybit
