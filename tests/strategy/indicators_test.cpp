// Indicators against published values: TA-Lib's regression series, StockCharts ChartSchool
// worked examples and the Tulip "A to Z" vectors in ../shared/data/indicators.

#include "strategy/indicators.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace twinstar {
namespace {

const std::string kDir = std::string(TWINSTAR_SHARED_DATA_DIR) + "/indicators";

#define REQUIRE_DATA(path)                                                                    \
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "reference data absent: " << (path)  \
                                                   << " (../shared/data is not beside the checkout)"

void strip_cr(std::string& line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
}

// Columns of a CSV by header name; empty cells become NaN.
std::map<std::string, std::vector<double>> read_columns(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  strip_cr(line);
  std::vector<std::string> names;
  {
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) names.push_back(cell);
  }
  std::map<std::string, std::vector<double>> cols;
  while (std::getline(in, line)) {
    strip_cr(line);
    if (line.empty()) continue;
    std::stringstream ss(line);
    std::string cell;
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (!std::getline(ss, cell, ',')) cell.clear();
      char* end = nullptr;
      const double v = std::strtod(cell.c_str(), &end);
      cols[names[i]].push_back(cell.empty() || end == cell.c_str() ? NAN : v);
    }
  }
  return cols;
}

// Tulip's atoz.txt: a block "name options", then one {a,b,...} line per input, then per output.
std::vector<std::vector<double>> atoz_block(const std::string& header) {
  std::ifstream in(kDir + "/atoz.txt");
  std::string line;
  std::vector<std::vector<double>> arrays;
  bool inside = false;
  while (std::getline(in, line)) {
    strip_cr(line);
    if (!inside) {
      inside = line == header;
      continue;
    }
    if (line.empty()) break;
    if (line[0] == '#') continue;
    if (line[0] != '{') break;
    std::vector<double> values;
    std::stringstream ss(line.substr(1, line.size() - 2));
    std::string cell;
    while (std::getline(ss, cell, ',')) values.push_back(std::strtod(cell.c_str(), nullptr));
    arrays.push_back(values);
  }
  return arrays;
}

std::vector<double> outputs(const std::vector<std::optional<double>>& out) {
  std::vector<double> v;
  for (const auto& o : out) {
    if (o) v.push_back(*o);
  }
  return v;
}

struct TalibSeries {
  std::vector<double> high, low, close;
};

TalibSeries talib() {
  auto cols = read_columns(kDir + "/talib_daily_ref_0.csv");
  return {cols["high"], cols["low"], cols["close"]};
}

