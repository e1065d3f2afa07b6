#include "store/candle_store.hpp"

#include <duckdb.h>

#include <fstream>

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "store_test_util.hpp"

namespace twinstar::store {
namespace {

namespace fs = std::filesystem;
using testing::candle_at;
using testing::key;
using testing::TempDir;

StoreOptions options_for(const fs::path& dir, std::size_t capacity = 100, std::size_t max_resident = 100) {
  StoreOptions o;
  o.data_dir = dir;
  o.ring_capacity = capacity;
  o.max_resident_series = max_resident;
  o.durability = Durability::rename_only;  // tests kill no power; the fsync path is the same code
  o.compact_every_flushes = 0;
  o.compact_on_close = false;  // tests choose when the journal is merged
  return o;
}

std::unique_ptr<CandleStore> must_open(const StoreOptions& o, const Clock& clock) {
  auto s = CandleStore::open(o, clock);
  if (!s) throw std::runtime_error("open failed: " + s.error().message);
  return std::move(*s);
}

std::vector<fs::path> parquet_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".parquet") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(CandleStore, flushed_candles_come_back_bit_exact_after_restart) {
  TempDir dir;
  ManualClock clock;
  std::vector<Candle> btc, eth;
  {
    auto store = must_open(options_for(dir.path()), clock);
    for (int i = 0; i < 50; ++i) {
      btc.push_back(candle_at(i, Interval::m15, 1));
      eth.push_back(candle_at(i, Interval::m15, 2));
      ASSERT_TRUE(store->append(key("BTCUSDT"), btc.back()));
      ASSERT_TRUE(store->append(key("ETHUSDT"), eth.back()));
    }
    ASSERT_TRUE(store->append(key("BTCUSDT"), candle_at(50, Interval::m15, 1, false)));  // open: not persisted
    auto report = store->flush().value();
    EXPECT_EQ(report.series, 2u);
    EXPECT_EQ(report.candles, 100u);
  }
  auto store = must_open(options_for(dir.path()), clock);
  EXPECT_EQ(store->open_report().series_found, 2u);
  EXPECT_EQ(store->open_report().candles_loaded, 100u);
  auto snap = store->snapshot(key("BTCUSDT")).value();
  EXPECT_EQ(snap.closed, btc);
  EXPECT_FALSE(snap.open);
  EXPECT_EQ(store->snapshot(key("ETHUSDT")).value().closed, eth);
}

TEST(CandleStore, flush_is_incremental_and_never_rewrites_history) {
  TempDir dir;
  ManualClock clock;
  auto store = must_open(options_for(dir.path()), clock);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(store->append(key("BTCUSDT"), candle_at(i)));
  ASSERT_TRUE(store->flush());
  const auto first = parquet_files(dir.path());
  ASSERT_EQ(first.size(), 1u);
  const auto first_size = fs::file_size(first[0]);
  const auto first_mtime = fs::last_write_time(first[0]);
  EXPECT_EQ(store->flush().value().candles, 0u);  // nothing new: nothing written
  EXPECT_EQ(parquet_files(dir.path()).size(), 1u);
  ASSERT_TRUE(store->append(key("BTCUSDT"), candle_at(10)));
  EXPECT_EQ(store->flush().value().candles, 1u);
  const auto second = parquet_files(dir.path());
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(fs::file_size(first[0]), first_size);
  EXPECT_EQ(fs::last_write_time(first[0]), first_mtime);
}

TEST(CandleStore, a_candle_already_on_disk_is_a_duplicate_after_restart) {
  TempDir dir;
  ManualClock clock;
  {
    auto store = must_open(options_for(dir.path()), clock);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(store->append(key("BTCUSDT"), candle_at(i)));
    ASSERT_TRUE(store->flush());
  }
  auto store = must_open(options_for(dir.path()), clock);
  EXPECT_EQ(store->append(key("BTCUSDT"), candle_at(4)).value(), AppendOutcome::duplicate);
  Candle changed = candle_at(4);
  changed.volume = Quantity::from_units(1);
  auto conflict = store->append(key("BTCUSDT"), changed);
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().code, ErrorCode::conflict);
  EXPECT_NE(conflict.error().message.find("BTCUSDT"), std::string::npos);
  EXPECT_EQ(store->flush().value().candles, 0u);
  EXPECT_EQ(store->get_stats().duplicates, 1u);
  EXPECT_EQ(store->get_stats().conflicts, 1u);
}

