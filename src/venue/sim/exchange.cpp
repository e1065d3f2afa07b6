#include "venue/sim/exchange.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "venue/sim/rng.hpp"

namespace twinstar::venue::sim {

std::string_view to_string(Category c) noexcept { return c == Category::spot ? "spot" : "linear"; }
std::string_view to_string(Side s) noexcept { return s == Side::buy ? "Buy" : "Sell"; }
std::string_view to_string(OrderType t) noexcept { return t == OrderType::market ? "Market" : "Limit"; }
std::string_view to_string(TimeInForce t) noexcept {
  switch (t) {
    case TimeInForce::gtc: return "GTC";
    case TimeInForce::ioc: return "IOC";
    case TimeInForce::fok: return "FOK";
    case TimeInForce::post_only: return "PostOnly";
  }
  return "GTC";
}
std::string_view to_string(OrderStatus s) noexcept {
  switch (s) {
    case OrderStatus::new_order: return "New";
    case OrderStatus::partially_filled: return "PartiallyFilled";
    case OrderStatus::filled: return "Filled";
    case OrderStatus::cancelled: return "Cancelled";
    case OrderStatus::rejected: return "Rejected";
  }
  return "New";
}

namespace {

__extension__ using Int128 = __int128;  // 128-bit intermediates for price * ratio

std::unexpected<BybitError> refuse(int code, std::string msg) { return std::unexpected(BybitError{code, std::move(msg)}); }

// price * (1 +/- ratio), rounded to the tick away from the trader's favour.
Price adjust_price(Price p, Ratio r, bool up, Price tick) {
  const Int128 scaled = static_cast<Int128>(p.raw()) * (kDecimalScale + (up ? r.raw() : -r.raw()));
  Int128 raw = scaled / kDecimalScale;
  const std::int64_t t = tick.raw();
  Int128 q = raw / t * t;
  if (up && q < raw) q += t;
  return Price::from_raw(static_cast<std::int64_t>(std::max<Int128>(q, t)));
}

Money fee_of(Money value, Ratio rate) { return apply_ratio(value, rate, Rounding::half_even); }

}  // namespace

Exchange::Exchange(const SimOptions& options, Market& market) : options_(options), market_(market) {
  for (const auto& cfg : options.accounts) {
    Account a;
    a.config = cfg;
    a.wallet = cfg.usdt;
    accounts_.push_back(std::move(a));
  }
}

std::optional<std::size_t> Exchange::account_by_key(std::string_view api_key) const {
  for (std::size_t i = 0; i < accounts_.size(); ++i) {
    if (accounts_[i].config.api_key == api_key) return i;
  }
  return std::nullopt;
}

std::string Exchange::next_id(std::string_view kind) {
  const std::uint64_t a = hash_combine(options_.seed, hash_string(kind), ++id_counter_);
  const std::uint64_t b = mix64(a);
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xffff, b >> 48,
                     b & 0xffffffffffffULL);
}

Ratio Exchange::fee_rate(Category c, bool maker) const {
  if (c == Category::spot) return maker ? options_.spot_maker_fee : options_.spot_taker_fee;
  return maker ? options_.linear_maker_fee : options_.linear_taker_fee;
}

Money Exchange::order_margin(const Order& o) const {
  if (!o.is_open()) return Money::zero();
  const Money value = notional(o.price, o.leaves());
  if (o.category == Category::linear) return o.reduce_only ? Money::zero() : value.divided_by(options_.leverage);
  return o.side == Side::buy ? value + fee_of(value, options_.spot_maker_fee) : Money::zero();
}

Money Exchange::unrealised(const Position& p, Price mark) const {
  if (p.size.is_zero()) return Money::zero();
  const Money diff = notional(mark, p.size) - notional(p.entry, p.size);
  return p.side == Side::buy ? diff : -diff;
}

Exchange::WalletView Exchange::wallet_view(std::size_t account, Timestamp now) {
  const Account& acc = accounts_.at(account);
  WalletView w;
  w.wallet = acc.wallet;
  for (const auto& [i, p] : acc.positions) {
    if (p.size.is_zero()) continue;
    const Price mark = market_.price_at(i, now);
    w.unrealised += unrealised(p, mark);
    w.position_im += notional(mark, p.size).divided_by(options_.leverage);
  }
  for (const auto& [id, o] : acc.open_orders) w.order_im += order_margin(o);
  Money coin_value;
  for (const auto& [coin, qty] : acc.coins) {
    w.coins.emplace_back(coin, qty);
    for (std::size_t i = 0; i < market_.instruments().size(); ++i) {
      if (market_.instruments()[i].base_coin == coin) {
        coin_value += notional(market_.price_at(i, now), qty);
        break;
      }
    }
  }
  w.equity = w.wallet + w.unrealised + coin_value;
  w.available = w.wallet + std::min(w.unrealised, Money::zero()) - w.position_im - w.order_im;
  return w;
}

