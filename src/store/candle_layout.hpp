#pragma once
// Where candles live on disk (hive-partitioned, readable by pandas, polars and DuckDB as-is):
//   <data>/candles/exchange=bybit/market=linear/symbol=BTCUSDT/interval=15m/<period>_<first>-<last>.parquet
// <period> is the UTC month ("2024-01") for intervals under a day, the year ("2024") otherwise.
// <first>-<last> is the range of flush sequence numbers whose candles the file holds: a flush
// writes <n>-<n>; compaction merges a period's parts into <min>-<max>. A file whose range lies
// inside another file's range of the same period is superseded (a crash hit between "merged
// file renamed in" and "parts deleted") and is ignored, then deleted by the next writer.
//
// Flushes go to a journal beside candles/ (not part of the hive layout):
//   <data>/.candles-journal/<seq>.parquet
// one file per flush holding every series' new candles (columns exchange, market, symbol,
// interval, period, open_time_ms and the candle values as BIGINT in 1e-8 units). Compaction
// merges the journal into the hive layout: a merged part <period>_<lo>-<hi> holds every journal
// row of its series and period with seq in [lo, hi], so a journal row whose seq lies inside a
// live part's range is already merged and is ignored (a crash hit before the journal file was
// deleted). Readers union the journal with the parts; users' own tools see the hive layout as of
// the last compaction.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/ids.hpp"

namespace twinstar::store {

inline constexpr const char* kCandlesDir = "candles";
inline constexpr const char* kStagingDir = ".candles-staging";  // beside candles/, same filesystem
inline constexpr const char* kJournalDir = ".candles-journal";  // beside candles/, same filesystem
// Prices and volumes are stored as DECIMAL(18,8): |raw| must not exceed this.
inline constexpr std::int64_t kDecimal18Limit = 999'999'999'999'999'999;

// "bybit linear BTCUSDT 15m", for messages.
std::string describe(const SeriesKey& key);

// "2024-01" (intervals under a day) or "2024".
std::string period_of(Interval interval, std::int64_t open_time_ms);
// The first millisecond after the period holding open_time_ms (to split runs without formatting).
std::int64_t period_end_ms(Interval interval, std::int64_t open_time_ms);
// Upper bound of candles one period file holds (for choosing how many files to read).
std::int64_t max_candles_per_period(Interval interval);

// <candles_root>/exchange=../market=../symbol=../interval=..
std::filesystem::path series_dir(const std::filesystem::path& candles_root, const SeriesKey& key);
// Parses a directory path relative to the candles root back into its key.
// Errors: parse_error naming the part that is wrong.
Result<SeriesKey> parse_series_dir(const std::filesystem::path& relative);

// A part file of one series and period, or (journal = true) that series' rows of one period
// inside a journal file (first_seq == last_seq == the flush's seq).
struct PartFile {
  std::filesystem::path path;
  std::string period;
  std::uint64_t first_seq = 0;
  std::uint64_t last_seq = 0;
  std::uintmax_t bytes = 0;   // a journal entry's share of its file, by rows
  bool journal = false;
  std::uint64_t rows = 0;     // journal entries only (part files: unknown until read)
};

std::string part_file_name(const std::string& period, std::uint64_t first_seq, std::uint64_t last_seq);
// nullopt when the name is not a part file ("2024-01_0000000007-0000000007.parquet").
std::optional<PartFile> parse_part_file(const std::filesystem::path& path);

// "0000000042.parquet"; nullopt when the name is not a journal file.
std::string journal_file_name(std::uint64_t seq);
std::optional<std::uint64_t> parse_journal_file(const std::filesystem::path& path);

// Sorts `parts` by (period, first_seq) and moves superseded ones (part files and journal
// entries inside a wider part's range of the same period) into `superseded`.
void split_superseded(std::vector<PartFile>& parts, std::vector<PartFile>* superseded);

}  // namespace twinstar::store
