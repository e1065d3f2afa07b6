#include "capital/ledger_state.hpp"

#include <algorithm>

namespace twinstar {

std::int32_t utc_day_number(Timestamp t) noexcept {
  return static_cast<std::int32_t>(std::chrono::floor<std::chrono::days>(t).time_since_epoch().count());
}

namespace {

// a + b - c without overflow, or an error naming what overflowed.
Status check_sum(Money a, Money b, Money c, std::string_view what) {
  auto sum = a.checked_add(b);
  if (sum) sum = sum->checked_sub(c);
  if (!sum) return make_error(ErrorCode::overflow, "{} would overflow: {}", what, sum.error().message);
  return {};
}

}  // namespace

Status LedgerState::validate(const JournalEntry& e) const {
  if (e.seq <= last_seq_) {
    return make_error(ErrorCode::conflict, "journal seq {} does not follow {}", e.seq, last_seq_);
  }
  if (!initialized_ && e.op != JournalOp::init) {
    return make_error(ErrorCode::conflict, "the ledger has no capital yet (no init row before seq {})", e.seq);
  }
  switch (e.op) {
    case JournalOp::init:
      if (!e.amount.is_positive()) {
        return make_error(ErrorCode::invalid_argument, "initial capital must be > 0, got {}", e.amount);
      }
      if (!reservations_.empty() || !positions_.empty()) {
        return make_error(ErrorCode::conflict,
                          "cannot re-initialise while {} reservation(s) and {} position(s) are open; "
                          "cancel and release them first",
                          reservations_.size(), positions_.size());
      }
      return {};
    case JournalOp::deposit:
      if (!e.amount.is_positive()) {
        return make_error(ErrorCode::invalid_argument, "deposit amount must be > 0, got {}", e.amount);
      }
      if (auto s = check_sum(equity_, e.amount, Money::zero(), "equity after the deposit"); !s) return s;
      if (auto s = check_sum(deposits_, e.amount, Money::zero(), "total deposits"); !s) return s;
      return check_sum(peak_, e.amount, Money::zero(), "peak equity after the deposit");
    case JournalOp::withdraw:
      if (!e.amount.is_positive()) {
        return make_error(ErrorCode::invalid_argument, "withdrawal amount must be > 0, got {}", e.amount);
      }
      if (auto s = check_sum(equity_, Money::zero(), e.amount, "equity after the withdrawal"); !s) return s;
      if (auto s = check_sum(peak_, Money::zero(), e.amount, "peak equity after the withdrawal"); !s) return s;
      return check_sum(withdrawals_, e.amount, Money::zero(), "total withdrawals");
    case JournalOp::reserve:
      if (!e.amount.is_positive()) {
        return make_error(ErrorCode::invalid_argument, "reservation amount must be > 0, got {}", e.amount);
      }
      if (e.bot.empty() || e.symbol.empty()) {
        return make_error(ErrorCode::invalid_argument, "reservation seq {} names no bot or symbol", e.seq);
      }
      return check_sum(reserved_ + committed_, e.amount, Money::zero(), "reserved capital");
    case JournalOp::commit: {
      const auto it = reservations_.find(e.ref);
      if (it == reservations_.end()) {
        return make_error(ErrorCode::conflict, "reservation {} is not open (never made, or already settled)", e.ref);
      }
      const OpenReservation& r = it->second;
      if (e.bot != r.bot || e.symbol != r.symbol) {
        return make_error(ErrorCode::conflict, "commit of reservation {} names {}/{} but it belongs to {}/{}", e.ref,
                          e.bot, e.symbol, r.bot, r.symbol);
      }
      if (!e.amount.is_positive()) {
        return make_error(ErrorCode::invalid_argument,
                          "commit of reservation {}: used amount must be > 0, got {} (cancel when nothing filled)",
                          e.ref, e.amount);
      }
      // Fees come out of the reservation too, so a commit never pushes the locked sum over the cap.
      const Money fee_part = e.fees.is_positive() ? e.fees : Money::zero();
      const auto needed = e.amount.checked_add(fee_part);
      if (!needed || *needed > r.amount) {
        return make_error(ErrorCode::invalid_argument,
                          "commit of reservation {}: used {} + fees {} exceeds the {} reserved "
                          "(reserve enough to cover fees)",
                          e.ref, e.amount, e.fees, r.amount);
      }
      if (auto s = check_sum(equity_, Money::zero(), e.fees, "equity after commit fees"); !s) return s;
      if (auto s = check_sum(fees_, e.fees, Money::zero(), "total fees"); !s) return s;
      return check_sum(pnl_on_day(e.time), Money::zero(), e.fees, "daily PnL");
    }
    case JournalOp::cancel:
    case JournalOp::expire: {
      const auto it = reservations_.find(e.ref);
      if (it == reservations_.end()) {
        return make_error(ErrorCode::conflict, "reservation {} is not open (never made, or already settled)", e.ref);
      }
      return {};
    }
    case JournalOp::release: {
      const auto it = positions_.find(e.ref);
      if (it == positions_.end()) {
        return make_error(ErrorCode::not_found, "position {} is not open (unknown, or already released)", e.ref);
      }
      if (auto s = check_sum(realized_, e.pnl, Money::zero(), "realized PnL"); !s) return s;
      if (auto s = check_sum(fees_, e.fees, Money::zero(), "total fees"); !s) return s;
      if (auto s = check_sum(equity_, e.pnl, e.fees, "equity after the release"); !s) return s;
      return check_sum(pnl_on_day(e.time), e.pnl, e.fees, "daily PnL");
    }
  }
  return make_error(ErrorCode::invalid_argument, "unknown journal op {}", static_cast<int>(e.op));
}

void LedgerState::apply_validated(const JournalEntry& e) {
  last_seq_ = e.seq;
  last_time_ = e.time;
  switch (e.op) {
    case JournalOp::init:
      initialized_ = true;
      initial_ = e.amount;
      deposits_ = withdrawals_ = realized_ = fees_ = Money::zero();
      equity_ = peak_ = e.amount;
      max_drawdown_ = Ratio::zero();
      daily_pnl_.clear();
      break;
    case JournalOp::deposit:
      deposits_ += e.amount;
      equity_ += e.amount;
      // Flows move the high-water mark with them: a deposit is not a gain, a withdrawal not a drawdown.
      peak_ += e.amount;
      after_equity_change();
      break;
    case JournalOp::withdraw:
      withdrawals_ += e.amount;
      equity_ -= e.amount;
      peak_ -= e.amount;
      after_equity_change();
      break;
    case JournalOp::reserve:
      reservations_.emplace(e.seq, OpenReservation{e.bot, e.symbol, e.amount, e.owner, e.time});
      reserved_ += e.amount;
      add_locked(e.bot, e.symbol, e.amount, Money::zero(), 1, 0);
      break;
    case JournalOp::commit: {
      auto node = reservations_.extract(e.ref);
      OpenReservation& r = node.mapped();
      reserved_ -= r.amount;
      committed_ += e.amount;
      add_locked(r.bot, r.symbol, -r.amount, e.amount, -1, 1);
      positions_.emplace(e.seq, OpenPosition{std::move(r.bot), r.symbol, e.amount, e.ref, e.time});
      if (!e.fees.is_zero()) {
        fees_ += e.fees;
        equity_ -= e.fees;
        book(e.time, -e.fees);
        after_equity_change();
      }
      break;
    }
    case JournalOp::cancel:
    case JournalOp::expire: {
      auto node = reservations_.extract(e.ref);
      OpenReservation& r = node.mapped();
      reserved_ -= r.amount;
      add_locked(r.bot, r.symbol, -r.amount, Money::zero(), -1, 0);
      break;
    }
    case JournalOp::release: {
      auto node = positions_.extract(e.ref);
      OpenPosition& p = node.mapped();
      committed_ -= p.amount;
      add_locked(p.bot, p.symbol, Money::zero(), -p.amount, 0, -1);
      realized_ += e.pnl;
      fees_ += e.fees;
      equity_ += e.pnl - e.fees;
      book(e.time, e.pnl - e.fees);
      after_equity_change();
      break;
    }
  }
}

Status LedgerState::apply(const JournalEntry& e) {
  if (auto s = validate(e); !s) return s;
  apply_validated(e);
  return {};
}

Ratio LedgerState::drawdown() const noexcept {
  if (!peak_.is_positive() || equity_ >= peak_) return Ratio::zero();
  auto r = ratio_of(peak_ - equity_, peak_);
  return r ? *r : Ratio::zero();
}

Money LedgerState::locked_for_symbol(const Symbol& s) const noexcept {
  const auto it = locked_by_symbol_.find(s);
  return it == locked_by_symbol_.end() ? Money::zero() : it->second;
}

Money LedgerState::locked_for_bot(std::string_view bot) const noexcept {
  const auto it = by_bot_.find(bot);
  return it == by_bot_.end() ? Money::zero() : it->second.reserved + it->second.committed;
}

Money LedgerState::pnl_on_day(Timestamp t) const noexcept {
  const auto it = daily_pnl_.find(utc_day_number(t));
  return it == daily_pnl_.end() ? Money::zero() : it->second;
}

void LedgerState::add_locked(const std::string& bot, const Symbol& symbol, Money reserved, Money committed,
                             std::int64_t reservations, std::int64_t positions) {
  // Entries that fall to zero stay: the next order on the same symbol or bot reuses them
  // instead of allocating, and their number is bounded by the symbols and bots ever used.
  locked_by_symbol_.try_emplace(symbol, Money::zero()).first->second += reserved + committed;
  auto it = by_bot_.find(std::string_view(bot));
  if (it == by_bot_.end()) it = by_bot_.emplace(bot, BotUsage{}).first;
  BotUsage& u = it->second;
  u.reserved += reserved;
  u.committed += committed;
  u.reservations += reservations;
  u.positions += positions;
}

namespace {

// Map equality that treats an entry equal to `zero` like a missing one.
template <class Map, class Value>
bool equal_ignoring_zero(const Map& a, const Map& b, const Value& zero) {
  auto contained = [&](const Map& x, const Map& y) {
    for (const auto& [k, v] : x) {
      if (v == zero) continue;
      const auto it = y.find(k);
      if (it == y.end() || it->second != v) return false;
    }
    return true;
  };
  return contained(a, b) && contained(b, a);
}

}  // namespace

bool operator==(const LedgerState& a, const LedgerState& b) {
  return a.last_seq_ == b.last_seq_ && a.last_time_ == b.last_time_ && a.initialized_ == b.initialized_ &&
         a.initial_ == b.initial_ && a.deposits_ == b.deposits_ && a.withdrawals_ == b.withdrawals_ &&
         a.realized_ == b.realized_ && a.fees_ == b.fees_ && a.equity_ == b.equity_ && a.reserved_ == b.reserved_ &&
         a.committed_ == b.committed_ && a.peak_ == b.peak_ && a.max_drawdown_ == b.max_drawdown_ &&
         a.reservations_ == b.reservations_ && a.positions_ == b.positions_ && a.daily_pnl_ == b.daily_pnl_ &&
         equal_ignoring_zero(a.locked_by_symbol_, b.locked_by_symbol_, Money::zero()) &&
         equal_ignoring_zero(a.by_bot_, b.by_bot_, BotUsage{});
}

void LedgerState::book(Timestamp t, Money net) { daily_pnl_[utc_day_number(t)] += net; }

void LedgerState::after_equity_change() {
  if (equity_ > peak_) peak_ = equity_;
  max_drawdown_ = std::max(max_drawdown_, drawdown());
}

}  // namespace twinstar