TEST(CandleStore, least_recently_used_series_are_flushed_evicted_and_reloaded_on_demand) {
  TempDir dir;
  ManualClock clock;
  auto store = must_open(options_for(dir.path(), 100, 2), clock);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store->append(key("AAAUSDT"), candle_at(i, Interval::m15, 1)));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store->append(key("BBBUSDT"), candle_at(i, Interval::m15, 2)));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store->append(key("CCCUSDT"), candle_at(i, Interval::m15, 3)));
  auto stats = store->get_stats();
  EXPECT_EQ(stats.series_resident, 2u);
  EXPECT_EQ(stats.series_known, 3u);
  EXPECT_EQ(stats.evictions, 1u);
  const auto usage = store->get_memory_usage();
  ASSERT_EQ(usage.size(), 3u);
  EXPECT_FALSE(usage[0].resident);  // AAAUSDT was least recently used
  EXPECT_EQ(usage[0].candles, 0u);
  // AAA was persisted on eviction and comes back intact.
  auto snap = store->snapshot(key("AAAUSDT")).value();
  ASSERT_EQ(snap.closed.size(), 3u);
  EXPECT_EQ(snap.closed[2], candle_at(2, Interval::m15, 1));
  EXPECT_EQ(store->get_stats().series_resident, 2u);
  EXPECT_EQ(store->get_stats().reloads, 1u);
  EXPECT_EQ(store->evict_to(1).value(), 1u);
  EXPECT_EQ(store->get_stats().series_resident, 1u);
}

TEST(CandleStore, a_full_ring_flushes_instead_of_dropping_unpersisted_candles) {
  TempDir dir;
  ManualClock clock;
  {
    auto store = must_open(options_for(dir.path(), 4), clock);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(store->append(key("BTCUSDT"), candle_at(i)));
    EXPECT_EQ(store->snapshot(key("BTCUSDT")).value().closed.size(), 4u);
  }  // the destructor flushes the rest
  StoreOptions o = options_for(dir.path(), 100);
  auto store = must_open(o, clock);
  auto snap = store->snapshot(key("BTCUSDT")).value();
  ASSERT_EQ(snap.closed.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(snap.closed[i], candle_at(i));
}

TEST(CandleStore, recovery_reports_exactly_the_gap_to_now) {
  TempDir dir;
  ManualClock clock(Timestamp(candle_at(0).open_time));
  {
    auto store = must_open(options_for(dir.path()), clock);
    for (int i = 0; i < 8; ++i) ASSERT_TRUE(store->append(key("BTCUSDT"), candle_at(i)));
    ASSERT_TRUE(store->flush());
  }
  // Restart 5 candles and 7 minutes after the last one closed: candles 8..12 closed, 13 is forming.
  clock.set(Timestamp(candle_at(13).open_time) + std::chrono::minutes(7));
  auto store = must_open(options_for(dir.path()), clock);
  auto gaps = store->recovery_gaps();
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0].last_stored, candle_at(7).open_time);
  EXPECT_EQ(gaps[0].from, candle_at(8).open_time);
  EXPECT_EQ(gaps[0].to, candle_at(13).open_time);
  EXPECT_EQ(gaps[0].missing, 5);
  // The feed backfills exactly that range; then there is no gap.
  std::vector<Candle> backfill;
  for (int i = 8; i < 13; ++i) backfill.push_back(candle_at(i));
  ASSERT_EQ(store->write_history(key("BTCUSDT"), backfill).value(), 5u);
  EXPECT_EQ(store->gap_to_now(key("BTCUSDT")).value().missing, 0);
  EXPECT_EQ(store->snapshot(key("BTCUSDT")).value().closed.size(), 13u);
  // A series never seen has no history: the feed decides how far back to go.
  auto fresh = store->gap_to_now(key("NEWUSDT")).value();
  EXPECT_FALSE(fresh.last_stored);
  EXPECT_EQ(fresh.missing, 0);
}

