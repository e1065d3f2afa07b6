#pragma once
// Parquet persistence of closed candles through DuckDB (layout: candle_layout.hpp).
// Writes are incremental (new files only) and atomic per file: each file is written in a
// staging folder, synced, renamed into place and its folder synced, so a crash at any instant
// leaves every visible file complete. Flushes append one journal file for all series; compaction
// merges the journal into the hive-partitioned parts. Several writer processes may share a data
// folder: every write, merge and start-up clean-up runs under an exclusive lock on
// candles/.writer.lock, which also holds the next sequence number, so file names never collide.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/ids.hpp"
#include "store/candle_layout.hpp"
#include "store/candle_ring.hpp"
#include "store/duckdb_handle.hpp"

namespace twinstar::store {

// What a completed write guarantees.
enum class Durability : std::uint8_t {
  fsync,        // files and folders synced before a write returns: survives power loss
  rename_only,  // atomic rename without sync: survives a process crash, not a power loss
};

struct ArchiveOptions {
  Durability durability = Durability::fsync;
  bool writer = true;   // may write; cleans staging leftovers and superseded files at open
  // DuckDB threads for large reads (0 = one per core). Writes run on one: a flush's COPY of one
  // file gains nothing from a second thread, which only burns CPU (measured: 13 vs 25 ms).
  int threads = 2;
  // DuckDB's memory_limit (its buffers and caches; without one it grows towards 80 % of RAM).
  std::string memory_limit = "256MB";
};

namespace detail {
struct RowSource;
}

// The closed candles of one series to persist, ascending by open time, unique.
struct SeriesBatch {
  SeriesKey key;
  std::vector<StoredCandle> candles;
};

// A series found on disk and its live part files, ascending by (period, first_seq).
struct SeriesFiles {
  SeriesKey key;
  std::filesystem::path dir;
  std::vector<PartFile> parts;
  std::uintmax_t bytes = 0;
};

// A file that could not be read, with why.
struct FileError {
  std::filesystem::path path;
  std::string message;
};

// Rows of one series read from disk, deduplicated by open time (the later write wins).
// Row: StoredCandle (the store's own form) or Candle (read_candles: no second copy to convert).
template <class Row>
struct BasicSeriesRows {
  SeriesKey key;
  std::vector<Row> candles;
  std::size_t duplicate_rows = 0;    // same open time in two files, same values
  std::size_t conflicting_rows = 0;  // same open time, different values (later file kept)
  std::size_t unsorted_files = 0;    // files whose rows were not ascending
};
using SeriesRows = BasicSeriesRows<StoredCandle>;

// Which value columns a read decodes. `prices` skips volume and turnover (read as zero): the
// backtest uses neither, and their DECIMAL(38,8) decoding is a fifth of a read's time.
enum class CandleColumns : std::uint8_t { all, prices };

template <class Row>
struct BasicReadResult {
  std::vector<BasicSeriesRows<Row>> series;  // same order as requested
  std::vector<FileError> errors;             // unreadable files; their series are read without them
};
using ReadResult = BasicReadResult<StoredCandle>;
using CandleReadResult = BasicReadResult<Candle>;

struct WriteReport {
  std::uint64_t seq = 0;
  std::size_t files = 0;
  std::size_t candles = 0;
};

struct CompactReport {
  std::size_t periods = 0;         // periods merged
  std::size_t files_removed = 0;         // part and journal files
  std::size_t files_written = 0;
  std::size_t duplicates_dropped = 0;
  std::size_t journal_files_merged = 0;  // journal files merged into parts and deleted
  std::vector<FileError> errors;   // periods skipped because a part was unreadable
};

struct JournalStats {
  std::size_t files = 0;
  std::uint64_t rows = 0;
  std::uintmax_t bytes = 0;
};

class CandleArchive {
 public:
  // Opens (creating) <data_dir>/candles. A writer waits while another process holds the write
  // lock (one write or merge, never longer). Errors: io_error.
  static Result<std::unique_ptr<CandleArchive>> open(const std::filesystem::path& data_dir, ArchiveOptions options = {});
  ~CandleArchive();
  CandleArchive(const CandleArchive&) = delete;
  CandleArchive& operator=(const CandleArchive&) = delete;

  // Persists every batch in one pass: one new part file per (series, period), published in
  // ascending time per series, so a crash part-way leaves each series a gap-free prefix.
  // For imports and backfills (visible to users' tools at once).
  // Thread: any (serialised). Errors: io_error, invalid_argument (value outside DECIMAL(18,8)).
  Result<WriteReport> write(std::span<const SeriesBatch> batches);

  // Persists every batch as ONE journal file (one COPY, one fsync): the cheap path for flushes.
  // All or nothing: a crash leaves the file absent or complete. Thread: any (serialised).
  // Errors: io_error, invalid_argument (not ascending, value outside DECIMAL(18,8)).
  Result<WriteReport> append_journal(std::span<const SeriesBatch> batches);
  // Journal files not yet merged. Thread: any.
  JournalStats journal_stats();

  // Every series with its live files: part files and journal entries. Thread: any. Errors: io_error.
  Result<std::vector<SeriesFiles>> list();
  // One series' files (empty parts when none). Errors: io_error.
  Result<SeriesFiles> files_of(const SeriesKey& key);

