// Tests on the real market data in ../shared/data (skipped loudly when it is absent).

#include <ctime>
#include <fstream>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "store/candle_store.hpp"
#include "store/csv_import.hpp"
#include "store/integrity.hpp"
#include "store/resample.hpp"
#include "store_test_util.hpp"

namespace twinstar::store {
namespace {

namespace fs = std::filesystem;
using testing::shared_data_dir;
using testing::TempDir;

const Timestamp kImportedAt = *parse_iso8601("2026-01-01T00:00:00Z");

std::vector<fs::path> csv_files(const std::string& folder) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(shared_data_dir() / folder)) {
    if (e.path().extension() == ".csv") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

CsvCandles read_or_fail(const fs::path& file, CsvImportOptions options = {}) {
  auto r = read_candle_csv(file, options, kImportedAt);
  if (!r) throw std::runtime_error(r.error().message);
  return std::move(*r);
}

struct Dataset {
  const char* folder;
  Exchange exchange;
  Market market;
};

// memory → Parquet → restart → memory, bit-exact, for every candle file in ../shared/data.
TEST(SharedData, every_candle_file_round_trips_bit_exact_through_parquet_and_a_restart) {
  TWINSTAR_REQUIRE_SHARED_DATA();
  const Dataset sets[] = {{"binance-spot-1h", Exchange::binance, Market::spot},
                          {"binance-spot-1h-dumps", Exchange::binance, Market::spot},
                          {"bybit-linear", Exchange::bybit, Market::linear},
                          {"binance-futures-1h", Exchange::binance, Market::linear},
                          {"ohlc-fixtures", Exchange::binance, Market::spot}};
  ManualClock clock(kImportedAt);
  std::size_t files = 0;
  for (const auto& set : sets) {
    TempDir dir;
    StoreOptions o;
    o.data_dir = dir.path();
    o.ring_capacity = 45'000;
    o.max_resident_series = 64;
    o.durability = Durability::rename_only;
    o.compact_every_flushes = 0;
    std::map<SeriesKey, std::vector<Candle>> expected;
    {
      auto store = CandleStore::open(o, clock).value();
      for (const auto& file : csv_files(set.folder)) {
        const CsvCandles csv = read_or_fail(file);
        const SeriesKey k{set.exchange, set.market, csv.symbol, csv.interval};
        auto& exp = expected[k];
        for (const Candle& c : csv.candles) {
          auto r = store->append(k, c);
          ASSERT_TRUE(r) << file << ": " << r.error().message;
          exp.push_back(c);
        }
        ASSERT_TRUE(store->flush()) << file;
        ++files;
      }
    }
    auto store = CandleStore::open(o, clock).value();
    EXPECT_TRUE(store->open_report().unreadable.empty());
    EXPECT_EQ(store->open_report().series_loaded, expected.size()) << set.folder;
    for (const auto& [k, candles] : expected) {
      auto snap = store->snapshot(k);
      ASSERT_TRUE(snap) << describe(k);
      ASSERT_EQ(snap->closed.size(), candles.size()) << describe(k);
      EXPECT_TRUE(snap->closed == candles) << describe(k) << " differs after the round trip";
    }
  }
  EXPECT_EQ(files, 12u + 5u + 40u + 8u + 3u);  // every CSV in the five candle folders
}

// An independent scan of the CSV text: consecutive hours, nothing shared with the importer.
std::vector<std::pair<std::int64_t, std::int64_t>> scan_hour_gaps(const fs::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);  // header
  std::vector<std::pair<std::int64_t, std::int64_t>> gaps;
  std::int64_t prev = -1;
  while (std::getline(in, line)) {
    std::tm tm{};
    if (std::sscanf(line.c_str(), "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6) continue;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    const std::int64_t t = timegm(&tm);
    if (prev >= 0 && t - prev > 3600) gaps.emplace_back(prev + 3600, (t - prev) / 3600 - 1);
    prev = t;
  }
  return gaps;
}

TEST(SharedData, the_real_binance_spot_outages_are_found_with_exact_times_and_lengths) {
  TWINSTAR_REQUIRE_SHARED_DATA();
  TempDir dir;
  auto archive = CandleArchive::open(dir.path(), ArchiveOptions{Durability::rename_only, true, 0}).value();
  std::map<std::string, std::vector<std::pair<std::int64_t, std::int64_t>>> expected;
  for (const auto& file : csv_files("binance-spot-1h")) {
    const CsvCandles csv = read_or_fail(file);
    const SeriesKey k{Exchange::binance, Market::spot, csv.symbol, csv.interval};
    ASSERT_TRUE(import_candles(*archive, k, csv.candles));
    expected[csv.symbol.str()] = scan_hour_gaps(file);
  }
  auto listed = archive->list().value();
  ASSERT_EQ(listed.size(), 12u);
  auto rows = archive->read(listed, 0).value();
  const auto at = [](const char* iso) { return to_epoch_ms(floor_ms(*parse_iso8601(iso))); };
  for (const auto& s : rows.series) {
    std::vector<Candle> candles;
    for (const auto& c : s.candles) candles.push_back(c.to_candle());
    const IntegrityReport r = check_series(s.key, candles);
    const auto& exp = expected.at(s.key.symbol.str());
    ASSERT_EQ(r.gaps.size(), exp.size()) << s.key.symbol.view();
    for (std::size_t i = 0; i < exp.size(); ++i) {
      EXPECT_EQ(to_epoch_ms(r.gaps[i].from), exp[i].first * 1000) << s.key.symbol.view() << " gap " << i;
      EXPECT_EQ(r.gaps[i].missing, exp[i].second) << s.key.symbol.view() << " gap " << i;
    }
    // Checked by hand against the files: three hours missing from 2021-04-25 05:00 UTC, four
    // from 2021-08-13 02:00, and the spot trading halt of 2023-03-24 (the 13:00 candle).
    auto has = [&](std::int64_t from, std::int64_t missing) {
      return std::any_of(r.gaps.begin(), r.gaps.end(),
                         [&](const CandleGap& g) { return to_epoch_ms(g.from) == from && g.missing == missing; });
    };
    EXPECT_TRUE(has(at("2021-04-25T05:00:00Z"), 3)) << s.key.symbol.view();
    EXPECT_TRUE(has(at("2021-08-13T02:00:00Z"), 4)) << s.key.symbol.view();
    EXPECT_TRUE(has(at("2023-03-24T13:00:00Z"), 1)) << s.key.symbol.view();
    EXPECT_TRUE(r.duplicates.empty());
    EXPECT_TRUE(r.violations.empty()) << s.key.symbol.view() << ": " << (r.violations.empty() ? "" : r.violations[0].what);
  }
}

TEST(SharedData, bybit_5m_resampled_to_15m_equals_bybit_own_15m_bars_except_the_partial_last) {
  TWINSTAR_REQUIRE_SHARED_DATA();
  for (const char* symbol : {"BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT"}) {
    const CsvCandles fine = read_or_fail(shared_data_dir() / "bybit-linear" / (std::string(symbol) + "_5m.csv"));
    const CsvCandles coarse = read_or_fail(shared_data_dir() / "bybit-linear" / (std::string(symbol) + "_15m.csv"));
    ASSERT_EQ(fine.interval, Interval::m5);
    ASSERT_EQ(coarse.interval, Interval::m15);
    auto r = resample(fine.candles, Interval::m5, Interval::m15);
    ASSERT_TRUE(r) << r.error().message;
    std::map<TimestampMs, Candle> mine;
    for (const auto& c : r->candles) mine[c.open_time] = c;
    // Every bar of Bybit's 15m file but its last (still open when downloaded) is reproduced exactly.
    std::size_t compared = 0;
    for (std::size_t i = 0; i + 1 < coarse.candles.size(); ++i) {
      const Candle& theirs = coarse.candles[i];
      auto it = mine.find(theirs.open_time);
      ASSERT_NE(it, mine.end()) << symbol << " " << format_iso8601(theirs.open_time);
      Candle ours = it->second;
      EXPECT_EQ(ours, theirs) << symbol << " " << format_iso8601(theirs.open_time);
      ++compared;
    }
    EXPECT_EQ(compared, coarse.candles.size() - 1);
    EXPECT_GE(compared, 8'600u) << symbol;
  }
}

TEST(SharedData, futures_files_with_daylight_saving_offsets_import_with_no_duplicate_or_missing_hour) {
  TWINSTAR_REQUIRE_SHARED_DATA();
  for (const auto& file : csv_files("binance-futures-1h")) {
    // The wall-clock times repeat when the clocks go back: reading them without the offset would collide.
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    std::set<std::string> wall;
    std::size_t repeated = 0;
    while (std::getline(in, line)) {
      if (!wall.insert(line.substr(0, 19)).second) ++repeated;
    }
    ASSERT_GT(repeated, 0u) << file << ": expected daylight-saving repeats in local time";

    const CsvCandles csv = read_or_fail(file);
    EXPECT_EQ(csv.interval, Interval::h1);
    EXPECT_EQ(csv.candles.size(), 31'973u) << file;
    const SeriesKey k{Exchange::binance, Market::linear, csv.symbol, csv.interval};
    const IntegrityReport r = check_series(k, csv.candles);
    EXPECT_TRUE(r.gaps.empty()) << file << ": first gap at " << (r.gaps.empty() ? "" : format_iso8601(r.gaps[0].from));
    EXPECT_TRUE(r.duplicates.empty()) << file;
    EXPECT_TRUE(r.misaligned.empty()) << file;
    EXPECT_EQ(csv.candles.front().open_time, floor_ms(*parse_iso8601("2020-10-23T08:00:00Z")));
    EXPECT_EQ(csv.candles.back().open_time, floor_ms(*parse_iso8601("2024-06-16T12:00:00Z")));
  }
}

}  // namespace
}  // namespace twinstar::store