std::expected<Order, BybitError> Exchange::place(std::size_t account, const OrderRequest& req, Timestamp now,
                                                 std::vector<AccountUpdate>& updates) {
  Account& acc = accounts_.at(account);
  const auto inst = market_.find(req.symbol);
  if (!inst) return refuse(10001, "params error: symbol invalid");
  const InstrumentSpec& spec = market_.instruments()[*inst];
  Order o;
  o.category = req.category;
  o.instrument = *inst;
  if (req.side == "Buy") {
    o.side = Side::buy;
  } else if (req.side == "Sell") {
    o.side = Side::sell;
  } else {
    return refuse(10001, "params error: side invalid");
  }
  if (req.order_type == "Market") {
    o.type = OrderType::market;
  } else if (req.order_type == "Limit") {
    o.type = OrderType::limit;
  } else {
    return refuse(10001, "params error: orderType invalid");
  }
  if (req.position_idx != 0) return refuse(10001, "position idx not match position mode");
  if (req.order_link_id) {
    if (req.order_link_id->size() > 36) return refuse(10001, "params error: orderLinkId is too long (max 36)");
    o.order_link_id = *req.order_link_id;
    auto same = [&](const Order& x) { return !x.order_link_id.empty() && x.order_link_id == o.order_link_id; };
    if (std::any_of(acc.open_orders.begin(), acc.open_orders.end(), [&](const auto& kv) { return same(kv.second); }) ||
        std::any_of(acc.closed_orders.begin(), acc.closed_orders.end(), same)) {
      return refuse(110072, "OrderLinkedID is duplicate");
    }
  }
  auto qty = Quantity::parse(req.qty);
  if (!qty || !qty->is_positive()) return refuse(10001, "params error: qty invalid");
  o.tif = o.type == OrderType::market ? TimeInForce::ioc : TimeInForce::gtc;
  if (req.time_in_force) {
    const auto& t = *req.time_in_force;
    if (t == "GTC") o.tif = TimeInForce::gtc;
    else if (t == "IOC") o.tif = TimeInForce::ioc;
    else if (t == "FOK") o.tif = TimeInForce::fok;
    else if (t == "PostOnly") o.tif = TimeInForce::post_only;
    else return refuse(10001, "params error: timeInForce invalid");
  }
  if (o.type == OrderType::limit) {
    if (!req.price) return refuse(10001, "params error: price is required for a Limit order");
    auto p = Price::parse(*req.price);
    if (!p || !p->is_positive()) return refuse(10001, "params error: price invalid");
    if (p->raw() % spec.tick_size.raw() != 0) {
      return refuse(10001, fmt::format("params error: price must be a multiple of tickSize {}", spec.tick_size));
    }
    o.price = *p;
  }
  if (acc.open_orders.size() >= kMaxOpenOrders) return refuse(10001, "too many open orders");
  const Price last = market_.price_at(*inst, now);
  if (last.is_zero()) return refuse(10001, "params error: symbol has no price now");
  o.last_price_on_created = last;

  const bool quote_qty = o.category == Category::spot && o.type == OrderType::market && o.side == Side::buy &&
                         req.market_unit.value_or("quoteCoin") != "baseCoin";
  if (quote_qty) {
    // Spot market buys are sized in USDT unless marketUnit=baseCoin (exchange-api.md §1.5).
    const Price fill = adjust_price(last, options_.slippage, true, spec.tick_size);
    auto base = quantity_for(Money::from_raw(qty->raw()), fill);
    if (!base) return refuse(10001, "params error: qty invalid");
    o.qty = Quantity::from_raw(base->raw() / spec.qty_step.raw() * spec.qty_step.raw());
  } else {
    if (qty->raw() % spec.qty_step.raw() != 0) return refuse(10001, "Order quantity has too many decimals.");
    o.qty = *qty;
  }
  if (o.qty < spec.min_qty) return refuse(10001, "The number of contracts exceeds minimum limit allowed");
  if (o.qty > spec.max_qty) return refuse(10001, "The number of contracts exceeds maximum limit allowed");

  if (o.category == Category::linear && req.reduce_only) {
    const auto it = acc.positions.find(*inst);
    if (it == acc.positions.end() || it->second.size.is_zero() || it->second.side == o.side) {
      return refuse(110017, "current position is zero, cannot fix reduce-only order qty");
    }
    o.reduce_only = true;
    o.qty = std::min(o.qty, it->second.size);
  }

  // Funds: what the order would lock must be available now.
  const Price ref = o.type == OrderType::limit ? o.price : last;
  const Money value = notional(ref, o.qty);
  const auto view = wallet_view(account, now);
  if (o.category == Category::linear) {
    if (!o.reduce_only && value.divided_by(options_.leverage) + fee_of(value, options_.linear_taker_fee) > view.available) {
      return refuse(110007, "ab not enough for new order");
    }
  } else if (o.side == Side::buy) {
    if (value + fee_of(value, options_.spot_taker_fee) > view.available) return refuse(170131, "Insufficient balance.");
  } else {
    const auto it = acc.coins.find(spec.base_coin);
    Quantity locked;
    for (const auto& [id, x] : acc.open_orders) {
      if (x.category == Category::spot && x.side == Side::sell && x.instrument == *inst) locked += x.leaves();
    }
    if (it == acc.coins.end() || it->second - locked < o.qty) return refuse(170131, "Insufficient balance.");
  }

  o.order_id = next_id("order");
  o.created = o.updated = floor_ms(now);
  AccountUpdate update;
  update.account = account;
  const bool crosses = o.type == OrderType::market || (o.side == Side::buy ? o.price >= last : o.price <= last);
  if (o.type == OrderType::market) {
    fill(acc, account, o, adjust_price(last, options_.slippage, o.side == Side::buy, spec.tick_size), false, now, update);
  } else if (crosses && o.tif == TimeInForce::post_only) {
    o.status = OrderStatus::cancelled;
    o.cancel_type = "CancelByUser";
    o.reject_reason = "EC_PostOnlyWillTakeLiquidity";
    update.orders.push_back(o);
    acc.closed_orders.push_back(o);
  } else if (crosses) {
    fill(acc, account, o, last, false, now, update);  // a marketable limit takes the better, current price
  } else if (o.tif == TimeInForce::ioc || o.tif == TimeInForce::fok) {
    o.status = OrderStatus::cancelled;
    o.cancel_type = "CancelByUser";
    o.reject_reason = "EC_NoImmediateQtyToFill";
    update.orders.push_back(o);
    acc.closed_orders.push_back(o);
  } else {
    acc.open_orders.emplace(o.order_id, o);
    ++resting_[*inst];
    update.orders.push_back(o);
    update.wallet = true;
  }
  while (acc.closed_orders.size() > kClosedOrdersKept) acc.closed_orders.pop_front();
  updates.push_back(std::move(update));
  return o;
}