TEST(Indicators, match_talib_reference_values) {
  REQUIRE_DATA(kDir + "/talib_daily_ref_0.csv");
  const auto s = talib();
  ASSERT_EQ(s.close.size(), 252u);
  constexpr double kTol = 0.01;  // TA-Lib's own tolerance for this series

  auto sma2 = batch(Sma(2), s.close);
  EXPECT_FALSE(sma2[0]);
  EXPECT_NEAR(*sma2[1], 93.15, kTol);
  EXPECT_NEAR(*sma2[2], 94.59, kTol);
  EXPECT_NEAR(*sma2[3], 94.73, kTol);
  EXPECT_NEAR(*sma2[251], 108.31, kTol);

  auto sma30 = batch(Sma(30), s.close);
  EXPECT_FALSE(sma30[28]);
  EXPECT_NEAR(*sma30[29], 90.42, kTol);
  EXPECT_NEAR(*sma30[30], 90.21, kTol);
  EXPECT_NEAR(*sma30[31], 89.96, kTol);
  EXPECT_NEAR(*sma30[29 + 29], 87.12, kTol);
  EXPECT_NEAR(*sma30[29 + 221], 107.95, kTol);
  EXPECT_NEAR(*sma30[29 + 222], 108.42, kTol);

  auto ema2 = batch(Ema(2), s.close);
  EXPECT_NEAR(*ema2[1], 93.15, kTol);
  EXPECT_NEAR(*ema2[2], 93.96, kTol);
  EXPECT_NEAR(*ema2[251], 108.21, kTol);

  auto ema10 = batch(Ema(10), s.close);
  EXPECT_FALSE(ema10[8]);
  EXPECT_NEAR(*ema10[9], 93.22, kTol);
  EXPECT_NEAR(*ema10[10], 93.75, kTol);
  EXPECT_NEAR(*ema10[29], 86.46, kTol);
  EXPECT_NEAR(*ema10[251], 108.97, kTol);

  auto rsi = batch(Rsi(14), s.close);
  EXPECT_FALSE(rsi[13]);
  EXPECT_NEAR(*rsi[14], 49.14, kTol);
  EXPECT_NEAR(*rsi[15], 52.32, kTol);
  EXPECT_NEAR(*rsi[16], 46.07, kTol);
  EXPECT_NEAR(*rsi[251], 49.63, kTol);

  Macd macd(12, 26, 9);
  std::vector<std::optional<MacdValue>> m;
  for (double c : s.close) m.push_back(macd.update(c));
  EXPECT_FALSE(m[32]);
  ASSERT_TRUE(m[33]);
  EXPECT_NEAR(m[33]->macd, -1.9738, 1e-4);
  EXPECT_NEAR(m[33]->signal, -2.7071, 1e-4);
  EXPECT_NEAR(m[33]->histogram, 0.7333, 1e-4);

  Bollinger bb(20, 2.0);
  std::vector<std::optional<BollingerValue>> b;
  for (double c : s.close) b.push_back(bb.update(c));
  EXPECT_FALSE(b[18]);
  ASSERT_TRUE(b[19]);
  EXPECT_NEAR(b[19]->upper, 98.0734, 1e-4);
  EXPECT_NEAR(b[19]->middle, 92.8910, 1e-4);
  EXPECT_NEAR(b[19]->lower, 87.7086, 1e-4);

  TrueRange tr;
  Atr atr(14);
  std::vector<std::optional<double>> trs, atrs;
  for (std::size_t i = 0; i < s.close.size(); ++i) {
    trs.push_back(tr.update(s.high[i], s.low[i], s.close[i]));
    atrs.push_back(atr.update(s.high[i], s.low[i], s.close[i]));
  }
  EXPECT_FALSE(trs[0]);
  EXPECT_NEAR(*trs[1], 3.535, kTol);
  EXPECT_NEAR(*trs[13], 9.685, kTol);
  EXPECT_NEAR(*trs[41], 5.125, kTol);
  EXPECT_NEAR(*trs[251], 2.88, kTol);
  EXPECT_FALSE(atrs[13]);
  EXPECT_NEAR(*atrs[14], 3.578, kTol);
  EXPECT_NEAR(*atrs[15], 3.4876, kTol);
  EXPECT_NEAR(*atrs[16], 3.55, kTol);
  EXPECT_NEAR(*atrs[26], 3.245, kTol);
  EXPECT_NEAR(*atrs[27], 3.394, kTol);
  EXPECT_NEAR(*atrs[28], 3.413, kTol);
  EXPECT_NEAR(*atrs[251], 3.26, kTol);
}

TEST(Indicators, match_stockcharts_worked_examples) {
  REQUIRE_DATA(kDir + "/cs-movavg.csv");
  auto mov = read_columns(kDir + "/cs-movavg.csv");
  auto sma = batch(Sma(10), mov["price"]);
  auto ema = batch(Ema(10), mov["price"]);
  int checked = 0;
  for (std::size_t i = 0; i < sma.size(); ++i) {
    if (std::isnan(mov["sma_10"][i])) {
      EXPECT_FALSE(sma[i]) << i;
      continue;
    }
    EXPECT_NEAR(*sma[i], mov["sma_10"][i], 1e-9) << i;
    EXPECT_NEAR(*ema[i], mov["ema_10"][i], 1e-9) << i;
    ++checked;
  }
  EXPECT_GE(checked, 20);

  auto rsi_cols = read_columns(kDir + "/cs-rsi.csv");
  auto rsi = batch(Rsi(14), rsi_cols["qqqq_close"]);
  checked = 0;
  for (std::size_t i = 0; i < rsi.size(); ++i) {
    if (std::isnan(rsi_cols["rsi_14"][i])) continue;
    ASSERT_TRUE(rsi[i]) << i;
    EXPECT_NEAR(*rsi[i], rsi_cols["rsi_14"][i], 1e-9) << i;
    ++checked;
  }
  EXPECT_GE(checked, 15);

  auto bb_cols = read_columns(kDir + "/cs-bbands.csv");
  Bollinger bb(20, 2.0);
  checked = 0;
  for (std::size_t i = 0; i < bb_cols["close"].size(); ++i) {
    auto v = bb.update(bb_cols["close"][i]);
    if (std::isnan(bb_cols["middle_sma20"][i])) continue;
    ASSERT_TRUE(v) << i;
    EXPECT_NEAR(v->middle, bb_cols["middle_sma20"][i], 1e-5) << i;
    EXPECT_NEAR(v->upper, bb_cols["upper"][i], 1e-5) << i;
    EXPECT_NEAR(v->lower, bb_cols["lower"][i], 1e-5) << i;
    ++checked;
  }
  EXPECT_GE(checked, 20);

  // StockCharts counts the first bar's high - low as a true range.
  auto atr_cols = read_columns(kDir + "/cs-atr.csv");
  Atr atr(14, FirstBar::high_low);
  TrueRange tr(FirstBar::high_low);
  checked = 0;
  for (std::size_t i = 0; i < atr_cols["Close"].size(); ++i) {
    const double h = atr_cols["High"][i], l = atr_cols["Low"][i], c = atr_cols["Close"][i];
    EXPECT_NEAR(*tr.update(h, l, c), atr_cols["TR"][i], 1e-9) << i;
    auto v = atr.update(h, l, c);
    if (atr_cols["ATR"][i] == 0) {
      EXPECT_FALSE(v) << i;
      continue;
    }
    ASSERT_TRUE(v) << i;
    EXPECT_NEAR(*v, atr_cols["ATR"][i], 1e-9) << i;
    ++checked;
  }
  EXPECT_GE(checked, 10);
}