TEST(CandleStore, write_history_fills_a_hole_inside_the_ring) {
  TempDir dir;
  ManualClock clock;
  auto store = must_open(options_for(dir.path()), clock);
  for (int i : {0, 1, 4, 5}) ASSERT_TRUE(store->append(key("BTCUSDT"), candle_at(i)));
  std::vector<Candle> hole = {candle_at(2), candle_at(3)};
  ASSERT_TRUE(store->write_history(key("BTCUSDT"), hole));
  auto snap = store->snapshot(key("BTCUSDT")).value();
  ASSERT_EQ(snap.closed.size(), 6u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(snap.closed[i], candle_at(i));
  store.reset();
  auto again = must_open(options_for(dir.path()), clock);
  EXPECT_EQ(again->snapshot(key("BTCUSDT")).value().closed.size(), 6u);
}

TEST(CandleStore, memory_only_store_persists_nothing_and_keeps_the_newest) {
  ManualClock clock;
  StoreOptions o;
  o.ring_capacity = 3;
  auto store = must_open(o, clock);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store->append(key("BTCUSDT"), candle_at(i)));
  EXPECT_EQ(store->snapshot(key("BTCUSDT")).value().closed.front(), candle_at(2));
  EXPECT_EQ(store->flush().value().candles, 0u);
  EXPECT_EQ(store->snapshot(key("NOPEUSDT")).error().code, ErrorCode::not_found);
}

TEST(CandleStore, stats_and_memory_usage_report_what_is_held) {
  ManualClock clock;
  StoreOptions o;
  o.ring_capacity = 1000;
  auto store = must_open(o, clock);
  for (int s = 0; s < 3; ++s) {
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(store->append(key("S" + std::to_string(s) + "USDT"), candle_at(i)));
  }
  auto st = store->get_stats();
  EXPECT_EQ(st.series_resident, 3u);
  EXPECT_EQ(st.candles_resident, 3000u);
  EXPECT_EQ(st.candles_appended, 3000u);
  EXPECT_LE(static_cast<double>(st.resident_bytes) / st.candles_resident, 64.0);
  for (const auto& m : store->get_memory_usage()) EXPECT_EQ(m.candles, 1000u);
}

std::vector<fs::path> journal_files(const fs::path& dir);

// Two processes on one data folder (each its own CandleStore and lock-file descriptor): opened
// one after the other, each flushes with a sequence number the other has not used, so neither
// overwrites the other's journal file, and either one's merge takes in both.
TEST(CandleStore, two_writers_share_a_folder_without_reusing_a_sequence_number) {
  TempDir dir;
  ManualClock clock;
  auto first = must_open(options_for(dir.path()), clock);
  auto second = must_open(options_for(dir.path()), clock);
  std::vector<Candle> btc, eth;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 10; ++i) {
      btc.push_back(candle_at(round * 10 + i, Interval::m15, 1));
      eth.push_back(candle_at(round * 10 + i, Interval::m15, 2));
      ASSERT_TRUE(first->append(key("BTCUSDT"), btc.back()));
      ASSERT_TRUE(second->append(key("ETHUSDT"), eth.back()));
    }
    ASSERT_TRUE(first->flush());
    ASSERT_TRUE(second->flush());
  }
  EXPECT_EQ(journal_files(dir.path()).size(), 6u) << "a journal file was overwritten";
  auto merged = second->compact();
  ASSERT_TRUE(merged) << merged.error().message;
  EXPECT_EQ(merged->journal_files_merged, 6u);
  EXPECT_TRUE(journal_files(dir.path()).empty());
  // The first writer flushes on after the other merged its files away.
  btc.push_back(candle_at(30, Interval::m15, 1));
  ASSERT_TRUE(first->append(key("BTCUSDT"), btc.back()));
  ASSERT_TRUE(first->flush());
  first.reset();
  second.reset();
  auto reopened = must_open(options_for(dir.path()), clock);
  EXPECT_EQ(reopened->snapshot(key("BTCUSDT")).value().closed, btc);
  EXPECT_EQ(reopened->snapshot(key("ETHUSDT")).value().closed, eth);
  EXPECT_EQ(reopened->open_report().candles_loaded, btc.size() + eth.size());
}

