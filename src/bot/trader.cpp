#include "bot/trader.hpp"

#include <spdlog/spdlog.h>

namespace twinstar {

std::string_view to_string(OrderStatus s) noexcept {
  switch (s) {
    case OrderStatus::submitted: return "submitted";
    case OrderStatus::open: return "open";
    case OrderStatus::partially_filled: return "partially_filled";
    case OrderStatus::filled: return "filled";
    case OrderStatus::cancelled: return "cancelled";
    case OrderStatus::rejected: return "rejected";
  }
  return "?";
}

std::string_view to_string(OrderPurpose p) noexcept {
  switch (p) {
    case OrderPurpose::entry: return "entry";
    case OrderPurpose::exit_signal: return "signal";
    case OrderPurpose::stop_loss: return "stop_loss";
    case OrderPurpose::take_profit: return "take_profit";
    case OrderPurpose::end_of_run: return "end_of_run";
  }
  return "?";
}

bool SymbolClaims::claim(const std::string& bot, const Symbol& symbol) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto [it, inserted] = holder_by_symbol_.try_emplace(symbol, bot);
  return inserted || it->second == bot;
}

void SymbolClaims::release(const std::string& bot, const Symbol& symbol) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = holder_by_symbol_.find(symbol);
  if (it != holder_by_symbol_.end() && it->second == bot) holder_by_symbol_.erase(it);
}

std::optional<std::string> SymbolClaims::holder(const Symbol& symbol) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = holder_by_symbol_.find(symbol);
  if (it == holder_by_symbol_.end()) return std::nullopt;
  return it->second;
}

