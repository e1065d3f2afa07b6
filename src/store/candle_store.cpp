#include "store/candle_store.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace twinstar::store {

namespace {

Error refusal_error(const SeriesKey& key, const CandleRing::Refused& r) {
  switch (r.reason) {
    case AppendRefusal::conflict:
      return Error{ErrorCode::conflict, fmt::format("{}: candle {} differs from the closed candle already stored",
                                                    describe(key), format_iso8601(r.open_time))};
    case AppendRefusal::out_of_order:
      return Error{ErrorCode::invalid_argument,
                   fmt::format("{}: candle {} is older than the newest candle held and not one of them (backfill "
                               "through write_history)", describe(key), format_iso8601(r.open_time))};
    case AppendRefusal::full:
      return Error{ErrorCode::limit_exceeded, fmt::format("{}: ring full of unflushed candles", describe(key))};
  }
  return Error{ErrorCode::internal, "unknown refusal"};
}

std::int64_t months_since_epoch(std::int64_t ms) {
  using namespace std::chrono;
  const year_month_day ymd{floor<days>(sys_time<milliseconds>(milliseconds(ms)))};
  return static_cast<int>(ymd.year()) * 12LL + static_cast<unsigned>(ymd.month()) - 1;
}

}  // namespace

struct CandleStore::Series {
  explicit Series(const SeriesKey& k) : key(k) {}
  const SeriesKey key;
  mutable std::mutex mutex;
  std::unique_ptr<CandleRing> ring;              // guarded by mutex; null while not resident
  std::optional<std::int64_t> last_stored_ms;    // guarded by mutex; newest persisted open time
  RingCounters retired;                          // guarded by mutex; counters of dropped rings
  std::atomic<std::uint64_t> last_used{0};
};

CandleStore::CandleStore(StoreOptions options, const Clock& clock) : options_(std::move(options)), clock_(clock) {}

CandleStore::~CandleStore() {
  if (!archive_) return;
  if (auto f = flush(); f && options_.compact_on_close) (void)compact();
}

Result<std::unique_ptr<CandleStore>> CandleStore::open(StoreOptions options, const Clock& clock) {
  std::unique_ptr<CandleStore> s(new CandleStore(std::move(options), clock));
  if (auto st = s->init(); !st) return std::unexpected(st.error());
  return s;
}

Status CandleStore::init() {
  options_.ring_capacity = std::max<std::size_t>(options_.ring_capacity, 1);
  options_.max_resident_series = std::max<std::size_t>(options_.max_resident_series, 1);
  if (options_.data_dir.empty()) return {};
  auto archive = CandleArchive::open(options_.data_dir, ArchiveOptions{options_.durability, true, options_.duckdb_threads, options_.duckdb_memory_limit});
  if (!archive) return std::unexpected(archive.error());
  archive_ = std::move(*archive);
  auto all = archive_->list();
  if (!all) return std::unexpected(all.error());
  open_report_.series_found = all->size();
  for (const auto& f : *all) series_.emplace(f.key, std::make_shared<Series>(f.key));
  if (!options_.load_on_open || all->empty()) return {};
  // The series written most recently are the ones the bots were using.
  std::vector<SeriesFiles> recent = std::move(*all);
  std::sort(recent.begin(), recent.end(), [](const SeriesFiles& a, const SeriesFiles& b) {
    const auto& pa = a.parts.back();
    const auto& pb = b.parts.back();
    if (pa.period != pb.period) return pa.period > pb.period;
    return pa.last_seq > pb.last_seq;
  });
  if (recent.size() > options_.max_resident_series) recent.resize(options_.max_resident_series);
  auto rows = archive_->read(recent, options_.ring_capacity);
  if (!rows) return std::unexpected(rows.error());
  open_report_.unreadable = rows->errors;
  unreadable_ = rows->errors;
  for (auto& r : rows->series) {
    auto& s = *series_.at(r.key);
    std::lock_guard lock(s.mutex);
    s.ring = std::make_unique<CandleRing>(options_.ring_capacity);
    if (!r.candles.empty()) s.last_stored_ms = r.candles.back().open_time_ms;
    open_report_.candles_loaded += r.candles.size();
    s.ring->assign(std::move(r.candles));
    s.last_used = ++tick_;
    ++resident_;
    ++open_report_.series_loaded;
  }
  return {};
}