std::vector<fs::path> journal_files(const fs::path& dir) { return parquet_files(dir / kJournalDir); }
std::vector<fs::path> part_files(const fs::path& dir) { return parquet_files(dir / kCandlesDir); }

TEST(CandleLayout, period_end_is_the_first_millisecond_of_the_next_month_or_year) {
  const auto ms = [](const char* iso) { return to_epoch_ms(floor_ms(*parse_iso8601(iso))); };
  EXPECT_EQ(period_end_ms(Interval::m15, ms("2024-01-31T23:45:00Z")), ms("2024-02-01T00:00:00Z"));
  EXPECT_EQ(period_end_ms(Interval::m1, ms("2024-12-01T00:00:00Z")), ms("2025-01-01T00:00:00Z"));
  EXPECT_EQ(period_end_ms(Interval::d1, ms("2024-06-01T00:00:00Z")), ms("2025-01-01T00:00:00Z"));
  EXPECT_EQ(period_of(Interval::m15, ms("2024-02-01T00:00:00Z") - 1), "2024-01");
  EXPECT_EQ(period_of(Interval::m15, ms("2024-02-01T00:00:00Z")), "2024-02");
}

// Encodings of one column chunk of a Parquet file, as DuckDB reports them.
std::string encodings_of(const fs::path& file, const char* column) {
  auto db = DuckDatabase::open_in_memory(1).value();
  auto conn = db.connect().value();
  auto r = conn.query(fmt::format("SELECT encodings FROM parquet_metadata({}) WHERE path_in_schema = {}", sql_quote(file.string()),
                                  sql_quote(column)))
               .value();
  char* v = duckdb_value_varchar(r.get(), 0, 0);
  std::string out = v != nullptr ? v : "";
  duckdb_free(v);
  return out;
}

// Rewrites a part file as the store wrote it before V2 pages (DuckDB's default, Parquet V1).
void rewrite_as_v1(const fs::path& file) {
  auto db = DuckDatabase::open_in_memory(1).value();
  auto conn = db.connect().value();
  const fs::path tmp = file.string() + ".v1";
  ASSERT_TRUE(conn.execute(fmt::format("COPY (SELECT * FROM read_parquet({})) TO {} (FORMAT parquet)", sql_quote(file.string()),
                                       sql_quote(tmp.string()))));
  fs::rename(tmp, file);
}

