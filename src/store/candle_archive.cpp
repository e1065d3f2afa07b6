#include "store/candle_archive.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

#include <fmt/format.h>

namespace twinstar::store {

namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kDecimal18Limit = 999'999'999'999'999'999;  // DECIMAL(18,8) holds |raw| <= this
constexpr const char* kStagingTable = "twinstar_staging";
constexpr const char* kCandleColumns =
    "CAST(open_time AS TIMESTAMPTZ), CAST(open AS DECIMAL(18,8)), CAST(high AS DECIMAL(18,8)), "
    "CAST(low AS DECIMAL(18,8)), CAST(close AS DECIMAL(18,8)), CAST(volume AS DECIMAL(38,8)), "
    "CAST(turnover AS DECIMAL(38,8))";

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
      if (auto s = fsync_path(it->parent_path(), true); !s) return s;
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

}  // namespace

CandleArchive::CandleArchive(fs::path data_dir, ArchiveOptions options)
    : data_dir_(std::move(data_dir)), options_(options) {
  root_ = data_dir_ / kCandlesDir;
  staging_ = data_dir_ / kStagingDir;
}

CandleArchive::~CandleArchive() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

Result<std::unique_ptr<CandleArchive>> CandleArchive::open(const fs::path& data_dir, ArchiveOptions options) {
  std::unique_ptr<CandleArchive> a(new CandleArchive(data_dir, options));
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
    if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
      return make_error(ErrorCode::unavailable,
                        "{}: another twinstar process is writing this candle store; stop it or use another --data-dir",
                        root_.string());
    }
    // Leftovers of an interrupted write were never visible; drop them.
    std::error_code ec;
    fs::remove_all(staging_, ec);
    if (ec) return make_error(ErrorCode::io_error, "{}: cannot clean: {}", staging_.string(), ec.message());
    if (auto s = ensure_dir(staging_, sync); !s) return s;
  }
  auto db = DuckDatabase::open_in_memory(options_.threads);
  if (!db) return std::unexpected(db.error());
  db_ = std::move(*db);
  auto conn = db_.connect();
  if (!conn) return std::unexpected(conn.error());
  conn_ = std::move(*conn);
  if (auto s = conn_.execute(fmt::format(
          "CREATE TEMP TABLE {}(part INTEGER, open_time TIMESTAMPTZ, open DECIMAL(18,8), high DECIMAL(18,8), "
          "low DECIMAL(18,8), close DECIMAL(18,8), volume DECIMAL(38,8), turnover DECIMAL(38,8))",
          kStagingTable));
      !s) {
    return s;
  }
  if (!fs::exists(root_)) return {};
  // Sequence numbers continue after the highest on disk; superseded parts are deleted.
  std::vector<PartFile> superseded;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root_, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it.depth() == 3 && it->is_directory()) {
      auto key = parse_series_dir(fs::relative(it->path(), root_));
      if (!key) continue;
      auto files = scan_series(it->path(), *key, &superseded);
      if (!files) return std::unexpected(files.error());
      for (const auto& p : files->parts) next_seq_ = std::max(next_seq_, p.last_seq + 1);
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
  return {};
}

Status CandleArchive::sync_dir(const fs::path& dir) {
  if (options_.durability != Durability::fsync) return {};
  return fsync_path(dir, true);
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

Result<std::vector<SeriesFiles>> CandleArchive::list() {
  std::vector<SeriesFiles> out;
  if (!fs::exists(root_)) return out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root_, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it.depth() == 3 && it->is_directory()) {
      it.disable_recursion_pending();
      auto key = parse_series_dir(fs::relative(it->path(), root_));
      if (!key) continue;
      auto files = scan_series(it->path(), *key, nullptr);
      if (!files) return std::unexpected(files.error());
      if (!files->parts.empty()) out.push_back(std::move(*files));
    }
  }
  if (ec) return make_error(ErrorCode::io_error, "{}: cannot list: {}", root_.string(), ec.message());
  std::sort(out.begin(), out.end(), [](const SeriesFiles& a, const SeriesFiles& b) { return a.key < b.key; });
  return out;
}