void expect_outputs(const std::vector<double>& got, const std::vector<double>& want, double tol, const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << what << " output " << i;
}

TEST(Indicators, match_tulip_a_to_z_vectors) {
  REQUIRE_DATA(kDir + "/atoz.txt");
  {
    auto b = atoz_block("sma 5");
    expect_outputs(outputs(batch(Sma(5), b[0])), b[1], 1e-3, "sma 5");
  }
  {
    auto b = atoz_block("ema 5");  // Tulip seeds its EMA with the first input
    expect_outputs(outputs(batch(Ema(5, EmaSeed::first_value), b[0])), b[1], 1e-3, "ema 5");
  }
  {
    auto b = atoz_block("wma 5");
    expect_outputs(outputs(batch(Wma(5), b[0])), b[1], 1e-4, "wma 5");
  }
  {
    auto b = atoz_block("rsi 5");
    expect_outputs(outputs(batch(Rsi(5), b[0])), b[1], 1e-4, "rsi 5");
  }
  {
    auto b = atoz_block("stddev 5");
    expect_outputs(outputs(batch(StdDev(5), b[0])), b[1], 1e-4, "stddev 5");
  }
  {
    auto b = atoz_block("bbands 5 2");
    Bollinger bb(5, 2.0);
    std::vector<double> lower, middle, upper;
    for (double v : b[0]) {
      if (auto o = bb.update(v)) {
        lower.push_back(o->lower);
        middle.push_back(o->middle);
        upper.push_back(o->upper);
      }
    }
    expect_outputs(lower, b[1], 1e-4, "bbands lower");
    expect_outputs(middle, b[2], 1e-4, "bbands middle");
    expect_outputs(upper, b[3], 1e-4, "bbands upper");
  }
  {
    auto b = atoz_block("atr 4");
    Atr atr(4, FirstBar::high_low);
    std::vector<double> got;
    for (std::size_t i = 0; i < b[0].size(); ++i) {
      if (auto o = atr.update(b[0][i], b[1][i], b[2][i])) got.push_back(*o);
    }
    expect_outputs(got, b[3], 1e-3, "atr 4");
  }
}

TEST(Indicators, rolling_extremes_equal_a_naive_scan) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> dist(-100, 100);
  std::vector<double> v(5000);
  for (auto& x : v) x = std::round(dist(rng));  // many ties
  for (std::size_t n : {1u, 2u, 5u, 37u}) {
    auto hi = batch(RollingExtreme(n, RollingExtreme::Kind::highest), v);
    auto lo = batch(RollingExtreme(n, RollingExtreme::Kind::lowest), v);
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i + 1 < n) {
        EXPECT_FALSE(hi[i]);
        continue;
      }
      const auto begin = v.begin() + static_cast<long>(i + 1 - n);
      const auto end = v.begin() + static_cast<long>(i + 1);
      ASSERT_EQ(*hi[i], *std::max_element(begin, end)) << n << " " << i;
      ASSERT_EQ(*lo[i], *std::min_element(begin, end)) << n << " " << i;
    }
  }
}

TEST(Indicators, streaming_and_batch_agree_exactly) {
  std::mt19937 rng(11);
  std::normal_distribution<double> step(0, 1);
  std::vector<double> v(2000);
  double p = 100;
  for (auto& x : v) x = p += step(rng);
  Ema stream(21);
  auto whole = batch(Ema(21), v);
  for (std::size_t i = 0; i < v.size(); ++i) {
    auto s = stream.update(v[i]);
    ASSERT_EQ(s.has_value(), whole[i].has_value());
    if (s) {
      ASSERT_EQ(*s, *whole[i]);  // bit-identical, not merely close
    }
  }
}

TEST(Indicators, reject_a_zero_period) {
  EXPECT_THROW(Sma(0), std::invalid_argument);
  EXPECT_THROW(Macd(26, 12, 9), std::invalid_argument);
}

}  // namespace
}  // namespace twinstar
