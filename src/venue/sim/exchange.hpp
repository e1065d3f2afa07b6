#pragma once
// Paper accounts and matching: orders, executions, one-way positions and USDT wallets.
// No I/O: SimServer feeds it prices and requests and encodes what it returns.
// Thread: one owner (the sim's io thread).

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/decimal.hpp"
#include "core/time.hpp"
#include "venue/sim/market.hpp"
#include "venue/sim/sim_options.hpp"

namespace twinstar::venue::sim {

enum class Category { spot, linear };
enum class Side { buy, sell };
enum class OrderType { market, limit };
enum class TimeInForce { gtc, ioc, fok, post_only };
enum class OrderStatus { new_order, partially_filled, filled, cancelled, rejected };

std::string_view to_string(Category c) noexcept;
std::string_view to_string(Side s) noexcept;        // "Buy" / "Sell"
std::string_view to_string(OrderType t) noexcept;   // "Market" / "Limit"
std::string_view to_string(TimeInForce t) noexcept; // "GTC" / "IOC" / "FOK" / "PostOnly"
std::string_view to_string(OrderStatus s) noexcept; // "New" / "PartiallyFilled" / "Filled" / "Cancelled" / "Rejected"

// Bybit's answer to a refused request: retCode + retMsg.
struct BybitError {
  int code = 10001;
  std::string message;
};

struct Order {
  std::string order_id;
  std::string order_link_id;
  Category category = Category::linear;
  std::size_t instrument = 0;
  Side side = Side::buy;
  OrderType type = OrderType::market;
  TimeInForce tif = TimeInForce::gtc;
  Quantity qty;                 // base units (spot market buys: converted from quote at fill)
  Price price;                  // limit price; zero for market orders
  bool reduce_only = false;
  OrderStatus status = OrderStatus::new_order;
  Quantity cum_qty;
  Money cum_value;
  Money cum_fee;
  Price avg_price;
  Price last_price_on_created;
  std::string cancel_type = "UNKNOWN";
  std::string reject_reason = "EC_NoError";
  TimestampMs created{};
  TimestampMs updated{};
  Quantity leaves() const { return qty - cum_qty; }
  bool is_open() const { return status == OrderStatus::new_order || status == OrderStatus::partially_filled; }
};

struct Execution {
  std::string exec_id;
  std::string order_id;
  std::string order_link_id;
  Category category = Category::linear;
  std::size_t instrument = 0;
  Side side = Side::buy;
  OrderType order_type = OrderType::market;
  Price order_price;
  Quantity order_qty;
  Price exec_price;
  Quantity exec_qty;
  Money exec_value;
  Money exec_fee;
  Ratio fee_rate;
  bool is_maker = false;
  Quantity leaves_qty;
  Quantity closed_size;
  TimestampMs exec_time{};
  std::int64_t seq = 0;
};

// One-way mode: one signed position per linear symbol.
struct Position {
  std::size_t instrument = 0;
  Quantity size;      // absolute size
  Side side = Side::buy;  // meaningless when size is zero
  Price entry;
  Money cum_realised;
  TimestampMs created{};
  TimestampMs updated{};
  std::int64_t seq = 0;
};

struct Account {
  SimAccountConfig config;
  Money wallet;                                    // USDT wallet balance
  Money cum_realised;
  std::map<std::string, Quantity> coins;           // spot holdings other than USDT
  std::map<std::size_t, Position> positions;       // linear, by instrument
  std::map<std::string, Order> open_orders;        // by order id
  std::deque<Order> closed_orders;                 // newest last; bounded (oldest evicted)
  std::deque<Execution> executions;                // newest last; bounded (oldest evicted)
};

// What changed for one account: SimServer pushes it on the private stream.
struct AccountUpdate {
  std::size_t account = 0;
  std::vector<Order> orders;
  std::vector<Execution> executions;
  std::vector<Position> positions;
  bool wallet = false;
};

struct OrderRequest {
  Category category = Category::linear;
  std::string symbol;
  std::string side;
  std::string order_type;
  std::string qty;
  std::optional<std::string> price;
  std::optional<std::string> time_in_force;
  std::optional<std::string> order_link_id;
  std::optional<std::string> market_unit;  // spot market orders: "baseCoin" or "quoteCoin"
  bool reduce_only = false;
  int position_idx = 0;
};

class Exchange {
 public:
  static constexpr std::size_t kMaxOpenOrders = 500;       // per account; more are refused
  static constexpr std::size_t kClosedOrdersKept = 1'000;  // per account; overflow evicts the oldest
  static constexpr std::size_t kExecutionsKept = 2'000;    // per account; overflow evicts the oldest

  Exchange(const SimOptions& options, Market& market);

  std::optional<std::size_t> account_by_key(std::string_view api_key) const;
  const Account& account(std::size_t i) const { return accounts_.at(i); }
  std::size_t account_count() const noexcept { return accounts_.size(); }

  // Places an order at simulated time `now`. Errors: Bybit's codes (10001 params, 110007
  // insufficient balance, 110072 duplicate orderLinkId, ...).
  std::expected<Order, BybitError> place(std::size_t account, const OrderRequest& req, Timestamp now,
                                         std::vector<AccountUpdate>& updates);
  std::expected<Order, BybitError> cancel(std::size_t account, Category category, std::string_view symbol,
                                          std::string_view order_id, std::string_view order_link_id, Timestamp now,
                                          std::vector<AccountUpdate>& updates);
  // The price path moved: rest orders on `instrument` that the points cross fill (maker).
  void on_prices(std::size_t instrument, const std::vector<std::pair<Timestamp, Price>>& points,
                 std::vector<AccountUpdate>& updates);
  // Instruments with resting orders (the server only walks their paths).
  const std::map<std::size_t, int>& resting_by_instrument() const noexcept { return resting_; }

  // Wallet figures for wallet-balance and the wallet topic, marked at `now`.
  struct WalletView {
    Money wallet, equity, unrealised, position_im, order_im, available;
    std::vector<std::pair<std::string, Quantity>> coins;
  };
  WalletView wallet_view(std::size_t account, Timestamp now);
  Money unrealised(const Position& p, Price mark) const;
  Ratio fee_rate(Category c, bool maker) const;
  int leverage() const noexcept { return options_.leverage; }

 private:
  std::string next_id(std::string_view kind);
  void fill(Account& acc, std::size_t account_index, Order& o, Price price, bool maker, Timestamp now,
            AccountUpdate& update);
  void close_order(Account& acc, const std::string& order_id);
  Money order_margin(const Order& o) const;

  const SimOptions& options_;
  Market& market_;
  std::vector<Account> accounts_;
  std::map<std::size_t, int> resting_;   // instrument -> open limit orders
  std::uint64_t id_counter_ = 0;
  std::int64_t seq_ = 1;
};

}  // namespace twinstar::venue::sim
