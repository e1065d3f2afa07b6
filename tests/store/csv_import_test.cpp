#include "store/csv_import.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include "store/integrity.hpp"
#include "store/resample.hpp"
#include "store_test_util.hpp"

namespace twinstar::store {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

const Timestamp kNow = *parse_iso8601("2026-01-01T00:00:00Z");

fs::path write_file(const TempDir& dir, const std::string& name, const std::string& text) {
  const fs::path p = dir.path() / name;
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

TEST(CsvImport, file_names_give_symbol_and_interval) {
  auto a = hints_from_file_name("BTCUSDT_1h.csv");
  EXPECT_EQ(a.symbol->view(), "BTCUSDT");
  EXPECT_EQ(a.interval, Interval::h1);
  auto b = hints_from_file_name("BTCUSDT-1h-2023-01.csv");
  EXPECT_EQ(b.symbol->view(), "BTCUSDT");
  EXPECT_EQ(b.interval, Interval::h1);
  EXPECT_EQ(hints_from_file_name("ADAUSDT_240m.csv").interval, Interval::h4);
  auto g = hints_from_file_name("GOOG.csv");
  EXPECT_EQ(g.symbol->view(), "GOOG");
  EXPECT_FALSE(g.interval);
}

TEST(CsvImport, reads_each_layout) {
  TempDir dir;
  auto kline = read_candle_csv(write_file(dir, "BTCUSDT-1h-2023-03.csv",
      "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore\n"
      "1679655600000,28100.00000000,28200.00000000,28000.00000000,28080.00000000,10.5,1679659199999,295000.12345678,10,1,1,0\n"
      "1679659200000,28080.00000000,28080.00000000,28080.00000000,28080.00000000,0.00000000,1679661581646,0.00000000,0,0,0,0\n"), {}, kNow);
  ASSERT_TRUE(kline) << kline.error().message;
  EXPECT_EQ(kline->layout, CsvLayout::binance_kline);
  ASSERT_EQ(kline->candles.size(), 2u);  // the halt bar with its short close time is a closed bar
  EXPECT_EQ(kline->candles[0].turnover, Money::parse("295000.12345678").value());

  auto dated = read_candle_csv(write_file(dir, "ETHUSDT_1h.csv",
      "date,open,high,low,close,volume,ticker\n2021-04-04 20:00:00,1.5,2,1,1.75,100,ETHUSDT\n"
      "2021-04-04 21:00:00,1.75,2,1,1.5,100,ETHUSDT\n"), {}, kNow);
  ASSERT_TRUE(dated) << dated.error().message;
  EXPECT_EQ(dated->layout, CsvLayout::date_ohlcv);
  EXPECT_EQ(dated->candles[1].open_time, floor_ms(*parse_iso8601("2021-04-04T21:00:00Z")));

  auto offset = read_candle_csv(write_file(dir, "SOLUSDT_1h.csv",
      "open_time,open,high,low,close,volume,close_time,returns\n"
      "2021-03-28 01:00:00+02:00,1,1,1,1,1,2021-03-28 01:59:59.999000+02:00,0.1\n"
      "2021-03-28 03:00:00+03:00,1,1,1,1,1,2021-03-28 03:59:59.999000+03:00,0.1\n"), {}, kNow);
  ASSERT_TRUE(offset) << offset.error().message;
  EXPECT_EQ(offset->layout, CsvLayout::open_close_time);
  // 01:00+02:00 and 03:00+03:00 are consecutive hours in UTC (the clocks went forward).
  EXPECT_EQ(offset->candles[1].open_time - offset->candles[0].open_time, std::chrono::hours(1));

  auto generic = read_candle_csv(write_file(dir, "GOOG.csv",
      ",Open,High,Low,Close,Volume\n2004-08-19,100,104.06,95.96,100.34,22351900\n"
      "2004-08-20,101.01,109.08,100.5,108.31,11428600\n2004-08-23,110.75,113.48,109.05,109.4,9137200\n"), {}, kNow);
  ASSERT_TRUE(generic) << generic.error().message;
  EXPECT_EQ(generic->layout, CsvLayout::generic);
  EXPECT_EQ(generic->interval, Interval::d1);
  EXPECT_EQ(generic->interval_from, "row spacing");
}

TEST(CsvImport, the_still_open_last_candle_is_recognised_or_dropped_by_flag) {
  TempDir dir;
  const auto file = write_file(dir, "BTCUSDT_1h.csv",
      "date,open,high,low,close,volume,ticker\n2025-12-31 22:00:00,1,2,1,1,5,BTCUSDT\n2025-12-31 23:00:00,1,2,1,1,5,BTCUSDT\n");
  auto at_2330 = read_candle_csv(file, {}, *parse_iso8601("2025-12-31T23:30:00Z"));
  ASSERT_TRUE(at_2330);
  EXPECT_EQ(at_2330->candles.size(), 1u);
  ASSERT_TRUE(at_2330->open_last);
  EXPECT_FALSE(at_2330->open_last->closed);
  auto later = read_candle_csv(file, {}, kNow);
  EXPECT_EQ(later->candles.size(), 2u);
  CsvImportOptions drop;
  drop.drop_open_last = true;
  auto dropped = read_candle_csv(file, drop, kNow);
  EXPECT_EQ(dropped->candles.size(), 1u);
  EXPECT_EQ(dropped->open_last_reason, "--drop-open-last");
}

struct BadCase {
  const char* name;
  const char* file_name;
  const char* text;
  const char* expect_in_message;
};

TEST(CsvImport, bad_rows_abort_the_file_with_file_line_and_reason) {
  TempDir dir;
  const std::string header = "date,open,high,low,close,volume,ticker\n";
  const std::string ok1 = "2021-04-04 20:00:00,1.5,2,1,1.75,100,BTCUSDT\n";
  const std::string ok2 = "2021-04-04 21:00:00,1.5,2,1,1.75,100,BTCUSDT\n";
  const BadCase cases[] = {
      {"truncated", "BTCUSDT_1h.csv", "date,open,high,low,close,volume,ticker\n2021-04-04 20:00:00,1.5,2,1,1.75,100,BTCUSDT\n2021-04-04 21:00:00,1.5,2\n", ":3: expected 7 fields"},
      {"reordered", "BTCUSDT_1h.csv", "date,open,high,low,close,volume,ticker\n2021-04-04 21:00:00,1.5,2,1,1.75,100,BTCUSDT\n2021-04-04 20:00:00,1.5,2,1,1.75,100,BTCUSDT\n", ":3: open time"},
      {"duplicated", "BTCUSDT_1h.csv", "date,open,high,low,close,volume,ticker\n2021-04-04 20:00:00,1.5,2,1,1.75,100,BTCUSDT\n2021-04-04 20:00:00,1.5,2,1,1.75,100,BTCUSDT\n", "duplicated"},
      {"wrong ticker", "BTCUSDT_1h.csv", "date,open,high,low,close,volume,ticker\n2021-04-04 20:00:00,1.5,2,1,1.75,100,BTCUSDT\n2021-04-04 21:00:00,1.5,2,1,1.75,100,ETHUSDT\n", ":3: ticker ETHUSDT does not match"},
      {"wrong interval in name", "BTCUSDT_1h.csv", "date,open,high,low,close,volume,ticker\n2021-04-04 20:00:00,1,1,1,1,1,BTCUSDT\n2021-04-04 20:15:00,1,1,1,1,1,BTCUSDT\n", ":3: open time 2021-04-04T20:15:00.000Z is not on a 1h boundary"},
      {"coarser rows than the name", "BTCUSDT_15m.csv", "date,open,high,low,close,volume,ticker\n2021-04-04 20:00:00,1,1,1,1,1,BTCUSDT\n2021-04-04 21:00:00,1,1,1,1,1,BTCUSDT\n2021-04-04 22:00:00,1,1,1,1,1,BTCUSDT\n", "mislabelled file"},
      {"garbage price", "BTCUSDT_1h.csv", "date,open,high,low,close,volume,ticker\n2021-04-04 20:00:00,abc,2,1,1.75,100,BTCUSDT\n", ":2: column open: 'abc'"},
      {"garbage time", "BTCUSDT_1h.csv", "date,open,high,low,close,volume,ticker\nyesterday,1.5,2,1,1.75,100,BTCUSDT\n", ":2: column date: cannot read 'yesterday'"},
      {"high below low", "BTCUSDT_1h.csv", "date,open,high,low,close,volume,ticker\n2021-04-04 20:00:00,1.5,1,2,1.75,100,BTCUSDT\n", ":2:"},
      {"binary junk", "BTCUSDT_1h.csv", "\x01\x02\x03garbage\xff\n\x7f\x7f\n", ":1: header"},
      {"too many decimals", "BTCUSDT_1h.csv", "date,open,high,low,close,volume,ticker\n2021-04-04 20:00:00,1.123456789,2,1,1.75,100,BTCUSDT\n", "at most 8 places"},
  };
  (void)header; (void)ok1; (void)ok2;
  for (const auto& c : cases) {
    const auto file = write_file(dir, c.file_name, c.text);
    auto r = read_candle_csv(file, {}, kNow);
    ASSERT_FALSE(r) << c.name << ": accepted";
    EXPECT_EQ(r.error().code, ErrorCode::parse_error) << c.name;
    EXPECT_NE(r.error().message.find(file.string()), std::string::npos) << c.name << ": " << r.error().message;
    EXPECT_NE(r.error().message.find(c.expect_in_message), std::string::npos) << c.name << ": " << r.error().message;
  }
}

TEST(CsvImport, importing_twice_stores_nothing_twice_and_a_conflict_imports_nothing) {
  TempDir dir;
  auto archive = CandleArchive::open(dir.path(), ArchiveOptions{Durability::rename_only, true, 0}).value();
  const auto k = testing::key("BTCUSDT", Interval::m15);
  std::vector<Candle> candles;
  for (int i = 0; i < 10; ++i) candles.push_back(testing::candle_at(i));
  EXPECT_EQ(import_candles(*archive, k, candles).value().written, 10u);
  candles.push_back(testing::candle_at(10));
  auto again = import_candles(*archive, k, candles).value();
  EXPECT_EQ(again.written, 1u);
  EXPECT_EQ(again.already_stored, 10u);
  candles[3].close = Price::from_units(7);
  candles.push_back(testing::candle_at(11));
  auto conflict = import_candles(*archive, k, candles);
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().code, ErrorCode::conflict);
  auto rows = archive->read(archive->list().value(), 0).value();
  EXPECT_EQ(rows.series[0].candles.size(), 11u);
  EXPECT_EQ(rows.series[0].duplicate_rows, 0u);
}

TEST(Integrity, lists_gaps_duplicates_and_violations) {
  const auto k = testing::key("BTCUSDT", Interval::m15);
  std::vector<Candle> rows;
  for (int i : {0, 1, 2, 5, 6, 6, 7, 10}) rows.push_back(testing::candle_at(i));
  rows[5].volume = Quantity::from_units(1);  // the second copy of 6 differs
  Candle bad = testing::candle_at(11);
  bad.low = bad.high + Price::from_units(1);
  rows.push_back(bad);
  auto r = check_series(k, rows);
  ASSERT_EQ(r.gaps.size(), 2u);
  EXPECT_EQ(r.gaps[0].from, testing::candle_at(3).open_time);
  EXPECT_EQ(r.gaps[0].missing, 2);
  EXPECT_EQ(r.gaps[1].from, testing::candle_at(8).open_time);
  EXPECT_EQ(r.gaps[1].missing, 2);
  EXPECT_EQ(r.missing, 4);
  ASSERT_EQ(r.duplicates.size(), 1u);
  EXPECT_EQ(r.duplicates[0].copies, 2u);
  EXPECT_FALSE(r.duplicates[0].identical);
  ASSERT_EQ(r.violations.size(), 1u);
  EXPECT_EQ(r.violations[0].open_time, bad.open_time);
  EXPECT_FALSE(r.clean());
}

TEST(Resample, aggregates_ohlcv_labels_by_bucket_start_and_flags_the_partial_last_bucket) {
  std::vector<Candle> fine;
  for (int i = 0; i < 7; ++i) fine.push_back(testing::candle_at(i, Interval::m5, i));
  auto r = resample(fine, Interval::m5, Interval::m15).value();
  ASSERT_EQ(r.candles.size(), 3u);
  const Candle& b = r.candles[1];
  EXPECT_EQ(b.open_time, fine[3].open_time);
  EXPECT_EQ(b.open, fine[3].open);
  EXPECT_EQ(b.close, fine[5].close);
  EXPECT_EQ(b.high, std::max({fine[3].high, fine[4].high, fine[5].high}));
  EXPECT_EQ(b.low, std::min({fine[3].low, fine[4].low, fine[5].low}));
  EXPECT_EQ(b.volume, fine[3].volume + fine[4].volume + fine[5].volume);
  EXPECT_EQ(b.turnover, fine[3].turnover + fine[4].turnover + fine[5].turnover);
  EXPECT_TRUE(b.closed);
  EXPECT_TRUE(r.last_partial);
  EXPECT_FALSE(r.candles[2].closed);
  EXPECT_FALSE(resample(fine, Interval::m15, Interval::m5));
}

}  // namespace
}  // namespace twinstar::store
