// Live/backtest parity: a paper run (the paper engine against the in-process simulated market,
// every candle recorded to the store) and a backtest of the same bots over what the store
// recorded, with the fill model set to what the simulated venue does, give the same trades.

#include <atomic>
#include <filesystem>

#include <gtest/gtest.h>

#include "backtest/data_source.hpp"
#include "backtest/engine.hpp"
#include "bot/bot_factory.hpp"
#include "engine/paper_engine.hpp"
#include "venue/sim/market.hpp"

namespace twinstar {
namespace {

using namespace std::chrono;

// A discrete-event clock: whoever sleeps jumps straight to the deadline. The paper engine waits
// on one thread only, so a run is the same every time, however busy the machine is.
class JumpClock final : public Clock {
 public:
  explicit JumpClock(Timestamp start) : ns_(start.time_since_epoch().count()) {}
  Timestamp now() const noexcept override { return Timestamp(Duration(ns_.load())); }

 protected:
  void wait_step(std::unique_lock<std::mutex>&, std::condition_variable&, Timestamp deadline) override {
    const auto target = deadline.time_since_epoch().count();
    if (target > ns_.load()) ns_.store(target);
  }

 private:
  std::atomic<Duration::rep> ns_;
};

std::vector<BotConfig> parity_bots(const std::vector<venue::sim::InstrumentSpec>& instruments) {
  BotConfig single;
  single.name = "single";
  single.kind = "single";
  single.symbols = {instruments[0].symbol.str()};
  single.interval = Interval::m1;
  single.strategy = "ma_cross";
  single.params = {{"fast", 5}, {"slow", 20}};
  single.sizing.mode = "fixed_quote";
  single.sizing.amount = Money::from_units(1500);
  single.sizing.lot_size = Quantity::from_raw(100'000);  // 0.001
  single.allow_short = true;                             // reversals included
  BotConfig multi;
  multi.name = "multi";
  multi.kind = "multi";
  for (std::size_t i = 1; i <= 8; ++i) multi.symbols.push_back(instruments[i].symbol.str());
  multi.interval = Interval::m1;
  multi.strategy = "bollinger_breakout";
  multi.sizing.mode = "fixed_quote";
  multi.sizing.amount = Money::from_units(800);
  multi.sizing.lot_size = Quantity::from_raw(100'000);
  multi.max_positions = 4;  // binds often: a slot freed by a stop at a close is taken at that close
  multi.allow_short = true;
  return {single, multi};
}

TEST(Parity, a_paper_run_and_the_backtest_of_what_it_recorded_make_the_same_trades) {
  const auto dir = std::filesystem::temp_directory_path() / ("twinstar-parity-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  PaperEngineOptions o;
  o.data_dir = dir;
  o.start = Timestamp(sys_days(year(2026) / 1 / 5) + hours(9));
  o.duration = hours(8);
  o.report_every = hours(24);
  o.seed = 11;
  o.market_symbols = 12;
  o.bots = parity_bots(venue::sim::make_synthetic_source({.symbols = 12, .seed = 11})->instruments());
  JumpClock clock(o.start);
  o.clock = &clock;
  std::vector<TradeRecord> paper;
  o.on_trade = [&](const TradeRecord& t) { paper.push_back(t); };
  auto ran = run_paper_engine(o, std::stop_token{}, {});
  ASSERT_TRUE(ran) << ran.error().message;
  const Timestamp end = o.start + *o.duration;

  // The same bots over the recorded candles; the fill model is the simulated venue's: market
  // orders (stops and targets included) at the price when the bar closed, i.e. the next open,
  // with its taker fee and relative slippage, and quantities as sent.
  std::vector<SeriesKey> keys;
  for (const auto& b : o.bots) {
    for (const auto& s : b.symbols) keys.push_back(SeriesKey{b.exchange, b.market, *Symbol::parse(s), b.interval});
  }
  // In key order, as the paper engine walks its series and `twinstar backtest` loads them: within
  // a round, which symbol comes last decides whether an exit is delivered before the round acts.
  std::sort(keys.begin(), keys.end());
  auto data = load_from_store(dir, keys, {});
  ASSERT_TRUE(data) << data.error().message;
  BacktestOptions bt;
  bt.fill.market = FillModel::Market::next_open;
  bt.fill.exits = FillModel::Exit::next_open;
  bt.fill.commission = o.taker_fee;
  bt.fill.slippage_relative = o.slippage;
  bt.fill.size_at = FillModel::SizeAt::signal;
  bt.ledger = ledger_options(o.capital);
  bt.trade_from = o.start;  // the paper engine's warm-up candles warm the strategies up here too
  bt.end = EndOfRun::report_open;
  auto factory = [&](CapitalLedger& ledger, OrderGateway& gateway, Clock& c, SymbolClaims& claims) {
    std::vector<std::unique_ptr<Bot>> bots;
    for (const auto& b : o.bots) bots.push_back(*make_bot(b, ledger, gateway, c, claims));
    return bots;
  };
  auto result = run_backtest(*data, factory, bt);
  ASSERT_TRUE(result) << result.error().message;

  // Decisions on the last bar fill after it in the paper run, at a price the store never saw:
  // compare what closed before the last bar's close.
  std::vector<TradeRecord> backtest;
  for (const auto& t : result->trades) {
    if (t.exit_time < end) backtest.push_back(t);
  }
  std::erase_if(paper, [&](const TradeRecord& t) { return t.exit_time >= end; });
  // The paper engine's fills are stamped when they happen: a few simulated milliseconds after the
  // close when the rate limiter spaces orders out. The bar is what must match.
  auto bar_of = [](Timestamp t) { return interval_floor(Interval::m1, t); };
  auto order = [&](const TradeRecord& a, const TradeRecord& b) {
    return std::tuple(bar_of(a.exit_time), a.bot, a.symbol) < std::tuple(bar_of(b.exit_time), b.bot, b.symbol);
  };
  std::sort(paper.begin(), paper.end(), order);
  std::sort(backtest.begin(), backtest.end(), order);
  ASSERT_GE(paper.size(), 10u) << "too few trades to compare";
  if (std::getenv("PARITY_DUMP")) {
    for (auto* list : {&paper, &backtest}) {
      fmt::print(stderr, "----\n");
      for (const auto& t : *list) fmt::print(stderr, "{} {} {} q={} in {} @{} out {} @{} {} pnl {}\n", t.bot, t.symbol, to_string(t.side), t.quantity, format_iso8601(t.entry_time), t.entry_price, format_iso8601(t.exit_time), t.exit_price, to_string(t.exit_purpose), t.pnl);
    }
  }
  ASSERT_EQ(paper.size(), backtest.size());
  for (std::size_t i = 0; i < paper.size(); ++i) {
    const TradeRecord& p = paper[i];
    const TradeRecord& b = backtest[i];
    SCOPED_TRACE(fmt::format("trade {}: {} {} {} entered {}", i, p.bot, p.symbol, to_string(p.side), format_iso8601(p.entry_time)));
    EXPECT_EQ(p.bot, b.bot);
    EXPECT_EQ(p.symbol, b.symbol);
    EXPECT_EQ(p.side, b.side);
    EXPECT_EQ(p.quantity, b.quantity);
    EXPECT_EQ(bar_of(p.entry_time), b.entry_time);
    EXPECT_EQ(bar_of(p.exit_time), b.exit_time);
    EXPECT_EQ(p.entry_price, b.entry_price);
    EXPECT_EQ(p.exit_price, b.exit_price);
    EXPECT_EQ(p.exit_purpose, b.exit_purpose);
    EXPECT_EQ(p.fees, b.fees);
    EXPECT_EQ(p.pnl, b.pnl);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace twinstar
