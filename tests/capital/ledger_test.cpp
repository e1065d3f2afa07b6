#include "capital/ledger.hpp"

#include <sqlite3.h>
#include <sys/wait.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "capital_test_support.hpp"

namespace twinstar {
namespace {

using namespace std::chrono_literals;
using testing::money;
using testing::sym;
using testing::TempDir;

std::string contents(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

class LedgerTest : public ::testing::Test {
 protected:
  CapitalLedger make(LedgerOptions o = {}) { return CapitalLedger::in_memory(std::move(o), clock_).value(); }
  ManualClock clock_;
};

TEST_F(LedgerTest, new_ledger_keeps_20_percent_free) {
  auto ledger = make();
  const auto s = ledger.stats();
  EXPECT_EQ(s.equity, money("10000"));
  EXPECT_EQ(s.initial_capital, money("10000"));
  EXPECT_EQ(s.cap, money("8000"));
  EXPECT_EQ(s.available, money("8000"));
  EXPECT_EQ(s.locked, Money::zero());
  EXPECT_EQ(s.last_seq, 1);
}

TEST_F(LedgerTest, original_example_500_300_200_leaves_7000_available) {
  auto ledger = make();
  for (auto [symbol, amount] : {std::pair{"BTCUSDT", "500"}, {"ETHUSDT", "300"}, {"SOLUSDT", "200"}}) {
    auto r = ledger.reserve("multi", std::string_view(symbol), money(amount));
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_TRUE(r->commit(money(amount)));
  }
  const auto s = ledger.stats();
  EXPECT_EQ(s.available, money("7000"));
  EXPECT_EQ(s.committed, money("1000"));
  EXPECT_EQ(s.allocation_ratio, Ratio::parse("0.1").value());
  EXPECT_EQ(s.locked_by_symbol.at(sym("BTCUSDT")), money("500"));
  EXPECT_EQ(s.locked_by_symbol.at(sym("ETHUSDT")), money("300"));
  EXPECT_EQ(s.locked_by_symbol.at(sym("SOLUSDT")), money("200"));
  EXPECT_EQ(s.by_bot.at("multi").positions, 3);
}

TEST_F(LedgerTest, reservation_beyond_the_cap_is_refused_with_the_numbers) {
  auto ledger = make();
  auto held = ledger.reserve("main", "BTCUSDT", money("7999.99999999"));
  ASSERT_TRUE(held);
  auto r = ledger.reserve("multi", "ETHUSDT", money("0.00000002"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::insufficient_capital);
  EXPECT_EQ(r.error().message,
            "cannot reserve 0.00000002 for bot multi on ETHUSDT: only 0.00000001 available (cap 8000 = 0.8 of equity "
            "10000; reserved 7999.99999999, committed 0)");
  EXPECT_TRUE(ledger.reserve("multi", "ETHUSDT", money("0.00000001")));
}

TEST_F(LedgerTest, partial_fill_commits_what_was_used_and_frees_the_rest) {
  auto ledger = make();
  auto r = ledger.reserve("main", "BTCUSDT", money("1000")).value();
  auto position = r.commit(money("600"), money("2.5"));
  ASSERT_TRUE(position) << position.error().message;
  EXPECT_FALSE(r.active());
  const auto s = ledger.stats();
  EXPECT_EQ(s.committed, money("600"));
  EXPECT_EQ(s.reserved, Money::zero());
  EXPECT_EQ(s.fees, money("2.5"));
  EXPECT_EQ(s.equity, money("9997.5"));
  EXPECT_EQ(s.available, apply_ratio(money("9997.5"), Ratio::parse("0.8").value()) - money("600"));
}

TEST_F(LedgerTest, commit_larger_than_the_reservation_is_refused_and_the_reservation_stays) {
  auto ledger = make();
  auto r = ledger.reserve("main", "BTCUSDT", money("1000")).value();
  auto too_much = r.commit(money("1000.00000001"));
  ASSERT_FALSE(too_much);
  EXPECT_EQ(too_much.error().code, ErrorCode::invalid_argument);
  EXPECT_TRUE(contains(too_much.error().message, "used 1000.00000001 + fees 0 exceeds the 1000 reserved"))
      << too_much.error().message;
  auto fees_too = r.commit(money("999"), money("1.5"));
  ASSERT_FALSE(fees_too);
  EXPECT_TRUE(contains(fees_too.error().message, "reserve enough to cover fees")) << fees_too.error().message;
  EXPECT_TRUE(r.active());
  EXPECT_EQ(ledger.stats().reserved, money("1000"));
  EXPECT_TRUE(r.commit(money("999"), money("1")));
}

TEST_F(LedgerTest, dropped_reservation_cancels_itself) {
  auto ledger = make();
  {
    auto r = ledger.reserve("main", "BTCUSDT", money("1000")).value();
    EXPECT_EQ(ledger.stats().reserved, money("1000"));
  }
  const auto s = ledger.stats();
  EXPECT_EQ(s.reserved, Money::zero());
  EXPECT_EQ(s.available, money("8000"));
  EXPECT_EQ(s.open_reservations, 0);
}

TEST_F(LedgerTest, moving_a_reservation_moves_ownership_and_assigning_over_one_cancels_it) {
  LedgerOptions o;
  o.keep_journal = true;
  auto ledger = make(o);
  auto a = ledger.reserve("main", "BTCUSDT", money("100")).value();
  Reservation b = std::move(a);
  EXPECT_FALSE(a.active());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_TRUE(b.active());
  EXPECT_EQ(a.commit(money("1")).error().code, ErrorCode::conflict);
  b = ledger.reserve("main", "ETHUSDT", money("200")).value();  // the BTCUSDT one is cancelled
  const auto s = ledger.stats();
  EXPECT_EQ(s.reserved, money("200"));
  EXPECT_EQ(s.open_reservations, 1);
  const auto rows = ledger.history(10).value();
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[3].op, JournalOp::cancel);
  EXPECT_EQ(rows[3].symbol, sym("BTCUSDT"));
}

TEST_F(LedgerTest, double_commit_and_double_cancel_are_conflicts) {
  auto ledger = make();
  auto r = ledger.reserve("main", "BTCUSDT", money("100")).value();
  const auto position = r.commit(money("100")).value();
  auto again = r.commit(money("100"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::conflict);
  EXPECT_EQ(again.error().message, fmt::format("reservation 2 is already committed (position {})", position.value));
  EXPECT_EQ(r.cancel().error().message,
            fmt::format("reservation 2 is already committed (position {}); release the position instead",
                        position.value));
  auto c = ledger.reserve("main", "BTCUSDT", money("100")).value();
  EXPECT_TRUE(c.cancel());
  EXPECT_EQ(c.cancel().error().message, fmt::format("reservation {} is already cancelled", c.id().value));
  EXPECT_EQ(c.commit(money("1")).error().code, ErrorCode::conflict);
  EXPECT_EQ(ledger.stats().committed, money("100"));
  EXPECT_EQ(ledger.stats().reserved, Money::zero());
}

TEST_F(LedgerTest, bad_input_is_refused_with_a_clear_error) {
  LedgerOptions o;
  o.known_symbols = std::set<Symbol>{sym("BTCUSDT"), sym("ETHUSDT")};
  o.keep_journal = true;
  auto ledger = make(o);
  struct Case {
    Error error;
    Error expected;
  };
  auto err = [](auto&& r) { return r ? Error{} : r.error(); };
  const std::vector<Case> cases = {
      {err(ledger.reserve("main", "BTCUSDT", Money::zero())),
       {ErrorCode::invalid_argument, "cannot reserve for bot main on BTCUSDT: amount must be > 0, got 0"}},
      {err(ledger.reserve("main", "BTCUSDT", money("-5"))),
       {ErrorCode::invalid_argument, "cannot reserve for bot main on BTCUSDT: amount must be > 0, got -5"}},
      {err(ledger.reserve("main", "DOGEUSDT", money("5"))),
       {ErrorCode::invalid_argument, "cannot reserve for bot main on DOGEUSDT: not one of the ledger's 2 known symbols"}},
      {err(ledger.reserve("", "BTCUSDT", money("5"))),
       {ErrorCode::invalid_argument, "bot name must be 1 to 64 printable ASCII characters, got \"\""}},
      {err(ledger.reserve("main", Symbol(), money("5"))),
       {ErrorCode::invalid_argument, "cannot reserve for bot main: empty symbol"}},
      {err(ledger.release(PositionId{42}, money("1"))),
       {ErrorCode::not_found, "position 42 is not open (unknown, or already released)"}},
      {err(ledger.set_unrealized(PositionId{42}, money("1"))),
       {ErrorCode::not_found, "cannot mark position 42: it is not open"}},
      {err(ledger.deposit(Money::zero())), {ErrorCode::invalid_argument, "deposit amount must be > 0, got 0"}},
      {err(ledger.withdraw(money("-1"))), {ErrorCode::invalid_argument, "withdrawal amount must be > 0, got -1"}},
      {err(ledger.init(Money::zero())), {ErrorCode::invalid_argument, "initial capital must be > 0, got 0"}},
  };
  for (const auto& c : cases) EXPECT_EQ(c.error, c.expected);

  auto bad_symbol = ledger.reserve("main", "btc usdt", money("5"));
  ASSERT_FALSE(bad_symbol);
  EXPECT_EQ(bad_symbol.error().code, ErrorCode::invalid_argument);
  EXPECT_TRUE(contains(bad_symbol.error().message, "cannot reserve for bot main: invalid symbol \"btc usdt\""))
      << bad_symbol.error().message;

  auto r = ledger.reserve("main", "BTCUSDT", money("10")).value();
  auto zero = r.commit(Money::zero());
  EXPECT_EQ(zero.error().message,
            fmt::format("commit of reservation {}: used amount must be > 0, got 0 (cancel when nothing filled)",
                        r.id().value));
  // Nothing was written by any refused operation.
  EXPECT_EQ(ledger.history(100).value().size(), 2u);
}

TEST_F(LedgerTest, symbol_and_bot_caps_are_enforced_with_the_numbers) {
  LedgerOptions o;
  o.per_symbol_cap[sym("BTCUSDT")] = money("1000");
  o.per_bot_cap["scalper"] = money("500");
  auto ledger = make(o);
  auto a = ledger.reserve("main", "BTCUSDT", money("700")).value();
  auto over = ledger.reserve("multi", "BTCUSDT", money("300.00000001"));
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, ErrorCode::limit_exceeded);
  EXPECT_EQ(over.error().message,
            "cannot reserve 300.00000001 for bot multi on BTCUSDT: the symbol cap is 1000 and 700 is already reserved "
            "or committed on it");
  EXPECT_TRUE(ledger.reserve("multi", "BTCUSDT", money("300")));
  auto s1 = ledger.reserve("scalper", "ETHUSDT", money("400")).value();
  ASSERT_TRUE(s1.commit(money("400")));
  auto bot_over = ledger.reserve("scalper", "SOLUSDT", money("101"));
  ASSERT_FALSE(bot_over);
  EXPECT_EQ(bot_over.error().code, ErrorCode::limit_exceeded);
  EXPECT_EQ(bot_over.error().message,
            "cannot reserve 101 for bot scalper on SOLUSDT: the bot cap is 500 and 400 is already reserved or committed "
            "by it");
}

TEST_F(LedgerTest, daily_loss_guard_refuses_new_reservations_until_the_next_utc_day) {
  LedgerOptions o;
  o.daily_loss_limit = money("100");
  auto ledger = make(o);
  clock_.set(parse_iso8601("2024-03-05T10:00:00Z").value());
  auto r = ledger.reserve("main", "BTCUSDT", money("1000")).value();
  auto p = r.commit(money("900"), money("1")).value();
  auto open = ledger.reserve("main", "ETHUSDT", money("500")).value();
  ASSERT_TRUE(ledger.release(p, money("-99"), money("1")));  // today: -1 - 99 - 1 = -101
  auto refused = ledger.reserve("main", "SOLUSDT", money("10"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::limit_exceeded);
  EXPECT_EQ(refused.error().message,
            "daily loss limit reached: today's (2024-03-05 UTC) net PnL is -101, the limit is -100; new reservations "
            "are refused until the next UTC day");
  // Orders already in flight still settle.
  auto p2 = open.commit(money("500"));
  ASSERT_TRUE(p2);
  ASSERT_TRUE(ledger.release(*p2, money("5")));
  clock_.set(parse_iso8601("2024-03-06T00:00:00Z").value());
  EXPECT_TRUE(ledger.reserve("main", "SOLUSDT", money("10")));
  const auto s = ledger.stats();
  EXPECT_EQ(s.daily_pnl.at("2024-03-05"), money("-96"));
  EXPECT_EQ(s.today_pnl, Money::zero());
}

TEST_F(LedgerTest, drawdown_guard_refuses_new_reservations_until_equity_recovers) {
  LedgerOptions o;
  o.max_drawdown = Ratio::parse("0.1").value();
  auto ledger = make(o);
  auto p = ledger.reserve("main", "BTCUSDT", money("5000")).value().commit(money("5000")).value();
  ASSERT_TRUE(ledger.release(p, money("2000")));  // peak 12000
  auto q = ledger.reserve("main", "BTCUSDT", money("3000")).value().commit(money("3000")).value();
  ASSERT_TRUE(ledger.release(q, money("-1200")));  // equity 10800: 10 % below the peak
  auto refused = ledger.reserve("main", "ETHUSDT", money("10"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::limit_exceeded);
  EXPECT_EQ(refused.error().message,
            "max drawdown limit reached: equity 10800 is 0.1 below its peak 12000, the limit is 0.1; new reservations "
            "are refused until equity recovers");
  const auto s = ledger.stats();
  EXPECT_EQ(s.peak_equity, money("12000"));
  EXPECT_EQ(s.max_drawdown, Ratio::parse("0.1").value());
  // A deposit is not a recovery: the peak moves with it, so the 1200 shortfall stays (now
  // 1200 / 12500 = 9.6 %, under the limit again).
  ASSERT_TRUE(ledger.deposit(money("500")));
  const auto after = ledger.stats();
  EXPECT_EQ(after.peak_equity, money("12500"));
  EXPECT_EQ(after.drawdown, Ratio::parse("0.096").value());
  EXPECT_TRUE(ledger.reserve("main", "ETHUSDT", money("10")));
}

TEST_F(LedgerTest, withdrawal_that_would_break_the_cap_is_refused) {
  auto ledger = make();
  auto p = ledger.reserve("main", "BTCUSDT", money("6000")).value().commit(money("6000")).value();
  auto refused = ledger.withdraw(money("2500.00000001"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::insufficient_capital);
  EXPECT_EQ(refused.error().message,
            "cannot withdraw 2500.00000001: the cap would fall to 5999.99999999 (0.8 of equity 7499.99999999), below "
            "the 6000 reserved or committed");
  ASSERT_TRUE(ledger.withdraw(money("2500")));
  EXPECT_EQ(ledger.stats().available, Money::zero());
  EXPECT_EQ(ledger.withdraw(money("1000")).error().code, ErrorCode::insufficient_capital);
  ASSERT_TRUE(ledger.release(p, Money::zero()));
  EXPECT_EQ(ledger.withdraw(money("7500.00000001")).error().message, "cannot withdraw 7500.00000001: equity is only 7500");
  const auto s = ledger.stats();
  EXPECT_EQ(s.withdrawals, money("2500"));
  EXPECT_EQ(s.max_drawdown, Ratio::zero());  // a withdrawal is not a drawdown
}

TEST_F(LedgerTest, init_is_refused_while_anything_is_open_and_then_starts_over) {
  LedgerOptions o;
  o.keep_journal = true;
  auto ledger = make(o);
  auto r = ledger.reserve("main", "BTCUSDT", money("100")).value();
  auto refused = ledger.init(money("500"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::conflict);
  EXPECT_EQ(refused.error().message,
            "cannot re-initialise while 1 reservation(s) and 0 position(s) are open; cancel and release them first");
  auto p = r.commit(money("100")).value();
  ASSERT_TRUE(ledger.release(p, money("-20")));
  ASSERT_TRUE(ledger.init(money("500")));
  const auto s = ledger.stats();
  EXPECT_EQ(s.equity, money("500"));
  EXPECT_EQ(s.realized_pnl, Money::zero());
  EXPECT_TRUE(s.daily_pnl.empty());
  EXPECT_EQ(ledger.history(100).value().size(), 5u);  // the history stays in the journal
}

TEST_F(LedgerTest, losses_larger_than_the_position_leave_available_negative_and_refuse_new_reservations) {
  auto ledger = make();
  auto a = ledger.reserve("main", "BTCUSDT", money("4000")).value().commit(money("4000")).value();
  auto b = ledger.reserve("main", "ETHUSDT", money("4000")).value().commit(money("4000")).value();
  ASSERT_TRUE(ledger.release(a, money("-6000")));  // a leveraged loss: a fact, never refused
  const auto s = ledger.stats();
  EXPECT_EQ(s.equity, money("4000"));
  EXPECT_EQ(s.cap, money("3200"));
  EXPECT_EQ(s.available, money("-800"));
  EXPECT_EQ(ledger.reserve("main", "SOLUSDT", money("0.00000001")).error().code, ErrorCode::insufficient_capital);
  EXPECT_TRUE(ledger.release(b, Money::zero()));
}

TEST_F(LedgerTest, unrealized_marks_are_reported_but_never_change_the_cap) {
  auto ledger = make();
  auto p = ledger.reserve("main", "BTCUSDT", money("1000")).value().commit(money("1000")).value();
  ASSERT_TRUE(ledger.set_unrealized(p, money("-250")));
  ASSERT_TRUE(ledger.set_unrealized(sym("ETHUSDT"), money("40")));
  auto s = ledger.stats();
  EXPECT_EQ(s.unrealized_pnl, money("-210"));
  EXPECT_EQ(s.total_pnl, money("-210"));
  EXPECT_EQ(s.cap, money("8000"));
  ASSERT_TRUE(ledger.release(p, money("-200")));
  s = ledger.stats();
  EXPECT_EQ(s.unrealized_pnl, money("40"));  // the position's mark went with it; the symbol mark stays
  EXPECT_EQ(s.total_pnl, money("-160"));
}

TEST_F(LedgerTest, stats_carry_everything_the_original_get_stats_returned) {
  auto ledger = make();
  clock_.set(parse_iso8601("2024-01-02T12:00:00Z").value());
  auto p = ledger.reserve("main", "BTCUSDT", money("1000")).value().commit(money("990"), money("10")).value();
  ASSERT_TRUE(ledger.release(p, money("510"), money("0")));
  auto held = ledger.reserve("multi", "ETHUSDT", money("300")).value();
  const auto s = ledger.stats();
  EXPECT_EQ(s.equity, money("10500"));              // total_capital
  EXPECT_EQ(s.initial_capital, money("10000"));     // initial_capital
  EXPECT_EQ(s.available, money("8100"));            // available_capital: 8400 - 300
  EXPECT_EQ(s.locked, money("300"));                // locked_capital
  EXPECT_EQ(s.allocation_ratio, ratio_of(money("300"), money("10500")).value());
  EXPECT_EQ(s.locked_by_symbol.size(), 1u);         // locked_symbols
  EXPECT_EQ(s.realized_pnl, money("510"));
  EXPECT_EQ(s.fees, money("10"));
  EXPECT_EQ(s.total_pnl, money("500"));
  EXPECT_EQ(s.roi, Ratio::parse("0.05").value());
  EXPECT_EQ(s.peak_equity, money("10500"));         // peak_capital
  EXPECT_EQ(s.max_drawdown, ratio_of(money("10"), money("10000")).value());  // the fee, before the gain
  EXPECT_EQ(s.daily_pnl.at("2024-01-02"), money("500"));
  EXPECT_EQ(s.by_bot.at("multi").reservations, 1);
}

TEST_F(LedgerTest, invalid_options_are_refused_naming_the_field) {
  LedgerOptions o;
  o.max_allocation_ratio = Ratio::parse("1.5").value();
  auto r = CapitalLedger::in_memory(o, clock_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "max_allocation_ratio must be in (0, 1], got 1.5");
  LedgerOptions d;
  d.daily_loss_limit = money("-1");
  EXPECT_EQ(CapitalLedger::in_memory(d, clock_).error().message, "daily_loss_limit must be > 0, got -1");
}

// Durable ledger.

class DurableLedgerTest : public ::testing::Test {
 protected:
  std::filesystem::path path() const { return dir_ / "bybit.ledger.sqlite"; }
  Result<CapitalLedger> open(LedgerOptions o = {}) { return CapitalLedger::open(path(), std::move(o), clock_); }
  TempDir dir_;
  ManualClock clock_;
};

void some_history(CapitalLedger& ledger, ManualClock& clock) {
  auto a = ledger.reserve("main", "BTCUSDT", money("1000")).value();
  auto pa = a.commit(money("800"), money("0.8")).value();
  clock.advance(std::chrono::hours(30));
  auto b = ledger.reserve("multi", "ETHUSDT", money("500")).value();
  ASSERT_TRUE(ledger.release(pa, money("-42.5"), money("0.8")));
  ASSERT_TRUE(ledger.deposit(money("250.12345678")));
  auto c = ledger.reserve("multi", "SOLUSDT", money("100")).value();
  auto pc = c.commit(money("100")).value();
  (void)pc;
  b.cancel().value();
}

TEST_F(DurableLedgerTest, reopening_gives_the_state_before_close_and_the_journal_replay) {
  LedgerState before;
  {
    auto ledger = open().value();
    some_history(ledger, clock_);
    before = ledger.state();
  }
  auto reopened = open().value();
  EXPECT_EQ(reopened.state(), before);
  EXPECT_EQ(replay_journal(path()).value(), before);
  EXPECT_EQ(reopened.stats().locked, money("100"));
  EXPECT_EQ(reopened.stats().deposits, money("250.12345678"));
}

TEST_F(DurableLedgerTest, durable_and_in_memory_ledgers_agree) {
  LedgerOptions mem;
  mem.keep_journal = true;
  ManualClock clock2;
  auto memory = CapitalLedger::in_memory(mem, clock2).value();
  auto durable = open().value();
  some_history(memory, clock2);
  some_history(durable, clock_);
  EXPECT_EQ(memory.state().equity(), durable.state().equity());
  EXPECT_EQ(make_stats(memory.state(), mem, Money::zero(), clock_.now()),
            make_stats(durable.state(), mem, Money::zero(), clock_.now()));
  // Same rows apart from the owner id.
  auto m = testing::all_rows(memory);
  auto d = testing::all_rows(durable);
  ASSERT_EQ(m.size(), d.size());
  for (std::size_t i = 0; i < m.size(); ++i) {
    m[i].owner = d[i].owner = 0;
    EXPECT_EQ(m[i], d[i]) << i;
  }
}

TEST_F(DurableLedgerTest, every_change_is_one_journal_row_with_what_happened) {
  auto ledger = open().value();
  some_history(ledger, clock_);
  const auto rows = ledger.history(100).value();
  std::vector<JournalOp> ops;
  for (const auto& r : rows) ops.push_back(r.op);
  EXPECT_EQ(ops, (std::vector<JournalOp>{JournalOp::init, JournalOp::reserve, JournalOp::commit, JournalOp::reserve,
                                         JournalOp::release, JournalOp::deposit, JournalOp::reserve, JournalOp::commit,
                                         JournalOp::cancel}));
  EXPECT_EQ(rows[2].ref, rows[1].seq);
  EXPECT_EQ(rows[2].amount, money("800"));
  EXPECT_EQ(rows[4].pnl, money("-42.5"));
  EXPECT_EQ(rows[4].bot, "main");
  EXPECT_EQ(rows[1].owner, ledger.owner());
  EXPECT_EQ(ledger.history(2).value().back().op, JournalOp::cancel);
}

TEST_F(DurableLedgerTest, existing_journal_wins_over_the_options_initial_capital) {
  { auto ledger = open().value(); }
  LedgerOptions o;
  o.initial_capital = money("99");
  EXPECT_EQ(open(o).value().stats().equity, money("10000"));
}

TEST_F(DurableLedgerTest, missing_file_is_not_created_when_asked_not_to) {
  LedgerOptions o;
  o.create_if_missing = false;
  auto r = open(o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::not_found);
  EXPECT_EQ(r.error().message, "no capital ledger at " + path().string());
  EXPECT_FALSE(std::filesystem::exists(path()));
}

TEST_F(DurableLedgerTest, a_file_that_is_not_a_ledger_is_reported_and_left_untouched) {
  const std::string text = "this is not a database, it is somebody's notes\n" + std::string(5000, 'x');
  { std::ofstream(path(), std::ios::binary) << text; }
  auto r = open();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::io_error);
  EXPECT_EQ(r.error().message, path().string() +
                                   " is not a SQLite database, so not a capital ledger; it was left untouched: move it "
                                   "away or choose another --data-dir");
  EXPECT_EQ(contents(path()), text);
  EXPECT_FALSE(replay_journal(path()));
}

TEST_F(DurableLedgerTest, a_database_with_another_schema_is_reported_and_left_untouched) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE orders(id INTEGER); INSERT INTO orders VALUES(7);", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  const std::string before = contents(path());
  auto r = open();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, path().string() +
                                   " is a SQLite database but not a capital ledger (1 unrelated schema objects, no "
                                   "twinstar schema version); it was left untouched: move it away or choose another "
                                   "--data-dir");
  EXPECT_EQ(contents(path()), before);
}

TEST_F(DurableLedgerTest, a_newer_schema_version_is_refused) {
  { auto ledger = open().value(); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 7", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto r = open();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "capital ledger " + path().string() +
                                   " has schema version 7, newer than this build reads (1); it was left untouched: "
                                   "use a newer twinstar");
}

TEST_F(DurableLedgerTest, a_damaged_file_is_reported_and_left_untouched) {
  {
    auto ledger = open().value();
    some_history(ledger, clock_);
  }
  // Keep the 100-byte header, overwrite the rest of page 1 (the schema) with garbage.
  std::string bytes = contents(path());
  ASSERT_GT(bytes.size(), 4096u);
  for (std::size_t i = 100; i < 4096; ++i) bytes[i] = static_cast<char>(0xA5 ^ (i * 31));
  { std::ofstream(path(), std::ios::binary | std::ios::trunc) << bytes; }
  auto r = open();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::io_error);
  EXPECT_TRUE(contains(r.error().message, path().string())) << r.error().message;
  EXPECT_TRUE(contains(r.error().message, "left untouched")) << r.error().message;
  EXPECT_EQ(contents(path()), bytes);
}

TEST_F(DurableLedgerTest, a_locked_file_gives_unavailable_naming_the_file_and_loses_nothing) {
  LedgerOptions o;
  o.busy_timeout = 100ms;
  auto ledger = open(o).value();
  auto held = ledger.reserve("main", "BTCUSDT", money("100")).value();
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path().c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);

  auto r = ledger.reserve("main", "ETHUSDT", money("200"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::unavailable);
  EXPECT_EQ(r.error().message, "capital ledger " + path().string() +
                                   " is locked by another process (waited 100 ms to take the write lock); try again, "
                                   "or find the process holding it");
  EXPECT_EQ(held.commit(money("100")).error().code, ErrorCode::unavailable);
  EXPECT_TRUE(held.active());
  EXPECT_EQ(ledger.deposit(money("1")).error().code, ErrorCode::unavailable);

  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  ASSERT_TRUE(held.commit(money("100")));
  ASSERT_TRUE(ledger.reserve("main", "ETHUSDT", money("200")));
  EXPECT_EQ(ledger.state(), replay_journal(path()).value());
  EXPECT_EQ(ledger.stats().committed, money("100"));
}

TEST_F(DurableLedgerTest, opening_a_file_held_exclusively_gives_unavailable) {
  { auto ledger = open().value(); }
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path().c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE;", nullptr, nullptr, nullptr), SQLITE_OK);
  LedgerOptions o;
  o.busy_timeout = 50ms;
  auto r = open(o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::unavailable);
  EXPECT_TRUE(contains(r.error().message, path().string())) << r.error().message;
  sqlite3_close(other);
  EXPECT_TRUE(open(o));
}

TEST_F(DurableLedgerTest, a_dropped_reservation_whose_cancel_cannot_be_written_is_cancelled_at_the_next_change) {
  LedgerOptions o;
  o.busy_timeout = 50ms;
  auto ledger = open(o).value();
  sqlite3* other = nullptr;
  {
    auto r = ledger.reserve("main", "BTCUSDT", money("100")).value();
    ASSERT_EQ(sqlite3_open(path().c_str(), &other), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  }  // the cancel fails: locked
  EXPECT_EQ(ledger.stats().reserved, money("100"));
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  ASSERT_TRUE(ledger.deposit(money("1")));
  EXPECT_EQ(ledger.stats().reserved, Money::zero());
  const auto rows = ledger.history(2).value();
  EXPECT_EQ(rows[0].op, JournalOp::cancel);
  EXPECT_EQ(rows[1].op, JournalOp::deposit);
}

TEST_F(DurableLedgerTest, two_ledgers_on_one_file_see_and_respect_each_other) {
  auto a = open().value();
  auto b = open().value();
  auto ra = a.reserve("main", "BTCUSDT", money("5000")).value();
  auto rb = b.reserve("multi", "ETHUSDT", money("3000.00000001"));
  ASSERT_FALSE(rb);  // b applied a's reservation before checking
  EXPECT_EQ(rb.error().code, ErrorCode::insufficient_capital);
  auto pb = b.reserve("multi", "ETHUSDT", money("3000")).value().commit(money("2500")).value();
  ASSERT_TRUE(a.refresh());
  EXPECT_EQ(a.stats().locked, money("7500"));
  ASSERT_TRUE(a.release(pb, money("10")));  // a position opened by b, closed through a
  ASSERT_TRUE(b.refresh());
  EXPECT_EQ(a.state(), b.state());
  EXPECT_EQ(a.state(), replay_journal(path()).value());
}

TEST_F(DurableLedgerTest, reservations_of_a_dead_process_are_cancelled_but_a_live_ones_are_not) {
  { auto ledger = open().value(); }
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  const pid_t child = testing::spawn_helper({"hold", path().string(), "main", "BTCUSDT", "1234.5"}, out[1]);
  ::close(out[1]);
  ASSERT_GT(child, 0);
  std::string line;
  char c = 0;
  while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
  ::close(out[0]);
  ASSERT_FALSE(line.empty()) << "helper printed nothing";
  const std::int64_t held_seq = std::stoll(line);

  auto ledger = open().value();
  EXPECT_EQ(ledger.stats().reserved, money("1234.5"));  // the holder is alive: kept
  EXPECT_EQ(ledger.reap_stale_reservations().value(), 0u);

  ::kill(child, SIGKILL);
  testing::wait_exit_code(child);
  EXPECT_EQ(ledger.reap_stale_reservations().value(), 1u);
  EXPECT_EQ(ledger.stats().reserved, Money::zero());
  const auto last = ledger.history(1).value().back();
  EXPECT_EQ(last.op, JournalOp::expire);
  EXPECT_EQ(last.ref, held_seq);
  EXPECT_EQ(ledger.state(), replay_journal(path()).value());
}

TEST_F(DurableLedgerTest, full_durability_behaves_the_same) {
  LedgerOptions o;
  o.durability = Durability::full;
  {
    auto ledger = open(o).value();
    some_history(ledger, clock_);
  }
  EXPECT_EQ(open(o).value().stats().locked, money("100"));
}

// A round's reservations in one call: each checked against what the earlier ones left, refused
// alone, one transaction on disk; the same answers in memory.
TEST_F(LedgerTest, reserve_all_checks_each_against_the_earlier_ones_and_writes_one_transaction) {
  TempDir dir;
  LedgerOptions o;
  o.initial_capital = money("10000");  // cap 8000
  auto durable = CapitalLedger::open(dir / "ledger.sqlite", o, clock_);
  ASSERT_TRUE(durable) << durable.error().message;
  auto memory = make(o);
  const std::vector<CapitalLedger::ReserveRequest> round = {
      {sym("BTCUSDT"), money("5000")}, {sym("ETHUSDT"), money("2500")},
      {sym("SOLUSDT"), money("1000")},  // 8500 > 8000: refused, alone
      {sym("XRPUSDT"), money("500")},   // still fits: 8000
      {sym("ADAUSDT"), money("0")},     // bad argument: refused before any write
  };
  for (CapitalLedger* ledger : {&*durable, &memory}) {
    const auto before = ledger->io_stats();
    auto got = ledger->reserve_all("multi", round);
    ASSERT_EQ(got.size(), round.size());
    EXPECT_TRUE(got[0]);
    EXPECT_TRUE(got[1]);
    ASSERT_FALSE(got[2]);
    EXPECT_EQ(got[2].error().code, ErrorCode::insufficient_capital);
    EXPECT_TRUE(got[3]);
    ASSERT_FALSE(got[4]);
    EXPECT_EQ(got[4].error().code, ErrorCode::invalid_argument);
    EXPECT_EQ(got[0]->symbol(), sym("BTCUSDT"));
    EXPECT_EQ(got[3]->amount(), money("500"));
    EXPECT_EQ(ledger->stats().reserved, money("8000"));
    if (ledger == &*durable) {
      EXPECT_EQ(ledger->io_stats().transactions - before.transactions, 1);
      EXPECT_EQ(ledger->io_stats().rows_written - before.rows_written, 3);
    }
    // Each is an ordinary reservation.
    ASSERT_TRUE(got[1]->cancel());
    ASSERT_TRUE(got[0]->commit(money("4990")));
    EXPECT_EQ(ledger->stats().reserved, money("500"));
  }
  // What the file holds replays to what the durable ledger says.
  auto replayed = replay_journal(dir / "ledger.sqlite");
  ASSERT_TRUE(replayed) << replayed.error().message;
  EXPECT_EQ(replayed->last_seq(), durable->last_seq());
}

}  // namespace
}  // namespace twinstar
