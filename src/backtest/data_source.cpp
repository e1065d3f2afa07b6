#include "backtest/data_source.hpp"

#include <algorithm>

#include "store/candle_archive.hpp"
#include "store/candle_layout.hpp"
#include "store/csv_import.hpp"

namespace twinstar {

namespace {

std::string describe_key(const SeriesKey& k) { return fmt::format("{} {} {} {}", k.exchange, k.market, k.symbol, k.interval); }

void clip(std::vector<Candle>& candles, const TimeRange& range) {
  if (!range.from && !range.to) return;
  std::erase_if(candles, [&](const Candle& c) {
    const Timestamp t(c.open_time);
    return (range.from && t < *range.from) || (range.to && t >= *range.to);
  });
}

Status check_not_empty(const SeriesData& s, const TimeRange& range) {
  if (!s.candles.empty()) return {};
  return make_error(ErrorCode::invalid_argument, "series {} has no candles between {} and {}", describe_key(s.key),
                    range.from ? format_iso8601(*range.from) : "the start", range.to ? format_iso8601(*range.to) : "the end");
}

// Drops the files of periods wholly outside the range: a one-month backtest of a store that holds
// years reads one month's files (and a damaged file of another year does not stop it).
void keep_periods_in_range(store::SeriesFiles& files, const TimeRange& range) {
  const Interval iv = files.key.interval;
  const std::string first = range.from ? store::period_of(iv, to_epoch_ms(*range.from)) : std::string();
  const std::optional<std::string> last =
      range.to ? std::optional(store::period_of(iv, to_epoch_ms(*range.to) - 1)) : std::nullopt;
  std::erase_if(files.parts, [&](const store::PartFile& p) { return p.period < first || (last && p.period > *last); });
}

}  // namespace

Result<std::vector<SeriesData>> load_from_store(const std::filesystem::path& data_dir, const std::vector<SeriesKey>& keys,
                                                const TimeRange& range, VolumeColumns volumes) {
  store::ArchiveOptions options;
  options.writer = false;
  auto archive = store::CandleArchive::open(data_dir, options);
  if (!archive) return std::unexpected(archive.error());
  auto listed = (*archive)->list();
  if (!listed) return std::unexpected(listed.error());
  std::vector<store::SeriesFiles> wanted;
  for (const SeriesKey& key : keys) {
    auto it = std::find_if(listed->begin(), listed->end(), [&](const store::SeriesFiles& f) { return f.key == key; });
    if (it == listed->end() || it->parts.empty()) {
      std::string have;
      for (const auto& f : *listed) have += fmt::format("\n  {}", describe_key(f.key));
      return make_error(ErrorCode::not_found, "series {} is not in the store at {}{}{}", describe_key(key),
                        (*archive)->candles_root().string(), have.empty() ? " (the store is empty)" : "; it has:", have);
    }
    wanted.push_back(*it);
    keep_periods_in_range(wanted.back(), range);
  }
  auto read = (*archive)->read_candles(
      wanted, volumes == VolumeColumns::skip ? store::CandleColumns::prices : store::CandleColumns::all);
  if (!read) return std::unexpected(read.error());
  if (!read->errors.empty()) {
    return make_error(ErrorCode::io_error, "unreadable file {}: {}", read->errors.front().path.string(), read->errors.front().message);
  }
  std::vector<SeriesData> out;
  for (auto& rows : read->series) {
    SeriesData s{rows.key, std::move(rows.candles)};
    clip(s.candles, range);
    if (auto ok = check_not_empty(s, range); !ok) return std::unexpected(ok.error());
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<SeriesData>> load_from_csv(const std::vector<std::filesystem::path>& files, Exchange exchange,
                                              Market market, std::optional<Interval> interval, const TimeRange& range,
                                              Timestamp now) {
  std::vector<SeriesData> out;
  for (const auto& file : files) {
    store::CsvImportOptions options;
    options.interval = interval;
    auto csv = store::read_candle_csv(file, options, now);
    if (!csv) return std::unexpected(csv.error());
    SeriesData s{SeriesKey{exchange, market, csv->symbol, csv->interval}, std::move(csv->candles)};
    clip(s.candles, range);
    if (auto ok = check_not_empty(s, range); !ok) return std::unexpected(ok.error());
    for (const auto& other : out) {
      if (other.key == s.key) return make_error(ErrorCode::invalid_argument, "{} and another file are both {}", file.string(), describe_key(s.key));
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace twinstar
