#include "store/candle_archive.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <utility>
#include <cstring>
#include <map>
#include <set>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>

namespace twinstar::store {

namespace fs = std::filesystem;

namespace {

constexpr const char* kRowsFunction = "twinstar_rows";
constexpr std::size_t kMergeBatchRows = 500'000;  // rows merged per pass: bounds a merge's memory (~30 MB)
constexpr const char* kPriceColumns =
    "CAST(open_time AS TIMESTAMPTZ), CAST(open AS DECIMAL(18,8)), CAST(high AS DECIMAL(18,8)), "
    "CAST(low AS DECIMAL(18,8)), CAST(close AS DECIMAL(18,8))";
constexpr const char* kVolumeColumns = ", CAST(volume AS DECIMAL(38,8)), CAST(turnover AS DECIMAL(38,8))";

std::string errno_text() { return std::strerror(errno); }

Status fsync_path(const fs::path& p, bool directory) {
  const int fd = ::open(p.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return make_error(ErrorCode::io_error, "{}: cannot open to sync: {}", p.string(), errno_text());
  const int rc = directory ? ::fsync(fd) : ::fdatasync(fd);
  const int saved = errno;
  ::close(fd);
  if (rc != 0) return make_error(ErrorCode::io_error, "{}: sync failed: {}", p.string(), std::strerror(saved));
  return {};
}

// Creates `dir` and missing parents; with `sync`, syncs each parent that gained an entry.
Status ensure_dir(const fs::path& dir, bool sync) {
  std::vector<fs::path> created;
  for (fs::path p = dir; !p.empty() && !fs::exists(p); p = p.parent_path()) created.push_back(p);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error(ErrorCode::io_error, "{}: cannot create: {}", dir.string(), ec.message());
  if (sync) {
    for (auto it = created.rbegin(); it != created.rend(); ++it) {
      // A relative `data` has the parent "", which is the working directory.
      const fs::path parent = it->has_parent_path() ? it->parent_path() : fs::path(".");
      if (auto s = fsync_path(parent, true); !s) return s;
    }
  }
  return {};
}

std::int64_t hugeint_to_int64(const duckdb_hugeint& h, bool& ok) {
  const std::int64_t lo = static_cast<std::int64_t>(h.lower);
  ok = h.upper == (lo < 0 ? -1 : 0);
  return lo;
}

duckdb_hugeint int64_to_hugeint(std::int64_t v) {
  return duckdb_hugeint{static_cast<std::uint64_t>(v), v < 0 ? -1 : 0};
}

std::int64_t micros_to_ms(std::int64_t us) { return us >= 0 ? us / 1000 : -((-us + 999) / 1000); }

}  // namespace

namespace detail {

// The rows the table function twinstar_rows() yields: runs of one series' candles, in order.
// journal: exchange, market, symbol, interval, period (enums), open_time_ms, open, high, low,
// close, volume, turnover (BIGINT, 1e-8 units). parts: part, open_time (TIMESTAMPTZ), open, high,
// low, close (DECIMAL(18,8)), volume, turnover (DECIMAL(38,8)).
struct RowSource {
  bool journal = false;
  std::vector<std::string> names[5];  // enum members per key column (journal)
  struct Run {
    std::uint32_t member[5] = {0, 0, 0, 0, 0};  // journal: enum indices; parts: member[0] = part
    std::span<const StoredCandle> candles;
  };
  std::vector<Run> runs;
  duckdb_type enum_width[5] = {};
  std::size_t run = 0;
  std::size_t row = 0;

