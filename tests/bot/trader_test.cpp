// The order lifecycle against an in-memory ledger, a manual clock, and either the backtest
// venue (fills) or a scripted fake venue (rejections, partial fills, silence).

#include "bot/trader.hpp"

#include <deque>
#include <filesystem>
#include <random>
#include <unistd.h>

#include <gtest/gtest.h>

#include "backtest/backtest_venue.hpp"

namespace twinstar {
namespace {

using namespace std::chrono;

Price px(const char* s) { return *Price::parse(s); }
Money usd(const char* s) { return *Money::parse(s); }
const Symbol kBtc = *Symbol::parse("BTCUSDT");
const Symbol kEth = *Symbol::parse("ETHUSDT");

Candle bar(int hour, const char* o, const char* h, const char* l, const char* c) {
  Candle k;
  k.open_time = TimestampMs(sys_days(year(2024) / 3 / 1) + hours(hour));
  k.open = px(o);
  k.high = px(h);
  k.low = px(l);
  k.close = px(c);
  k.volume = Quantity::from_units(1);
  k.closed = true;
  return k;
}

Signal signal(const Symbol& s, Side side, const char* entry, std::optional<const char*> stop, std::optional<const char*> take,
              int hour = 0) {
  Signal g;
  g.symbol = s;
  g.side = side;
  g.strength = 0.5;
  g.entry = px(entry);
  if (stop) g.stop_loss = px(*stop);
  if (take) g.take_profit = px(*take);
  g.time = TimestampMs(sys_days(year(2024) / 3 / 1) + hours(hour));
  g.reason = "test";
  return g;
}

LedgerOptions ledger_options() {
  LedgerOptions o;
  o.initial_capital = usd("10000");
  return o;
}

TraderOptions fixed_1000(const char* bot = "single") {
  TraderOptions o;
  o.bot = bot;
  o.sizing.mode = SizingMode::fixed_quote;
  o.sizing.fixed_amount = usd("1000");
  o.sizing.lot_size = *Quantity::parse("0.001");
  o.reserve_buffer = Ratio::zero();
  return o;
}

// Drives a trader and a backtest venue the way the backtest engine does.
struct Rig {
  ManualClock clock{Timestamp(sys_days(year(2024) / 3 / 1))};
  CapitalLedger ledger = *CapitalLedger::in_memory(ledger_options(), clock);
  BacktestVenue venue;
  Trader trader;
  explicit Rig(TraderOptions o, FillModel model = {}) : venue(model, clock), trader(std::move(o), ledger, venue, clock) {}
  void deliver() {
    for (const auto& u : venue.drain()) trader.on_order_update(u);
  }
  void candle(const Symbol& s, const Candle& c) {
    clock.set(Timestamp(c.open_time) + hours(1));
    venue.on_candle(s, c);
    deliver();
    trader.on_candle(s, c);
    deliver();
  }
  void act(const Signal& s) {
    (void)trader.on_signal(s);
    deliver();
  }
};

TEST(Trader, enters_at_next_open_and_takes_profit_at_its_level) {
  FillModel model;
  model.commission = *Ratio::parse("0.001");
  auto options = fixed_1000();
  options.reserve_buffer = *Ratio::parse("0.02");  // room for the next open to differ, and the fees
  Rig r(options, model);
  r.candle(kBtc, bar(0, "50000", "50500", "49500", "50000"));
  r.act(signal(kBtc, Side::buy, "50000", "48000", "52000"));
  // 1000 / 50000 = 0.02 BTC at the signal price, plus the 2 % buffer.
  EXPECT_EQ(r.ledger.stats().reserved, usd("1020"));
  r.candle(kBtc, bar(1, "50100", "51000", "50000", "50900"));  // entry fills at 50100
  ASSERT_TRUE(r.trader.has_position(kBtc));
  const auto& p = r.trader.positions().at(kBtc);
  EXPECT_EQ(p.entry_price, px("50100"));
  EXPECT_EQ(p.quantity, *Quantity::parse("0.02"));
  auto s = r.ledger.stats();
  EXPECT_EQ(s.reserved, Money::zero());
  EXPECT_EQ(s.committed, usd("1002"));  // 0.02 × 50100
  EXPECT_EQ(s.fees, usd("1.002"));     // 0.1 % commission on entry
  EXPECT_EQ(r.trader.stats().commit_shortfalls, 0u);
  r.candle(kBtc, bar(2, "50900", "52500", "50800", "52400"));  // touches 52000: take profit at the level
  ASSERT_FALSE(r.trader.has_position(kBtc));
  ASSERT_EQ(r.trader.trades().size(), 1u);
  const TradeRecord& t = r.trader.trades()[0];
  EXPECT_EQ(t.exit_purpose, OrderPurpose::take_profit);
  EXPECT_EQ(t.exit_price, px("52000"));
  EXPECT_EQ(t.gross_pnl, usd("38"));       // 0.02 × (52000 - 50100)
  EXPECT_EQ(t.fees, usd("2.042"));         // 1.002 + 1.04
  EXPECT_EQ(t.pnl, usd("35.958"));
  s = r.ledger.stats();
  EXPECT_EQ(s.committed, Money::zero());
  EXPECT_EQ(s.equity, usd("10035.958"));
}

TEST(Trader, a_bar_touching_both_levels_takes_the_stop_first_by_default) {
  Rig r(fixed_1000());
  r.candle(kBtc, bar(0, "100", "101", "99", "100"));
  r.act(signal(kBtc, Side::buy, "100", "95", "105"));
  r.candle(kBtc, bar(1, "100", "100", "100", "100"));
  r.candle(kBtc, bar(2, "100", "106", "94", "100"));
  ASSERT_EQ(r.trader.trades().size(), 1u);
  EXPECT_EQ(r.trader.trades()[0].exit_purpose, OrderPurpose::stop_loss);
  EXPECT_EQ(r.trader.trades()[0].exit_price, px("95"));

  auto o = fixed_1000();
  o.both_touched = BothTouched::take_profit_first;
  Rig optimistic(o);
  optimistic.candle(kBtc, bar(0, "100", "101", "99", "100"));
  optimistic.act(signal(kBtc, Side::buy, "100", "95", "105"));
  optimistic.candle(kBtc, bar(1, "100", "100", "100", "100"));
  optimistic.candle(kBtc, bar(2, "100", "106", "94", "100"));
  EXPECT_EQ(optimistic.trader.trades()[0].exit_purpose, OrderPurpose::take_profit);
}

TEST(Trader, a_gap_through_the_stop_fills_at_the_open) {
  Rig r(fixed_1000());
  r.candle(kBtc, bar(0, "100", "101", "99", "100"));
  r.act(signal(kBtc, Side::buy, "100", "95", "105"));
  r.candle(kBtc, bar(1, "100", "100", "100", "100"));
  r.candle(kBtc, bar(2, "90", "92", "89", "91"));  // opened below the 95 stop
  ASSERT_EQ(r.trader.trades().size(), 1u);
  EXPECT_EQ(r.trader.trades()[0].exit_price, px("90"));
  EXPECT_EQ(r.trader.trades()[0].gross_pnl, usd("-100"));  // 10 units × -10
}

TEST(Trader, ledger_refusal_sends_nothing) {
  auto o = fixed_1000();
  o.sizing.fixed_amount = usd("9000");  // above the 8000 cap (80 % of 10000)
  Rig r(o);
  r.candle(kBtc, bar(0, "100", "101", "99", "100"));
  auto sent = r.trader.on_signal(signal(kBtc, Side::buy, "100", std::nullopt, std::nullopt));
  // Sizing caps the budget at what is available, so it asks for 8000, which fits exactly.
  ASSERT_TRUE(sent) << sent.error().message;
  EXPECT_EQ(r.ledger.stats().reserved, usd("8000"));
  auto second = r.trader.on_signal(signal(kEth, Side::buy, "100", std::nullopt, std::nullopt));
  ASSERT_FALSE(second);  // max_positions = 1
  EXPECT_EQ(second.error().code, ErrorCode::limit_exceeded);
}

TEST(Trader, long_only_ignores_a_sell_when_flat_and_closes_on_it_when_long) {
  Rig r(fixed_1000());
  r.candle(kBtc, bar(0, "100", "101", "99", "100"));
  EXPECT_FALSE(r.trader.on_signal(signal(kBtc, Side::sell, "100", std::nullopt, std::nullopt)));
  r.act(signal(kBtc, Side::buy, "100", std::nullopt, std::nullopt));
  r.candle(kBtc, bar(1, "100", "110", "100", "110"));
  r.act(signal(kBtc, Side::sell, "110", std::nullopt, std::nullopt, 1));
  r.candle(kBtc, bar(2, "111", "112", "110", "111"));
  ASSERT_EQ(r.trader.trades().size(), 1u);
  EXPECT_EQ(r.trader.trades()[0].exit_price, px("111"));
  EXPECT_FALSE(r.trader.has_position(kBtc));  // long-only: no short after the exit
}

TEST(Trader, an_opposite_signal_reverses_when_shorts_are_allowed) {
  auto o = fixed_1000();
  o.allow_short = true;
  Rig r(o);
  r.candle(kBtc, bar(0, "100", "101", "99", "100"));
  r.act(signal(kBtc, Side::buy, "100", std::nullopt, std::nullopt));
  r.candle(kBtc, bar(1, "100", "100", "100", "100"));
  r.act(signal(kBtc, Side::sell, "100", std::nullopt, std::nullopt, 1));
  r.candle(kBtc, bar(2, "120", "120", "120", "120"));  // the exit fills at 120, the short opens, and fills next open
  ASSERT_EQ(r.trader.trades().size(), 1u);
  EXPECT_EQ(r.trader.trades()[0].gross_pnl, usd("200"));
  r.candle(kBtc, bar(3, "110", "110", "110", "110"));
  ASSERT_TRUE(r.trader.has_position(kBtc));
  EXPECT_EQ(r.trader.positions().at(kBtc).side, Side::sell);
  r.act(signal(kBtc, Side::buy, "110", std::nullopt, std::nullopt, 3));
  r.candle(kBtc, bar(4, "100", "100", "100", "100"));  // the short covers at 100
  ASSERT_GE(r.trader.trades().size(), 2u);
  EXPECT_EQ(r.trader.trades()[1].side, Side::sell);
  EXPECT_GT(r.trader.trades()[1].gross_pnl, Money::zero());
}

// A venue that answers as a test script says.
struct ScriptedVenue final : OrderGateway {
  std::vector<OrderRequest> submitted;
  std::vector<std::string> cancelled;
  Status submit(const OrderRequest& r) override {
    submitted.push_back(r);
    return {};
  }
  Status cancel(const std::string& id, const Symbol&) override {
    cancelled.push_back(id);
    return {};
  }
};

struct FakeRig {
  ManualClock clock{Timestamp(sys_days(year(2024) / 3 / 1))};
  CapitalLedger ledger = *CapitalLedger::in_memory(ledger_options(), clock);
  ScriptedVenue venue;
  SymbolClaims claims;
  Trader trader;
  explicit FakeRig(TraderOptions o = fixed_1000()) : trader(std::move(o), ledger, venue, clock, &claims) {}
  OrderUpdate update(OrderStatus status, const char* filled = "0", const char* price = "0", const char* fees = "0") {
    return OrderUpdate{venue.submitted.back().client_id, status, *Quantity::parse(filled), px(price), usd(fees), clock.now(), "venue says no"};
  }
};

TEST(Trader, a_rejection_frees_the_reservation) {
  FakeRig r;
  ASSERT_TRUE(r.trader.on_signal(signal(kBtc, Side::buy, "100", std::nullopt, std::nullopt)));
  EXPECT_EQ(r.ledger.stats().reserved, usd("1000"));
  r.trader.on_order_update(r.update(OrderStatus::rejected));
  EXPECT_EQ(r.ledger.stats().reserved, Money::zero());
  EXPECT_EQ(r.trader.stats().entries_unfilled, 1u);
  EXPECT_FALSE(r.claims.holder(kBtc));
}

TEST(Trader, a_silent_venue_times_out_and_the_cancel_frees_the_reservation) {
  FakeRig r;
  ASSERT_TRUE(r.trader.on_signal(signal(kBtc, Side::buy, "100", std::nullopt, std::nullopt)));
  r.clock.advance(seconds(29));
  r.trader.on_time(r.clock.now());
  EXPECT_TRUE(r.venue.cancelled.empty());
  r.clock.advance(seconds(1));
  r.trader.on_time(r.clock.now());
  ASSERT_EQ(r.venue.cancelled.size(), 1u);
  r.trader.on_order_update(r.update(OrderStatus::cancelled));
  EXPECT_EQ(r.ledger.stats().reserved, Money::zero());
  EXPECT_EQ(r.trader.stats().timeouts, 1u);
}

TEST(Trader, a_partial_fill_then_cancel_commits_only_what_filled) {
  FakeRig r;
  ASSERT_TRUE(r.trader.on_signal(signal(kBtc, Side::buy, "100", std::nullopt, std::nullopt)));
  r.trader.on_order_update(r.update(OrderStatus::partially_filled, "4", "100", "0.4"));
  EXPECT_FALSE(r.trader.has_position(kBtc));  // committed once, when the order ends
  r.trader.on_order_update(r.update(OrderStatus::cancelled, "4", "100", "0.4"));
  ASSERT_TRUE(r.trader.has_position(kBtc));
  EXPECT_EQ(r.trader.positions().at(kBtc).quantity, *Quantity::parse("4"));
  auto s = r.ledger.stats();
  EXPECT_EQ(s.reserved, Money::zero());
  EXPECT_EQ(s.committed, usd("400"));
}

TEST(Trader, partial_exits_book_pnl_once_the_position_is_flat) {
  FakeRig r;
  ASSERT_TRUE(r.trader.on_signal(signal(kBtc, Side::buy, "100", std::nullopt, std::nullopt)));
  r.trader.on_order_update(r.update(OrderStatus::filled, "10", "100"));
  ASSERT_TRUE(r.trader.close(kBtc, OrderPurpose::exit_signal));
  r.trader.on_order_update(r.update(OrderStatus::partially_filled, "4", "110"));
  r.trader.on_order_update(r.update(OrderStatus::filled, "10", "111.2", "1"));  // the other 6 at 112
  ASSERT_EQ(r.trader.trades().size(), 1u);
  EXPECT_EQ(r.trader.trades()[0].gross_pnl, usd("112"));  // 4 × 10 + 6 × 12
  EXPECT_EQ(r.trader.trades()[0].exit_price, px("111.2"));
  EXPECT_EQ(r.ledger.stats().equity, usd("10111"));
}

TEST(Trader, another_bots_symbol_is_off_limits) {
  ManualClock clock;
  CapitalLedger ledger = *CapitalLedger::in_memory(ledger_options(), clock);
  ScriptedVenue venue;
  SymbolClaims claims;
  Trader single(fixed_1000("single"), ledger, venue, clock, &claims);
  Trader multi(fixed_1000("multi"), ledger, venue, clock, &claims);
  ASSERT_TRUE(single.on_signal(signal(kBtc, Side::buy, "100", std::nullopt, std::nullopt)));
  auto refused = multi.on_signal(signal(kBtc, Side::buy, "100", std::nullopt, std::nullopt));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, "BTCUSDT is held by single");
  EXPECT_TRUE(multi.on_signal(signal(kEth, Side::buy, "100", std::nullopt, std::nullopt)));
}

// A round through on_signals() must act exactly as the same signals through on_signal() one after
// the other (the reference): same orders, same answers, same reservations. Random rounds over a
// book that already holds positions (so closes and reversals are in them), with capital tight
// enough that sizing shrinks and the ledger refuses mid-round.
struct RoundRig {
  ManualClock clock{Timestamp(sys_days(year(2024) / 3 / 1))};
  CapitalLedger ledger;
  ScriptedVenue venue;
  SymbolClaims claims;
  Trader trader;
  RoundRig(TraderOptions o, LedgerOptions lo) : ledger(*CapitalLedger::in_memory(lo, clock)), trader(std::move(o), ledger, venue, clock, &claims) {}
  void fill_last(const char* price) {
    const auto& r = venue.submitted.back();
    trader.on_order_update(OrderUpdate{r.client_id, OrderStatus::filled, r.quantity, px(price), Money::zero(), clock.now(), ""});
  }
};

std::string describe(const Result<std::string>& r) {
  return r ? "sent " + *r : fmt::format("refused {}: {}", static_cast<int>(r.error().code), r.error().message);
}

TEST(Trader, a_round_of_signals_acts_as_the_same_signals_one_by_one) {
  std::mt19937_64 rng(20261203);
  std::vector<Symbol> symbols;
  for (const char* n : {"AAAUSDT", "BBBUSDT", "CCCUSDT", "DDDUSDT", "EEEUSDT", "FFFUSDT", "GGGUSDT", "HHHUSDT"}) {
    symbols.push_back(*Symbol::parse(n));
  }
  for (int round = 0; round < 200; ++round) {
    TraderOptions o = fixed_1000("multi");
    o.sizing.mode = rng() % 2 ? SizingMode::percent_available : SizingMode::fixed_quote;
    o.sizing.fraction = Ratio::from_raw(static_cast<std::int64_t>(10'000'000 + rng() % 40'000'000));
    o.sizing.fixed_amount = Money::from_units(static_cast<std::int64_t>(500 + rng() % 3000));
    o.sizing.min_notional = usd("200");
    o.max_positions = 2 + rng() % 5;
    o.allow_short = rng() % 2;
    o.reserve_buffer = Ratio::from_raw(2'000'000);
    LedgerOptions lo = ledger_options();
    lo.max_allocation_ratio = Ratio::from_raw(static_cast<std::int64_t>(30'000'000 + rng() % 60'000'000));
    RoundRig batch(o, lo), reference(o, lo);
    // The same book in both: a few positions opened and filled one by one.
    const std::size_t held = rng() % 3;
    for (std::size_t k = 0; k < held; ++k) {
      const Signal open = signal(symbols[k], Side::buy, "100", std::nullopt, std::nullopt);
      for (RoundRig* r : {&batch, &reference}) {
        if (r->trader.on_signal(open)) r->fill_last("100");
      }
    }
    std::vector<Signal> round_signals;
    const std::size_t n = 1 + rng() % 8;
    for (std::size_t k = 0; k < n; ++k) {
      Signal g = signal(symbols[rng() % symbols.size()], rng() % 3 ? Side::buy : Side::sell, rng() % 2 ? "100" : "37.5",
                        std::nullopt, std::nullopt, 1);
      g.strength = static_cast<double>(rng() % 100) / 100;
      round_signals.push_back(g);
    }
    const std::size_t before = batch.venue.submitted.size();
    ASSERT_EQ(before, reference.venue.submitted.size());
    auto got = batch.trader.on_signals(round_signals);
    ASSERT_EQ(got.size(), round_signals.size());
    for (std::size_t k = 0; k < round_signals.size(); ++k) {
      EXPECT_EQ(describe(got[k]), describe(reference.trader.on_signal(round_signals[k]))) << "round " << round << " signal " << k;
    }
    ASSERT_EQ(batch.venue.submitted.size(), reference.venue.submitted.size()) << "round " << round;
    for (std::size_t k = before; k < batch.venue.submitted.size(); ++k) {
      const auto& a = batch.venue.submitted[k];
      const auto& b = reference.venue.submitted[k];
      EXPECT_EQ(a.client_id, b.client_id);
      EXPECT_EQ(a.symbol, b.symbol);
      EXPECT_EQ(a.side, b.side);
      EXPECT_EQ(a.quantity, b.quantity) << "round " << round << " order " << k;
      EXPECT_EQ(a.reduce_only, b.reduce_only);
    }
    EXPECT_EQ(batch.ledger.stats().reserved, reference.ledger.stats().reserved) << "round " << round;
    EXPECT_EQ(batch.trader.open_count(), reference.trader.open_count());
    EXPECT_EQ(batch.trader.stats().ledger_refusals, reference.trader.stats().ledger_refusals);
    EXPECT_EQ(batch.trader.stats().sizing_refusals, reference.trader.stats().sizing_refusals);
  }
}

// What the batch buys: a round's entries cost one ledger transaction, and the gateway sees them
// between begin_batch() and end_batch().
TEST(Trader, a_rounds_entries_share_one_durable_ledger_transaction) {
  struct BatchingVenue final : OrderGateway {
    int open_batches = 0;
    std::vector<bool> submitted_in_batch;
    Status submit(const OrderRequest&) override {
      submitted_in_batch.push_back(open_batches > 0);
      return {};
    }
    Status cancel(const std::string&, const Symbol&) override { return {}; }
    void begin_batch() override { ++open_batches; }
    void end_batch() override { --open_batches; }
  };
  const auto dir = std::filesystem::temp_directory_path() / ("twinstar-trader-round-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    ManualClock clock{Timestamp(sys_days(year(2024) / 3 / 1))};
    auto ledger = CapitalLedger::open(dir / "ledger.sqlite", ledger_options(), clock);
    ASSERT_TRUE(ledger) << ledger.error().message;
    BatchingVenue venue;
    TraderOptions o = fixed_1000("multi");
    o.max_positions = 10;
    Trader trader(o, *ledger, venue, clock);
    std::vector<Signal> round;
    for (const char* n : {"AAAUSDT", "BBBUSDT", "CCCUSDT", "DDDUSDT", "EEEUSDT"}) {
      round.push_back(signal(*Symbol::parse(n), Side::buy, "100", std::nullopt, std::nullopt));
    }
    const auto before = ledger->io_stats();
    auto sent = trader.on_signals(round);
    for (const auto& r : sent) EXPECT_TRUE(r) << r.error().message;
    const auto after = ledger->io_stats();
    EXPECT_EQ(after.transactions - before.transactions, 1);
    EXPECT_EQ(after.rows_written - before.rows_written, 5);
    EXPECT_EQ(ledger->stats().reserved, usd("5000"));
    EXPECT_EQ(venue.submitted_in_batch, std::vector<bool>(5, true));
    EXPECT_EQ(venue.open_batches, 0);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace twinstar
