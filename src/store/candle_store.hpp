#pragma once
// The shared candle store (the original SharedDataManager done right): one series per
// (exchange, market, symbol, interval), each a bounded ring in memory; closed candles go to
// Parquet in batched, incremental, atomic flushes; at most max_resident_series rings in memory
// (least recently used flushed and dropped, reloaded on demand); the newest candles reloaded
// on start with the gap to "now" reported so the feed can backfill exactly that range.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/candle.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "store/candle_archive.hpp"
#include "store/candle_ring.hpp"

namespace twinstar::store {

struct StoreOptions {
  std::filesystem::path data_dir;          // empty: memory only, nothing persisted
  std::size_t ring_capacity = 1000;        // closed candles kept in memory per series
  std::size_t max_resident_series = 100;   // rings in memory at once (LRU beyond)
  Durability durability = Durability::fsync;
  std::size_t compact_every_flushes = 64;  // merge the journal into the parts after this many flushes (0 = never)
  bool compact_on_close = true;            // merge the journal when the store closes cleanly
  bool load_on_open = true;                // load the newest ring_capacity candles of recent series
  int duckdb_threads = 2;                  // 0 = DuckDB's default (one per core)
  std::string duckdb_memory_limit = "256MB";  // bounds DuckDB's buffers ("" = DuckDB's default, 80 % of RAM)
};

// A consistent copy of one series at one instant.
struct SeriesSnapshot {
  SeriesKey key;
  std::vector<Candle> closed;  // oldest to newest
  std::optional<Candle> open;  // the candle still forming, if any
};

// The range the feed must backfill: every candle with from <= open_time < to.
struct RecoveryGap {
  SeriesKey key;
  std::optional<TimestampMs> last_stored;  // newest closed candle known (none: no history at all)
  TimestampMs from{};                      // first missing open time
  TimestampMs to{};                        // open time of the candle forming now (exclusive)
  std::int64_t missing = 0;                // candles in [from, to)
};

struct SeriesMemory {
  SeriesKey key;
  bool resident = false;
  std::size_t candles = 0;  // closed candles in memory (+1 when an open candle is held)
  std::size_t bytes = 0;    // ring allocation and bookkeeping
};

struct StoreStats {
  std::size_t series_known = 0;      // symbols_loaded in the original
  std::size_t series_resident = 0;   // active_symbols
  std::size_t candles_resident = 0;  // total_memory_candles
  std::size_t resident_bytes = 0;
  std::size_t unflushed = 0;
  std::uint64_t candles_appended = 0;  // total_candles_managed
  std::uint64_t flushes = 0;
  std::uint64_t candles_flushed = 0;
  std::uint64_t evictions = 0;
  std::uint64_t reloads = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t conflicts = 0;
  std::uint64_t out_of_order = 0;
  std::optional<Timestamp> last_flush;  // last_batch_save
  Duration last_flush_took{};
};

struct FlushReport {
  std::size_t series = 0;
  std::size_t candles = 0;
  std::size_t files = 0;
  std::optional<CompactReport> compaction;
};

struct OpenReport {
  std::size_t series_found = 0;
  std::size_t series_loaded = 0;
  std::size_t candles_loaded = 0;
  std::vector<FileError> unreadable;  // skipped files (corrupt); the rest of the store loads
};

class CandleStore {
 public:
  // Opens (or creates) the store and loads recent series. Other processes may write the same
  // data folder (each its own series, or the same ones: the merge drops the duplicate rows).
  // Errors: io_error.
  static Result<std::unique_ptr<CandleStore>> open(StoreOptions options, const Clock& clock);
  // Flushes what is left and merges the journal (best effort; call flush() and compact() to see errors).
  ~CandleStore();
  CandleStore(const CandleStore&) = delete;
  CandleStore& operator=(const CandleStore&) = delete;

  // Adds a closed candle or updates the open one. A candle already stored is a no-op
  // (AppendOutcome::duplicate). Thread: any; cheap (one lookup, one series lock) unless the
  // series must be loaded or its ring is full of unflushed candles (then it flushes first).
  // Errors: conflict (same open time, different values), invalid_argument (out of order,
  // price outside DECIMAL(18,8)), io_error (a needed load or flush failed).
  Result<AppendOutcome> append(const SeriesKey& key, const Candle& candle);
  // Several series at once (append_candle_batch); stops at the first error. Returns how many were accepted.
  Result<std::size_t> append_batch(std::span<const std::pair<SeriesKey, Candle>> candles);

