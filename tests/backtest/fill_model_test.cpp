// Hand-computed small cases for every fill-model rule, run through the whole engine
// (run_backtest → SingleBot → Trader → ledger → BacktestVenue) with a scripted strategy, so
// each expected price, quantity and fee below was worked out by hand from the bars.

#include <gtest/gtest.h>

#include "backtest/engine.hpp"

namespace twinstar {
namespace {

using namespace std::chrono;

Price px(const char* s) { return *Price::parse(s); }
Money usd(const char* s) { return *Money::parse(s); }
Quantity qty(const char* s) { return *Quantity::parse(s); }
const Symbol kSym = *Symbol::parse("TESTUSDT");
const SeriesKey kKey{Exchange::binance, Market::spot, kSym, Interval::h1};

TimestampMs hour(int h) { return TimestampMs(sys_days(year(2024) / 3 / 1) + hours(h)); }

Candle bar(int h, const char* o, const char* hi, const char* lo, const char* c) {
  Candle k;
  k.open_time = hour(h);
  k.open = px(o);
  k.high = px(hi);
  k.low = px(lo);
  k.close = px(c);
  k.volume = Quantity::from_units(1);
  k.closed = true;
  return k;
}

struct Scripted {
  Side side;
  std::optional<const char*> stop, take;
};

// Emits the scripted signal at the close of bar i (entry = that close).
class ScriptedStrategy final : public Strategy {
 public:
  explicit ScriptedStrategy(std::map<int, Scripted> script) : script_(std::move(script)) {}
  std::optional<Signal> on_candle(const Symbol& symbol, const Candle& c) override {
    auto it = script_.find(bar_++);
    if (it == script_.end()) return std::nullopt;
    Signal s;
    s.symbol = symbol;
    s.side = it->second.side;
    s.strength = 1;
    s.entry = c.close;
    if (it->second.stop) s.stop_loss = px(*it->second.stop);
    if (it->second.take) s.take_profit = px(*it->second.take);
    s.time = c.open_time;
    s.reason = "scripted";
    return s;
  }
  std::unique_ptr<Strategy> clone_fresh() const override { return std::make_unique<ScriptedStrategy>(script_); }
  std::string_view name() const noexcept override { return "scripted"; }
  StrategyParams params() const override { return {}; }
  std::size_t warmup() const noexcept override { return 0; }

 private:
  std::map<int, Scripted> script_;
  int bar_ = 0;
};

TraderOptions fixed(const char* amount, const char* lot = "0.001") {
  TraderOptions o;
  o.bot = "single";
  o.sizing.mode = SizingMode::fixed_quote;
  o.sizing.fixed_amount = usd(amount);
  o.sizing.lot_size = qty(lot);
  o.allow_short = false;
  o.order_timeout = hours(24 * 365);
  return o;
}

struct Run {
  std::vector<Candle> bars;
  std::map<int, Scripted> script;
  TraderOptions trader = fixed("1040");
  BacktestOptions options = [] {
    BacktestOptions o;
    o.ledger.initial_capital = usd("10000");
    return o;
  }();