  std::uint32_t member_of(int column, const std::string& name, std::unordered_map<std::string, std::uint32_t>& index) {
    auto [it, inserted] = index.try_emplace(name, static_cast<std::uint32_t>(names[column].size()));
    if (inserted) names[column].push_back(name);
    return it->second;
  }
};

}  // namespace detail

namespace {

using detail::RowSource;

void add_column(duckdb_bind_info info, const char* name, duckdb_logical_type type) {
  duckdb_bind_add_result_column(info, name, type);
  duckdb_destroy_logical_type(&type);
}

void rows_bind(duckdb_bind_info info) {
  auto* source = *static_cast<RowSource**>(duckdb_bind_get_extra_info(info));
  if (source == nullptr) {
    duckdb_bind_set_error(info, "twinstar_rows() is only available while the store writes");
    return;
  }
  if (source->journal) {
    static constexpr const char* kKeys[5] = {"exchange", "market", "symbol", "interval", "period"};
    for (int k = 0; k < 5; ++k) {
      std::vector<const char*> members;
      for (const auto& n : source->names[k]) members.push_back(n.c_str());
      duckdb_logical_type t = duckdb_create_enum_type(members.data(), members.size());
      source->enum_width[k] = duckdb_enum_internal_type(t);
      add_column(info, kKeys[k], t);
    }
    for (const char* c : {"open_time_ms", "open", "high", "low", "close", "volume", "turnover"}) {
      add_column(info, c, duckdb_create_logical_type(DUCKDB_TYPE_BIGINT));
    }
  } else {
    add_column(info, "part", duckdb_create_logical_type(DUCKDB_TYPE_INTEGER));
    add_column(info, "open_time", duckdb_create_logical_type(DUCKDB_TYPE_TIMESTAMP_TZ));
    for (const char* c : {"open", "high", "low", "close"}) add_column(info, c, duckdb_create_decimal_type(18, 8));
    for (const char* c : {"volume", "turnover"}) add_column(info, c, duckdb_create_decimal_type(38, 8));
  }
  std::size_t rows = 0;
  for (const auto& r : source->runs) rows += r.candles.size();
  duckdb_bind_set_cardinality(info, rows, true);
}

void rows_init(duckdb_init_info info) {
  auto* source = *static_cast<RowSource**>(duckdb_init_get_extra_info(info));
  if (source != nullptr) {
    source->run = 0;
    source->row = 0;
  }
  duckdb_init_set_max_threads(info, 1);  // rows must stay in order
}

void put_enum(duckdb_vector v, duckdb_type width, std::size_t row, std::uint32_t value) {
  void* data = duckdb_vector_get_data(v);
  switch (width) {
    case DUCKDB_TYPE_UTINYINT: static_cast<std::uint8_t*>(data)[row] = static_cast<std::uint8_t>(value); break;
    case DUCKDB_TYPE_USMALLINT: static_cast<std::uint16_t*>(data)[row] = static_cast<std::uint16_t>(value); break;
    default: static_cast<std::uint32_t*>(data)[row] = value; break;
  }
}

void rows_function(duckdb_function_info info, duckdb_data_chunk output) {
  auto* source = *static_cast<RowSource**>(duckdb_function_get_extra_info(info));
  const std::size_t cap = duckdb_vector_size();
  std::size_t n = 0;
  if (source->journal) {
    duckdb_vector keys[5];
    for (int k = 0; k < 5; ++k) keys[k] = duckdb_data_chunk_get_vector(output, k);
    std::int64_t* col[7];
    for (int c = 0; c < 7; ++c) col[c] = static_cast<std::int64_t*>(duckdb_vector_get_data(duckdb_data_chunk_get_vector(output, 5 + c)));
    while (n < cap && source->run < source->runs.size()) {
      const auto& run = source->runs[source->run];
      const std::size_t take = std::min(cap - n, run.candles.size() - source->row);
      for (std::size_t i = 0; i < take; ++i) {
        const StoredCandle& c = run.candles[source->row + i];
        for (int k = 0; k < 5; ++k) put_enum(keys[k], source->enum_width[k], n + i, run.member[k]);
        col[0][n + i] = c.open_time_ms;
        col[1][n + i] = c.open;
        col[2][n + i] = c.high;
        col[3][n + i] = c.low;
        col[4][n + i] = c.close;
        col[5][n + i] = c.volume;
        col[6][n + i] = c.turnover;
      }
      n += take;
      source->row += take;
      if (source->row == run.candles.size()) {
        ++source->run;
        source->row = 0;
      }
    }
  } else {
    auto* part = static_cast<std::int32_t*>(duckdb_vector_get_data(duckdb_data_chunk_get_vector(output, 0)));
    auto* ts = static_cast<std::int64_t*>(duckdb_vector_get_data(duckdb_data_chunk_get_vector(output, 1)));
    std::int64_t* px[4];
    for (int k = 0; k < 4; ++k) px[k] = static_cast<std::int64_t*>(duckdb_vector_get_data(duckdb_data_chunk_get_vector(output, 2 + k)));
    auto* vol = static_cast<duckdb_hugeint*>(duckdb_vector_get_data(duckdb_data_chunk_get_vector(output, 6)));
    auto* turn = static_cast<duckdb_hugeint*>(duckdb_vector_get_data(duckdb_data_chunk_get_vector(output, 7)));
    while (n < cap && source->run < source->runs.size()) {
      const auto& run = source->runs[source->run];
      const std::size_t take = std::min(cap - n, run.candles.size() - source->row);
      for (std::size_t i = 0; i < take; ++i) {
        const StoredCandle& c = run.candles[source->row + i];
        part[n + i] = static_cast<std::int32_t>(run.member[0]);
        ts[n + i] = c.open_time_ms * 1000;  // TIMESTAMPTZ is microseconds
        px[0][n + i] = c.open;
        px[1][n + i] = c.high;
        px[2][n + i] = c.low;
        px[3][n + i] = c.close;
        vol[n + i] = int64_to_hugeint(c.volume);
        turn[n + i] = int64_to_hugeint(c.turnover);
      }
      n += take;
      source->row += take;
      if (source->row == run.candles.size()) {
        ++source->run;
        source->row = 0;
        // A chunk of one partition only: DuckDB's partitioned COPY writes the tail of a chunk that
        // spans two partitions after that partition's later chunks, so the file came out unsorted.
        break;
      }
    }
  }
  duckdb_data_chunk_set_size(output, n);
}

// Rows of a batch are ascending and fit the Parquet column types; errors name series and time.
Status validate_batch(const SeriesBatch& b) {
  for (std::size_t j = 0; j < b.candles.size(); ++j) {
    const auto& c = b.candles[j];
    if (j > 0 && c.open_time_ms <= b.candles[j - 1].open_time_ms) {
      return make_error(ErrorCode::invalid_argument, "{} {} {}: candles to persist are not ascending at {}",
                        b.key.exchange, b.key.symbol, b.key.interval, format_iso8601(from_epoch_ms(c.open_time_ms)));
    }
    for (std::int64_t v : {c.open, c.high, c.low, c.close}) {
      if (v > kDecimal18Limit || v < -kDecimal18Limit) {
        return make_error(ErrorCode::invalid_argument, "{} {} {} at {}: price {} does not fit DECIMAL(18,8)",
                          b.key.exchange, b.key.symbol, b.key.interval,
                          format_iso8601(from_epoch_ms(c.open_time_ms)), Price::from_raw(v).to_string());
      }
    }
  }
  return {};
}

}  // namespace

CandleArchive::CandleArchive(fs::path data_dir, ArchiveOptions options)
    : data_dir_(std::move(data_dir)), options_(std::move(options)) {
  root_ = data_dir_ / kCandlesDir;
  staging_ = data_dir_ / kStagingDir;
  journal_dir_ = data_dir_ / kJournalDir;
}

CandleArchive::~CandleArchive() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

class CandleArchive::WriteLock {
 public:
  explicit WriteLock(int fd) : fd_(fd) {}
  WriteLock(WriteLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  WriteLock& operator=(WriteLock&&) = delete;
  ~WriteLock() {
    if (fd_ >= 0) ::flock(fd_, LOCK_UN);
  }

 private:
  int fd_;
};

Result<CandleArchive::WriteLock> CandleArchive::lock_writes() {
  const auto name = [&] { return (root_ / ".writer.lock").string(); };
  while (::flock(lock_fd_, LOCK_EX) != 0) {
    if (errno != EINTR) return make_error(ErrorCode::io_error, "{}: cannot lock: {}", name(), errno_text());
  }
  WriteLock held(lock_fd_);
  char buf[32] = {};
  const ssize_t n = ::pread(lock_fd_, buf, sizeof buf - 1, 0);
  if (n < 0) return make_error(ErrorCode::io_error, "{}: cannot read: {}", name(), errno_text());
  // Empty in a new store (or one an earlier version wrote): the numbers scanned at open stand.
  std::uint64_t recorded = 0;
  const auto [end, ec] = std::from_chars(buf, buf + n, recorded);
  if (ec != std::errc() && n > 0) return make_error(ErrorCode::parse_error, "{}: not a sequence number: '{}'", name(), std::string(buf, static_cast<std::size_t>(n)));
  next_seq_ = std::max(next_seq_, recorded);
  return held;
}

Result<std::uint64_t> CandleArchive::take_seq() {
  const std::uint64_t seq = next_seq_++;
  // Fixed width, so a shorter number never leaves digits of a longer one behind. Recorded before
  // any file carries `seq`; a lost record (power loss) is recovered by the scan at open.
  const std::string text = fmt::format("{:<20}\n", next_seq_);
  if (::pwrite(lock_fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    return make_error(ErrorCode::io_error, "{}: cannot record the next sequence number: {}", (root_ / ".writer.lock").string(),
                      errno_text());
  }
  return seq;
}

Result<std::unique_ptr<CandleArchive>> CandleArchive::open(const fs::path& data_dir, ArchiveOptions options) {
  std::unique_ptr<CandleArchive> a(new CandleArchive(data_dir, std::move(options)));
  if (auto s = a->init(); !s) return std::unexpected(s.error());
  return a;
}

Status CandleArchive::init() {
  const bool sync = options_.durability == Durability::fsync;
  if (options_.writer) {
    if (auto s = ensure_dir(root_, sync); !s) return s;
    const fs::path lock_path = root_ / ".writer.lock";
    lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd_ < 0) return make_error(ErrorCode::io_error, "{}: cannot open: {}", lock_path.string(), errno_text());
  }
  // Start-up clean-up runs under the write lock: another writer is then between writes.
  std::optional<WriteLock> held;
  if (options_.writer) {
    auto l = lock_writes();
    if (!l) return std::unexpected(l.error());
    held.emplace(std::move(*l));
    // Leftovers of an interrupted write were never visible; every write stages under the lock,
    // so none is in progress now: drop them.
    std::error_code ec;
    fs::remove_all(staging_, ec);
    if (ec) return make_error(ErrorCode::io_error, "{}: cannot clean: {}", staging_.string(), ec.message());
    if (auto s = ensure_dir(staging_, sync); !s) return s;
    if (auto s = ensure_dir(journal_dir_, sync); !s) return s;
  }
  auto db = DuckDatabase::open_in_memory(1, options_.memory_limit);
  if (!db) return std::unexpected(db.error());
  db_ = std::move(*db);
  auto conn = db_.connect();
  if (!conn) return std::unexpected(conn.error());
  conn_ = std::move(*conn);
  // A streamed read (restart, reload) lets DuckDB's threads decode this far ahead of the consumer;
  // at the default (~1 MB) the second thread idles. 16 MB: restart of 1 M candles 200-209 -> 166-176 ms
  // wall (docs/PERFORMANCE-store.md); 4 and 8 MB gained nothing, 64 MB less.
  if (auto s = conn_.execute("SET streaming_buffer_size = '16MB'"); !s) return s;
  {
    // twinstar_rows(): the rows being written, straight from memory into DuckDB's Parquet writer.
    duckdb_table_function tf = duckdb_create_table_function();
    duckdb_table_function_set_name(tf, kRowsFunction);
    duckdb_table_function_set_extra_info(tf, &source_, nullptr);
    duckdb_table_function_set_bind(tf, rows_bind);
    duckdb_table_function_set_init(tf, rows_init);
    duckdb_table_function_set_function(tf, rows_function);
    const duckdb_state st = duckdb_register_table_function(conn_.get(), tf);
    duckdb_destroy_table_function(&tf);
    if (st == DuckDBError) return make_error(ErrorCode::io_error, "duckdb: cannot register {}", kRowsFunction);
  }
  // Sequence numbers continue after the highest on disk; superseded parts are deleted.
  std::error_code ec;
  if (fs::exists(journal_dir_)) {
    for (const auto& e : fs::directory_iterator(journal_dir_, ec)) {
      if (auto seq = parse_journal_file(e.path())) next_seq_ = std::max(next_seq_, *seq + 1);
    }
    if (ec) return make_error(ErrorCode::io_error, "{}: cannot list: {}", journal_dir_.string(), ec.message());
  }
  if (!fs::exists(root_)) return {};
  std::vector<PartFile> superseded;
  std::map<SeriesKey, std::vector<PartFile>> live;
  for (auto it = fs::recursive_directory_iterator(root_, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it.depth() == 3 && it->is_directory()) {
      auto key = parse_series_dir(fs::relative(it->path(), root_));
      if (!key) continue;
      auto files = scan_series(it->path(), *key, &superseded);
      if (!files) return std::unexpected(files.error());
      for (const auto& p : files->parts) next_seq_ = std::max(next_seq_, p.last_seq + 1);
      live.emplace(*key, std::move(files->parts));
      it.disable_recursion_pending();
    }
  }
  if (ec) return make_error(ErrorCode::io_error, "{}: cannot list: {}", root_.string(), ec.message());
  for (const auto& p : superseded) next_seq_ = std::max(next_seq_, p.last_seq + 1);
  if (options_.writer && !superseded.empty()) {
    std::set<fs::path> dirs;
    for (const auto& p : superseded) {
      std::error_code rec;
      fs::remove(p.path, rec);
      if (rec) return make_error(ErrorCode::io_error, "{}: cannot delete superseded part: {}", p.path.string(), rec.message());
      dirs.insert(p.path.parent_path());
    }
    if (sync) {
      for (const auto& d : dirs) {
        if (auto s = fsync_path(d, true); !s) return s;
      }
    }
  }
  if (options_.writer) {
    // Journal files whose every entry is inside a merged part: a crash hit after the merge
    // published its parts and before it deleted them.
    std::lock_guard lock(mutex_);
    if (auto s = refresh_journal_locked(); !s) return s;
    bool removed = false;
    for (auto it = journal_.begin(); it != journal_.end();) {
      const std::uint64_t seq = it->first;
      const bool merged = std::all_of(it->second.entries.begin(), it->second.entries.end(), [&](const JournalEntry& e) {
        auto l = live.find(e.key);
        return l != live.end() && std::any_of(l->second.begin(), l->second.end(), [&](const PartFile& p) {
                 return p.period == e.period && p.first_seq <= seq && seq <= p.last_seq;
               });
      });
      if (!merged) {
        ++it;
        continue;
      }
      fs::remove(it->second.path, ec);
      if (ec) return make_error(ErrorCode::io_error, "{}: cannot delete merged journal file: {}", it->second.path.string(), ec.message());
      it = journal_.erase(it);
      removed = true;
    }
    if (removed) {
      if (auto s = sync_dir(journal_dir_); !s) return s;
    }
  }
  return {};
}

Status CandleArchive::sync_dir(const fs::path& dir) {
  if (options_.durability != Durability::fsync) return {};
  return fsync_path(dir, true);
}

Status CandleArchive::set_threads(int n) {
  if (n == threads_now_) return {};
  if (auto s = conn_.execute(fmt::format("SET threads = {}", n)); !s) return s;
  threads_now_ = n;
  return {};
}

Status CandleArchive::copy_rows(RowSource& source, const std::string& copy) {
  source_ = &source;
  auto s = conn_.execute(copy);
  source_ = nullptr;
  return s;
}

Result<SeriesFiles> CandleArchive::scan_series(const fs::path& dir, const SeriesKey& key, std::vector<PartFile>* superseded) {
  SeriesFiles out;
  out.key = key;
  out.dir = dir;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file()) continue;
    auto part = parse_part_file(entry.path());
    if (!part) continue;  // not ours (e.g. a user's note); never touched
    part->bytes = entry.file_size(ec);
    out.parts.push_back(std::move(*part));
  }
  if (ec) return make_error(ErrorCode::io_error, "{}: cannot list: {}", dir.string(), ec.message());
  split_superseded(out.parts, superseded);
  for (const auto& p : out.parts) out.bytes += p.bytes;
  return out;
}

namespace {

std::string_view string_at(const DuckChunk& chunk, std::size_t col, std::size_t row) {
  auto* s = chunk.data<duckdb_string_t>(col) + row;
  return std::string_view(duckdb_string_t_data(s), duckdb_string_t_length(*s));
}

Result<SeriesKey> key_from_strings(std::string_view ex, std::string_view mk, std::string_view sy, std::string_view iv) {
  auto e = parse_exchange(ex);
  if (!e) return std::unexpected(e.error());
  auto m = parse_market(mk);
  if (!m) return std::unexpected(m.error());
  auto s = Symbol::parse(sy);
  if (!s) return std::unexpected(s.error());
  auto i = parse_interval(iv);
  if (!i) return std::unexpected(i.error());
  return SeriesKey{*e, *m, *s, *i};
}

std::string path_list(const std::vector<fs::path>& paths) {
  std::string list = "[";
  for (std::size_t i = 0; i < paths.size(); ++i) {
    if (i > 0) list += ", ";
    list += sql_quote(paths[i].string());
  }
  return list + "]";
}

}  // namespace

Status CandleArchive::refresh_journal_locked() {
  std::vector<std::pair<std::uint64_t, fs::path>> found;
  std::set<std::uint64_t> present;
  std::set<fs::path> present_paths;
  std::error_code ec;
  if (fs::exists(journal_dir_)) {
    for (const auto& e : fs::directory_iterator(journal_dir_, ec)) {
      auto seq = parse_journal_file(e.path());
      if (!seq || !e.is_regular_file()) continue;
      present.insert(*seq);
      present_paths.insert(e.path());
      if (!journal_.count(*seq) && !bad_journal_.count(e.path())) found.emplace_back(*seq, e.path());
    }
    if (ec) return make_error(ErrorCode::io_error, "{}: cannot list: {}", journal_dir_.string(), ec.message());
  }
  std::erase_if(journal_, [&](const auto& kv) { return !present.count(kv.first); });
  std::erase_if(bad_journal_, [&](const auto& kv) { return !present_paths.count(kv.first); });
  if (found.empty()) return {};
  // Index the new files: which series and periods each holds, with one query.
  auto index = [&](std::span<const std::pair<std::uint64_t, fs::path>> files) -> Status {
    std::vector<fs::path> paths;
    for (const auto& f : files) paths.push_back(f.second);
    auto r = conn_.query(fmt::format(
        "SELECT file_index, exchange::VARCHAR, market::VARCHAR, symbol::VARCHAR, \"interval\"::VARCHAR, "
        "period::VARCHAR, count(*) FROM read_parquet({}, hive_partitioning=false) GROUP BY ALL ORDER BY ALL",
        path_list(paths)));
    if (!r) return make_error(ErrorCode::io_error, "{}", r.error().message);
    std::map<std::uint64_t, JournalFile> fresh;
    for (const auto& [seq, path] : files) {
      JournalFile jf;
      jf.path = path;
      jf.bytes = fs::file_size(path, ec);
      fresh.emplace(seq, std::move(jf));
    }
    while (true) {
      DuckChunk chunk = fetch_chunk(*r);
      if (!chunk || chunk.size() == 0) break;
      for (std::size_t row = 0; row < chunk.size(); ++row) {
        const std::uint64_t fi = chunk.data<std::uint64_t>(0)[row];
        if (fi >= files.size()) return make_error(ErrorCode::internal, "DuckDB returned file_index {} of {}", fi, files.size());
        for (std::size_t c = 1; c < 7; ++c) {
          if (chunk.validity(c) != nullptr && !duckdb_validity_row_is_valid(chunk.validity(c), row)) {
            return make_error(ErrorCode::parse_error, "{}: NULL in column {}", files[fi].second.string(), r->column_name(c));
          }
        }
        auto key = key_from_strings(string_at(chunk, 1, row), string_at(chunk, 2, row), string_at(chunk, 3, row), string_at(chunk, 4, row));
        if (!key) return make_error(ErrorCode::parse_error, "{}: {}", files[fi].second.string(), key.error().message);
        auto& jf = fresh.at(files[fi].first);
        const auto rows = static_cast<std::uint64_t>(chunk.data<std::int64_t>(6)[row]);
        jf.entries.push_back(JournalEntry{*key, std::string(string_at(chunk, 5, row)), rows});
        jf.rows += rows;
      }
    }
    for (auto& [seq, jf] : fresh) {
      next_seq_ = std::max(next_seq_, seq + 1);
      journal_.insert_or_assign(seq, std::move(jf));
    }
    return {};
  };
  if (auto s = index(found); !s) {
    // Find the unreadable files one by one; the others are indexed.
    for (std::size_t i = 0; i < found.size(); ++i) {
      if (auto one = index(std::span(found).subspan(i, 1)); !one) bad_journal_[found[i].second] = one.error().message;
    }
  }
  return {};
}

void CandleArchive::add_journal_entries_locked(std::vector<SeriesFiles>& series, const SeriesKey* only) {
  std::map<SeriesKey, std::size_t> index;
  for (std::size_t i = 0; i < series.size(); ++i) index.emplace(series[i].key, i);
  std::set<std::size_t> touched;
  for (const auto& [seq, jf] : journal_) {
    for (const auto& e : jf.entries) {
      if (only != nullptr && !(e.key == *only)) continue;
      auto it = index.find(e.key);
      if (it == index.end()) {
        series.push_back(SeriesFiles{e.key, series_dir(root_, e.key), {}, 0});
        it = index.emplace(e.key, series.size() - 1).first;
      }
      PartFile p;
      p.path = jf.path;
      p.period = e.period;
      p.first_seq = p.last_seq = seq;
      p.journal = true;
      p.rows = e.rows;
      p.bytes = jf.rows > 0 ? jf.bytes * e.rows / jf.rows : 0;
      series[it->second].parts.push_back(std::move(p));
      touched.insert(it->second);
    }
  }
  for (std::size_t i : touched) {
    split_superseded(series[i].parts, nullptr);  // journal entries already merged into a part
    series[i].bytes = 0;
    for (const auto& p : series[i].parts) series[i].bytes += p.bytes;
  }
}

Result<std::vector<SeriesFiles>> CandleArchive::list_locked() {
  std::vector<SeriesFiles> out;
  std::error_code ec;
  if (fs::exists(root_)) {
    for (auto it = fs::recursive_directory_iterator(root_, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it.depth() == 3 && it->is_directory()) {
        it.disable_recursion_pending();
        auto key = parse_series_dir(fs::relative(it->path(), root_));
        if (!key) continue;
        auto files = scan_series(it->path(), *key, nullptr);
        if (!files) return std::unexpected(files.error());
        out.push_back(std::move(*files));
      }
    }
    if (ec) return make_error(ErrorCode::io_error, "{}: cannot list: {}", root_.string(), ec.message());
  }
  if (auto s = refresh_journal_locked(); !s) return std::unexpected(s.error());
  add_journal_entries_locked(out, nullptr);
  std::erase_if(out, [](const SeriesFiles& f) { return f.parts.empty(); });
  std::sort(out.begin(), out.end(), [](const SeriesFiles& a, const SeriesFiles& b) { return a.key < b.key; });
  return out;
}

Result<std::vector<SeriesFiles>> CandleArchive::list() {
  std::lock_guard lock(mutex_);
  return list_locked();
}

Result<SeriesFiles> CandleArchive::files_of(const SeriesKey& key) {
  std::lock_guard lock(mutex_);
  const fs::path dir = series_dir(root_, key);
  std::vector<SeriesFiles> one;
  if (fs::exists(dir)) {
    auto f = scan_series(dir, key, nullptr);
    if (!f) return std::unexpected(f.error());
    one.push_back(std::move(*f));
  } else {
    one.push_back(SeriesFiles{key, dir, {}, 0});
  }
  if (auto s = refresh_journal_locked(); !s) return std::unexpected(s.error());
  add_journal_entries_locked(one, &key);
  return std::move(one[0]);
}

JournalStats CandleArchive::journal_stats() {
  std::lock_guard lock(mutex_);
  (void)refresh_journal_locked();
  JournalStats st;
  for (const auto& [seq, jf] : journal_) {
    ++st.files;
    st.rows += jf.rows;
    st.bytes += jf.bytes;
  }
  st.files += bad_journal_.size();
  return st;
}

Result<WriteReport> CandleArchive::write(std::span<const SeriesBatch> batches) {
  std::lock_guard lock(mutex_);
  if (!options_.writer) return make_error(ErrorCode::invalid_argument, "candle archive opened read-only");
  auto held = lock_writes();
  if (!held) return std::unexpected(held.error());
  auto seq = take_seq();
  if (!seq) return std::unexpected(seq.error());
  WriteReport report;
  report.seq = *seq;
  std::vector<Group> groups;
  for (const auto& b : batches) {
    if (auto s = validate_batch(b); !s) return std::unexpected(s.error());
    for (std::size_t i = 0; i < b.candles.size();) {
      std::string period = period_of(b.key.interval, b.candles[i].open_time_ms);
      const std::int64_t end = period_end_ms(b.key.interval, b.candles[i].open_time_ms);
      std::size_t j = i + 1;
      while (j < b.candles.size() && b.candles[j].open_time_ms < end) ++j;  // ascending: validated
      groups.push_back(Group{&b.key, std::move(period), std::span(b.candles).subspan(i, j - i), report.seq, report.seq});
      report.candles += j - i;
      i = j;
    }
  }
  if (groups.empty()) return report;
  auto files = write_groups(groups, report.seq);
  if (!files) return std::unexpected(files.error());
  report.files = *files;
  return report;
}

Result<WriteReport> CandleArchive::append_journal(std::span<const SeriesBatch> batches) {
  std::lock_guard lock(mutex_);
  if (!options_.writer) return make_error(ErrorCode::invalid_argument, "candle archive opened read-only");
  WriteReport report;
  RowSource source;
  source.journal = true;
  std::unordered_map<std::string, std::uint32_t> member_index[5];
  JournalFile jf;
  std::set<SeriesKey> keys;
  for (const auto& b : batches) {
    if (auto s = validate_batch(b); !s) return std::unexpected(s.error());
    if (b.candles.empty()) continue;
    // One entry per (series, period) in a journal file: readers select rows by them.
    if (!keys.insert(b.key).second) return make_error(ErrorCode::invalid_argument, "{}: two batches for one series", describe(b.key));
    const std::string names[4] = {std::string(to_string(b.key.exchange)), std::string(to_string(b.key.market)),
                                  b.key.symbol.str(), std::string(to_string(b.key.interval))};
    for (std::size_t i = 0; i < b.candles.size();) {
      std::string period = period_of(b.key.interval, b.candles[i].open_time_ms);
      const std::int64_t end = period_end_ms(b.key.interval, b.candles[i].open_time_ms);
      std::size_t j = i + 1;
      while (j < b.candles.size() && b.candles[j].open_time_ms < end) ++j;  // ascending: validated
      RowSource::Run run;
      for (int k = 0; k < 4; ++k) run.member[k] = source.member_of(k, names[k], member_index[k]);
      run.member[4] = source.member_of(4, period, member_index[4]);
      run.candles = std::span(b.candles).subspan(i, j - i);
      source.runs.push_back(run);
      jf.entries.push_back(JournalEntry{b.key, std::move(period), j - i});
      jf.rows += j - i;
      i = j;
    }
  }
  if (source.runs.empty()) return report;
  auto held = lock_writes();
  if (!held) return std::unexpected(held.error());
  auto seq = take_seq();
  if (!seq) return std::unexpected(seq.error());
  report.seq = *seq;
  const std::string name = journal_file_name(report.seq);
  const fs::path staged = staging_ / name;
  const fs::path target = journal_dir_ / name;
  std::error_code ec;
  // V2 pages (delta-encoded integers): smaller and faster to write and read than V1 here.
  if (auto s = copy_rows(source, fmt::format("COPY (SELECT * FROM {}()) TO {} (FORMAT parquet, PARQUET_VERSION V2)",
                                             kRowsFunction, sql_quote(staged.string())));
      !s) {
    fs::remove(staged, ec);
    return std::unexpected(s.error());
  }
  if (options_.durability == Durability::fsync) {
    if (auto s = fsync_path(staged, false); !s) {
      fs::remove(staged, ec);
      return std::unexpected(s.error());
    }
  }
  if (::rename(staged.c_str(), target.c_str()) != 0) {
    const std::string why = errno_text();
    fs::remove(staged, ec);
    return make_error(ErrorCode::io_error, "cannot publish {}: {}", target.string(), why);
  }
  if (auto s = sync_dir(journal_dir_); !s) return std::unexpected(s.error());
  jf.path = target;
  jf.bytes = fs::file_size(target, ec);
  report.candles = jf.rows;
  report.files = 1;
  journal_.insert_or_assign(report.seq, std::move(jf));
  return report;
}

Result<std::size_t> CandleArchive::write_groups(std::span<const Group> groups, std::uint64_t staging_id) {
  const bool sync = options_.durability == Durability::fsync;
  const fs::path stage = staging_ / fmt::format("w{}", staging_id);
  std::error_code ec;
  fs::remove_all(stage, ec);
  RowSource source;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    RowSource::Run run;
    run.member[0] = static_cast<std::uint32_t>(g);
    run.candles = groups[g].candles;
    source.runs.push_back(run);
  }
  // V2 pages: integer columns delta-encoded, so the files are ~3x smaller and a restart decodes
  // them with ~20 % less CPU than V1 (docs/PERFORMANCE-store.md); pyarrow, polars and DuckDB read V2.
  if (auto s = copy_rows(source, fmt::format("COPY (SELECT * FROM {}()) TO {} (FORMAT parquet, PARTITION_BY (part), "
                                             "WRITE_PARTITION_COLUMNS false, PARQUET_VERSION V2)",
                                             kRowsFunction, sql_quote(stage.string())));
      !s) {
    fs::remove_all(stage, ec);
    return std::unexpected(s.error());
  }
  // Every staged file complete on disk before any becomes visible.
  std::vector<fs::path> staged(groups.size());
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const fs::path dir = stage / fmt::format("part={}", g);
    std::size_t count = 0;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      staged[g] = e.path();
      ++count;
    }
    if (ec || count != 1) {
      fs::remove_all(stage, ec);
      return make_error(ErrorCode::io_error, "{}: expected one staged parquet file, found {}", dir.string(), count);
    }
  }
  if (sync) {
    std::vector<int> fds;
    fds.reserve(staged.size());
    Status status;
    for (const auto& p : staged) {  // start write-back of all files at once, then wait for each
      const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        status = make_error(ErrorCode::io_error, "{}: cannot open to sync: {}", p.string(), errno_text());
        break;
      }
      ::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
      fds.push_back(fd);
    }
    for (int fd : fds) {
      if (status && ::fdatasync(fd) != 0) status = make_error(ErrorCode::io_error, "fdatasync of a staged part failed: {}", errno_text());
      ::close(fd);
    }
    if (!status) {
      fs::remove_all(stage, ec);
      return std::unexpected(status.error());
    }
  }
  // Publish: per series in ascending time, then sync each series folder once.
  fs::path last_dir;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const fs::path dir = series_dir(root_, *groups[g].key);
    if (dir != last_dir) {
      if (!last_dir.empty()) {
        if (auto s = sync_dir(last_dir); !s) return std::unexpected(s.error());
      }
      if (auto s = ensure_dir(dir, sync); !s) return std::unexpected(s.error());
      last_dir = dir;
    }
    const fs::path target = dir / part_file_name(groups[g].period, groups[g].first_seq, groups[g].last_seq);
    if (::rename(staged[g].c_str(), target.c_str()) != 0) {
      return make_error(ErrorCode::io_error, "cannot publish {}: {}", target.string(), errno_text());
    }
  }
  if (!last_dir.empty()) {
    if (auto s = sync_dir(last_dir); !s) return std::unexpected(s.error());
  }
  fs::remove_all(stage, ec);
  return groups.size();
}