void Exchange::fill(Account& acc, std::size_t account_index, Order& o, Price price, bool maker, Timestamp now,
                    AccountUpdate& update) {
  (void)account_index;
  const InstrumentSpec& spec = market_.instruments()[o.instrument];
  const Quantity qty = o.leaves();
  const Money value = notional(price, qty);
  const Ratio rate = fee_rate(o.category, maker);
  const Money fee = fee_of(value, rate);
  Execution e;
  e.exec_id = next_id("exec");
  e.order_id = o.order_id;
  e.order_link_id = o.order_link_id;
  e.category = o.category;
  e.instrument = o.instrument;
  e.side = o.side;
  e.order_type = o.type;
  e.order_price = o.price;
  e.order_qty = o.qty;
  e.exec_price = price;
  e.exec_qty = qty;
  e.exec_value = value;
  e.exec_fee = fee;
  e.fee_rate = rate;
  e.is_maker = maker;
  e.exec_time = floor_ms(now);
  e.seq = seq_++;
  if (o.category == Category::linear) {
    Position& p = acc.positions[o.instrument];
    if (p.created == TimestampMs{}) p.created = floor_ms(now);
    p.instrument = o.instrument;
    Money realised;
    if (p.size.is_zero() || p.side == o.side) {
      const Money total = notional(p.entry, p.size) + value;
      const Quantity new_size = p.size + qty;
      // Average entry, rounded to the tick (Bybit shows entry prices at tick precision).
      const Int128 avg = static_cast<Int128>(total.raw()) * kDecimalScale / new_size.raw();
      p.entry = Price::from_raw(static_cast<std::int64_t>(avg));
      p.size = new_size;
      p.side = o.side;
    } else {
      const Quantity closed = std::min(p.size, qty);
      e.closed_size = closed;
      const Money diff = notional(price, closed) - notional(p.entry, closed);
      realised = p.side == Side::buy ? diff : -diff;
      if (qty > p.size) {
        p.size = qty - p.size;
        p.side = o.side;
        p.entry = price;
      } else {
        p.size = p.size - qty;
        if (p.size.is_zero()) p.entry = Price::zero();
      }
    }
    p.cum_realised += realised - fee;
    p.updated = floor_ms(now);
    p.seq = seq_++;
    acc.wallet += realised - fee;
    acc.cum_realised += realised - fee;
    update.positions.push_back(p);
  } else if (o.side == Side::buy) {
    acc.wallet -= value + fee;
    acc.coins[spec.base_coin] += qty;
  } else {
    acc.coins[spec.base_coin] -= qty;
    acc.wallet += value - fee;
  }
  o.cum_qty += qty;
  o.cum_value += value;
  o.cum_fee += fee;
  o.avg_price = price;
  o.status = OrderStatus::filled;
  o.updated = floor_ms(now);
  e.leaves_qty = o.leaves();
  acc.executions.push_back(e);
  while (acc.executions.size() > kExecutionsKept) acc.executions.pop_front();
  update.executions.push_back(e);
  update.orders.push_back(o);
  update.wallet = true;
  if (acc.open_orders.erase(o.order_id) > 0) {
    if (--resting_[o.instrument] <= 0) resting_.erase(o.instrument);
  }
  acc.closed_orders.push_back(o);
  while (acc.closed_orders.size() > kClosedOrdersKept) acc.closed_orders.pop_front();
}