  BacktestResult go() const {
    auto make = [&](CapitalLedger& ledger, OrderGateway& gateway, Clock& clock, SymbolClaims& claims) {
      std::vector<std::unique_ptr<Bot>> bots;
      bots.push_back(std::make_unique<SingleBot>(kKey, std::make_unique<ScriptedStrategy>(script), trader, ledger, gateway,
                                                 clock, &claims));
      return bots;
    };
    auto r = run_backtest({SeriesData{kKey, bars}}, make, options);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : BacktestResult{};
  }
};

// b1 closes at 104 (buy), b2 closes at 107 (sell), b3 opens at 110.
Run round_trip() {
  Run r;
  r.bars = {bar(0, "100", "100", "100", "100"), bar(1, "102", "104", "102", "104"), bar(2, "105", "108", "105", "107"),
            bar(3, "110", "111", "109", "109")};
  r.script = {{1, {Side::buy}}, {2, {Side::sell}}};
  return r;
}

TEST(FillModel, market_orders_fill_at_the_next_open_by_default) {
  const auto res = round_trip().go();
  ASSERT_EQ(res.trades.size(), 1u);
  const auto& t = res.trades[0];
  EXPECT_EQ(t.quantity, qty("10"));  // 1040 / 104 at the signal price
  EXPECT_EQ(t.entry_price, px("105"));
  EXPECT_EQ(t.exit_price, px("110"));
  EXPECT_EQ(t.entry_time, Timestamp(hour(2)));  // the next bar's open
  EXPECT_EQ(t.exit_time, Timestamp(hour(3)));
  EXPECT_EQ(t.gross_pnl, usd("50"));  // 10 × (110 - 105)
  EXPECT_EQ(t.exit_purpose, OrderPurpose::exit_signal);
}

TEST(FillModel, signal_close_fills_at_the_close_of_the_signal_bar) {
  auto run = round_trip();
  run.options.fill.market = FillModel::Market::signal_close;
  const auto res = run.go();
  ASSERT_EQ(res.trades.size(), 1u);
  const auto& t = res.trades[0];
  EXPECT_EQ(t.entry_price, px("104"));
  EXPECT_EQ(t.exit_price, px("107"));
  EXPECT_EQ(t.entry_time, Timestamp(hour(2)));  // b1's close = b2's open time
  EXPECT_EQ(t.gross_pnl, usd("30"));  // 10 × (107 - 104)
}

TEST(FillModel, commission_is_charged_on_the_entry_and_the_exit_notional) {
  auto run = round_trip();
  run.options.fill.commission = *Ratio::parse("0.001");
  const auto res = run.go();
  ASSERT_EQ(res.trades.size(), 1u);
  const auto& t = res.trades[0];
  EXPECT_EQ(t.fees, usd("2.15"));  // 0.001 × 1050 + 0.001 × 1100
  EXPECT_EQ(t.pnl, usd("47.85"));  // 50 - 2.15
  EXPECT_EQ(res.metrics.commissions, usd("2.15"));
  EXPECT_EQ(res.metrics.equity_final, usd("10047.85"));
  EXPECT_EQ(res.ledger.equity, usd("10047.85"));
}

TEST(FillModel, fixed_and_relative_slippage_always_cost_the_trader) {
  auto fixed_slip = round_trip();
  fixed_slip.options.fill.slippage_fixed = px("0.5");
  auto a = fixed_slip.go();
  ASSERT_EQ(a.trades.size(), 1u);
  EXPECT_EQ(a.trades[0].entry_price, px("105.5"));  // a buy pays more
  EXPECT_EQ(a.trades[0].exit_price, px("109.5"));   // a sell gets less
  EXPECT_EQ(a.trades[0].gross_pnl, usd("40"));

  auto relative = round_trip();
  relative.options.fill.slippage_relative = *Ratio::parse("0.01");
  auto b = relative.go();
  ASSERT_EQ(b.trades.size(), 1u);
  EXPECT_EQ(b.trades[0].entry_price, px("106.05"));  // 105 × 1.01
  EXPECT_EQ(b.trades[0].exit_price, px("108.9"));    // 110 × 0.99
  EXPECT_EQ(b.trades[0].gross_pnl, usd("28.5"));     // 10 × 2.85
}

// Long at b1's open of 100 with a stop at 95 and a take-profit at 110; b2 is the test bar.
Run bracket(Candle b2) {
  Run r;
  r.trader = fixed("1000");
  r.bars = {bar(0, "100", "100", "100", "100"), bar(1, "100", "101", "99", "100"), b2, bar(3, "97", "98", "96", "97")};
  r.script = {{0, {Side::buy, "95", "110"}}};
  r.options.end = EndOfRun::report_open;
  return r;
}

TEST(FillModel, stops_and_targets_are_checked_against_the_bar_high_and_low) {
  auto stop = bracket(bar(2, "100", "101", "94", "96")).go();
  ASSERT_EQ(stop.trades.size(), 1u);
  EXPECT_EQ(stop.trades[0].exit_purpose, OrderPurpose::stop_loss);
  EXPECT_EQ(stop.trades[0].exit_price, px("95"));  // at the level, inside b2
  EXPECT_EQ(stop.trades[0].exit_time, Timestamp(hour(3)));  // decided at b2's close
  EXPECT_EQ(stop.trades[0].gross_pnl, usd("-50"));  // 10 × (95 - 100)

  auto take = bracket(bar(2, "100", "111", "99", "109")).go();
  ASSERT_EQ(take.trades.size(), 1u);
  EXPECT_EQ(take.trades[0].exit_purpose, OrderPurpose::take_profit);
  EXPECT_EQ(take.trades[0].exit_price, px("110"));

  auto gap = bracket(bar(2, "93", "94", "92", "93")).go();  // opened below the stop
  ASSERT_EQ(gap.trades.size(), 1u);
  EXPECT_EQ(gap.trades[0].exit_price, px("93"));
}

TEST(FillModel, a_bar_touching_both_levels_takes_the_stated_one) {
  const Candle both = bar(2, "100", "111", "94", "100");
  auto pessimistic = bracket(both).go();  // stop_first is the default
  ASSERT_EQ(pessimistic.trades.size(), 1u);
  EXPECT_EQ(pessimistic.trades[0].exit_purpose, OrderPurpose::stop_loss);
  EXPECT_EQ(pessimistic.trades[0].exit_price, px("95"));
  EXPECT_NE(pessimistic.fill_model.find("a bar touching both takes the stop-loss"), std::string::npos);

  auto run = bracket(both);
  run.options.fill.both_touched = BothTouched::take_profit_first;
  auto optimistic = run.go();
  ASSERT_EQ(optimistic.trades.size(), 1u);
  EXPECT_EQ(optimistic.trades[0].exit_purpose, OrderPurpose::take_profit);
  EXPECT_EQ(optimistic.trades[0].exit_price, px("110"));
  EXPECT_NE(optimistic.fill_model.find("a bar touching both takes the take-profit"), std::string::npos);
}

TEST(FillModel, exits_at_next_open_fill_after_the_bar_that_touched_the_level) {
  auto run = bracket(bar(2, "100", "101", "94", "96"));
  run.options.fill.exits = FillModel::Exit::next_open;
  auto res = run.go();
  ASSERT_EQ(res.trades.size(), 1u);
  EXPECT_EQ(res.trades[0].exit_purpose, OrderPurpose::stop_loss);
  EXPECT_EQ(res.trades[0].exit_price, px("97"));  // b3's open
}

TEST(FillModel, quantities_round_down_to_the_lot_and_respect_the_minimum_notional) {
  auto lots = round_trip();
  lots.trader = fixed("1000", "0.5");  // 1000 / 104 = 9.615... → 9.5
  auto a = lots.go();
  ASSERT_EQ(a.trades.size(), 1u);
  EXPECT_EQ(a.trades[0].quantity, qty("9.5"));

  auto whole = round_trip();
  whole.trader = fixed("100", "1");  // 100 / 104 < 1 unit: nothing to trade
  EXPECT_TRUE(whole.go().trades.empty());

  auto small = round_trip();
  small.trader = fixed("1040");
  small.trader.sizing.min_notional = usd("2000");
  EXPECT_TRUE(small.go().trades.empty());
}

// All-in: 100 % of what the ledger has available (cap 100 %), less the 2 % reservation buffer.
Run all_in(FillModel::SizeAt size_at) {
  Run r;
  r.bars = {bar(0, "100", "100", "100", "100"), bar(1, "98", "99", "97", "98"), bar(2, "98", "99", "97", "98")};
  r.script = {{0, {Side::buy}}};
  r.trader.sizing.mode = SizingMode::percent_available;
  r.trader.sizing.fraction = Ratio::from_units(1);
  r.trader.sizing.lot_size = qty("0.0001");
  r.options.ledger.max_allocation_ratio = Ratio::from_units(1);
  r.options.fill.size_at = size_at;
  return r;
}

TEST(FillModel, a_fraction_of_equity_is_sized_at_the_fill_price) {
  // usable = 10000 / 1.02 = 9803.92156862; at the signal's 100 that is 98.0392 units = 9803.92.
  auto at_fill = all_in(FillModel::SizeAt::fill).go();
  ASSERT_EQ(at_fill.trades.size(), 1u);
  EXPECT_EQ(at_fill.trades[0].entry_price, px("98"));
  EXPECT_EQ(at_fill.trades[0].quantity, qty("100.04"));  // 9803.92 / 98: the same money at the fill price
  EXPECT_NE(at_fill.fill_model.find("entries sized at the fill price"), std::string::npos);

  auto at_signal = all_in(FillModel::SizeAt::signal).go();
  ASSERT_EQ(at_signal.trades.size(), 1u);
  EXPECT_EQ(at_signal.trades[0].quantity, qty("98.0392"));  // 9607.84 spent: not all-in
}

// Buy at b1, sell at b3, buy at b5 (closes 101..107), each filled at the next open.
Run three_signals(bool allow_short) {
  Run r;
  for (int h = 0; h < 8; ++h) {
    const std::string p = std::to_string(100 + h);
    r.bars.push_back(bar(h, p.c_str(), p.c_str(), p.c_str(), p.c_str()));
  }
  r.script = {{1, {Side::buy}}, {3, {Side::sell}}, {5, {Side::buy}}};
  r.trader = fixed("1000");
  r.trader.allow_short = allow_short;
  return r;
}

TEST(FillModel, long_only_closes_on_the_opposite_signal_and_never_goes_short) {
  const auto res = three_signals(false).go();
  ASSERT_EQ(res.trades.size(), 2u);
  EXPECT_EQ(res.trades[0].side, Side::buy);
  EXPECT_EQ(res.trades[0].entry_price, px("102"));
  EXPECT_EQ(res.trades[0].exit_price, px("104"));
  EXPECT_EQ(res.trades[1].side, Side::buy);
  EXPECT_EQ(res.trades[1].entry_price, px("106"));
  EXPECT_EQ(res.trades[1].exit_purpose, OrderPurpose::end_of_run);
  EXPECT_EQ(res.trades[1].exit_price, px("107"));  // the last bar's close
}

TEST(FillModel, long_short_reverses_on_the_opposite_signal) {
  const auto res = three_signals(true).go();
  ASSERT_EQ(res.trades.size(), 3u);
  EXPECT_EQ(res.trades[0].side, Side::buy);
  EXPECT_EQ(res.trades[1].side, Side::sell);
  EXPECT_EQ(res.trades[1].entry_price, px("104"));  // the close and the reversal fill at the same open
  EXPECT_EQ(res.trades[1].entry_time, res.trades[0].exit_time);
  EXPECT_EQ(res.trades[1].exit_price, px("106"));
  EXPECT_EQ(res.trades[1].gross_pnl, res.trades[1].quantity * px("104") - res.trades[1].quantity * px("106"));
  EXPECT_EQ(res.trades[2].side, Side::buy);
  EXPECT_EQ(res.trades[2].entry_price, px("106"));
}

TEST(FillModel, open_positions_at_the_end_are_closed_at_the_last_close_or_reported) {
  auto closed = three_signals(false).go();
  EXPECT_TRUE(closed.open_positions.empty());
  EXPECT_EQ(closed.trades.back().exit_purpose, OrderPurpose::end_of_run);
  EXPECT_NE(closed.fill_model.find("closed at the last bar's close"), std::string::npos);

  auto run = three_signals(false);
  run.options.end = EndOfRun::report_open;
  auto open = run.go();
  ASSERT_EQ(open.trades.size(), 1u);
  ASSERT_EQ(open.open_positions.size(), 1u);
  EXPECT_EQ(open.open_positions[0].position.entry_price, px("106"));
  EXPECT_EQ(open.open_positions[0].position.last_price, px("107"));
  EXPECT_NE(open.fill_model.find("reported as open"), std::string::npos);
}

TEST(FillModel, trade_from_warms_the_strategy_up_without_trading) {
  auto run = three_signals(false);
  run.options.trade_from = Timestamp(hour(4));  // the buy at b1 falls in the warm-up
  const auto res = run.go();
  ASSERT_EQ(res.trades.size(), 1u);  // only the buy at b5
  EXPECT_EQ(res.trades[0].entry_price, px("106"));
  EXPECT_EQ(res.metrics.start, hour(4));
  EXPECT_EQ(res.equity.front().time, hour(4));
  EXPECT_NE(res.fill_model.find("trading from 2024-03-01T04:00:00"), std::string::npos);

  run.options.trade_from = Timestamp(hour(9));
  auto none = run_backtest({SeriesData{kKey, run.bars}}, [](auto&...) { return std::vector<std::unique_ptr<Bot>>{}; },
                           run.options);
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("no candle opens at or after trade_from"), std::string::npos);
}

TEST(FillModel, a_bar_with_a_fill_counts_as_exposure) {
  // Entry at b2's open, exit at b3's open: bars 2 and 3 of 4 were in the market.
  const auto res = round_trip().go();
  ASSERT_EQ(res.equity.size(), 4u);
  EXPECT_DOUBLE_EQ(res.metrics.exposure_time_pct, 50.0);
}

}  // namespace
}  // namespace twinstar