namespace {

// The two row types a read fills: the store's own and the engine's closed Candle.
template <class Row>
Row make_row(std::int64_t ms, std::int64_t o, std::int64_t h, std::int64_t l, std::int64_t c, std::int64_t v, std::int64_t t) {
  const StoredCandle row{ms, o, h, l, c, v, t};
  if constexpr (std::is_same_v<Row, StoredCandle>) {
    return row;
  } else {
    return row.to_candle();
  }
}
std::int64_t row_ms(const StoredCandle& r) { return r.open_time_ms; }
std::int64_t row_ms(const Candle& r) { return to_epoch_ms(r.open_time); }

}  // namespace

template <class Row>
Status CandleArchive::read_files(const std::vector<FileRef>& refs, const std::function<std::vector<Row>&(std::size_t)>& sink,
                                 std::vector<std::size_t>* unsorted_files, CandleColumns columns) {
  std::vector<const PartFile*> files;
  for (const auto& r : refs) files.push_back(r.file);
  // Many files (a restart, a merge): decode on every thread; back to one for the next flush.
  const int want = options_.threads > 0 ? options_.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const bool parallel = refs.size() >= 8 && want > 1;
  if (parallel) {
    if (auto s = set_threads(want); !s) return s;
  }
  struct OneThreadAfter {
    CandleArchive* a;
    bool on;
    ~OneThreadAfter() {
      if (on) (void)a->set_threads(1);
    }
  } one_thread_after{this, parallel};
  std::vector<std::size_t> part_idx, journal_idx;
  for (std::size_t i = 0; i < files.size(); ++i) (files[i]->journal ? journal_idx : part_idx).push_back(i);
  auto name_of = [&](const std::vector<std::size_t>& idx) {
    return idx.size() == 1 ? files[idx[0]]->path.string() + ": " : std::string();
  };
  const bool volumes = columns == CandleColumns::all;
  if (!part_idx.empty()) {
    std::vector<fs::path> paths;
    for (std::size_t i : part_idx) paths.push_back(files[i]->path);
    // file_index (the position in the list) tags rows far more cheaply than filename=true;
    // hive_partitioning=false: the folder names are known, parsing them per row is waste.
    // The result keeps the list's order (DuckDB preserves insertion order), so rows go straight
    // into the sinks in file order.
    const std::size_t n_cols = volumes ? 8 : 6;
    auto result = conn_.query_streaming(fmt::format("SELECT file_index, {}{} FROM read_parquet({}, hive_partitioning=false)",
                                                    kPriceColumns, volumes ? kVolumeColumns : "", path_list(paths)));
    if (!result) return make_error(ErrorCode::io_error, "{}{}", name_of(part_idx), result.error().message);
    if (result->column_type(0) != DUCKDB_TYPE_UBIGINT) return make_error(ErrorCode::internal, "DuckDB file_index is not UBIGINT");
    std::vector<std::int64_t> last(part_idx.size(), INT64_MIN);
    std::vector<std::size_t> count(part_idx.size(), 0);
    std::vector<bool> unsorted(part_idx.size(), false);
    std::vector<std::vector<Row>*> dst(part_idx.size());
    for (std::size_t k = 0; k < part_idx.size(); ++k) dst[k] = &sink(part_idx[k]);
    while (true) {
      DuckChunk chunk = fetch_chunk(*result);
      if (!chunk) break;
      const std::size_t n = chunk.size();
      if (n == 0) break;
      const auto* index = chunk.data<std::uint64_t>(0);
      for (std::size_t col = 1; col < n_cols; ++col) {
        if (chunk.validity(col) == nullptr) continue;
        for (std::size_t r = 0; r < n; ++r) {
          if (!duckdb_validity_row_is_valid(chunk.validity(col), r)) {
            const std::size_t f = index[r] < part_idx.size() ? index[r] : 0;
            return make_error(ErrorCode::parse_error, "{}: row {}: NULL in column {}", paths[f].string(), count[f] + 1,
                              result->column_name(col));
          }
        }
      }
      const auto* ts = chunk.data<std::int64_t>(1);
      const std::int64_t* px[4] = {chunk.data<std::int64_t>(2), chunk.data<std::int64_t>(3), chunk.data<std::int64_t>(4),
                                   chunk.data<std::int64_t>(5)};
      const auto* vol = volumes ? chunk.data<duckdb_hugeint>(6) : nullptr;
      const auto* turn = volumes ? chunk.data<duckdb_hugeint>(7) : nullptr;
      for (std::size_t r = 0; r < n; ++r) {
        const std::size_t f = index[r];
        if (f >= part_idx.size()) return make_error(ErrorCode::internal, "DuckDB returned file_index {} of {}", f, part_idx.size());
        bool ok_v = true, ok_t = true;
        const std::int64_t ms = micros_to_ms(ts[r]);
        const std::int64_t volume = volumes ? hugeint_to_int64(vol[r], ok_v) : 0;
        const std::int64_t turnover = volumes ? hugeint_to_int64(turn[r], ok_t) : 0;
        ++count[f];
        if (!ok_v || !ok_t) {
          return make_error(ErrorCode::overflow, "{}: row {}: volume or turnover exceeds the engine's fixed-point range",
                            paths[f].string(), count[f]);
        }
        if (ms <= last[f]) unsorted[f] = true;
        last[f] = ms;
        dst[f]->push_back(make_row<Row>(ms, px[0][r], px[1][r], px[2][r], px[3][r], volume, turnover));
      }
    }
    // A failure while streaming (e.g. a corrupt file) ends the chunks early: never a silent partial read.
    if (const auto err = result->error(); !err.empty()) return make_error(ErrorCode::io_error, "{}{}", name_of(part_idx), err);
    if (unsorted_files != nullptr) {
      for (std::size_t k = 0; k < part_idx.size(); ++k) {
        if (unsorted[k]) unsorted_files->push_back(part_idx[k]);
      }
    }
  }
  if (!journal_idx.empty()) {
    // One query over the journal files; each row goes to the entry of its (file, series, period).
    // Rows are grouped by series and period in a journal file, so the lookup runs once per group.
    std::vector<fs::path> paths;
    std::map<fs::path, std::size_t> file_of;
    std::unordered_map<std::string, std::size_t> entry_of;
    std::set<std::string> symbols;
    auto entry_key = [](std::uint64_t fi, std::string_view e, std::string_view m, std::string_view s, std::string_view i,
                        std::string_view p) { return fmt::format("{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}", fi, e, m, s, i, p); };
    for (std::size_t k = 0; k < journal_idx.size(); ++k) {
      const PartFile& p = *files[journal_idx[k]];
      const SeriesKey& key = *refs[journal_idx[k]].key;
      auto [it, inserted] = file_of.try_emplace(p.path, paths.size());
      if (inserted) paths.push_back(p.path);
      entry_of.emplace(entry_key(it->second, to_string(key.exchange), to_string(key.market), key.symbol.view(),
                                 to_string(key.interval), p.period),
                       journal_idx[k]);
      symbols.insert(key.symbol.str());
    }
    // A symbol filter lets DuckDB skip other series' rows when only a few are wanted.
    std::string where;
    if (symbols.size() <= 16) {
      for (const auto& sym : symbols) where += (where.empty() ? " WHERE symbol IN (" : ", ") + sql_quote(sym);
      where += ")";
    }
    auto result = conn_.query_streaming(fmt::format(
        "SELECT file_index, exchange, market, symbol, \"interval\", period, open_time_ms, open, high, low, close, volume, "
        "turnover FROM read_parquet({}, hive_partitioning=false){}",
        path_list(paths), where));
    auto file_error = [&](std::uint64_t fi) { return fi < paths.size() ? paths[fi].string() : std::string("journal"); };
    if (!result) return make_error(ErrorCode::io_error, "{}{}", paths.size() == 1 ? paths[0].string() + ": " : "", result.error().message);
    std::vector<std::vector<Row>*> dst(files.size(), nullptr);
    for (std::size_t i : journal_idx) dst[i] = &sink(i);
    std::string last_key;
    std::uint64_t last_fi = UINT64_MAX;
    std::string_view last_strings[5];
    std::vector<Row>* current = nullptr;
    std::vector<std::string> holder(5);
    while (true) {
      DuckChunk chunk = fetch_chunk(*result);
      if (!chunk) break;
      const std::size_t n = chunk.size();
      if (n == 0) break;
      const auto* fi = chunk.data<std::uint64_t>(0);
      for (std::size_t col = 1; col < 13; ++col) {
        if (chunk.validity(col) == nullptr) continue;
        for (std::size_t r = 0; r < n; ++r) {
          if (!duckdb_validity_row_is_valid(chunk.validity(col), r)) {
            return make_error(ErrorCode::parse_error, "{}: NULL in column {}", file_error(fi[r]), result->column_name(col));
          }
        }
      }
      const std::int64_t* col[7];
      for (int c = 0; c < 7; ++c) col[c] = chunk.data<std::int64_t>(6 + c);
      for (std::size_t r = 0; r < n; ++r) {
        bool same = fi[r] == last_fi;
        for (int c = 0; same && c < 5; ++c) same = string_at(chunk, 1 + c, r) == last_strings[c];
        if (!same) {
          for (int c = 0; c < 5; ++c) {
            holder[c] = std::string(string_at(chunk, 1 + c, r));
            last_strings[c] = holder[c];
          }
          last_fi = fi[r];
          auto it = entry_of.find(entry_key(fi[r], holder[0], holder[1], holder[2], holder[3], holder[4]));
          current = it == entry_of.end() ? nullptr : dst[it->second];  // another series, or superseded
        }
        if (current != nullptr) {
          current->push_back(make_row<Row>(col[0][r], col[1][r], col[2][r], col[3][r], col[4][r], volumes ? col[5][r] : 0,
                                           volumes ? col[6][r] : 0));
        }
      }
    }
    if (const auto err = result->error(); !err.empty()) return make_error(ErrorCode::io_error, "{}", err);
  }
  return {};
}