TEST(CandleStore, parts_in_the_v1_format_of_earlier_versions_load_bit_exact_and_a_merge_rewrites_them_as_v2) {
  TempDir dir;
  ManualClock clock;
  std::vector<Candle> history;
  for (int i = 0; i < 6000; ++i) history.push_back(candle_at(i));  // 2024-01 .. 2024-03
  {
    auto store = must_open(options_for(dir.path()), clock);
    ASSERT_TRUE(store->write_history(key("BTCUSDT"), history));
  }
  auto parts = part_files(dir.path());
  ASSERT_EQ(parts.size(), 3u);
  for (const auto& p : parts) {
    EXPECT_EQ(encodings_of(p, "open_time"), "DELTA_BINARY_PACKED") << p;  // written as V2 now
    rewrite_as_v1(p);
    EXPECT_EQ(encodings_of(p, "open_time"), "PLAIN") << p;  // as older versions wrote them
  }
  {
    auto store = must_open(options_for(dir.path(), 10'000), clock);
    EXPECT_EQ(store->snapshot(key("BTCUSDT")).value().closed, history);
    const Candle next = candle_at(6000);  // a second part in 2024-03: the merge rewrites that month
    ASSERT_TRUE(store->write_history(key("BTCUSDT"), std::span(&next, 1)));
    history.push_back(next);
    EXPECT_EQ(store->compact().value().periods, 1u);
  }
  parts = part_files(dir.path());
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(encodings_of(parts[0], "open_time"), "PLAIN");  // untouched months stay V1 and still load
  EXPECT_EQ(encodings_of(parts[2], "open_time"), "DELTA_BINARY_PACKED");
  auto store = must_open(options_for(dir.path(), 10'000), clock);
  EXPECT_EQ(store->snapshot(key("BTCUSDT")).value().closed, history);
}

TEST(CandleStore, a_flush_writes_one_journal_file_for_every_series) {
  TempDir dir;
  ManualClock clock;
  auto store = must_open(options_for(dir.path()), clock);
  for (int s = 0; s < 5; ++s) {
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(store->append(key(fmt::format("S{}USDT", s)), candle_at(i, Interval::m15, s)));
  }
  auto r = store->flush().value();
  EXPECT_EQ(r.series, 5u);
  EXPECT_EQ(r.candles, 50u);
  EXPECT_EQ(r.files, 1u);
  EXPECT_EQ(journal_files(dir.path()).size(), 1u);
  EXPECT_TRUE(part_files(dir.path()).empty());
  EXPECT_EQ(store->archive()->journal_stats().rows, 50u);
}

TEST(CandleStore, compaction_merges_the_journal_and_a_crash_before_deleting_it_shows_no_duplicate) {
  TempDir dir;
  ManualClock clock;
  std::vector<fs::path> journal;
  {
    auto store = must_open(options_for(dir.path()), clock);
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(store->append(key("BTCUSDT"), candle_at(i)));
      ASSERT_TRUE(store->append(key("ETHUSDT"), candle_at(i, Interval::m15, 7)));
      ASSERT_TRUE(store->flush());
    }
    journal = journal_files(dir.path());
    ASSERT_EQ(journal.size(), 20u);
    EXPECT_TRUE(part_files(dir.path()).empty());
    // Keep copies of two journal files, as if the process died between "merged parts in" and
    // "journal deleted".
    fs::copy_file(journal[3], dir.path() / "keep3");
    fs::copy_file(journal[7], dir.path() / "keep7");
    auto c = store->compact().value();
    EXPECT_EQ(c.periods, 2u);
    EXPECT_EQ(c.journal_files_merged, 20u);
    EXPECT_EQ(part_files(dir.path()).size(), 2u);  // one per series and period: the hive layout
    EXPECT_TRUE(journal_files(dir.path()).empty());
  }
  fs::rename(dir.path() / "keep3", journal[3]);
  fs::rename(dir.path() / "keep7", journal[7]);
  {
    auto archive = CandleArchive::open(dir.path(), ArchiveOptions{Durability::rename_only, false, 0}).value();
    auto listed = archive->list().value();
    ASSERT_EQ(listed.size(), 2u);
    EXPECT_EQ(listed[0].parts.size(), 1u);  // readers ignore the merged journal entries
    auto rows = archive->read(listed, 0).value();
    EXPECT_EQ(rows.series[0].candles.size(), 20u);
    EXPECT_EQ(rows.series[0].duplicate_rows, 0u);
    EXPECT_EQ(rows.series[1].duplicate_rows, 0u);
  }
  auto store = must_open(options_for(dir.path()), clock);  // the writer deletes them
  EXPECT_TRUE(journal_files(dir.path()).empty());
  auto snap = store->snapshot(key("BTCUSDT")).value();
  ASSERT_EQ(snap.closed.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(snap.closed[i], candle_at(i));
}

TEST(CandleStore, compaction_merges_part_files_and_a_crash_before_deleting_them_shows_no_duplicate) {
  TempDir dir;
  ManualClock clock;
  std::vector<fs::path> parts;
  {
    auto store = must_open(options_for(dir.path()), clock);
    for (int i = 0; i < 20; ++i) {
      const Candle c = candle_at(i);
      ASSERT_TRUE(store->write_history(key("BTCUSDT"), std::span(&c, 1)));  // backfills write parts directly
    }
    parts = part_files(dir.path());
    ASSERT_EQ(parts.size(), 20u);
    fs::copy_file(parts[3], dir.path() / "keep3");
    fs::copy_file(parts[7], dir.path() / "keep7");
    auto c = store->compact().value();
    EXPECT_EQ(c.periods, 1u);
    EXPECT_EQ(c.files_removed, 20u);
    EXPECT_EQ(part_files(dir.path()).size(), 1u);
  }
  fs::rename(dir.path() / "keep3", parts[3]);
  fs::rename(dir.path() / "keep7", parts[7]);
  {
    auto archive = CandleArchive::open(dir.path(), ArchiveOptions{Durability::rename_only, false, 0}).value();
    auto listed = archive->list().value();
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].parts.size(), 1u);  // readers ignore the superseded parts
    auto rows = archive->read(listed, 0).value();
    EXPECT_EQ(rows.series[0].candles.size(), 20u);
    EXPECT_EQ(rows.series[0].duplicate_rows, 0u);
  }
  auto store = must_open(options_for(dir.path()), clock);  // the writer deletes them
  EXPECT_EQ(part_files(dir.path()).size(), 1u);
  auto snap = store->snapshot(key("BTCUSDT")).value();
  ASSERT_EQ(snap.closed.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(snap.closed[i], candle_at(i));
}

TEST(CandleStore, a_write_of_many_months_gives_every_file_in_time_order) {
  TempDir dir;
  ManualClock clock;
  // 1m candles over five month boundaries; a month's rows do not start on a DuckDB chunk
  // boundary (2,048 rows), so a chunk holds the end of one month and the start of the next.
  std::vector<Candle> candles;
  for (std::int64_t i = 0; i < 240'000; ++i) candles.push_back(candle_at(i, Interval::m1));
  {
    auto store = must_open(options_for(dir.path()), clock);
    ASSERT_TRUE(store->write_history(key("BTCUSDT", Interval::m1), candles));
  }
  ASSERT_EQ(part_files(dir.path()).size(), 6u);  // January to mid-June 2024
  auto archive = CandleArchive::open(dir.path(), ArchiveOptions{Durability::rename_only, false, 0}).value();
  auto rows = archive->read(archive->list().value(), 0).value();
  ASSERT_EQ(rows.series.size(), 1u);
  EXPECT_EQ(rows.series[0].unsorted_files, 0u);  // each file in open-time order, as written
  ASSERT_EQ(rows.series[0].candles.size(), candles.size());
  EXPECT_EQ(rows.series[0].candles.front().to_candle(), candles.front());
  EXPECT_EQ(rows.series[0].candles.back().to_candle(), candles.back());
}

TEST(CandleStore, journal_and_parts_are_read_together_and_the_later_write_wins) {
  TempDir dir;
  ManualClock clock;
  auto opts = options_for(dir.path());
  Candle rewritten = candle_at(3);
  rewritten.close = Price::from_raw(rewritten.close.raw() + 1);
  {
    auto store = must_open(opts, clock);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(store->append(key("BTCUSDT"), candle_at(i)));
    ASSERT_TRUE(store->flush());           // journal, seq 1
    ASSERT_TRUE(store->compact());         // -> part
    for (int i = 5; i < 8; ++i) ASSERT_TRUE(store->append(key("BTCUSDT"), candle_at(i)));
    ASSERT_TRUE(store->flush());           // journal
    ASSERT_TRUE(store->write_history(key("BTCUSDT"), std::span(&rewritten, 1)));  // a later part
  }
  ASSERT_EQ(journal_files(dir.path()).size(), 1u);
  ASSERT_EQ(part_files(dir.path()).size(), 2u);
  auto check = [&](const char* when) {
    auto archive = CandleArchive::open(dir.path(), ArchiveOptions{Durability::rename_only, false, 0}).value();
    auto listed = archive->list().value();
    ASSERT_EQ(listed.size(), 1u) << when;
    auto rows = archive->read(listed, 0).value();
    ASSERT_EQ(rows.series[0].candles.size(), 8u) << when;
    for (int i = 0; i < 8; ++i) {
      EXPECT_EQ(rows.series[0].candles[i].to_candle(), i == 3 ? rewritten : candle_at(i)) << when << " " << i;
    }
    // Prices only: the same rows, from the journal and the parts alike, without volume or turnover.
    auto prices = archive->read(listed, 0, true, CandleColumns::prices).value();
    ASSERT_EQ(prices.series[0].candles.size(), 8u) << when;
    for (int i = 0; i < 8; ++i) {
      Candle want = i == 3 ? rewritten : candle_at(i);
      want.volume = Quantity{};
      want.turnover = Money{};
      EXPECT_EQ(prices.series[0].candles[i].to_candle(), want) << when << " " << i;
    }
    // Straight into Candles: the same rows.
    auto candles = archive->read_candles(listed).value();
    ASSERT_EQ(candles.series[0].candles.size(), 8u) << when;
    for (int i = 0; i < 8; ++i) EXPECT_EQ(candles.series[0].candles[i], rows.series[0].candles[i].to_candle()) << when << " " << i;
    auto newest = archive->read(listed, 2).value();
    ASSERT_EQ(newest.series[0].candles.size(), 2u) << when;
    EXPECT_EQ(newest.series[0].candles[1].to_candle(), candle_at(7)) << when;
    auto sql = archive->sql("SELECT count(*), max(close)::VARCHAR FROM candles");
    ASSERT_TRUE(sql) << when << ": " << sql.error().message;
    EXPECT_EQ(duckdb_value_int64(sql->get(), 0, 0), 9) << when;  // the view unions without deduplicating
  };
  check("before merge");
  {
    auto store = must_open(opts, clock);
    auto c = store->compact().value();
    EXPECT_EQ(c.journal_files_merged, 1u);
  }
  EXPECT_TRUE(journal_files(dir.path()).empty());
  ASSERT_EQ(part_files(dir.path()).size(), 1u);
  auto archive = CandleArchive::open(dir.path(), ArchiveOptions{Durability::rename_only, false, 0}).value();
  auto listed = archive->list().value();
  auto rows = archive->read(listed, 0).value();
  ASSERT_EQ(rows.series[0].candles.size(), 8u);
  EXPECT_EQ(rows.series[0].candles[3].to_candle(), rewritten);
  EXPECT_EQ(rows.series[0].duplicate_rows + rows.series[0].conflicting_rows, 0u);
}

TEST(CandleStore, files_that_overlap_by_one_row_read_in_order_with_the_later_write_winning) {
  TempDir dir;
  ManualClock clock;
  auto opts = options_for(dir.path());
  std::vector<Candle> first, second;
  for (int i = 0; i < 5; ++i) first.push_back(candle_at(i));
  for (int i = 4; i < 7; ++i) second.push_back(candle_at(i));
  second.front().close = Price::from_raw(second.front().close.raw() + 7);  // the later write of candle 4
  {
    auto store = must_open(opts, clock);
    ASSERT_TRUE(store->write_history(key("BTCUSDT"), first));
    ASSERT_TRUE(store->write_history(key("BTCUSDT"), second));
  }
  ASSERT_EQ(part_files(dir.path()).size(), 2u);
  auto archive = CandleArchive::open(dir.path(), ArchiveOptions{Durability::rename_only, false, 0}).value();
  auto listed = archive->list().value();
  // Rows arrive as 0 1 2 3 4 4' 5 6: already in time order, one open time twice.
  auto rows = archive->read(listed, 0).value();
  ASSERT_EQ(rows.series[0].candles.size(), 7u);
  EXPECT_EQ(rows.series[0].conflicting_rows, 1u);
  EXPECT_EQ(rows.series[0].unsorted_files, 0u);
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(rows.series[0].candles[i].to_candle(), i == 4 ? second.front() : candle_at(i)) << i;
  }
  auto candles = archive->read_candles(listed).value();
  ASSERT_EQ(candles.series[0].candles.size(), 7u);
  EXPECT_EQ(candles.series[0].candles[4], second.front());
  auto all = archive->read(listed, 0, /*dedupe=*/false).value();
  ASSERT_EQ(all.series[0].candles.size(), 8u);
  EXPECT_EQ(all.series[0].candles[5].to_candle(), second.front());
}

TEST(CandleStore, a_reader_whose_listing_went_stale_during_a_merge_still_reads_every_candle) {
  TempDir dir;
  ManualClock clock;
  auto store = must_open(options_for(dir.path()), clock);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(store->append(key("BTCUSDT"), candle_at(i)));
    ASSERT_TRUE(store->flush());
  }
  // Another process (data check, a backtest) lists the store ...
  auto reader = CandleArchive::open(dir.path(), ArchiveOptions{Durability::rename_only, false, 0}).value();
  const auto listed = reader->list().value();
  ASSERT_EQ(listed.size(), 1u);
  ASSERT_EQ(listed[0].parts.size(), 10u);  // ten journal entries
  // ... the engine merges the journal and deletes it ...
  ASSERT_EQ(store->compact().value().journal_files_merged, 10u);
  // ... and the reader reads with its stale listing.
  auto rows = reader->read(listed, 0).value();
  EXPECT_TRUE(rows.errors.empty()) << rows.errors[0].path << ": " << rows.errors[0].message;
  ASSERT_EQ(rows.series[0].candles.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(rows.series[0].candles[i].to_candle(), candle_at(i));
}

TEST(CandleStore, a_clean_close_merges_the_journal_into_the_hive_layout) {
  TempDir dir;
  ManualClock clock;
  auto opts = options_for(dir.path());
  opts.compact_on_close = true;
  {
    auto store = must_open(opts, clock);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(store->append(key("BTCUSDT"), candle_at(i)));
    ASSERT_TRUE(store->flush());
    EXPECT_EQ(journal_files(dir.path()).size(), 1u);
  }
  EXPECT_TRUE(journal_files(dir.path()).empty());
  const auto parts = part_files(dir.path());
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_NE(parts[0].string().find("exchange=bybit/market=linear/symbol=BTCUSDT/interval=15m/2024-01_"), std::string::npos);
}

TEST(CandleStore, a_corrupt_parquet_file_is_named_and_the_rest_of_the_store_loads) {
  TempDir dir;
  ManualClock clock;
  {
    auto store = must_open(options_for(dir.path()), clock);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(store->append(key("BTCUSDT"), candle_at(i)));
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(store->append(key("ETHUSDT"), candle_at(i)));
    ASSERT_TRUE(store->flush());
    for (int i = 10; i < 15; ++i) ASSERT_TRUE(store->append(key("BTCUSDT"), candle_at(i)));
    ASSERT_TRUE(store->flush());
  }
  // Corrupt the newest journal file (BTC's second flush): keep the name, scribble over the bytes.
  const auto journal = journal_files(dir.path());
  ASSERT_EQ(journal.size(), 2u);
  const fs::path victim = journal.back();
  { std::ofstream(victim, std::ios::trunc | std::ios::binary) << "PAR1 this is not a parquet file"; }

  auto store = must_open(options_for(dir.path()), clock);
  const auto& bad = store->open_report().unreadable;
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].path, victim);
  EXPECT_FALSE(bad[0].message.empty());
  EXPECT_EQ(store->snapshot(key("ETHUSDT")).value().closed.size(), 10u);
  auto btc = store->snapshot(key("BTCUSDT")).value();
  EXPECT_EQ(btc.closed.size(), 10u);  // the readable journal file
  ASSERT_TRUE(store->append(key("BTCUSDT"), candle_at(10)));
  EXPECT_TRUE(store->flush());  // the store stays usable
  auto c = store->compact().value();  // merges what it can read, keeps the corrupt file
  EXPECT_EQ(c.journal_files_merged, 2u);
  EXPECT_TRUE(fs::exists(victim));
}

TEST(CandleStore, a_corrupt_part_file_is_named_and_the_rest_of_the_store_loads) {
  TempDir dir;
  ManualClock clock;
  {
    auto store = must_open(options_for(dir.path()), clock);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(store->append(key("BTCUSDT"), candle_at(i)));
    ASSERT_TRUE(store->flush());
    ASSERT_TRUE(store->compact());
    std::vector<Candle> more;
    for (int i = 10; i < 15; ++i) more.push_back(candle_at(i));
    ASSERT_TRUE(store->write_history(key("BTCUSDT"), more));
  }
  const auto parts = part_files(dir.path());
  ASSERT_EQ(parts.size(), 2u);
  { std::ofstream(parts.back(), std::ios::trunc | std::ios::binary) << "PAR1 this is not a parquet file"; }
  auto store = must_open(options_for(dir.path()), clock);
  ASSERT_EQ(store->open_report().unreadable.size(), 1u);
  EXPECT_EQ(store->open_report().unreadable[0].path, parts.back());
  EXPECT_EQ(store->snapshot(key("BTCUSDT")).value().closed.size(), 10u);
}

}  // namespace
}  // namespace twinstar::store