  // Reads the newest `newest_n` candles of each series (all when newest_n == 0): one query over
  // the part files and one over the journal files per pass (a pass per period count needed).
  // The later write (by sequence number) wins among rows with the same open time.
  // A listed file that vanished meanwhile (merged by the writing process) makes its series be
  // listed and read again.
  // With dedupe=false, rows sharing an open time are all kept (for integrity checks).
  // With CandleColumns::prices, volume and turnover are zero (part files do not decode them).
  // Unreadable files are reported in errors and skipped. Thread: any. Errors: io_error.
  Result<ReadResult> read(std::span<const SeriesFiles> series, std::size_t newest_n = 0, bool dedupe = true,
                          CandleColumns columns = CandleColumns::all);
  // The same read, straight into closed Candles (a backtest's input).
  Result<CandleReadResult> read_candles(std::span<const SeriesFiles> series, CandleColumns columns = CandleColumns::all);

  // Merges the journal into the parts, and each period that has at least `min_parts` part files
  // into one file, then deletes the merged parts and journal files. Never exposes a missing row;
  // a crash may leave superseded parts or merged journal files, which readers ignore and the
  // next compaction deletes. Thread: any. Errors: io_error.
  Result<CompactReport> compact(std::size_t min_parts = 2);

  // A read-only DuckDB view `candles` over every part file (hive columns exchange, market,
  // symbol, interval) and the journal not yet merged, on this archive's connection, for ad-hoc
  // SQL. Errors: io_error.
  Result<DuckResult> sql(const std::string& query);

  const std::filesystem::path& candles_root() const noexcept { return root_; }
  Durability durability() const noexcept { return options_.durability; }

 private:
  CandleArchive(std::filesystem::path data_dir, ArchiveOptions options);
  Status init();
  struct Group {
    const SeriesKey* key;
    std::string period;
    std::span<const StoredCandle> candles;
    std::uint64_t first_seq;
    std::uint64_t last_seq;
  };
  struct JournalEntry {
    SeriesKey key;
    std::string period;
    std::uint64_t rows = 0;
  };
  struct JournalFile {
    std::filesystem::path path;
    std::uintmax_t bytes = 0;
    std::uint64_t rows = 0;
    std::vector<JournalEntry> entries;
  };
  Result<std::size_t> write_groups(std::span<const Group> groups, std::uint64_t staging_id);
  Result<SeriesFiles> scan_series(const std::filesystem::path& dir, const SeriesKey& key, std::vector<PartFile>* superseded);
  Result<std::vector<SeriesFiles>> list_locked();
  template <class Row>
  Result<BasicReadResult<Row>> read_rows(std::span<const SeriesFiles> series, std::size_t newest_n, bool dedupe,
                                         CandleColumns columns);
  template <class Row>
  Result<BasicReadResult<Row>> read_locked(std::span<const SeriesFiles> series, std::size_t newest_n, bool dedupe,
                                           CandleColumns columns);
  // Brings journal_ up to date with the journal folder (new files indexed with one query).
  Status refresh_journal_locked();
  // Adds the journal's entries to `series` (creating series found only there) and drops the
  // superseded ones.
  void add_journal_entries_locked(std::vector<SeriesFiles>& series, const SeriesKey* only);
  struct FileRef {
    const PartFile* file;
    const SeriesKey* key;
  };
  // Reads every row of `files` (part files and journal entries) into sink(i) for files[i], each
  // file's rows in file order (all part files' rows before all journal rows). Indices of part
  // files whose rows were not ascending go to unsorted_files. Errors name the file when one.
  template <class Row>
  Status read_files(const std::vector<FileRef>& files, const std::function<std::vector<Row>&(std::size_t)>& sink,
                    std::vector<std::size_t>* unsorted_files = nullptr, CandleColumns columns = CandleColumns::all);
  // Runs `copy` (a COPY statement reading twinstar_rows()) with `source` as the rows.
  Status copy_rows(detail::RowSource& source, const std::string& copy);
  // Runs DuckDB with options_.threads while `files` files are read, with one thread otherwise.
  Status set_threads(int n);
  Status sync_dir(const std::filesystem::path& dir);
  // The cross-process write lock (flock on lock_fd_), held for one write, merge or start-up
  // clean-up. Taking it also catches next_seq_ up with the numbers other writers took.
  class WriteLock;
  Result<WriteLock> lock_writes();
  // The next sequence number, recorded in the lock file before any file uses it. Under WriteLock.
  Result<std::uint64_t> take_seq();

  std::filesystem::path data_dir_;
  std::filesystem::path root_;
  std::filesystem::path staging_;
  ArchiveOptions options_;
  std::mutex mutex_;  // guards everything below and the DuckDB connection
  DuckDatabase db_;
  DuckConnection conn_;
  int lock_fd_ = -1;  // candles/.writer.lock: flock for writes, content = next sequence number
  std::filesystem::path journal_dir_;
  int threads_now_ = 1;
  std::uint64_t next_seq_ = 1;
  std::map<std::uint64_t, JournalFile> journal_;      // by seq
  std::map<std::filesystem::path, std::string> bad_journal_;  // unreadable journal files, with why
  detail::RowSource* source_ = nullptr;  // the rows twinstar_rows() yields during copy_rows
};

}  // namespace twinstar::store