Result<ReadResult> CandleArchive::read(std::span<const SeriesFiles> series, std::size_t newest_n, bool dedupe,
                                       CandleColumns columns) {
  return read_rows<StoredCandle>(series, newest_n, dedupe, columns);
}

Result<CandleReadResult> CandleArchive::read_candles(std::span<const SeriesFiles> series, CandleColumns columns) {
  return read_rows<Candle>(series, 0, true, columns);
}

template <class Row>
Result<BasicReadResult<Row>> CandleArchive::read_rows(std::span<const SeriesFiles> series, std::size_t newest_n, bool dedupe,
                                                      CandleColumns columns) {
  std::lock_guard lock(mutex_);
  auto out = read_locked<Row>(series, newest_n, dedupe, columns);
  if (!out) return out;
  for (const auto& [path, why] : bad_journal_) out->errors.push_back(FileError{path, why});
  // A file listed by the caller and gone now was merged by the writing process in between: its
  // rows are in a newer part. List those series again and read them once more.
  auto vanished = [](const FileError& e) {
    std::error_code ec;
    return !fs::exists(e.path, ec);
  };
  std::vector<std::size_t> stale;
  for (std::size_t s = 0; s < series.size(); ++s) {
    const bool hit = std::any_of(out->errors.begin(), out->errors.end(), [&](const FileError& e) {
      return vanished(e) && std::any_of(series[s].parts.begin(), series[s].parts.end(),
                                        [&](const PartFile& p) { return p.path == e.path; });
    });
    if (hit) stale.push_back(s);
  }
  if (stale.empty()) return out;
  if (auto st = refresh_journal_locked(); !st) return std::unexpected(st.error());
  std::vector<SeriesFiles> again;
  for (std::size_t s : stale) {
    const fs::path dir = series_dir(root_, series[s].key);
    std::vector<SeriesFiles> one{SeriesFiles{series[s].key, dir, {}, 0}};
    if (fs::exists(dir)) {
      auto f = scan_series(dir, series[s].key, nullptr);
      if (!f) return std::unexpected(f.error());
      one[0] = std::move(*f);
    }
    add_journal_entries_locked(one, &series[s].key);
    again.push_back(std::move(one[0]));
  }
  auto retry = read_locked<Row>(again, newest_n, dedupe, columns);
  if (!retry) return retry;
  std::erase_if(out->errors, vanished);
  for (std::size_t k = 0; k < stale.size(); ++k) out->series[stale[k]] = std::move(retry->series[k]);
  for (auto& e : retry->errors) out->errors.push_back(std::move(e));
  return out;
}

