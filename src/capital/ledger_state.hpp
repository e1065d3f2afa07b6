#pragma once
// The ledger's state as a pure fold over journal rows: no clock, no I/O, no policy. The
// live ledger and every replay apply the same rows through the same code, so "state after a
// crash == state rebuilt from the journal" holds by construction and is tested anyway.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

#include "capital/ledger_types.hpp"

namespace twinstar {

class LedgerState {
 public:
  struct OpenReservation {
    std::string bot;
    Symbol symbol;
    Money amount;
    std::int64_t owner = 0;
    Timestamp time{};
    friend bool operator==(const OpenReservation&, const OpenReservation&) = default;
  };
  struct OpenPosition {
    std::string bot;
    Symbol symbol;
    Money amount;
    std::int64_t reservation = 0;
    Timestamp time{};
    friend bool operator==(const OpenPosition&, const OpenPosition&) = default;
  };

  // Whether `e` may follow this state: ids exist, amounts are in range, nothing overflows.
  // Caps and guards are policy and are checked by the ledger, not here.
  // Errors: invalid_argument, conflict (not open / not initialised), not_found (position), overflow.
  Status validate(const JournalEntry& e) const;
  // Applies a row that validate() accepted.
  void apply_validated(const JournalEntry& e);
  // validate() then apply_validated(); no change on error.
  Status apply(const JournalEntry& e);

  std::int64_t last_seq() const noexcept { return last_seq_; }
  Timestamp last_time() const noexcept { return last_time_; }
  bool initialized() const noexcept { return initialized_; }
  Money initial_capital() const noexcept { return initial_; }
  Money deposits() const noexcept { return deposits_; }
  Money withdrawals() const noexcept { return withdrawals_; }
  Money realized_pnl() const noexcept { return realized_; }
  Money fees() const noexcept { return fees_; }
  Money equity() const noexcept { return equity_; }
  Money reserved() const noexcept { return reserved_; }
  Money committed() const noexcept { return committed_; }
  Money locked() const noexcept { return reserved_ + committed_; }
  Money peak_equity() const noexcept { return peak_; }
  Ratio max_drawdown() const noexcept { return max_drawdown_; }
  Ratio drawdown() const noexcept;
  Money locked_for_symbol(const Symbol& s) const noexcept;
  Money locked_for_bot(std::string_view bot) const noexcept;
  Money pnl_on_day(Timestamp t) const noexcept;

  const std::unordered_map<std::int64_t, OpenReservation>& reservations() const noexcept { return reservations_; }
  const std::unordered_map<std::int64_t, OpenPosition>& positions() const noexcept { return positions_; }
  // May hold zero entries for symbols and bots with nothing open.
  const std::unordered_map<Symbol, Money>& locked_by_symbol() const noexcept { return locked_by_symbol_; }
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  const std::unordered_map<std::string, BotUsage, StringHash, std::equal_to<>>& by_bot() const noexcept {
    return by_bot_;
  }
  // Net PnL (realized - fees) per UTC day, keyed by days since 1970-01-01.
  const std::map<std::int32_t, Money>& daily_pnl() const noexcept { return daily_pnl_; }

  // Same history and open items; per-symbol and per-bot entries that are zero count as absent.
  friend bool operator==(const LedgerState& a, const LedgerState& b);

 private:
  void add_locked(const std::string& bot, const Symbol& symbol, Money reserved, Money committed,
                  std::int64_t reservations, std::int64_t positions);
  void book(Timestamp t, Money net);
  void after_equity_change();

  std::int64_t last_seq_ = 0;
  Timestamp last_time_{};
  bool initialized_ = false;
  Money initial_;
  Money deposits_;
  Money withdrawals_;
  Money realized_;
  Money fees_;
  Money equity_;
  Money reserved_;
  Money committed_;
  Money peak_;
  Ratio max_drawdown_;
  std::unordered_map<std::int64_t, OpenReservation> reservations_;
  std::unordered_map<std::int64_t, OpenPosition> positions_;
  std::unordered_map<Symbol, Money> locked_by_symbol_;
  std::unordered_map<std::string, BotUsage, StringHash, std::equal_to<>> by_bot_;
  std::map<std::int32_t, Money> daily_pnl_;
};

// Days since 1970-01-01 of the UTC day containing t.
std::int32_t utc_day_number(Timestamp t) noexcept;

}  // namespace twinstar