namespace {

Side opposite(Side s) { return s == Side::buy ? Side::sell : Side::buy; }

// Base-36 of the start time makes client ids unique across restarts of the same bot.
std::string run_nonce(Timestamp now) {
  auto v = static_cast<std::uint64_t>(to_epoch_ms(now));
  std::string s;
  do {
    s.insert(s.begin(), "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36]);
    v /= 36;
  } while (v > 0);
  return s;
}

}  // namespace

Trader::Trader(TraderOptions options, CapitalLedger& ledger, OrderGateway& gateway, Clock& clock, SymbolClaims* claims)
    : options_(std::move(options)), ledger_(ledger), gateway_(gateway), clock_(clock), claims_(claims) {
  if (options_.client_id_prefix.empty()) options_.client_id_prefix = options_.bot;
  options_.client_id_prefix += "-" + run_nonce(clock_.now());
}

std::string Trader::next_client_id() { return fmt::format("{}-{}", options_.client_id_prefix, next_id_++); }

Status Trader::restore_position(Position position) {
  const Symbol symbol = position.symbol;
  if (positions_.contains(symbol) || has_entry_in_flight(symbol)) {
    return make_error(ErrorCode::conflict, "{}: already holds or is entering {}", options_.bot, symbol);
  }
  if (claims_ != nullptr && !claims_->claim(options_.bot, symbol)) {
    return make_error(ErrorCode::conflict, "{}: {} is held by {}", options_.bot, symbol, claims_->holder(symbol).value_or("another bot"));
  }
  positions_.emplace(symbol, std::move(position));
  return {};
}

void Trader::set_symbol_lot(const Symbol& symbol, Quantity lot_size, Money min_notional) {
  if (lot_size.is_positive()) symbol_lots_[symbol] = {lot_size, min_notional};
}

bool Trader::owns(const std::string& client_id) const { return entries_.contains(client_id) || exits_.contains(client_id); }

bool Trader::has_entry_in_flight(const Symbol& symbol) const {
  for (const auto& [id, e] : entries_) {
    if (e.request.symbol == symbol) return true;
  }
  return false;
}

Result<std::string> Trader::on_signal(const Signal& signal) { return std::move(on_signals(std::span(&signal, 1)).front()); }

std::vector<Result<std::string>> Trader::on_signals(std::span<const Signal> signals) {
  // Decided in order against the state the earlier signals leave; the entries' reservations
  // are then written in one ledger transaction, and the orders submitted in signal order.
  struct Step {
    enum class Kind : std::uint8_t { refused, close, entry } kind = Kind::refused;
    std::optional<PlannedEntry> entry;
    std::optional<Error> error;
  };
  std::vector<Step> steps(signals.size());
  std::vector<CapitalLedger::ReserveRequest> requests;
  std::optional<LedgerHeadroom> capital;  // read once, lowered by each planned entry
  std::vector<Symbol> planned;
  for (std::size_t i = 0; i < signals.size(); ++i) {
    const Signal& signal = signals[i];
    Step& step = steps[i];
    ++stats_.signals;
    stats_.last_signal = signal;
    if (auto it = positions_.find(signal.symbol); it != positions_.end()) {
      const Position& p = it->second;
      if (p.side == signal.side) {
        step.error = Error{ErrorCode::conflict, fmt::format("{} already {} {}", options_.bot, p.side == Side::buy ? "long" : "short",
                                                            signal.symbol)};
      } else if (p.exit_order) {
        step.error = Error{ErrorCode::conflict, fmt::format("{} is already closing {}", options_.bot, signal.symbol)};
      } else {
        step.kind = Step::Kind::close;
      }
      continue;
    }
    if (has_entry_in_flight(signal.symbol) || std::find(planned.begin(), planned.end(), signal.symbol) != planned.end()) {
      step.error = Error{ErrorCode::conflict, fmt::format("{} has an entry in flight for {}", options_.bot, signal.symbol)};
      continue;
    }
    if (signal.side == Side::sell && !options_.allow_short) {
      step.error = Error{ErrorCode::invalid_argument,
                         fmt::format("{} is long-only: sell signal on {} ignored", options_.bot, signal.symbol)};
      continue;
    }
    if (!capital) capital = ledger_.headroom();
    auto plan = plan_entry(signal, *capital, planned.size());
    if (!plan) {
      step.error = plan.error();
      continue;
    }
    capital->available -= plan->to_reserve;
    planned.push_back(signal.symbol);
    requests.push_back(CapitalLedger::ReserveRequest{signal.symbol, plan->to_reserve});
    step.kind = Step::Kind::entry;
    step.entry = std::move(*plan);
  }
  auto reservations = requests.empty() ? std::vector<Result<Reservation>>{} : ledger_.reserve_all(options_.bot, requests);
  std::vector<Result<std::string>> out;
  out.reserve(signals.size());
  std::size_t next_reservation = 0;
  const GatewayBatch batch(gateway_);
  for (std::size_t i = 0; i < signals.size(); ++i) {
    Step& step = steps[i];
    switch (step.kind) {
      case Step::Kind::refused:
        out.push_back(std::unexpected(std::move(*step.error)));
        break;
      case Step::Kind::close: {
        const Signal& signal = signals[i];
        auto id = close(signal.symbol, OrderPurpose::exit_signal, std::nullopt, signal.time);
        if (id && options_.reverse_on_opposite && (signal.side == Side::buy || options_.allow_short)) {
          reversals_[signal.symbol] = PendingReversal{signal};
        }
        out.push_back(std::move(id));
        break;
      }
      case Step::Kind::entry:
        out.push_back(send_entry(std::move(*step.entry), std::move(reservations[next_reservation++])));
        break;
    }
  }
  return out;
}

Result<std::string> Trader::open(const Signal& signal) {
  LedgerHeadroom capital = ledger_.headroom();
  auto plan = plan_entry(signal, capital, 0);
  if (!plan) return std::unexpected(plan.error());
  auto reservation = ledger_.reserve(options_.bot, signal.symbol, plan->to_reserve);
  return send_entry(std::move(*plan), std::move(reservation));
}

void Trader::unclaim(const Symbol& symbol) {
  if (claims_ != nullptr && !positions_.contains(symbol)) claims_->release(options_.bot, symbol);
}

Result<Trader::PlannedEntry> Trader::plan_entry(const Signal& signal, const LedgerHeadroom& capital, std::size_t planned) {
  auto refuse = [&](Error e) {
    stats_.last_refusal = e.message;
    return std::unexpected<Error>(std::move(e));
  };
  if (open_count() + planned >= options_.max_positions) {
    return refuse(Error{ErrorCode::limit_exceeded,
                        fmt::format("{} holds {} of {} positions", options_.bot, open_count() + planned, options_.max_positions)});
  }
  if (claims_ != nullptr && !claims_->claim(options_.bot, signal.symbol)) {
    return refuse(Error{ErrorCode::conflict, fmt::format("{} is held by {}", signal.symbol,
                                                         claims_->holder(signal.symbol).value_or("another bot"))});
  }
  // Size within what remains after the reserve buffer, so the reservation itself fits.
  const Ratio one = Ratio::from_units(1);
  const Money usable =
      capital.available.is_positive()
          ? Money::from_raw(detail::mul_div(capital.available.raw(), kDecimalScale, (one + options_.reserve_buffer).raw(),
                                            Rounding::down)
                                .value_or(0))
          : Money::zero();
  SizingRule rule = options_.sizing;
  if (auto lot = symbol_lots_.find(signal.symbol); lot != symbol_lots_.end()) {
    rule.lot_size = lot->second.first;
    rule.min_notional = std::max(rule.min_notional, lot->second.second);
  }
  auto sized = size_position(rule, SizingInput{signal.entry, signal.stop_loss, usable, capital.equity});
  if (!sized) {
    ++stats_.sizing_refusals;
    unclaim(signal.symbol);
    return refuse(sized.error());
  }
  const Money to_reserve = sized->notional + apply_ratio(sized->notional, options_.reserve_buffer, Rounding::up);
  return PlannedEntry{signal, *sized, rule.lot_size, rule.min_notional, to_reserve};
}

Result<std::string> Trader::send_entry(PlannedEntry plan, Result<Reservation> reservation) {
  const Signal& signal = plan.signal;
  auto refuse = [&](Error e) {
    stats_.last_refusal = e.message;
    return std::unexpected<Error>(std::move(e));
  };
  if (!reservation) {
    ++stats_.ledger_refusals;
    unclaim(signal.symbol);
    return refuse(reservation.error());
  }
  OrderRequest request;
  request.client_id = next_client_id();
  request.symbol = signal.symbol;
  request.side = signal.side;
  request.type = OrderType::market;
  request.quantity = plan.sized.quantity;
  request.purpose = OrderPurpose::entry;
  request.decided_at = signal.time;
  request.stop_loss = signal.stop_loss;
  request.take_profit = signal.take_profit;
  if (options_.sizing.mode == SizingMode::percent_available) {  // a fraction of capital: an amount, not a quantity
    request.quote_sizing = OrderRequest::QuoteSizing{plan.sized.notional, plan.lot_size, plan.min_notional};
  }
  if (auto sent = gateway_.submit(request); !sent) {
    ++stats_.submit_errors;
    (void)reservation->cancel();
    unclaim(signal.symbol);
    return refuse(sent.error());
  }
  ++stats_.entries_submitted;
  const std::string id = request.client_id;
  entries_.emplace(id, Entry{std::move(request), std::move(*reservation), signal, clock_.now(), false});
  return id;
}

Result<std::string> Trader::close(const Symbol& symbol, OrderPurpose purpose, std::optional<Price> trigger,
                                  TimestampMs decided_at) {
  auto it = positions_.find(symbol);
  if (it == positions_.end()) return make_error(ErrorCode::not_found, "{} has no position in {}", options_.bot, symbol);
  Position& p = it->second;
  if (p.exit_order) return make_error(ErrorCode::conflict, "{} is already closing {}", options_.bot, symbol);
  OrderRequest request;
  request.client_id = next_client_id();
  request.symbol = symbol;
  request.side = opposite(p.side);
  request.type = OrderType::market;
  request.quantity = p.quantity;
  request.trigger = trigger;
  request.reduce_only = true;
  request.purpose = purpose;
  request.decided_at = decided_at;
  if (auto sent = gateway_.submit(request); !sent) {
    ++stats_.submit_errors;
    stats_.last_refusal = sent.error().message;
    return std::unexpected(sent.error());
  }
  p.exit_order = request.client_id;
  p.exit_purpose = purpose;
  exits_[request.client_id] = ExitInFlight{symbol, {}, {}, {}, clock_.now()};
  return request.client_id;
}

void Trader::on_order_update(const OrderUpdate& update) {
  if (entries_.contains(update.client_id)) {
    if (is_terminal(update.status)) finish_entry(update.client_id, update);
    return;
  }
  auto ex = exits_.find(update.client_id);
  if (ex == exits_.end()) return;
  auto pos = positions_.find(ex->second.symbol);
  if (pos == positions_.end()) return;
  apply_exit(pos->second, ex, update, is_terminal(update.status));
}

void Trader::finish_entry(const std::string& client_id, const OrderUpdate& update) {
  auto node = entries_.extract(client_id);
  Entry& e = node.mapped();
  const Symbol symbol = e.request.symbol;
  if (!update.filled.is_positive()) {
    ++stats_.entries_unfilled;
    stats_.last_refusal = fmt::format("entry {} {} {}: {}", client_id, symbol, to_string(update.status), update.reason);
    (void)e.reservation.cancel();
    if (claims_ != nullptr && !positions_.contains(symbol)) claims_->release(options_.bot, symbol);
    return;
  }
  const Money used = notional(update.average_price, update.filled);
  Money commit_used = used;
  if (used + update.fees > e.reservation.amount()) {
    // The fill cost more than the buffer allowed for: commit what was reserved and say so.
    ++stats_.commit_shortfalls;
    commit_used = e.reservation.amount() - update.fees;
    spdlog::warn("{}: entry {} on {} cost {} + fees {}, more than the {} reserved", options_.bot, client_id, symbol, used,
                 update.fees, e.reservation.amount());
  }
  PositionId ledger_id;
  if (auto committed = e.reservation.commit(commit_used, update.fees)) {
    ledger_id = *committed;
  } else {
    stats_.last_refusal = committed.error().message;
    spdlog::error("{}: could not commit entry {} on {}: {}", options_.bot, client_id, symbol, committed.error().message);
  }
  ++stats_.entries_filled;
  Position p;
  p.symbol = symbol;
  p.side = e.request.side;
  p.quantity = update.filled;
  p.initial_quantity = update.filled;
  p.entry_price = update.average_price;
  p.entry_notional = used;
  p.entry_fees = update.fees;
  p.stop_loss = e.signal.stop_loss;
  p.take_profit = e.signal.take_profit;
  p.ledger_id = ledger_id;
  p.opened_at = update.time;
  p.entry_bar = e.request.decided_at;
  p.entry_reason = e.signal.reason;
  p.last_price = update.average_price;
  positions_[symbol] = std::move(p);
}

void Trader::apply_exit(Position& p, std::map<std::string, ExitInFlight>::iterator exit, const OrderUpdate& update,
                        bool terminal) {
  const std::string& id = update.client_id;
  ExitInFlight& seen = exit->second;
  const Quantity delta = update.filled - seen.filled;
  if (delta.is_positive()) {
    // The newly filled part's notional: the cumulative notional minus what was already applied.
    const Money cumulative = notional(update.average_price, update.filled);
    const Money delta_notional = cumulative - seen.notional;
    const Money entry_part = notional(p.entry_price, delta);
    p.realized_gross += p.side == Side::buy ? delta_notional - entry_part : entry_part - delta_notional;
    p.exit_notional += delta_notional;
    p.quantity -= delta;
    seen.filled = update.filled;
    seen.notional = cumulative;
  }
  if (update.fees != seen.fees) {
    p.exit_fees += update.fees - seen.fees;
    seen.fees = update.fees;
  }
  if (!terminal) return;
  exits_.erase(exit);
  p.exit_order.reset();
  if (p.quantity.is_positive()) {
    stats_.last_refusal = fmt::format("exit {} on {} ended {} with {} still open: {}", id, p.symbol,
                                      to_string(update.status), p.quantity, update.reason);
    return;  // the next stop check or signal closes the rest
  }
  ++stats_.exits_filled;
  if (auto released = ledger_.release(p.ledger_id, p.realized_gross, p.exit_fees); !released) {
    spdlog::error("{}: could not release position {} on {}: {}", options_.bot, p.ledger_id.value, p.symbol,
                  released.error().message);
  }
  TradeRecord t;
  t.bot = options_.bot;
  t.symbol = p.symbol;
  t.side = p.side;
  t.quantity = p.initial_quantity;
  t.entry_price = p.entry_price;
  // Volume-weighted exit price over every exit fill.
  t.exit_price = Price::from_raw(
      detail::mul_div(p.exit_notional.raw(), kDecimalScale, p.initial_quantity.raw(), Rounding::half_even).value_or(0));
  t.entry_time = p.opened_at;
  t.exit_time = update.time;
  t.gross_pnl = p.realized_gross;
  t.fees = p.entry_fees + p.exit_fees;
  t.pnl = t.gross_pnl - t.fees;
  t.return_pct = p.entry_notional.is_zero() ? 0.0 : t.pnl.to_double() / p.entry_notional.to_double();
  t.exit_purpose = p.exit_purpose;
  t.entry_reason = p.entry_reason;
  const Symbol symbol = p.symbol;
  positions_.erase(symbol);
  if (claims_ != nullptr) claims_->release(options_.bot, symbol);
  trades_.push_back(t);
  if (on_trade) on_trade(t);
  if (auto rev = reversals_.extract(symbol); !rev.empty()) (void)open(rev.mapped().signal);
}

void Trader::on_candle(const Symbol& symbol, const Candle& c) {
  if (positions_.empty()) return;  // the common case: no symbol lookup
  auto it = positions_.find(symbol);
  if (it == positions_.end()) return;
  Position& p = it->second;
  p.last_price = c.close;
  if (ledger_marks_) {
    const Money value = notional(c.close, p.quantity);
    const Money cost = notional(p.entry_price, p.quantity);
    (void)ledger_.set_unrealized(p.ledger_id, p.side == Side::buy ? value - cost : cost - value);
  }
  if (p.exit_order) return;
  const bool is_long = p.side == Side::buy;
  const bool stop_hit = p.stop_loss && (is_long ? c.low <= *p.stop_loss : c.high >= *p.stop_loss);
  const bool take_hit = p.take_profit && (is_long ? c.high >= *p.take_profit : c.low <= *p.take_profit);
  if (!stop_hit && !take_hit) return;
  const bool use_stop = stop_hit && (!take_hit || options_.both_touched == BothTouched::stop_first);
  if (use_stop) {
    (void)close(symbol, OrderPurpose::stop_loss, p.stop_loss, c.open_time);
  } else {
    (void)close(symbol, OrderPurpose::take_profit, p.take_profit, c.open_time);
  }
}

void Trader::on_time(Timestamp now) {
  for (auto& [id, e] : entries_) {
    if (!e.cancel_sent && now - e.submitted_at >= options_.order_timeout) {
      ++stats_.timeouts;
      e.cancel_sent = gateway_.cancel(id, e.request.symbol).has_value();
    }
  }
  for (auto& [id, e] : exits_) {
    if (now - e.sent_at >= options_.order_timeout) {
      ++stats_.timeouts;
      if (gateway_.cancel(id, e.symbol)) e.sent_at = now;  // retried by the next check after the cancel lands
    }
  }
}

}  // namespace twinstar