template <class Row>
Result<BasicReadResult<Row>> CandleArchive::read_locked(std::span<const SeriesFiles> series, std::size_t newest_n, bool dedupe,
                                                        CandleColumns columns) {
  BasicReadResult<Row> out;
  out.series.resize(series.size());
  // Per series: how many periods (counted from the newest) to read; grows until newest_n is met.
  std::vector<std::vector<std::string>> periods(series.size());
  std::vector<std::size_t> take(series.size(), 0);
  std::vector<bool> pending(series.size(), true);
  std::vector<std::vector<Row>> raw(series.size());
  std::set<fs::path> bad_files;
  for (std::size_t s = 0; s < series.size(); ++s) {
    out.series[s].key = series[s].key;
    for (const auto& p : series[s].parts) {
      if (periods[s].empty() || periods[s].back() != p.period) periods[s].push_back(p.period);
    }
  }
  const std::int64_t n_wanted = static_cast<std::int64_t>(newest_n);
  while (true) {
    // Choose the next periods for every series still short of rows.
    std::vector<FileRef> files;
    std::vector<std::size_t> owner;
    std::vector<bool> has_journal(series.size(), false);
    for (std::size_t s = 0; s < series.size(); ++s) {
      if (!pending[s]) continue;
      const std::size_t total = periods[s].size();
      std::size_t new_take = total;
      if (newest_n > 0) {
        std::int64_t budget = n_wanted - static_cast<std::int64_t>(raw[s].size());
        new_take = take[s];
        const std::int64_t per = max_candles_per_period(series[s].key.interval);
        while (new_take < total && budget > 0) {
          ++new_take;
          budget -= per;
        }
      }
      if (new_take == take[s]) {
        pending[s] = false;
        continue;
      }
      std::set<std::string> wanted(periods[s].end() - static_cast<std::ptrdiff_t>(new_take),
                                   periods[s].end() - static_cast<std::ptrdiff_t>(take[s]));
      for (const auto& p : series[s].parts) {
        if (wanted.count(p.period) && !bad_files.count(p.path)) {
          files.push_back(FileRef{&p, &series[s].key});
          owner.push_back(s);
          if (p.journal) has_journal[s] = true;
        }
      }
      take[s] = new_take;
      if (newest_n == 0) pending[s] = false;
    }
    if (files.empty()) break;
    // Rows of a series with only part files go straight into one vector (the result keeps file
    // order); a series with journal entries collects per file, then concatenates in (period, seq)
    // order, so "the later write wins" below holds across both.
    std::vector<std::vector<Row>> fresh(series.size());
    std::vector<std::vector<Row>> per_file(files.size());
    std::vector<std::uintmax_t> reserve(series.size(), 0);
    for (std::size_t f = 0; f < files.size(); ++f) {
      // A part file holds at most one period of candles; its bytes bound it more tightly when
      // small (>= 6 bytes a row even delta-encoded). A short reserve means a reallocation: a
      // copy and twice the page faults, which dominate a large restart on this VM.
      const auto per_period = static_cast<std::uintmax_t>(max_candles_per_period(series[owner[f]].key.interval));
      reserve[owner[f]] += files[f].file->journal ? files[f].file->rows : std::min(files[f].file->bytes / 6 + 16, per_period);
    }
    for (std::size_t s = 0; s < series.size(); ++s) {
      if (reserve[s] > 0 && !has_journal[s]) fresh[s].reserve(static_cast<std::size_t>(reserve[s]));
    }
    bool all_per_file = false;
    auto sink = [&](std::size_t f) -> std::vector<Row>& {
      return all_per_file || has_journal[owner[f]] ? per_file[f] : fresh[owner[f]];
    };
    std::vector<std::size_t> unsorted;
    if (auto st = read_files<Row>(files, sink, &unsorted, columns); !st) {
      // Find the unreadable files one by one; the others still load.
      all_per_file = true;
      unsorted.clear();
      for (auto& v : fresh) v.clear();
      for (auto& v : per_file) v.clear();
      for (std::size_t f = 0; f < files.size(); ++f) {
        std::vector<std::size_t> one_unsorted;
        auto one_sink = [&](std::size_t) -> std::vector<Row>& { return per_file[f]; };
        if (auto s1 = read_files<Row>({files[f]}, one_sink, &one_unsorted, columns); !s1) {
          out.errors.push_back(FileError{files[f].file->path, s1.error().message});
          bad_files.insert(files[f].file->path);
          per_file[f].clear();
        } else if (!one_unsorted.empty()) {
          unsorted.push_back(f);
        }
      }
    }
    for (std::size_t f : unsorted) ++out.series[owner[f]].unsorted_files;
    for (std::size_t f = 0; f < files.size(); ++f) {
      if (!all_per_file && !has_journal[owner[f]]) continue;
      auto& dst = fresh[owner[f]];
      dst.insert(dst.end(), per_file[f].begin(), per_file[f].end());
      std::vector<Row>().swap(per_file[f]);
    }
    // Files arrive oldest period first per series; this pass's rows go before earlier passes'.
    for (std::size_t s = 0; s < series.size(); ++s) {
      if (fresh[s].empty()) continue;
      if (!raw[s].empty()) fresh[s].insert(fresh[s].end(), raw[s].begin(), raw[s].end());
      raw[s] = std::move(fresh[s]);
    }
    if (newest_n == 0) break;
    for (std::size_t s = 0; s < series.size(); ++s) {
      if (pending[s] && raw[s].size() >= newest_n) pending[s] = false;
    }
  }
  for (std::size_t s = 0; s < series.size(); ++s) {
    auto& v = raw[s];
    auto& rows = out.series[s];
    // Rows up to the first that does not rise are already in place (all of them, normally):
    // one pass finds it, and nothing before it is copied.
    const auto by_time = [](auto& a, auto& b) { return row_ms(a) < row_ms(b); };
    const auto fall = std::adjacent_find(v.begin(), v.end(), [](auto& a, auto& b) { return row_ms(a) >= row_ms(b); });
    std::size_t w = fall == v.end() ? v.size() : static_cast<std::size_t>(fall - v.begin()) + 1;
    // Stable: among equal open times the later file (later write) comes last and wins.
    if (fall != v.end() && !std::is_sorted(fall, v.end(), by_time)) {
      std::stable_sort(v.begin(), v.end(), by_time);
      w = 0;
    }
    // Deduplicate in place from there.
    for (std::size_t i = w; i < v.size(); ++i) {
      if (w > 0 && row_ms(v[w - 1]) == row_ms(v[i])) {
        if (v[w - 1] == v[i]) ++rows.duplicate_rows; else ++rows.conflicting_rows;
        if (dedupe) {
          v[w - 1] = v[i];
          continue;
        }
      }
      v[w++] = v[i];
    }
    v.resize(w);
    if (newest_n > 0 && v.size() > newest_n) v.erase(v.begin(), v.end() - static_cast<std::ptrdiff_t>(newest_n));
    rows.candles = std::move(v);
  }
  return out;
}

