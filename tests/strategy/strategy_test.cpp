#include "strategy/strategy.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "strategy/sizing.hpp"

namespace twinstar {
namespace {

Candle bar(std::int64_t i, double o, double h, double l, double c) {
  Candle k;
  k.open_time = from_epoch_ms(1'700'000'000'000 + i * 3'600'000);
  k.open = *Price::from_double(o);
  k.high = *Price::from_double(h);
  k.low = *Price::from_double(l);
  k.close = *Price::from_double(c);
  k.volume = Quantity::from_units(1);
  k.closed = true;
  return k;
}

// A close-only path turned into candles with a small range around each close.
std::vector<Candle> path(const std::vector<double>& closes) {
  std::vector<Candle> out;
  double prev = closes.front();
  for (std::size_t i = 0; i < closes.size(); ++i) {
    const double c = closes[i];
    out.push_back(bar(static_cast<std::int64_t>(i), prev, std::max(prev, c) + 0.5, std::min(prev, c) - 0.5, c));
    prev = c;
  }
  return out;
}

std::vector<Signal> run(Strategy& s, const std::vector<Candle>& candles) {
  const Symbol sym = *Symbol::parse("BTCUSDT");
  std::vector<Signal> out;
  for (const auto& c : candles) {
    if (auto sig = s.on_candle(sym, c)) out.push_back(*sig);
  }
  return out;
}

void expect_sane(const Signal& s, const Candle& c) {
  EXPECT_EQ(s.entry, c.close);
  EXPECT_EQ(s.time, c.open_time);
  EXPECT_GE(s.strength, 0.0);
  EXPECT_LE(s.strength, 1.0);
  ASSERT_TRUE(s.stop_loss);
  ASSERT_TRUE(s.take_profit);
  if (s.side == Side::buy) {
    EXPECT_LT(*s.stop_loss, s.entry);
    EXPECT_GT(*s.take_profit, s.entry);
  } else {
    EXPECT_GT(*s.stop_loss, s.entry);
    EXPECT_LT(*s.take_profit, s.entry);
  }
  EXPECT_FALSE(s.reason.empty());
}

TEST(Strategy, ma_cross_buys_the_up_cross_and_sells_the_down_cross) {
  auto s = *make_strategy("ma_cross", {{"fast", 3}, {"slow", 8}, {"atr", 3}});
  std::vector<double> closes(20, 100.0);
  for (int i = 0; i < 15; ++i) closes.push_back(100 + 2.0 * (i + 1));
  for (int i = 0; i < 20; ++i) closes.push_back(130 - 3.0 * (i + 1));
  auto candles = path(closes);
  auto sigs = run(*s, candles);
  ASSERT_EQ(sigs.size(), 2u);
  EXPECT_EQ(sigs[0].side, Side::buy);
  EXPECT_EQ(sigs[1].side, Side::sell);
  EXPECT_GT(sigs[0].time, candles[19].open_time);
  EXPECT_GT(sigs[1].time, candles[34].open_time);
}

TEST(Strategy, rsi_reversion_buys_on_entering_oversold_once) {
  auto s = *make_strategy("rsi_reversion", {{"period", 5}, {"atr", 3}});
  std::vector<double> closes;
  for (int i = 0; i < 20; ++i) closes.push_back(100 + (i % 2 == 0 ? 1.0 : -1.0));
  for (int i = 0; i < 10; ++i) closes.push_back(99 - 3.0 * (i + 1));  // a steady slide: one signal, not ten
  auto sigs = run(*s, path(closes));
  ASSERT_EQ(sigs.size(), 1u);
  EXPECT_EQ(sigs[0].side, Side::buy);
  EXPECT_NE(sigs[0].reason.find("below 30"), std::string::npos);
}

TEST(Strategy, bollinger_breakout_fires_on_the_break) {
  auto s = *make_strategy("bollinger_breakout", {{"period", 10}, {"atr", 3}});
  std::vector<double> closes;
  for (int i = 0; i < 30; ++i) closes.push_back(100 + (i % 2 == 0 ? 0.3 : -0.3));
  closes.push_back(104);
  auto sigs = run(*s, path(closes));
  ASSERT_EQ(sigs.size(), 1u);
  EXPECT_EQ(sigs[0].side, Side::buy);
}

TEST(Strategy, double_bottom_buys_the_neckline_break) {
  auto s = *make_strategy("double_pattern", {{"swing", 2}, {"atr", 5}, {"min_gap", 4}, {"tolerance", 1}, {"depth_atr", 1}});
  // Down to 100, rally to 110, back to 100.3, then through the 110 neckline.
  std::vector<double> closes{120, 118, 116, 114, 112, 110, 108, 106, 104, 102, 100, 102, 104, 106, 108, 110,
                             108, 106, 104, 102, 100.3, 102, 104, 106, 108, 110, 112};
  auto candles = path(closes);
  auto sigs = run(*s, candles);
  ASSERT_GE(sigs.size(), 1u);
  EXPECT_EQ(sigs[0].side, Side::buy);
  EXPECT_NE(sigs[0].reason.find("double bottom"), std::string::npos);
  expect_sane(sigs[0], candles[static_cast<std::size_t>((sigs[0].time - candles[0].open_time) / std::chrono::hours(1))]);
  EXPECT_GT(sigs[0].take_profit->to_double(), 110.0);
}

TEST(Strategy, parameters_are_validated) {
  auto unknown = make_strategy("grid_martingale", {});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("known: ma_cross, rsi_reversion, bollinger_breakout, double_pattern"), std::string::npos);
  auto typo = make_strategy("ma_cross", {{"fsat", 3}});
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.error().message.find("unknown parameter fsat"), std::string::npos) << typo.error().message;
  auto range = make_strategy("rsi_reversion", {{"oversold", 70}});
  ASSERT_FALSE(range);
  EXPECT_EQ(range.error().message, "strategy rsi_reversion: parameter oversold must be a number in [1, 49], got 70");
  EXPECT_FALSE(make_strategy("ma_cross", {{"fast", 30}, {"slow", 10}}));
  EXPECT_FALSE(make_strategy("ma_cross", {{"fast", 2.5}}));
  EXPECT_EQ(parse_strategy_params("fast=10,slow=30.5")->at("slow"), 30.5);
  EXPECT_FALSE(parse_strategy_params("fast"));
  EXPECT_FALSE(parse_strategy_params("fast=ten"));
}