  // Copies the newest `max_closed` closed candles (all when 0) and the open candle, loading the
  // series if needed. Thread: any. Errors: not_found (no such series), io_error.
  Result<SeriesSnapshot> snapshot(const SeriesKey& key, std::size_t max_closed = 0);

  // Writes every series' closed candles not yet persisted, in one pass (batch_save_parquet): one
  // journal file, merged into the hive layout every compact_every_flushes flushes.
  // Candles stay queued when it fails, and the next flush retries them. Thread: any.
  // Errors: io_error.
  Result<FlushReport> flush();

  // Persists a backfill or an import: ascending, unique, closed candles; the later write wins
  // over a stored candle with the same open time. Merged into the ring when resident.
  // Thread: any. Errors: invalid_argument, io_error.
  Result<std::size_t> write_history(const SeriesKey& key, std::span<const Candle> candles);

  // Loads these series into memory (load_historical_batch). Returns per key whether it holds candles.
  Result<std::vector<std::pair<SeriesKey, bool>>> load(std::span<const SeriesKey> keys);
  // Flushes and drops the least recently used rings until at most `max_resident` remain
  // (cleanup_old_symbols). Returns how many were dropped. Errors: io_error.
  Result<std::size_t> evict_to(std::size_t max_resident);

  // The gap between the newest stored candle and the candle forming at clock.now().
  // Loads the series if needed. Errors: io_error.
  Result<RecoveryGap> gap_to_now(const SeriesKey& key);
  // gap_to_now for every resident series.
  std::vector<RecoveryGap> recovery_gaps();

  // Merges the journal and small part files into the hive layout now. Errors: io_error.
  Result<CompactReport> compact();

  std::vector<SeriesMemory> get_memory_usage() const;
  StoreStats get_stats() const;
  // What open() found and loaded. Thread: any (immutable after open).
  const OpenReport& open_report() const noexcept { return open_report_; }
  // Every file skipped as unreadable so far (at open and on later loads).
  std::vector<FileError> unreadable_files() const;
  // nullptr for a memory-only store.
  CandleArchive* archive() noexcept { return archive_.get(); }
  const StoreOptions& options() const noexcept { return options_; }

 private:
  struct Series;
  CandleStore(StoreOptions options, const Clock& clock);
  Status init();
  std::shared_ptr<Series> find(const SeriesKey& key) const;
  std::shared_ptr<Series> find_or_create(const SeriesKey& key);
  // With io_mutex_ held: loads `s` (and evicts others beyond the limit).
  Status make_resident_locked(const std::shared_ptr<Series>& s);
  Status make_resident(const std::shared_ptr<Series>& s);
  // With io_mutex_ held: flushes and drops `s`'s ring.
  Status evict_locked(Series& s);
  Result<FlushReport> flush_locked();
  RecoveryGap gap_for(const SeriesKey& key, std::optional<std::int64_t> last_ms) const;

  StoreOptions options_;
  const Clock& clock_;
  std::unique_ptr<CandleArchive> archive_;
  OpenReport open_report_;

  // Lock order: io_mutex_ → map_mutex_ → Series::mutex → the archive's own mutex.
  std::mutex io_mutex_;                  // serialises flush, load, evict, compaction
  mutable std::shared_mutex map_mutex_;  // guards series_
  std::unordered_map<SeriesKey, std::shared_ptr<Series>> series_;
  std::atomic<std::size_t> resident_{0};
  std::atomic<std::uint64_t> tick_{0};
  std::uint64_t flushes_since_compact_ = 0;  // guarded by io_mutex_
  mutable std::mutex errors_mutex_;
  std::vector<FileError> unreadable_;  // guarded by errors_mutex_
  std::atomic<std::uint64_t> flushes_{0};
  std::atomic<std::uint64_t> candles_flushed_{0};
  std::atomic<std::uint64_t> evictions_{0};
  std::atomic<std::uint64_t> reloads_{0};
  std::atomic<std::int64_t> last_flush_ns_{INT64_MIN};
  std::atomic<std::int64_t> last_flush_took_ns_{0};
};

}  // namespace twinstar::store