Result<CompactReport> CandleArchive::compact(std::size_t min_parts) {
  std::lock_guard lock(mutex_);
  if (!options_.writer) return make_error(ErrorCode::invalid_argument, "candle archive opened read-only");
  // Under the write lock from listing to the last deletion: another writer's files stay put.
  auto held = lock_writes();
  if (!held) return std::unexpected(held.error());
  auto all = list_locked();
  if (!all) return std::unexpected(all.error());
  CompactReport report;
  min_parts = std::max<std::size_t>(min_parts, 2);
  // Journal files present now; each is deleted once every entry of it is in a part.
  std::set<std::uint64_t> journal_seqs;
  for (const auto& [seq, jf] : journal_) journal_seqs.insert(seq);
  std::set<std::uint64_t> keep;
  struct MergeGroup {
    const SeriesFiles* series;
    std::vector<const PartFile*> entries;
    std::uint64_t estimated_rows = 0;
  };
  std::vector<MergeGroup> todo;
  for (const auto& series : *all) {
    for (std::size_t i = 0; i < series.parts.size();) {
      std::size_t j = i;
      std::size_t parts = 0;
      bool journal = false;
      while (j < series.parts.size() && series.parts[j].period == series.parts[i].period) {
        if (series.parts[j].journal) {
          journal = true;
        } else {
          ++parts;
        }
        ++j;
      }
      if (journal || parts >= min_parts) {
        MergeGroup g{&series, {}, 0};
        for (std::size_t k = i; k < j; ++k) {
          g.entries.push_back(&series.parts[k]);
          g.estimated_rows += series.parts[k].journal ? series.parts[k].rows : series.parts[k].bytes / 12 + 16;
        }
        todo.push_back(std::move(g));
      }
      i = j;
    }
  }
  for (std::size_t first = 0; first < todo.size();) {
    // A batch of groups: read together, written by one COPY.
    std::size_t last = first;
    std::uint64_t rows = 0;
    while (last < todo.size() && (last == first || rows + todo[last].estimated_rows <= kMergeBatchRows)) rows += todo[last++].estimated_rows;
    std::vector<FileRef> files;
    std::vector<std::size_t> group_of;
    for (std::size_t g = first; g < last; ++g) {
      for (const auto* e : todo[g].entries) {
        files.push_back(FileRef{e, &todo[g].series->key});
        group_of.push_back(g);
      }
    }
    std::vector<std::vector<StoredCandle>> per_file(files.size());
    std::vector<bool> failed(todo.size(), false);
    auto sink = [&](std::size_t f) -> std::vector<StoredCandle>& { return per_file[f]; };
    if (auto st = read_files<StoredCandle>(files, sink); !st) {
      for (auto& v : per_file) v.clear();
      for (std::size_t g = first; g < last; ++g) {
        std::vector<FileRef> one;
        std::vector<std::size_t> idx;
        for (std::size_t f = 0; f < files.size(); ++f) {
          if (group_of[f] == g) {
            one.push_back(files[f]);
            idx.push_back(f);
          }
        }
        auto one_sink = [&](std::size_t k) -> std::vector<StoredCandle>& { return per_file[idx[k]]; };
        if (auto s1 = read_files<StoredCandle>(one, one_sink); !s1) {
          failed[g] = true;
          for (std::size_t f : idx) per_file[f].clear();
          report.errors.push_back(FileError{todo[g].series->dir, fmt::format("period {} not compacted: {}",
                                                                             todo[g].entries[0]->period, s1.error().message)});
          for (const auto* e : todo[g].entries) {
            if (e->journal) keep.insert(e->first_seq);
          }
        }
      }
    }
    std::vector<std::vector<StoredCandle>> merged(last - first);
    std::vector<Group> groups;
    std::vector<std::size_t> written_group;
    for (std::size_t g = first; g < last; ++g) {
      if (failed[g]) continue;
      auto& m = merged[g - first];
      for (std::size_t f = 0; f < files.size(); ++f) {
        if (group_of[f] != g) continue;
        m.insert(m.end(), per_file[f].begin(), per_file[f].end());
        std::vector<StoredCandle>().swap(per_file[f]);
      }
      // Entries are in (seq) order: after a stable sort the later write is last and wins.
      std::stable_sort(m.begin(), m.end(), [](auto& a, auto& b) { return a.open_time_ms < b.open_time_ms; });
      std::size_t w = 0;
      for (std::size_t i = 0; i < m.size(); ++i) {
        if (w > 0 && m[w - 1].open_time_ms == m[i].open_time_ms) {
          m[w - 1] = m[i];
          ++report.duplicates_dropped;
          continue;
        }
        m[w++] = m[i];
      }
      m.resize(w);
      std::uint64_t lo = UINT64_MAX, hi = 0;
      for (const auto* e : todo[g].entries) {
        lo = std::min(lo, e->first_seq);
        hi = std::max(hi, e->last_seq);
      }
      if (m.empty()) continue;
      groups.push_back(Group{&todo[g].series->key, todo[g].entries[0]->period, m, lo, hi});
      written_group.push_back(g);
    }
    if (!groups.empty()) {
      auto stage_id = take_seq();
      if (!stage_id) return std::unexpected(stage_id.error());
      auto written = write_groups(groups, *stage_id);
      if (!written) return std::unexpected(written.error());
      report.files_written += *written;
    }
    // The merged files are visible; the parts they supersede can go.
    std::set<fs::path> dirs;
    for (std::size_t g : written_group) {
      for (const auto* e : todo[g].entries) {
        if (e->journal) continue;
        std::error_code ec;
        fs::remove(e->path, ec);
        if (ec) return make_error(ErrorCode::io_error, "{}: cannot delete compacted part: {}", e->path.string(), ec.message());
        ++report.files_removed;
        dirs.insert(e->path.parent_path());
      }
      ++report.periods;
    }
    for (const auto& d : dirs) {
      if (auto s = sync_dir(d); !s) return std::unexpected(s.error());
    }
    first = last;
  }
  // Every entry of these journal files is now in a part (or was already): delete them.
  bool removed = false;
  for (std::uint64_t seq : journal_seqs) {
    if (keep.count(seq)) continue;
    auto it = journal_.find(seq);
    if (it == journal_.end()) continue;
    std::error_code ec;
    fs::remove(it->second.path, ec);
    if (ec) return make_error(ErrorCode::io_error, "{}: cannot delete merged journal file: {}", it->second.path.string(), ec.message());
    journal_.erase(it);
    ++report.journal_files_merged;
    ++report.files_removed;
    removed = true;
  }
  if (removed) {
    if (auto s = sync_dir(journal_dir_); !s) return std::unexpected(s.error());
  }
  return report;
}