// binance-spot-1h: "date,open,high,low,close,volume,ticker", the last row possibly still open.
std::vector<Candle> load_binance_1h(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::vector<Candle> out;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::vector<std::string> f;
    std::size_t pos = 0;
    while (true) {
      const auto comma = line.find(',', pos);
      f.push_back(line.substr(pos, comma - pos));
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
    if (f.size() < 6) continue;
    Candle c;
    c.open_time = floor_ms(*parse_iso8601(f[0]));
    c.open = *Price::parse(f[1]);
    c.high = *Price::parse(f[2]);
    c.low = *Price::parse(f[3]);
    c.close = *Price::parse(f[4]);
    c.volume = *Quantity::parse_rounded(f[5]);
    c.closed = true;
    out.push_back(c);
  }
  return out;
}

TEST(Strategy, every_builtin_gives_sane_deterministic_signals_on_real_btc_data) {
  const std::string file = std::string(TWINSTAR_SHARED_DATA_DIR) + "/binance-spot-1h/BTCUSDT_1h.csv";
  if (!std::filesystem::exists(file)) GTEST_SKIP() << "real data absent: " << file;
  const auto candles = load_binance_1h(file);
  ASSERT_GT(candles.size(), 20'000u);
  for (auto name : strategy_names()) {
    auto s = *make_strategy(name, {});
    auto sigs = run(*s, candles);
    EXPECT_GT(sigs.size(), 10u) << name;
    EXPECT_LT(sigs.size(), candles.size() / 5) << name << " signals on too many bars";
    std::size_t buys = 0;
    for (const auto& sig : sigs) {
      buys += sig.side == Side::buy;
      const auto idx = static_cast<std::size_t>((sig.time - candles[0].open_time) / std::chrono::hours(1));
      // Outage hours shift the index; find the candle by time.
      auto it = std::lower_bound(candles.begin(), candles.end(), sig.time,
                                 [](const Candle& c, TimestampMs t) { return c.open_time < t; });
      ASSERT_NE(it, candles.end());
      (void)idx;
      expect_sane(sig, *it);
    }
    EXPECT_GT(buys, 0u) << name;
    EXPECT_LT(buys, sigs.size()) << name << " never sells";
    // A fresh clone replays the identical sequence: no hidden state, no randomness.
    auto again = run(*s->clone_fresh(), candles);
    ASSERT_EQ(again.size(), sigs.size()) << name;
    for (std::size_t i = 0; i < sigs.size(); ++i) {
      EXPECT_EQ(again[i].time, sigs[i].time);
      EXPECT_EQ(again[i].strength, sigs[i].strength);
    }
  }
}

TEST(Sizing, fixed_percent_and_risk_modes) {
  SizingRule rule;
  rule.lot_size = *Quantity::parse("0.001");
  SizingInput in{*Price::parse("50000"), *Price::parse("49000"), Money::from_units(8000), Money::from_units(10000)};

  rule.mode = SizingMode::fixed_quote;
  rule.fixed_amount = Money::from_units(1000);
  auto a = *size_position(rule, in);
  EXPECT_EQ(a.quantity.to_string(), "0.02");
  EXPECT_EQ(a.notional.to_string(), "1000");

  rule.mode = SizingMode::percent_available;
  rule.fraction = *Ratio::parse("0.25");  // 2000 of 8000
  auto b = *size_position(rule, in);
  EXPECT_EQ(b.quantity.to_string(), "0.04");

  rule.mode = SizingMode::risk;  // risk 1 % of 10000 = 100 over a 1000 stop distance = 0.1 BTC = 5000
  rule.risk_fraction = *Ratio::parse("0.01");
  auto c = *size_position(rule, in);
  EXPECT_EQ(c.quantity.to_string(), "0.1");
  EXPECT_EQ(c.notional.to_string(), "5000");

  in.available = Money::from_units(3000);  // capped by what the ledger has free
  auto d = *size_position(rule, in);
  EXPECT_EQ(d.quantity.to_string(), "0.06");
  EXPECT_LE(d.notional, in.available);
}

TEST(Sizing, refuses_what_cannot_be_traded) {
  SizingRule rule;
  rule.lot_size = *Quantity::parse("0.01");
  rule.fixed_amount = Money::from_units(100);
  SizingInput in{*Price::parse("50000"), std::nullopt, Money::from_units(8000), Money::from_units(10000)};
  auto tiny = size_position(rule, in);  // 100 USDT buys 0.002 BTC, below one 0.01 lot
  ASSERT_FALSE(tiny);
  EXPECT_EQ(tiny.error().code, ErrorCode::insufficient_capital);
  rule.mode = SizingMode::risk;
  EXPECT_FALSE(size_position(rule, in));  // no stop-loss
  in.available = Money::zero();
  rule.mode = SizingMode::fixed_quote;
  EXPECT_FALSE(size_position(rule, in));
}

}  // namespace
}  // namespace twinstar
