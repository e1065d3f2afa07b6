#include "backtest/backtest_venue.hpp"

#include <algorithm>

namespace twinstar {

std::string FillModel::describe() const {
  return fmt::format(
      "market orders fill at the {}; stop-loss/take-profit {}; commission {} of notional per side; slippage {} + {} of price",
      market == Market::next_open ? "next bar's open" : "signal bar's close",
      exits == Exit::at_level ? "fill at their level inside the bar (at the open if it gapped past)"
                              : "fill at the next bar's open after the bar that touched them",
      commission, slippage_fixed, slippage_relative);
}

Price BacktestVenue::slipped(Price p, Side side) const {
  // Slippage always costs the trader: buys pay more, sells get less.
  Price slip = model_.slippage_fixed + Price::from_raw(detail::mul_div(p.raw(), model_.slippage_relative.raw(), kDecimalScale,
                                                                       Rounding::up)
                                                           .value_or(0));
  if (side == Side::buy) return p + slip;
  const Price out = p - slip;
  return out.is_positive() ? out : Price::from_raw(1);
}

void BacktestVenue::fill(const OrderRequest& r, Price price, Timestamp time) {
  const Money value = notional(price, r.quantity);
  OrderUpdate u;
  u.client_id = r.client_id;
  u.status = OrderStatus::filled;
  u.filled = r.quantity;
  u.average_price = price;
  u.fees = apply_ratio(value, model_.commission, Rounding::up);
  u.time = time;
  updates_.push_back(std::move(u));
}

Status BacktestVenue::submit(const OrderRequest& r) {
  if (!r.quantity.is_positive()) {
    updates_.push_back(OrderUpdate{r.client_id, OrderStatus::rejected, {}, {}, {}, clock_.now(), "quantity must be positive"});
    return {};
  }
  updates_.push_back(OrderUpdate{r.client_id, OrderStatus::open, {}, {}, {}, clock_.now(), ""});
  auto last = last_candle_.find(r.symbol);
  const bool is_level_exit =
      r.trigger && (r.purpose == OrderPurpose::stop_loss || r.purpose == OrderPurpose::take_profit);
  if (is_level_exit && model_.exits == FillModel::Exit::at_level && last != last_candle_.end()) {
    const Candle& bar = last->second;
    const Price level = *r.trigger;
    // A sell exit (closing a long) whose level the bar opened below fills at the open: the gap.
    Price price = level;
    if (r.purpose == OrderPurpose::stop_loss) {
      price = r.side == Side::sell ? std::min(bar.open, level) : std::max(bar.open, level);
      price = slipped(price, r.side);
    } else {
      price = r.side == Side::sell ? std::max(bar.open, level) : std::min(bar.open, level);  // a limit: no slippage
    }
    fill(r, price, clock_.now());
    return {};
  }
  if (model_.market == FillModel::Market::signal_close && last != last_candle_.end() && !is_level_exit) {
    fill(r, slipped(last->second.close, r.side), clock_.now());
    return {};
  }
  waiting_[r.symbol].push_back(r);
  return {};
}

Status BacktestVenue::cancel(const std::string& client_id, const Symbol& symbol) {
  auto it = waiting_.find(symbol);
  if (it == waiting_.end()) return make_error(ErrorCode::not_found, "no open order {}", client_id);
  auto& v = it->second;
  auto pos = std::find_if(v.begin(), v.end(), [&](const OrderRequest& r) { return r.client_id == client_id; });
  if (pos == v.end()) return make_error(ErrorCode::not_found, "no open order {}", client_id);
  updates_.push_back(OrderUpdate{client_id, OrderStatus::cancelled, {}, {}, {}, clock_.now(), "cancelled"});
  v.erase(pos);
  return {};
}

void BacktestVenue::on_candle(const Symbol& symbol, const Candle& candle) {
  last_candle_[symbol] = candle;
  auto it = waiting_.find(symbol);
  if (it == waiting_.end() || it->second.empty()) return;
  for (const OrderRequest& r : it->second) fill(r, slipped(candle.open, r.side), Timestamp(candle.open_time));
  it->second.clear();
}

void BacktestVenue::fill_waiting_at_last_close() {
  for (auto& [symbol, orders] : waiting_) {
    auto last = last_candle_.find(symbol);
    for (const OrderRequest& r : orders) {
      if (last == last_candle_.end()) {
        updates_.push_back(OrderUpdate{r.client_id, OrderStatus::cancelled, {}, {}, {}, clock_.now(), "no price to fill at"});
      } else {
        fill(r, slipped(last->second.close, r.side), clock_.now());
      }
    }
    orders.clear();
  }
}

std::vector<OrderUpdate> BacktestVenue::drain() {
  std::vector<OrderUpdate> out;
  out.swap(updates_);
  return out;
}

std::size_t BacktestVenue::pending() const noexcept {
  std::size_t n = 0;
  for (const auto& [s, v] : waiting_) n += v.size();
  return n;
}

}  // namespace twinstar