Result<DuckResult> CandleArchive::sql(const std::string& query) {
  std::lock_guard lock(mutex_);
  // The view names the live files (not a glob), so superseded parts and merged journal rows,
  // which a crash can leave behind until the next compaction, never show twice.
  auto all = list_locked();
  if (!all) return std::unexpected(all.error());
  std::vector<fs::path> parts, journal_paths;
  std::map<fs::path, std::size_t> journal_index;
  std::string values;
  for (const auto& s : *all) {
    for (const auto& p : s.parts) {
      if (!p.journal) {
        parts.push_back(p.path);
        continue;
      }
      auto [it, inserted] = journal_index.try_emplace(p.path, journal_paths.size());
      if (inserted) journal_paths.push_back(p.path);
      values += fmt::format("{}({}, {}, {}, {}, {}, {})", values.empty() ? "" : ", ", it->second,
                            sql_quote(to_string(s.key.exchange)), sql_quote(to_string(s.key.market)),
                            sql_quote(s.key.symbol.str()), sql_quote(to_string(s.key.interval)), sql_quote(p.period));
    }
  }
  std::vector<std::string> selects;
  if (!parts.empty()) {
    selects.push_back(fmt::format(
        "SELECT exchange, market, symbol, \"interval\", CAST(open_time AS TIMESTAMPTZ) AS open_time, "
        "CAST(open AS DECIMAL(18,8)) AS open, CAST(high AS DECIMAL(18,8)) AS high, CAST(low AS DECIMAL(18,8)) AS low, "
        "CAST(close AS DECIMAL(18,8)) AS close, CAST(volume AS DECIMAL(38,8)) AS volume, "
        "CAST(turnover AS DECIMAL(38,8)) AS turnover FROM read_parquet({}, hive_partitioning=true, "
        "hive_types={{'exchange': VARCHAR, 'market': VARCHAR, 'symbol': VARCHAR, 'interval': VARCHAR}})",
        path_list(parts)));
  }
  if (!journal_paths.empty()) {
    // Journal values are BIGINT in 1e-8 units: scale 0 times 1e-8 is an exact DECIMAL.
    constexpr const char* kUnit = "0.00000001::DECIMAL(9,8)";
    selects.push_back(fmt::format(
        "SELECT j.exchange::VARCHAR, j.market::VARCHAR, j.symbol::VARCHAR, j.\"interval\"::VARCHAR, "
        "make_timestamptz(j.open_time_ms * 1000), CAST(j.open::DECIMAL(18,0) * {0} AS DECIMAL(18,8)), "
        "CAST(j.high::DECIMAL(18,0) * {0} AS DECIMAL(18,8)), CAST(j.low::DECIMAL(18,0) * {0} AS DECIMAL(18,8)), "
        "CAST(j.close::DECIMAL(18,0) * {0} AS DECIMAL(18,8)), CAST(j.volume::DECIMAL(19,0) * {0} AS DECIMAL(38,8)), "
        "CAST(j.turnover::DECIMAL(19,0) * {0} AS DECIMAL(38,8)) FROM read_parquet({1}, hive_partitioning=false) j "
        "SEMI JOIN (VALUES {2}) v(fi, e, m, s, i, p) ON j.file_index = v.fi AND j.exchange = v.e AND j.market = v.m "
        "AND j.symbol = v.s AND j.\"interval\" = v.i AND j.period = v.p",
        kUnit, path_list(journal_paths), values));
  }
  std::string view;
  if (!selects.empty()) {
    view = "CREATE OR REPLACE TEMP VIEW candles AS " + selects[0] + (selects.size() > 1 ? " UNION ALL " + selects[1] : "");
  } else {
    view = "CREATE OR REPLACE TEMP VIEW candles AS SELECT ''::VARCHAR AS exchange, ''::VARCHAR AS market, "
           "''::VARCHAR AS symbol, ''::VARCHAR AS \"interval\", NULL::TIMESTAMPTZ AS open_time, "
           "NULL::DECIMAL(18,8) AS open, NULL::DECIMAL(18,8) AS high, NULL::DECIMAL(18,8) AS low, "
           "NULL::DECIMAL(18,8) AS close, NULL::DECIMAL(38,8) AS volume, NULL::DECIMAL(38,8) AS turnover WHERE false";
  }
  if (auto s = conn_.execute(view); !s) return std::unexpected(s.error());
  return conn_.query(query);
}

}  // namespace twinstar::store
