#pragma once
// Private trading on one venue account, as the engine uses it whatever the venue: orders,
// open orders, positions, balances, the private order/execution stream and server-time sync.
// Implementations: venue/bybit/bybit_trading.hpp (Bybit v5; also `twinstar sim`).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/decimal.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/time.hpp"

namespace twinstar::venue {

enum class TradeSide : std::uint8_t { buy, sell };
enum class TradeOrderType : std::uint8_t { market, limit };
enum class TradeOrderStatus : std::uint8_t { open, partially_filled, filled, cancelled, rejected, unknown };

std::string_view to_string(TradeOrderStatus s) noexcept;

struct PlaceOrder {
  Market market = Market::linear;
  Symbol symbol;
  TradeSide side = TradeSide::buy;
  TradeOrderType type = TradeOrderType::market;
  Quantity quantity;
  std::optional<Price> price;  // limit orders
  std::string client_id;       // echoed by the venue (Bybit orderLinkId, ≤ 36 characters)
  bool reduce_only = false;
};

struct OrderAck {
  std::string order_id;
  std::string client_id;
};

// One order's cumulative state.
struct OrderState {
  Market market = Market::linear;
  Symbol symbol;
  std::string order_id;
  std::string client_id;
  TradeSide side = TradeSide::buy;
  TradeOrderType type = TradeOrderType::market;
  TradeOrderStatus status = TradeOrderStatus::unknown;
  Price price;
  Quantity quantity;
  Quantity filled;
  Price average_price;
  Money fees;
  std::string reject_reason;
};

struct Fill {
  Symbol symbol;
  std::string order_id;
  std::string client_id;
  std::string exec_id;
  TradeSide side = TradeSide::buy;
  Price price;
  Quantity quantity;
  Money fee;
  TimestampMs time{};
};

struct PositionState {
  Symbol symbol;
  TradeSide side = TradeSide::buy;  // meaningful when size > 0
  Quantity size;
  Price entry_price;
  Money unrealised_pnl;
};

// What the venue accepts for one symbol's orders.
struct InstrumentRules {
  Symbol symbol;
  Quantity qty_step;      // order quantities are multiples of it
  Quantity min_qty;
  Money min_notional;     // zero when the venue has none
  bool trading = true;    // listed and open for trading
};

struct Balance {
  std::string coin;
  Money equity;
  Money wallet;
  Money available;
};

// What the private stream delivers. Thread: the stream's own thread.
struct TradingEvents {
  std::function<void(const OrderState&)> on_order;
  std::function<void(const Fill&)> on_fill;
  std::function<void(const Error&)> on_error;  // the stream dropped (it reconnects) or was refused
};

// What the order channel (WebSocket order entry) reports. Thread: the channel's own thread.
struct ChannelReply {
  std::string client_id;
  bool cancel = false;
  std::uint64_t token = 0;  // the caller's, from send_order/send_cancel
  // ok: accepted (the order's life goes on in the private stream). Errors: as place_order /
  // cancel_order; io_error when the connection ended before the answer (it may have arrived:
  // query by client id); unavailable when the frame never left (send it another way).
  Status result;
};
struct OrderChannelEvents {
  std::function<void(const ChannelReply&)> on_reply;
  std::function<void(std::uint64_t token)> on_written;  // the frame was written to the socket
  std::function<void(const Error&)> on_error;            // the connection dropped (it reconnects)
};

// Thread: every call may come from any thread, one at a time per instance (callers serialise);
// every REST call goes through the account's shared rate limiter.
class VenueTrading {
 public:
  virtual ~VenueTrading() = default;
  // Measures the offset between the venue's clock and the injected clock and signs with it from
  // now on. Returns the offset (venue minus local). Errors: invalid_argument naming the skew when
  // it is larger than the receive window allows (the venue would reject every signed request),
  // io_error/timeout when the venue cannot be reached.
  virtual Result<Duration> sync_time() = 0;
  // The offset the last sync_time() measured (also when it reported the skew as an error).
  virtual Duration clock_offset() const noexcept = 0;
  // Errors: rejected orders are invalid_argument with the venue's code and text; rate_limited;
  // io_error/timeout (the order may or may not have reached the venue: query by client id).
  virtual Result<OrderAck> place_order(const PlaceOrder& order) = 0;
  // By client id. Errors: not_found when the venue no longer has it open; as place_order.
  virtual Status cancel_order(Market market, const Symbol& symbol, const std::string& client_id) = 0;
  virtual Result<std::vector<OrderState>> open_orders(Market market, std::optional<Symbol> symbol = std::nullopt) = 0;
  // One order by client id, open or recently closed (reconciliation after a crash or a missed
  // stream update). None when the venue does not know it (it never arrived).
  virtual Result<std::optional<OrderState>> find_order(Market market, const Symbol& symbol, const std::string& client_id) = 0;
  virtual Result<std::vector<PositionState>> positions(std::optional<Symbol> symbol = std::nullopt) = 0;
  virtual Result<std::vector<Balance>> balances() = 0;
  // Errors: invalid_argument naming the symbol when the venue does not list it.
  virtual Result<InstrumentRules> instrument_rules(Market market, const Symbol& symbol) = 0;
  // Starts the private order/execution stream (authenticates, subscribes, reconnects).
  // Errors: conflict if already running; the first authentication's failure.
  virtual Status start_stream(TradingEvents events) = 0;
  virtual void stop_stream() = 0;

  // WebSocket order entry, where the venue has one: orders and cancels leave without a thread
  // waiting for their answer, which comes to events.on_reply. Connects, authenticates and
  // reconnects. Errors: unavailable when the venue or its endpoint has none; the first auth's.
  virtual Status start_order_channel(OrderChannelEvents events) {
    (void)events;
    return make_error(ErrorCode::unavailable, "this venue adapter has no WebSocket order entry");
  }
  virtual void stop_order_channel() {}
  // After the rate limiter's grant, queued for the channel's thread; `token` comes back in the
  // reply. `wait` false: only if the limiter grants it at once (a caller that must not block
  // sends it another way otherwise). Errors: unavailable while the channel is not connected
  // (send over REST instead); rate_limited; invalid_argument for an order that cannot be expressed.
  virtual Status send_order(const PlaceOrder& order, std::uint64_t token, bool wait = true) {
    (void)order, (void)token, (void)wait;
    return make_error(ErrorCode::unavailable, "no order channel");
  }
  virtual Status send_cancel(Market market, const Symbol& symbol, const std::string& client_id, std::uint64_t token) {
    (void)market, (void)symbol, (void)client_id, (void)token;
    return make_error(ErrorCode::unavailable, "no order channel");
  }
};

}  // namespace twinstar::venue