std::expected<Order, BybitError> Exchange::cancel(std::size_t account, Category category, std::string_view symbol,
                                                  std::string_view order_id, std::string_view order_link_id,
                                                  Timestamp now, std::vector<AccountUpdate>& updates) {
  Account& acc = accounts_.at(account);
  if (order_id.empty() && order_link_id.empty()) return refuse(10001, "params error: orderId or orderLinkId is required");
  for (auto it = acc.open_orders.begin(); it != acc.open_orders.end(); ++it) {
    Order& o = it->second;
    const bool match = !order_id.empty() ? o.order_id == order_id : o.order_link_id == order_link_id;
    if (!match || o.category != category || market_.instruments()[o.instrument].symbol.view() != symbol) continue;
    o.status = OrderStatus::cancelled;
    o.cancel_type = "CancelByUser";
    o.updated = floor_ms(now);
    Order done = o;
    if (--resting_[o.instrument] <= 0) resting_.erase(o.instrument);
    acc.open_orders.erase(it);
    acc.closed_orders.push_back(done);
    while (acc.closed_orders.size() > kClosedOrdersKept) acc.closed_orders.pop_front();
    AccountUpdate u;
    u.account = account;
    u.orders.push_back(done);
    u.wallet = true;
    updates.push_back(std::move(u));
    return done;
  }
  return refuse(110001, "Order does not exist.");
}

void Exchange::on_prices(std::size_t instrument, const std::vector<std::pair<Timestamp, Price>>& points,
                         std::vector<AccountUpdate>& updates) {
  if (!resting_.contains(instrument)) return;
  for (std::size_t a = 0; a < accounts_.size(); ++a) {
    Account& acc = accounts_[a];
    AccountUpdate update;
    update.account = a;
    std::vector<std::string> ids;
    for (const auto& [id, o] : acc.open_orders) {
      if (o.instrument == instrument && o.type == OrderType::limit) ids.push_back(id);
    }
    for (const auto& [t, price] : points) {
      for (auto& id : ids) {
        if (id.empty()) continue;
        auto it = acc.open_orders.find(id);
        if (it == acc.open_orders.end()) continue;
        Order o = it->second;
        const bool hit = o.side == Side::buy ? price <= o.price : price >= o.price;
        if (!hit) continue;
        fill(acc, a, o, o.price, true, t, update);  // resting orders fill at their limit, as makers
        id.clear();
      }
    }
    if (!update.orders.empty()) updates.push_back(std::move(update));
  }
}

}  // namespace twinstar::venue::sim