Result<SeriesFiles> CandleArchive::files_of(const SeriesKey& key) {
  const fs::path dir = series_dir(root_, key);
  if (!fs::exists(dir)) return SeriesFiles{key, dir, {}, 0};
  return scan_series(dir, key, nullptr);
}

Result<WriteReport> CandleArchive::write(std::span<const SeriesBatch> batches) {
  std::lock_guard lock(mutex_);
  if (!options_.writer) return make_error(ErrorCode::invalid_argument, "candle archive opened read-only");
  WriteReport report;
  report.seq = next_seq_++;
  std::vector<Group> groups;
  for (const auto& b : batches) {
    for (std::size_t i = 0; i < b.candles.size();) {
      const auto& first = b.candles[i];
      std::string period = period_of(b.key.interval, first.open_time_ms);
      std::size_t j = i;
      for (; j < b.candles.size(); ++j) {
        const auto& c = b.candles[j];
        if (j > i && c.open_time_ms <= b.candles[j - 1].open_time_ms) {
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
        if (j > i && period_of(b.key.interval, c.open_time_ms) != period) break;
      }
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

Result<std::size_t> CandleArchive::write_groups(std::span<const Group> groups, std::uint64_t staging_id) {
  const bool sync = options_.durability == Durability::fsync;
  const fs::path stage = staging_ / fmt::format("w{}", staging_id);
  std::error_code ec;
  fs::remove_all(stage, ec);

  if (auto s = conn_.execute(fmt::format("DELETE FROM {}", kStagingTable)); !s) return std::unexpected(s.error());
  {
    auto appender = conn_.appender(kStagingTable);
    if (!appender) return std::unexpected(appender.error());
    DuckLogicalType t_int(duckdb_create_logical_type(DUCKDB_TYPE_INTEGER));
    DuckLogicalType t_ts(duckdb_create_logical_type(DUCKDB_TYPE_TIMESTAMP_TZ));
    DuckLogicalType t_price(duckdb_create_decimal_type(18, 8));
    DuckLogicalType t_qty(duckdb_create_decimal_type(38, 8));
    duckdb_logical_type types[] = {t_int.get(),   t_ts.get(),    t_price.get(), t_price.get(),
                                   t_price.get(), t_price.get(), t_qty.get(),   t_qty.get()};
    DuckChunk chunk(duckdb_create_data_chunk(types, 8));
    const std::size_t cap = duckdb_vector_size();
    std::size_t n = 0;
    auto* part = chunk.data<std::int32_t>(0);
    auto* ts = chunk.data<std::int64_t>(1);
    std::int64_t* px[4] = {chunk.data<std::int64_t>(2), chunk.data<std::int64_t>(3), chunk.data<std::int64_t>(4),
                           chunk.data<std::int64_t>(5)};
    auto* vol = chunk.data<duckdb_hugeint>(6);
    auto* turn = chunk.data<duckdb_hugeint>(7);
    auto flush_chunk = [&]() -> Status {
      duckdb_data_chunk_set_size(chunk.get(), n);
      if (auto s = appender->append(chunk.get()); !s) return s;
      duckdb_data_chunk_reset(chunk.get());
      part = chunk.data<std::int32_t>(0);
      ts = chunk.data<std::int64_t>(1);
      for (int k = 0; k < 4; ++k) px[k] = chunk.data<std::int64_t>(2 + k);
      vol = chunk.data<duckdb_hugeint>(6);
      turn = chunk.data<duckdb_hugeint>(7);
      n = 0;
      return {};
    };
    for (std::size_t g = 0; g < groups.size(); ++g) {
      for (const StoredCandle& c : groups[g].candles) {
        part[n] = static_cast<std::int32_t>(g);
        ts[n] = c.open_time_ms * 1000;
        px[0][n] = c.open;
        px[1][n] = c.high;
        px[2][n] = c.low;
        px[3][n] = c.close;
        vol[n] = int64_to_hugeint(c.volume);
        turn[n] = int64_to_hugeint(c.turnover);
        if (++n == cap) {
          if (auto s = flush_chunk(); !s) return std::unexpected(s.error());
        }
      }
    }
    if (n > 0) {
      if (auto s = flush_chunk(); !s) return std::unexpected(s.error());
    }
    if (auto s = appender->close(); !s) return std::unexpected(s.error());
  }
  if (auto s = conn_.execute(fmt::format(
          "COPY (SELECT part, open_time, open, high, low, close, volume, turnover FROM {}) TO {} "
          "(FORMAT parquet, PARTITION_BY (part), WRITE_PARTITION_COLUMNS false)",
          kStagingTable, sql_quote(stage.string())));
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

Status CandleArchive::read_files(const std::vector<const PartFile*>& files, std::vector<std::vector<StoredCandle>>& rows) {
  rows.assign(files.size(), {});
  if (files.empty()) return {};
  for (std::size_t i = 0; i < files.size(); ++i) {
    // Compressed candles take 15-50 bytes: reserve generously once instead of growing.
    rows[i].reserve(static_cast<std::size_t>(files[i]->bytes / 12 + 16));
  }
  std::string list = "[";
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (i > 0) list += ", ";
    list += sql_quote(files[i]->path.string());
  }
  list += "]";
  // file_index (the position in the list) tags rows far more cheaply than filename=true;
  // hive_partitioning=false: the folder names are known, parsing them per row is waste.
  auto result = conn_.query_streaming(
      fmt::format("SELECT file_index, {} FROM read_parquet({}, hive_partitioning=false)", kCandleColumns, list));
  if (!result) {
    if (files.size() == 1) return make_error(ErrorCode::io_error, "{}: {}", files[0]->path.string(), result.error().message);
    return std::unexpected(result.error());
  }
  if (result->column_type(0) != DUCKDB_TYPE_UBIGINT) return make_error(ErrorCode::internal, "DuckDB file_index is not UBIGINT");
  while (true) {
    DuckChunk chunk = fetch_chunk(*result);
    if (!chunk) break;
    const std::size_t n = chunk.size();
    if (n == 0) break;
    const auto* index = chunk.data<std::uint64_t>(0);
    for (std::size_t col = 1; col < 8; ++col) {
      if (chunk.validity(col) != nullptr) {
        for (std::size_t r = 0; r < n; ++r) {
          if (!duckdb_validity_row_is_valid(chunk.validity(col), r)) {
            const std::size_t f = index[r] < files.size() ? index[r] : 0;
            return make_error(ErrorCode::parse_error, "{}: row {}: NULL in column {}", files[f]->path.string(),
                              rows[f].size() + 1, result->column_name(col));
          }
        }
      }
    }
    const auto* ts = chunk.data<std::int64_t>(1);
    const std::int64_t* px[4] = {chunk.data<std::int64_t>(2), chunk.data<std::int64_t>(3), chunk.data<std::int64_t>(4),
                                 chunk.data<std::int64_t>(5)};
    const auto* vol = chunk.data<duckdb_hugeint>(6);
    const auto* turn = chunk.data<duckdb_hugeint>(7);
    for (std::size_t r = 0; r < n; ++r) {
      if (index[r] >= files.size()) return make_error(ErrorCode::internal, "DuckDB returned file_index {} of {}", index[r], files.size());
      auto& dst = rows[index[r]];
      bool ok_v = true, ok_t = true;
      StoredCandle c{};
      // TIMESTAMPTZ is microseconds; candles carry milliseconds.
      c.open_time_ms = ts[r] >= 0 ? ts[r] / 1000 : -((-ts[r] + 999) / 1000);
      c.open = px[0][r];
      c.high = px[1][r];
      c.low = px[2][r];
      c.close = px[3][r];
      c.volume = hugeint_to_int64(vol[r], ok_v);
      c.turnover = hugeint_to_int64(turn[r], ok_t);
      if (!ok_v || !ok_t) {
        return make_error(ErrorCode::overflow, "{}: row {}: volume or turnover exceeds the engine's fixed-point range",
                          files[index[r]]->path.string(), dst.size() + 1);
      }
      dst.push_back(c);
    }
  }
  // A failure while streaming (e.g. a corrupt file) ends the chunks early: never a silent partial read.
  if (const auto err = result->error(); !err.empty()) {
    if (files.size() == 1) return make_error(ErrorCode::io_error, "{}: {}", files[0]->path.string(), err);
    return make_error(ErrorCode::io_error, "{}", err);
  }
  return {};
}

Result<ReadResult> CandleArchive::read(std::span<const SeriesFiles> series, std::size_t newest_n, bool dedupe) {
  std::lock_guard lock(mutex_);
  ReadResult out;
  out.series.resize(series.size());
  // Per series: how many periods (counted from the newest) to read; grows until newest_n is met.
  std::vector<std::vector<std::string>> periods(series.size());
  std::vector<std::size_t> take(series.size(), 0);
  std::vector<bool> pending(series.size(), true);
  std::vector<std::vector<StoredCandle>> raw(series.size());
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
    std::vector<const PartFile*> files;
    std::vector<std::size_t> owner;
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
          files.push_back(&p);
          owner.push_back(s);
        }
      }
      take[s] = new_take;
      if (newest_n == 0) pending[s] = false;
    }
    if (files.empty()) break;
    std::vector<std::vector<StoredCandle>> rows;
    if (auto st = read_files(files, rows); !st) {
      // Find the unreadable files one by one; the others still load.
      rows.assign(files.size(), {});
      for (std::size_t f = 0; f < files.size(); ++f) {
        std::vector<std::vector<StoredCandle>> one;
        if (auto s1 = read_files({files[f]}, one); !s1) {
          out.errors.push_back(FileError{files[f]->path, s1.error().message});
          bad_files.insert(files[f]->path);
        } else {
          rows[f] = std::move(one[0]);
        }
      }
    }
    // Files arrive oldest period first per series; prepend this pass's rows before earlier passes'.
    std::map<std::size_t, std::vector<StoredCandle>> fresh;
    std::map<std::size_t, std::size_t> total;
    for (std::size_t f = 0; f < files.size(); ++f) total[owner[f]] += rows[f].size();
    for (auto& [s, n] : total) fresh[s].reserve(n + raw[s].size());
    for (std::size_t f = 0; f < files.size(); ++f) {
      auto& r = rows[f];
      if (!std::is_sorted(r.begin(), r.end(), [](auto& a, auto& b) { return a.open_time_ms < b.open_time_ms; })) {
        std::stable_sort(r.begin(), r.end(), [](auto& a, auto& b) { return a.open_time_ms < b.open_time_ms; });
        ++out.series[owner[f]].unsorted_files;
      }
      auto& dst = fresh[owner[f]];
      dst.insert(dst.end(), r.begin(), r.end());
      std::vector<StoredCandle>().swap(r);
    }
    for (auto& [s, v] : fresh) {
      if (!raw[s].empty()) v.insert(v.end(), raw[s].begin(), raw[s].end());
      raw[s] = std::move(v);
    }
    if (newest_n == 0) break;
    for (std::size_t s = 0; s < series.size(); ++s) {
      if (pending[s] && raw[s].size() >= newest_n) pending[s] = false;
    }
  }
  for (std::size_t s = 0; s < series.size(); ++s) {
    auto& v = raw[s];
    auto& rows = out.series[s];
    // Stable: among equal open times the later file (later write) comes last and wins.
    if (!std::is_sorted(v.begin(), v.end(), [](auto& a, auto& b) { return a.open_time_ms < b.open_time_ms; })) {
      std::stable_sort(v.begin(), v.end(), [](auto& a, auto& b) { return a.open_time_ms < b.open_time_ms; });
    }
    std::size_t w = 0;  // deduplicate in place
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (w > 0 && v[w - 1].open_time_ms == v[i].open_time_ms) {
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
  auto all = list();
  if (!all) return std::unexpected(all.error());
  std::lock_guard lock(mutex_);
  if (!options_.writer) return make_error(ErrorCode::invalid_argument, "candle archive opened read-only");
  CompactReport report;
  min_parts = std::max<std::size_t>(min_parts, 2);
  for (const auto& series : *all) {
    for (std::size_t i = 0; i < series.parts.size();) {
      std::size_t j = i;
      while (j < series.parts.size() && series.parts[j].period == series.parts[i].period) ++j;
      if (j - i >= min_parts) {
        std::vector<const PartFile*> files;
        for (std::size_t k = i; k < j; ++k) files.push_back(&series.parts[k]);
        std::vector<std::vector<StoredCandle>> rows;
        if (auto st = read_files(files, rows); !st) {
          report.errors.push_back(FileError{series.dir, fmt::format("period {} not compacted: {}", series.parts[i].period, st.error().message)});
          i = j;
          continue;
        }
        std::vector<StoredCandle> merged;
        for (auto& r : rows) merged.insert(merged.end(), r.begin(), r.end());
        std::stable_sort(merged.begin(), merged.end(), [](auto& a, auto& b) { return a.open_time_ms < b.open_time_ms; });
        std::vector<StoredCandle> unique;
        for (const auto& c : merged) {
          if (!unique.empty() && unique.back().open_time_ms == c.open_time_ms) {
            unique.back() = c;
            ++report.duplicates_dropped;
          } else {
            unique.push_back(c);
          }
        }
        std::uint64_t lo = UINT64_MAX, hi = 0;
        for (const auto* f : files) {
          lo = std::min(lo, f->first_seq);
          hi = std::max(hi, f->last_seq);
        }
        const Group g{&series.key, series.parts[i].period, unique, lo, hi};
        auto written = write_groups(std::span(&g, 1), next_seq_++);
        if (!written) return std::unexpected(written.error());
        // The merged file is visible; the parts are now superseded and can go.
        for (const auto* f : files) {
          std::error_code ec;
          fs::remove(f->path, ec);
          if (ec) return make_error(ErrorCode::io_error, "{}: cannot delete compacted part: {}", f->path.string(), ec.message());
          ++report.files_removed;
        }
        if (auto s = sync_dir(series.dir); !s) return std::unexpected(s.error());
        ++report.periods;
        ++report.files_written;
      }
      i = j;
    }
  }
  return report;
}

Result<DuckResult> CandleArchive::sql(const std::string& query) {
  std::lock_guard lock(mutex_);
  if (!view_created_) {
    bool any = false;
    std::error_code ec;
    if (fs::exists(root_)) {
      for (auto it = fs::recursive_directory_iterator(root_, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file() && it->path().extension() == ".parquet") {
          any = true;
          break;
        }
      }
    }
    std::string view;
    if (any) {
      view = fmt::format(
          "CREATE OR REPLACE TEMP VIEW candles AS SELECT exchange, market, symbol, \"interval\", open_time, open, high, "
          "low, close, volume, turnover FROM read_parquet({}, hive_partitioning=true, "
          "hive_types={{'exchange': VARCHAR, 'market': VARCHAR, 'symbol': VARCHAR, 'interval': VARCHAR}})",
          sql_quote((root_ / "*" / "*" / "*" / "*" / "*.parquet").string()));
    } else {
      view = "CREATE OR REPLACE TEMP VIEW candles AS SELECT ''::VARCHAR AS exchange, ''::VARCHAR AS market, "
             "''::VARCHAR AS symbol, ''::VARCHAR AS \"interval\", NULL::TIMESTAMPTZ AS open_time, "
             "NULL::DECIMAL(18,8) AS open, NULL::DECIMAL(18,8) AS high, NULL::DECIMAL(18,8) AS low, "
             "NULL::DECIMAL(18,8) AS close, NULL::DECIMAL(38,8) AS volume, NULL::DECIMAL(38,8) AS turnover WHERE false";
    }
    if (auto s = conn_.execute(view); !s) return std::unexpected(s.error());
    view_created_ = true;
  }
  return conn_.query(query);
}

}  // namespace twinstar::store