namespace twinstar {
namespace {

const Symbol kOther = *Symbol::parse("OTHERUSDT");
const SeriesKey kOtherKey{Exchange::binance, Market::spot, kOther, Interval::h1};

TEST(FillModel, a_round_missing_a_symbol_fills_at_the_next_open_like_any_other) {
  // OTHERUSDT has no bar at hour 1 (an outage): TESTUSDT's round 1 is incomplete.
  const std::vector<Candle> test = {bar(0, "100", "100", "100", "100"), bar(1, "101", "101", "101", "101"),
                                    bar(2, "102", "102", "102", "102"), bar(3, "103", "103", "103", "103")};
  const std::vector<Candle> other = {bar(0, "50", "50", "50", "50"), bar(2, "52", "52", "52", "52"),
                                     bar(3, "53", "53", "53", "53")};
  BacktestOptions options;
  options.ledger.initial_capital = usd("10000");
  options.end = EndOfRun::report_open;
  auto make = [&](CapitalLedger& ledger, OrderGateway& gateway, Clock& clock, SymbolClaims& claims) {
    std::vector<std::unique_ptr<Bot>> bots;
    TraderOptions o = fixed("1010", "1");
    o.bot = "multi";
    o.max_positions = 2;
    // Each symbol's strategy buys at its own second bar: TESTUSDT's hour 1, OTHERUSDT's hour 2.
    bots.push_back(std::make_unique<MultiTrader>(Exchange::binance, Market::spot, Interval::h1,
                                                 std::vector<Symbol>{kSym, kOther},
                                                 std::make_unique<ScriptedStrategy>(std::map<int, Scripted>{{1, {Side::buy}}}),
                                                 o, ledger, gateway, clock, &claims));
    return bots;
  };
  auto r = run_backtest({SeriesData{kKey, test}, SeriesData{kOtherKey, other}}, make, options);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->open_positions.size(), 2u);
  for (const auto& o : r->open_positions) {
    if (o.position.symbol == kSym) {
      EXPECT_EQ(o.position.entry_price, px("102"));  // hour 1's signal at hour 2's open, not hour 3's
      EXPECT_EQ(o.position.quantity, qty("10"));
    } else {
      EXPECT_EQ(o.position.entry_price, px("53"));
    }
  }
}

// Counts the closed candles it saw.
class CountingStrategy final : public Strategy {
 public:
  explicit CountingStrategy(std::shared_ptr<int> seen) : seen_(std::move(seen)) {}
  std::optional<Signal> on_candle(const Symbol&, const Candle&) override {
    ++*seen_;
    return std::nullopt;
  }
  std::unique_ptr<Strategy> clone_fresh() const override { return std::make_unique<CountingStrategy>(seen_); }
  std::string_view name() const noexcept override { return "counting"; }
  StrategyParams params() const override { return {}; }
  std::size_t warmup() const noexcept override { return 0; }

