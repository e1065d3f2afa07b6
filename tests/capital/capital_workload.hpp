#pragma once
// A random stream of ledger operations, as one bot would issue them: used by the contention
// test's threads and by the helper process (two-process and crash tests).

#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "capital/ledger.hpp"
#include "capital_test_support.hpp"

namespace twinstar::testing {

struct Acknowledged {
  JournalOp op;
  std::int64_t seq;
};

class RandomWorkload {
 public:
  RandomWorkload(CapitalLedger& ledger, std::uint64_t seed, std::string bot_prefix = "")
      : ledger_(ledger), rng_(seed), prefix_(std::move(bot_prefix)) {}

  // One random operation. A value when it was written (op and its journal seq), nullopt when
  // the ledger refused it as expected (caps), an error for anything unexpected.
  Result<std::optional<Acknowledged>> step() {
    const int dice = pick(0, 99);
    if ((dice < 38 && open_.size() < 6) || (open_.empty() && positions_.empty())) return reserve();
    if (dice < 60 && !open_.empty()) return commit();
    if (dice < 68 && !open_.empty()) return cancel();
    if (dice < 72 && !open_.empty()) return drop();
    if (dice < 94 && !positions_.empty()) return release();
    // Deposits and withdrawals keep equity near where it started, so a long random run neither
    // starves (equity near zero refuses everything) nor drifts beyond the caps' reach.
    const Money equity = ledger_.stats().equity;
    if (equity < Money::from_units(8'000)) return flow(true);
    if (equity > Money::from_units(14'000)) return flow(false);
    return flow(dice < 97);
  }

  // Settles everything still held: cancels reservations, releases positions at zero PnL.
  Status finish() {
    for (auto& r : open_) {
      if (auto s = r.cancel(); !s) return s;
    }
    open_.clear();
    for (auto& [p, amount] : positions_) {
      if (auto s = ledger_.release(p, Money::zero()); !s) return s;
    }
    positions_.clear();
    return {};
  }

 private:
  using StepResult = Result<std::optional<Acknowledged>>;

  std::int64_t pick(std::int64_t lo, std::int64_t hi) { return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng_); }

  static bool expected_refusal(const Error& e) {
    return e.code == ErrorCode::insufficient_capital || e.code == ErrorCode::limit_exceeded;
  }

  StepResult reserve() {
    const auto& bots = test_bots();
    const auto& symbols = test_symbols();
    const std::string bot = prefix_ + bots[static_cast<std::size_t>(pick(0, static_cast<std::int64_t>(bots.size()) - 1))];
    const Symbol& symbol = symbols[static_cast<std::size_t>(pick(0, static_cast<std::int64_t>(symbols.size()) - 1))];
    const Money amount = Money::from_raw(pick(1, 1'500) * kDecimalScale + pick(0, 99) * 1'000'000);
    auto r = ledger_.reserve(bot, symbol, amount);
    if (!r) {
      if (expected_refusal(r.error())) return std::nullopt;
      return std::unexpected(r.error());
    }
    const std::int64_t seq = r->id().value;
    open_.push_back(std::move(*r));
    return Acknowledged{JournalOp::reserve, seq};
  }

  std::size_t pick_index(std::size_t n) { return static_cast<std::size_t>(pick(0, static_cast<std::int64_t>(n) - 1)); }

  StepResult commit() {
    const std::size_t i = pick_index(open_.size());
    Reservation& r = open_[i];
    const std::int64_t reserved = r.amount().raw();
    const Money fees = Money::from_raw(pick(0, reserved / 200));
    const Money used = Money::from_raw(pick(1, reserved - fees.raw()));  // partial fills too
    auto p = r.commit(used, fees);
    if (!p) return std::unexpected(p.error());
    positions_.emplace_back(*p, used);
    open_.erase(open_.begin() + static_cast<std::ptrdiff_t>(i));
    return Acknowledged{JournalOp::commit, p->value};
  }

  StepResult cancel() {
    const std::size_t i = pick_index(open_.size());
    if (auto s = open_[i].cancel(); !s) return std::unexpected(s.error());
    open_.erase(open_.begin() + static_cast<std::ptrdiff_t>(i));
    return Acknowledged{JournalOp::cancel, ledger_.last_seq()};
  }

  StepResult drop() {
    const std::size_t i = pick_index(open_.size());
    open_.erase(open_.begin() + static_cast<std::ptrdiff_t>(i));  // the destructor cancels
    return Acknowledged{JournalOp::cancel, ledger_.last_seq()};
  }

  StepResult release() {
    const std::size_t i = pick_index(positions_.size());
    const auto [position, amount] = positions_[i];
    // Losses (with fees) never exceed the position, as in spot trading: then a release can
    // never push the locked total over the shrunken cap, and the invariant holds strictly.
    const Money fees = Money::from_raw(pick(0, amount.raw() / 200));
    const Money pnl = Money::from_raw(pick(-(amount.raw() - fees.raw()), amount.raw() - fees.raw()));
    if (auto s = ledger_.release(position, pnl, fees); !s) return std::unexpected(s.error());
    positions_.erase(positions_.begin() + static_cast<std::ptrdiff_t>(i));
    return Acknowledged{JournalOp::release, ledger_.last_seq()};
  }

  StepResult flow(bool deposit) {
    const Money amount = Money::from_units(pick(1, 600));
    auto s = deposit ? ledger_.deposit(amount) : ledger_.withdraw(amount);
    if (!s) {
      if (expected_refusal(s.error())) return std::nullopt;
      return std::unexpected(s.error());
    }
    return Acknowledged{deposit ? JournalOp::deposit : JournalOp::withdraw, ledger_.last_seq()};
  }

  CapitalLedger& ledger_;
  std::mt19937_64 rng_;
  std::string prefix_;
  std::vector<Reservation> open_;
  std::vector<std::pair<PositionId, Money>> positions_;
};

}  // namespace twinstar::testing
