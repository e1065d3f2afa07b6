#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "venue/sim/market.hpp"

namespace twinstar::venue::sim {
namespace {

using namespace std::chrono_literals;

Timestamp at(const char* iso) { return *parse_iso8601(iso); }

Market synthetic(std::uint64_t seed, std::size_t symbols = 5) {
  SyntheticOptions o;
  o.seed = seed;
  o.symbols = symbols;
  o.start = at("2025-01-01T00:00:00Z");
  o.history = 48h;
  return Market(make_synthetic_source(o));
}

TEST(SimMarket, synthetic_path_depends_only_on_the_seed) {
  Market a = synthetic(7), b = synthetic(7), c = synthetic(8);
  const Timestamp now = at("2025-01-01T03:00:00Z");
  const auto ka = a.klines(0, Interval::m1, Timestamp{}, now, 300, now);
  const auto kb = b.klines(0, Interval::m1, Timestamp{}, now, 300, now);
  const auto kc = c.klines(0, Interval::m1, Timestamp{}, now, 300, now);
  ASSERT_EQ(ka.size(), 300u);
  EXPECT_EQ(ka, kb);
  EXPECT_NE(ka, kc);
}

TEST(SimMarket, symbols_have_realistic_names_and_valid_candles) {
  Market m = synthetic(1, 60);
  ASSERT_EQ(m.instruments().size(), 60u);
  EXPECT_EQ(m.instruments()[0].symbol.view(), "BTCUSDT");
  EXPECT_EQ(m.instruments()[1].symbol.view(), "ETHUSDT");
  EXPECT_EQ(m.instruments()[2].symbol.view(), "SOLUSDT");
  EXPECT_EQ(m.instruments()[55].symbol.view(), "SIM056USDT");
  const Timestamp now = at("2025-01-01T00:00:00Z");
  for (std::size_t i = 0; i < 60; ++i) {
    for (const auto& c : m.klines(i, Interval::m15, now - 24h, now, 100, now)) {
      EXPECT_TRUE(check_ohlc(c)) << m.instruments()[i].symbol.view();
      EXPECT_EQ(c.open.raw() % m.instruments()[i].tick_size.raw(), 0);
    }
  }
}

TEST(SimMarket, klines_are_newest_first_limited_and_within_start_end) {
  Market m = synthetic(1);
  const Timestamp now = at("2025-01-01T00:07:30Z");
  const auto k = m.klines(0, Interval::m1, at("2025-01-01T00:02:00Z"), now, 1000, now);
  ASSERT_EQ(k.size(), 6u);  // 00:02 .. 00:07 (the last still open)
  EXPECT_EQ(k.front().open_time, floor_ms(at("2025-01-01T00:07:00Z")));
  EXPECT_FALSE(k.front().closed);
  EXPECT_TRUE(k[1].closed);
  EXPECT_EQ(k.back().open_time, floor_ms(at("2025-01-01T00:02:00Z")));
  EXPECT_EQ(m.klines(0, Interval::m1, Timestamp{}, now, 3, now).size(), 3u);
  // History starts 48 h before the start: nothing before it.
  EXPECT_TRUE(m.klines(0, Interval::m1, Timestamp{}, at("2024-12-29T00:00:00Z"), 10, now).empty());
}

TEST(SimMarket, coarser_candles_are_the_aggregation_of_finer_ones) {
  Market m = synthetic(3);
  const Timestamp now = at("2025-01-01T02:00:00Z");
  const auto hour = m.candle(1, Interval::h1, at("2025-01-01T00:00:00Z"), now);
  const auto mins = m.klines(1, Interval::m1, at("2025-01-01T00:00:00Z"), at("2025-01-01T00:59:00Z"), 60, now);
  ASSERT_TRUE(hour);
  ASSERT_EQ(mins.size(), 60u);
  Candle agg = mins.back();
  for (const auto& c : mins) {
    agg.high = std::max(agg.high, c.high);
    agg.low = std::min(agg.low, c.low);
  }
  Quantity vol;
  for (const auto& c : mins) vol += c.volume;
  EXPECT_EQ(hour->open, mins.back().open);
  EXPECT_EQ(hour->close, mins.front().close);
  EXPECT_EQ(hour->high, agg.high);
  EXPECT_EQ(hour->low, agg.low);
  EXPECT_EQ(hour->volume, vol);
  EXPECT_TRUE(hour->closed);
}

TEST(SimMarket, an_open_candle_grows_into_the_closed_one) {
  Market m = synthetic(5);
  const Timestamp open = at("2025-01-01T00:10:00Z");
  Quantity last_volume;
  for (int s = 0; s < 60; s += 5) {
    const auto c = m.candle(0, Interval::m1, open, open + std::chrono::seconds(s));
    ASSERT_TRUE(c);
    EXPECT_FALSE(c->closed);
    EXPECT_GE(c->volume, last_volume);
    last_volume = c->volume;
    EXPECT_EQ(c->close, m.price_at(0, open + std::chrono::seconds(s)));
  }
  const auto done = m.candle(0, Interval::m1, open, open + 60s);
  ASSERT_TRUE(done);
  EXPECT_TRUE(done->closed);
  EXPECT_EQ(done->close, m.price_at(0, open + 60s));  // the next candle opens at this close
}

TEST(SimMarket, replays_bybit_linear_csv_files) {
  const std::filesystem::path file = std::filesystem::path(TWINSTAR_SHARED_DATA_DIR) / "bybit-linear" / "BTCUSDT_15m.csv";
  if (!std::filesystem::exists(file)) GTEST_SKIP() << "shared data not found at " << file;
  ReplayOptions o;
  o.path = file;
  auto src = make_replay_source(o);
  ASSERT_TRUE(src) << src.error().message;
  Market m(std::move(*src));
  ASSERT_EQ(m.instruments().size(), 1u);
  EXPECT_EQ(m.instruments()[0].symbol.view(), "BTCUSDT");
  EXPECT_FALSE(m.supports(Interval::m5));  // finer than the file
  EXPECT_TRUE(m.supports(Interval::h1));
  const Timestamp now = m.source().default_start();
  const auto k = m.klines(0, Interval::m15, Timestamp{}, now, 1000, now);
  ASSERT_EQ(k.size(), 1000u);
  for (std::size_t i = 1; i < k.size(); ++i) EXPECT_EQ(k[i - 1].open_time - k[i].open_time, std::chrono::minutes(15));
}

TEST(SimMarket, replays_binance_spot_csv_folders) {
  const std::filesystem::path dir = std::filesystem::path(TWINSTAR_SHARED_DATA_DIR) / "binance-spot-1h";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "shared data not found at " << dir;
  ReplayOptions o;
  o.path = dir;
  auto src = make_replay_source(o);
  ASSERT_TRUE(src) << src.error().message;
  Market m(std::move(*src));
  EXPECT_EQ(m.instruments().size(), 12u);
  const Timestamp now = m.source().default_start();
  const auto btc = m.find("BTCUSDT");
  ASSERT_TRUE(btc);
  const auto k = m.klines(*btc, Interval::h4, Timestamp{}, now, 10, now);
  EXPECT_EQ(k.size(), 10u);
}

TEST(SimMarket, replay_reports_bad_files_with_file_and_line) {
  const auto dir = std::filesystem::temp_directory_path() / "twinstar_sim_replay_bad";
  std::filesystem::create_directories(dir);
  {
    std::ofstream f(dir / "BADUSDT_1m.csv");
    f << "timestamp,open,high,low,close,volume\n2025-01-01 00:00:00+00:00,1,2,0.5,1.5,10\n2025-01-01 00:01:00+00:00,x,2,1,1,1\n";
  }
  ReplayOptions o;
  o.path = dir / "BADUSDT_1m.csv";
  auto src = make_replay_source(o);
  ASSERT_FALSE(src);
  EXPECT_NE(src.error().message.find("BADUSDT_1m.csv:3"), std::string::npos) << src.error().message;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace twinstar::venue::sim
