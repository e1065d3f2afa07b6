#include "backtest/backtest_venue.hpp"

#include <algorithm>

namespace twinstar {

std::string FillModel::describe() const {
  return fmt::format(
      "market orders fill at the {}; stop-loss/take-profit {}; a bar touching both takes the {}; commission {} of "
      "notional per side; slippage {} + {} of price; entries sized {}",
      market == Market::next_open ? "next bar's open" : "signal bar's close",
      exits == Exit::at_level ? "fill at their level inside the bar (at the open if it gapped past)"
                              : "fill at the next bar's open after the bar that touched them",
      both_touched == BothTouched::stop_first ? "stop-loss" : "take-profit", commission, slippage_fixed, slippage_relative,
      size_at == SizeAt::fill ? "at the fill price" : "at the signal price");
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
  Quantity quantity = r.quantity;
  if (r.quote_sizing && model_.size_at == FillModel::SizeAt::fill && r.purpose == OrderPurpose::entry) {
    // Spend what was sized at the signal's price at this price instead, rounded down to the lot.
    const auto& q = *r.quote_sizing;
    const Quantity raw = quantity_for(q.notional, price).value_or(Quantity::zero());
    quantity = q.lot_size.is_positive() ? Quantity::from_raw(raw.raw() / q.lot_size.raw() * q.lot_size.raw()) : raw;
    if (!quantity.is_positive() || notional(price, quantity, Rounding::up) < q.min_notional) {
      updates_.push_back(OrderUpdate{r.client_id, OrderStatus::rejected, {}, {}, {}, time,
                                     fmt::format("{} at the fill price {} is below one lot or the minimum notional", q.notional, price)});
      return;
    }
  }
  const Money value = notional(price, quantity);
  OrderUpdate u;
  u.client_id = r.client_id;
  u.status = OrderStatus::filled;
  u.filled = quantity;
  u.average_price = price;
  u.fees = apply_ratio(value, model_.commission, Rounding::up);
  u.time = time;
  updates_.push_back(std::move(u));
  ++fills_;
}

std::size_t BacktestVenue::slot(const Symbol& symbol) {
  auto [it, inserted] = slot_by_symbol_.try_emplace(symbol, books_.size());
  if (inserted) books_.push_back(Book{symbol, std::nullopt, {}});
  return it->second;
}

Status BacktestVenue::submit(const OrderRequest& r) {
  if (!r.quantity.is_positive()) {
    updates_.push_back(OrderUpdate{r.client_id, OrderStatus::rejected, {}, {}, {}, clock_.now(), "quantity must be positive"});
    return {};
  }
  updates_.push_back(OrderUpdate{r.client_id, OrderStatus::open, {}, {}, {}, clock_.now(), ""});
  const std::size_t book_slot = slot(r.symbol);
  Book& book = books_[book_slot];
  const std::optional<Candle>& last = book.last;
  const bool is_level_exit =
      r.trigger && (r.purpose == OrderPurpose::stop_loss || r.purpose == OrderPurpose::take_profit);
  if (is_level_exit && model_.exits == FillModel::Exit::at_level && last) {
    const Candle& bar = *last;
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
  if (reacting_slot_ == book_slot && last && !is_level_exit && model_.market == FillModel::Market::next_open) {
    fill(r, slipped(last->open, r.side), Timestamp(last->open_time));
    return {};
  }
  if (model_.market == FillModel::Market::next_open && next_candle_) {
    if (const Candle* next = next_candle_(book_slot)) {
      fill(r, slipped(next->open, r.side), Timestamp(next->open_time));
      ++fills_ahead_;
      return {};
    }
  }
  if (model_.market == FillModel::Market::signal_close && last && !is_level_exit) {
    fill(r, slipped(last->close, r.side), clock_.now());
    return {};
  }
  book.waiting.push_back(r);
  return {};
}

Status BacktestVenue::cancel(const std::string& client_id, const Symbol& symbol) {
  auto it = slot_by_symbol_.find(symbol);
  if (it == slot_by_symbol_.end()) return make_error(ErrorCode::not_found, "no open order {}", client_id);
  auto& v = books_[it->second].waiting;
  auto pos = std::find_if(v.begin(), v.end(), [&](const OrderRequest& r) { return r.client_id == client_id; });
  if (pos == v.end()) return make_error(ErrorCode::not_found, "no open order {}", client_id);
  updates_.push_back(OrderUpdate{client_id, OrderStatus::cancelled, {}, {}, {}, clock_.now(), "cancelled"});
  v.erase(pos);
  return {};
}

void BacktestVenue::on_candle(std::size_t slot, const Candle& candle) {
  Book& book = books_[slot];
  book.last = candle;
  if (book.waiting.empty()) return;
  for (const OrderRequest& r : book.waiting) fill(r, slipped(candle.open, r.side), Timestamp(candle.open_time));
  book.waiting.clear();
}

void BacktestVenue::fill_waiting_at_last_close() {
  // In symbol order, so the fills' order never depends on the order slots were handed out.
  std::vector<Book*> by_symbol;
  for (Book& b : books_) by_symbol.push_back(&b);
  std::sort(by_symbol.begin(), by_symbol.end(), [](const Book* a, const Book* b) { return a->symbol < b->symbol; });
  for (Book* book : by_symbol) {
    for (const OrderRequest& r : book->waiting) {
      if (!book->last) {
        updates_.push_back(OrderUpdate{r.client_id, OrderStatus::cancelled, {}, {}, {}, clock_.now(), "no price to fill at"});
      } else {
        fill(r, slipped(book->last->close, r.side), clock_.now());
      }
    }
    book->waiting.clear();
  }
}

std::vector<OrderUpdate> BacktestVenue::drain() {
  std::vector<OrderUpdate> out;
  out.swap(updates_);
  return out;
}

std::size_t BacktestVenue::pending() const noexcept {
  std::size_t n = 0;
  for (const Book& b : books_) n += b.waiting.size();
  return n;
}

}  // namespace twinstar