 private:
  std::shared_ptr<int> seen_;
};

TEST(FillModel, a_late_candle_still_reaches_the_strategy) {
  ManualClock clock(Timestamp(hour(1)));
  auto ledger = *CapitalLedger::in_memory(LedgerOptions{}, clock);
  BacktestVenue venue(FillModel{}, clock);
  auto seen = std::make_shared<int>(0);
  MultiTrader multi(Exchange::binance, Market::spot, Interval::h1, {kSym, kOther}, std::make_unique<CountingStrategy>(seen),
                    fixed("100"), ledger, venue, clock);
  multi.on_candle(kKey, bar(0, "1", "1", "1", "1"));
  clock.set(Timestamp(hour(1)) + seconds(6));
  multi.on_time(clock.now());  // the round of hour 0 is acted on without OTHERUSDT (5 s grace)
  EXPECT_EQ(multi.last_round().symbols_reported, 1u);
  multi.on_candle(kOtherKey, bar(0, "1", "1", "1", "1"));  // late
  EXPECT_EQ(*seen, 2);  // its indicators did not skip the bar
  multi.on_candle(kKey, bar(1, "1", "1", "1", "1"));
  multi.on_candle(kOtherKey, bar(1, "1", "1", "1", "1"));
  EXPECT_EQ(*seen, 4);
  EXPECT_EQ(multi.last_round().open_time, hour(1));
  EXPECT_EQ(multi.last_round().symbols_reported, 2u);
}

}  // namespace
}  // namespace twinstar