std::shared_ptr<CandleStore::Series> CandleStore::find(const SeriesKey& key) const {
  std::shared_lock lock(map_mutex_);
  auto it = series_.find(key);
  return it == series_.end() ? nullptr : it->second;
}

std::shared_ptr<CandleStore::Series> CandleStore::find_or_create(const SeriesKey& key) {
  if (auto s = find(key)) return s;
  std::unique_lock lock(map_mutex_);
  auto [it, inserted] = series_.try_emplace(key, nullptr);
  if (inserted) it->second = std::make_shared<Series>(key);
  return it->second;
}

Result<AppendOutcome> CandleStore::append(const SeriesKey& key, const Candle& c) {
  if (archive_) {
    for (const Price p : {c.open, c.high, c.low, c.close}) {
      if (p.raw() > kDecimal18Limit || p.raw() < -kDecimal18Limit) {
        return make_error(ErrorCode::invalid_argument, "{}: price {} at {} is outside DECIMAL(18,8)", describe(key),
                          p.to_string(), format_iso8601(c.open_time));
      }
    }
  }
  auto s = find_or_create(key);
  s->last_used.store(tick_.fetch_add(1, std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  {
    // The fast path: one series lock.
    std::lock_guard lock(s->mutex);
    if (s->ring) {
      auto r = s->ring->append(c);
      if (r) return *r;
      if (r.error().reason != AppendRefusal::full) return std::unexpected(refusal_error(key, r.error()));
    }
  }
  // Slow path, under io_mutex_ so no eviction can come between loading and appending.
  std::lock_guard io(io_mutex_);
  if (auto st = make_resident_locked(s); !st) return std::unexpected(st.error());
  for (int attempt = 0; attempt < 2; ++attempt) {
    {
      std::lock_guard lock(s->mutex);
      auto r = s->ring->append(c);
      if (r) return *r;
      if (r.error().reason != AppendRefusal::full) return std::unexpected(refusal_error(key, r.error()));
    }
    // Overflow policy: never drop an unpersisted candle; persist, then overwrite the oldest.
    if (auto f = flush_locked(); !f) return std::unexpected(f.error());
  }
  return make_error(ErrorCode::internal, "{}: ring still full after a flush", describe(key));
}

Result<std::size_t> CandleStore::append_batch(std::span<const std::pair<SeriesKey, Candle>> candles) {
  std::size_t n = 0;
  for (const auto& [key, c] : candles) {
    auto r = append(key, c);
    if (!r) return std::unexpected(r.error());
    ++n;
  }
  return n;
}

Status CandleStore::make_resident(const std::shared_ptr<Series>& s) {
  std::lock_guard io(io_mutex_);
  return make_resident_locked(s);
}

Status CandleStore::make_resident_locked(const std::shared_ptr<Series>& s) {
  {
    std::lock_guard lock(s->mutex);
    if (s->ring) return {};
  }
  std::vector<StoredCandle> rows;
  if (archive_) {
    auto files = archive_->files_of(s->key);
    if (!files) return std::unexpected(files.error());
    if (!files->parts.empty()) {
      auto r = archive_->read(std::span(&*files, 1), options_.ring_capacity);
      if (!r) return std::unexpected(r.error());
      rows = std::move(r->series[0].candles);
      if (!r->errors.empty()) {
        std::lock_guard l(errors_mutex_);
        unreadable_.insert(unreadable_.end(), r->errors.begin(), r->errors.end());
      }
      ++reloads_;
    }
  }
  while (resident_.load() >= options_.max_resident_series) {
    std::shared_ptr<Series> victim;
    std::uint64_t oldest = UINT64_MAX;
    {
      std::shared_lock lock(map_mutex_);
      for (const auto& [k, other] : series_) {
        if (other == s) continue;
        std::lock_guard l(other->mutex);
        if (other->ring && other->last_used.load(std::memory_order_relaxed) < oldest) {
          oldest = other->last_used.load(std::memory_order_relaxed);
          victim = other;
        }
      }
    }
    if (!victim) break;
    if (auto st = evict_locked(*victim); !st) return st;
  }
  std::lock_guard lock(s->mutex);
  s->ring = std::make_unique<CandleRing>(options_.ring_capacity);
  s->ring->set_requires_flush(archive_ != nullptr);
  s->ring->assign(rows);
  if (!rows.empty()) s->last_stored_ms = std::max(s->last_stored_ms.value_or(INT64_MIN), rows.back().open_time_ms);
  ++resident_;
  return {};
}

Status CandleStore::evict_locked(Series& s) {
  // The series lock is held through the write: this is the least used series, and holding it
  // guarantees no candle arrives between "persisted" and "dropped".
  std::lock_guard lock(s.mutex);
  if (!s.ring) return {};
  if (archive_ && s.ring->unflushed() > 0) {
    SeriesBatch batch{s.key, {}};
    s.ring->copy_unflushed(batch.candles);
    auto w = archive_->append_journal(std::span(&batch, 1));
    if (!w) return std::unexpected(w.error());
    s.last_stored_ms = std::max(s.last_stored_ms.value_or(INT64_MIN), batch.candles.back().open_time_ms);
    candles_flushed_ += batch.candles.size();
    ++flushes_since_compact_;  // a journal file too: the next flush's merge check counts it
  }
  const auto& c = s.ring->counters();
  s.retired.appended += c.appended;
  s.retired.duplicates += c.duplicates;
  s.retired.conflicts += c.conflicts;
  s.retired.out_of_order += c.out_of_order;
  s.retired.open_updates += c.open_updates;
  s.retired.superseded_open += c.superseded_open;
  s.retired.full += c.full;
  if (!s.ring->empty()) s.last_stored_ms = std::max(s.last_stored_ms.value_or(INT64_MIN), s.ring->newest().open_time_ms);
  s.ring.reset();
  --resident_;
  ++evictions_;
  return {};
}

Result<FlushReport> CandleStore::flush() {
  std::lock_guard io(io_mutex_);
  return flush_locked();
}

Result<FlushReport> CandleStore::flush_locked() {
  FlushReport report;
  if (!archive_) return report;
  const auto started = clock_.now();
  std::vector<std::shared_ptr<Series>> owners;
  std::vector<SeriesBatch> batches;
  {
    std::shared_lock lock(map_mutex_);
    for (const auto& [key, s] : series_) {
      std::lock_guard l(s->mutex);
      if (!s->ring || s->ring->unflushed() == 0) continue;
      batches.push_back(SeriesBatch{key, {}});
      s->ring->copy_unflushed(batches.back().candles);
      owners.push_back(s);
    }
  }
  if (!batches.empty()) {
    auto w = archive_->append_journal(batches);
    if (!w) return std::unexpected(w.error());
    report.series = batches.size();
    report.candles = w->candles;
    report.files = w->files;
    for (std::size_t i = 0; i < owners.size(); ++i) {
      std::lock_guard l(owners[i]->mutex);
      const std::int64_t through = batches[i].candles.back().open_time_ms;
      if (owners[i]->ring) owners[i]->ring->mark_flushed_through(through);
      owners[i]->last_stored_ms = std::max(owners[i]->last_stored_ms.value_or(INT64_MIN), through);
    }
    candles_flushed_ += report.candles;
    ++flushes_;
    ++flushes_since_compact_;
  }
  const auto now = clock_.now();
  last_flush_ns_ = now.time_since_epoch().count();
  last_flush_took_ns_ = (now - started).count();
  if (options_.compact_every_flushes > 0 && flushes_since_compact_ >= options_.compact_every_flushes) {
    flushes_since_compact_ = 0;
    auto c = archive_->compact(2);
    if (!c) return std::unexpected(c.error());
    report.compaction = std::move(*c);
  }
  return report;
}

Result<std::size_t> CandleStore::write_history(const SeriesKey& key, std::span<const Candle> candles) {
  for (std::size_t i = 0; i < candles.size(); ++i) {
    const Candle& c = candles[i];
    if (!c.closed) return make_error(ErrorCode::invalid_argument, "{}: history candle {} is not closed", describe(key), format_iso8601(c.open_time));
    if (i > 0 && c.open_time <= candles[i - 1].open_time) {
      return make_error(ErrorCode::invalid_argument, "{}: history not ascending at {}", describe(key), format_iso8601(c.open_time));
    }
  }
  if (candles.empty()) return std::size_t{0};
  std::lock_guard io(io_mutex_);
  auto s = find_or_create(key);
  if (archive_) {
    // Queued candles first, so the disk's "later write wins" agrees with the ring below.
    if (auto f = flush_locked(); !f) return std::unexpected(f.error());
    SeriesBatch batch{key, {}};
    batch.candles.reserve(candles.size());
    for (const auto& c : candles) batch.candles.push_back(StoredCandle::from(c));
    auto w = archive_->write(std::span(&batch, 1));
    if (!w) return std::unexpected(w.error());
  }
  std::lock_guard lock(s->mutex);
  s->last_stored_ms = std::max(s->last_stored_ms.value_or(INT64_MIN), to_epoch_ms(candles.back().open_time));
  if (s->ring) {
    std::vector<StoredCandle> merged;
    merged.reserve(s->ring->size() + candles.size());
    std::size_t i = 0, j = 0;
    while (i < s->ring->size() || j < candles.size()) {
      if (j == candles.size() || (i < s->ring->size() && s->ring->at(i).open_time_ms < to_epoch_ms(candles[j].open_time))) {
        merged.push_back(s->ring->at(i++));
      } else {
        if (i < s->ring->size() && s->ring->at(i).open_time_ms == to_epoch_ms(candles[j].open_time)) ++i;
        merged.push_back(StoredCandle::from(candles[j++]));
      }
    }
    s->ring->assign(merged);  // everything is on disk now (memory-only rings never need a flush)
  }
  return candles.size();
}

Result<std::vector<std::pair<SeriesKey, bool>>> CandleStore::load(std::span<const SeriesKey> keys) {
  std::vector<std::pair<SeriesKey, bool>> out;
  for (const auto& key : keys) {
    auto s = find_or_create(key);
    if (auto st = make_resident(s); !st) return std::unexpected(st.error());
    std::lock_guard lock(s->mutex);
    out.emplace_back(key, s->ring && !s->ring->empty());
  }
  return out;
}

Result<std::size_t> CandleStore::evict_to(std::size_t max_resident) {
  std::lock_guard io(io_mutex_);
  std::vector<std::pair<std::uint64_t, std::shared_ptr<Series>>> resident;
  {
    std::shared_lock lock(map_mutex_);
    for (const auto& [k, s] : series_) {
      std::lock_guard l(s->mutex);
      if (s->ring) resident.emplace_back(s->last_used.load(std::memory_order_relaxed), s);
    }
  }
  if (resident.size() <= max_resident) return std::size_t{0};
  std::sort(resident.begin(), resident.end(), [](auto& a, auto& b) { return a.first < b.first; });
  std::size_t dropped = 0;
  for (std::size_t i = 0; i + max_resident < resident.size(); ++i) {
    if (auto st = evict_locked(*resident[i].second); !st) return std::unexpected(st.error());
    ++dropped;
  }
  return dropped;
}

Result<SeriesSnapshot> CandleStore::snapshot(const SeriesKey& key, std::size_t max_closed) {
  auto s = find(key);
  if (!s && archive_) {
    auto files = archive_->files_of(key);
    if (!files) return std::unexpected(files.error());
    if (!files->parts.empty()) s = find_or_create(key);
  }
  if (!s) return make_error(ErrorCode::not_found, "{}: no such series", describe(key));
  s->last_used.store(tick_.fetch_add(1, std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  auto copy = [&]() {
    SeriesSnapshot snap{key, {}, s->ring->open_candle()};
    s->ring->copy_newest(max_closed == 0 ? s->ring->size() : max_closed, snap.closed);
    return snap;
  };
  {
    std::lock_guard lock(s->mutex);
    if (s->ring) return copy();
  }
  std::lock_guard io(io_mutex_);  // no eviction between loading and copying
  if (auto st = make_resident_locked(s); !st) return std::unexpected(st.error());
  std::lock_guard lock(s->mutex);
  return copy();
}

RecoveryGap CandleStore::gap_for(const SeriesKey& key, std::optional<std::int64_t> last_ms) const {
  RecoveryGap g;
  g.key = key;
  const TimestampMs forming = floor_ms(interval_floor(key.interval, clock_.now()));
  g.to = forming;
  if (!last_ms) {
    g.from = forming;
    return g;
  }
  g.last_stored = from_epoch_ms(*last_ms);
  g.from = floor_ms(interval_next(key.interval, Timestamp(*g.last_stored)));
  if (g.from >= g.to) {
    g.from = g.to;
    return g;
  }
  if (is_fixed_length(key.interval)) {
    const auto len = std::chrono::duration_cast<std::chrono::milliseconds>(interval_length(key.interval)).count();
    g.missing = (to_epoch_ms(g.to) - to_epoch_ms(g.from)) / len;
  } else {
    g.missing = months_since_epoch(to_epoch_ms(g.to)) - months_since_epoch(to_epoch_ms(g.from));
  }
  return g;
}

Result<RecoveryGap> CandleStore::gap_to_now(const SeriesKey& key) {
  auto s = find_or_create(key);
  if (auto st = make_resident(s); !st) return std::unexpected(st.error());
  std::optional<std::int64_t> last;
  {
    std::lock_guard lock(s->mutex);
    last = s->last_stored_ms;
    if (s->ring && !s->ring->empty()) last = std::max(last.value_or(INT64_MIN), s->ring->newest().open_time_ms);
  }
  return gap_for(key, last);
}

std::vector<RecoveryGap> CandleStore::recovery_gaps() {
  std::vector<RecoveryGap> out;
  std::shared_lock lock(map_mutex_);
  for (const auto& [key, s] : series_) {
    std::lock_guard l(s->mutex);
    if (!s->ring) continue;
    std::optional<std::int64_t> last = s->last_stored_ms;
    if (!s->ring->empty()) last = std::max(last.value_or(INT64_MIN), s->ring->newest().open_time_ms);
    out.push_back(gap_for(key, last));
  }
  std::sort(out.begin(), out.end(), [](const RecoveryGap& a, const RecoveryGap& b) { return a.key < b.key; });
  return out;
}

Result<CompactReport> CandleStore::compact() {
  if (!archive_) return CompactReport{};
  std::lock_guard io(io_mutex_);
  return archive_->compact(2);
}

std::vector<FileError> CandleStore::unreadable_files() const {
  std::lock_guard l(errors_mutex_);
  return unreadable_;
}

std::vector<SeriesMemory> CandleStore::get_memory_usage() const {
  std::vector<SeriesMemory> out;
  std::shared_lock lock(map_mutex_);
  out.reserve(series_.size());
  for (const auto& [key, s] : series_) {
    std::lock_guard l(s->mutex);
    SeriesMemory m{key, s->ring != nullptr, 0, sizeof(Series)};
    if (s->ring) {
      m.candles = s->ring->size() + (s->ring->open_candle() ? 1 : 0);
      m.bytes += s->ring->memory_bytes();
    }
    out.push_back(m);
  }
  std::sort(out.begin(), out.end(), [](const SeriesMemory& a, const SeriesMemory& b) { return a.key < b.key; });
  return out;
}

StoreStats CandleStore::get_stats() const {
  StoreStats st;
  {
    std::shared_lock lock(map_mutex_);
    st.series_known = series_.size();
    for (const auto& [key, s] : series_) {
      std::lock_guard l(s->mutex);
      st.resident_bytes += sizeof(Series);
      RingCounters c = s->retired;
      if (s->ring) {
        ++st.series_resident;
        st.candles_resident += s->ring->size();
        st.resident_bytes += s->ring->memory_bytes();
        st.unflushed += s->ring->unflushed();
        const auto& rc = s->ring->counters();
        c.appended += rc.appended;
        c.duplicates += rc.duplicates;
        c.conflicts += rc.conflicts;
        c.out_of_order += rc.out_of_order;
      }
      st.candles_appended += c.appended;
      st.duplicates += c.duplicates;
      st.conflicts += c.conflicts;
      st.out_of_order += c.out_of_order;
    }
  }
  st.flushes = flushes_;
  st.candles_flushed = candles_flushed_;
  st.evictions = evictions_;
  st.reloads = reloads_;
  if (last_flush_ns_ != INT64_MIN) st.last_flush = Timestamp(Duration(last_flush_ns_.load()));
  st.last_flush_took = Duration(last_flush_took_ns_.load());
  return st;
}

}  // namespace twinstar::store
