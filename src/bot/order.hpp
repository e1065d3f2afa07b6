#pragma once
// Orders as the bots see them, whatever venue carries them: the live adapters, `twinstar sim`
// through the Bybit adapter, or the backtest's simulated venue.

#include <optional>
#include <string>

#include "core/decimal.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "strategy/strategy.hpp"

namespace twinstar {

enum class OrderType : std::uint8_t { market, limit };

enum class OrderStatus : std::uint8_t {
  submitted,         // sent, not yet acknowledged
  open,              // acknowledged, resting or working
  partially_filled,  // some quantity filled, the rest still working
  filled,            // terminal
  cancelled,         // terminal; may carry a partial fill
  rejected,          // terminal; nothing filled
};
std::string_view to_string(OrderStatus s) noexcept;
constexpr bool is_terminal(OrderStatus s) noexcept {
  return s == OrderStatus::filled || s == OrderStatus::cancelled || s == OrderStatus::rejected;
}

enum class OrderPurpose : std::uint8_t {
  entry,
  exit_signal,  // closed by an opposite signal or by the bot
  stop_loss,
  take_profit,
  end_of_run,   // closed because a backtest ended
};
std::string_view to_string(OrderPurpose p) noexcept;

struct OrderRequest {
  std::string client_id;  // unique per engine; the venue echoes it (Bybit orderLinkId: at most 36 characters)
  Symbol symbol;
  Side side = Side::buy;
  OrderType type = OrderType::market;
  Quantity quantity;
  std::optional<Price> price;      // limit price
  std::optional<Price> trigger;    // for exits: the stop-loss / take-profit level that triggered it
  std::optional<Price> stop_loss;  // for entries: the levels the position will watch (journaled for restarts)
  std::optional<Price> take_profit;
  bool reduce_only = false;
  OrderPurpose purpose = OrderPurpose::entry;
  TimestampMs decided_at{};        // open time of the candle whose close produced the decision
  // Entries sized as a fraction of capital: a venue that fills at another price than the signal's
  // (the backtest's next open) may re-size the order to spend `notional` at its fill price.
  struct QuoteSizing {
    Money notional;      // what the sizing rule spent at the signal price (and the ledger reserved)
    Quantity lot_size;
    Money min_notional;
  };
  std::optional<QuoteSizing> quote_sizing;
};

// Cumulative state of one order, as the venue reports it.
struct OrderUpdate {
  std::string client_id;
  OrderStatus status = OrderStatus::submitted;
  Quantity filled;        // cumulative
  Price average_price;    // of the filled quantity
  Money fees;             // cumulative, quote currency
  Timestamp time{};
  std::string reason;     // for rejections and cancels
};

// Where bots send orders. submit() is asynchronous: the outcome arrives as OrderUpdates that
// the engine passes to the bot that owns the client id. Thread: the engine's trading thread.
class OrderGateway {
 public:
  virtual ~OrderGateway() = default;
  // Errors: the request could not be sent at all (rate limited past its deadline, disconnected,
  // invalid); a venue rejection arrives as an OrderUpdate instead.
  virtual Status submit(const OrderRequest& request) = 0;
  virtual Status cancel(const std::string& client_id, const Symbol& symbol) = 0;
  // Orders submitted between these two calls may be held and handed on together at end_batch()
  // (a round's orders journaled in one transaction). An order that then cannot go out is
  // reported as a rejected OrderUpdate. By default nothing is held.
  virtual void begin_batch() {}
  virtual void end_batch() {}
};

// begin_batch() .. end_batch() for a scope.
class GatewayBatch {
 public:
  explicit GatewayBatch(OrderGateway& gateway) : gateway_(gateway) { gateway_.begin_batch(); }
  ~GatewayBatch() { gateway_.end_batch(); }
  GatewayBatch(const GatewayBatch&) = delete;
  GatewayBatch& operator=(const GatewayBatch&) = delete;

 private:
  OrderGateway& gateway_;
};

}  // namespace twinstar
