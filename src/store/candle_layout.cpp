#include "store/candle_layout.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>

#include <fmt/format.h>

namespace twinstar::store {

namespace {

bool daily_or_longer(Interval i) { return i == Interval::mo1 || interval_length(i) >= std::chrono::days(1); }

std::optional<std::string_view> hive_value(const std::string& part, std::string_view key) {
  if (part.size() <= key.size() + 1 || part.compare(0, key.size(), key) != 0 || part[key.size()] != '=') return std::nullopt;
  return std::string_view(part).substr(key.size() + 1);
}

bool parse_u64(std::string_view s, std::uint64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

std::string describe(const SeriesKey& key) {
  return fmt::format("{} {} {} {}", key.exchange, key.market, key.symbol, key.interval);
}

std::string period_of(Interval interval, std::int64_t open_time_ms) {
  using namespace std::chrono;
  const year_month_day ymd{floor<days>(sys_time<milliseconds>(milliseconds(open_time_ms)))};
  if (daily_or_longer(interval)) return fmt::format("{:04}", static_cast<int>(ymd.year()));
  return fmt::format("{:04}-{:02}", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()));
}

std::int64_t period_end_ms(Interval interval, std::int64_t open_time_ms) {
  using namespace std::chrono;
  const year_month_day ymd{floor<days>(sys_time<milliseconds>(milliseconds(open_time_ms)))};
  const year_month_day next = daily_or_longer(interval) ? year_month_day{ymd.year() + years(1), January, day(1)}
                                                        : year_month_day{ymd.year() / ymd.month() / 1} + months(1);
  return duration_cast<milliseconds>(sys_days(next).time_since_epoch()).count();
}

std::int64_t max_candles_per_period(Interval interval) {
  using namespace std::chrono;
  if (interval == Interval::mo1) return 12;
  const auto len = duration_cast<milliseconds>(interval_length(interval)).count();
  const std::int64_t span = daily_or_longer(interval) ? 366LL * 86'400'000 : 31LL * 86'400'000;
  return span / std::max<std::int64_t>(len, 1) + 1;
}

std::filesystem::path series_dir(const std::filesystem::path& root, const SeriesKey& key) {
  return root / fmt::format("exchange={}", key.exchange) / fmt::format("market={}", key.market) /
         fmt::format("symbol={}", key.symbol) / fmt::format("interval={}", key.interval);
}

Result<SeriesKey> parse_series_dir(const std::filesystem::path& relative) {
  std::vector<std::string> parts;
  for (const auto& p : relative) parts.push_back(p.string());
  if (parts.size() != 4) return make_error(ErrorCode::parse_error, "{}: expected exchange=/market=/symbol=/interval=", relative.string());
  SeriesKey key;
  auto ex = hive_value(parts[0], "exchange");
  auto mk = hive_value(parts[1], "market");
  auto sy = hive_value(parts[2], "symbol");
  auto iv = hive_value(parts[3], "interval");
  if (!ex || !mk || !sy || !iv) return make_error(ErrorCode::parse_error, "{}: expected exchange=/market=/symbol=/interval=", relative.string());
  auto e = parse_exchange(*ex);
  if (!e) return make_error(ErrorCode::parse_error, "{}: {}", relative.string(), e.error().message);
  auto m = parse_market(*mk);
  if (!m) return make_error(ErrorCode::parse_error, "{}: {}", relative.string(), m.error().message);
  auto s = Symbol::parse(*sy);
  if (!s) return make_error(ErrorCode::parse_error, "{}: {}", relative.string(), s.error().message);
  auto i = parse_interval(*iv);
  if (!i) return make_error(ErrorCode::parse_error, "{}: {}", relative.string(), i.error().message);
  if (to_string(*i) != *iv) return make_error(ErrorCode::parse_error, "{}: interval must be spelled {}", relative.string(), to_string(*i));
  key.exchange = *e;
  key.market = *m;
  key.symbol = *s;
  key.interval = *i;
  return key;
}

std::string part_file_name(const std::string& period, std::uint64_t first_seq, std::uint64_t last_seq) {
  return fmt::format("{}_{:010}-{:010}.parquet", period, first_seq, last_seq);
}

std::optional<PartFile> parse_part_file(const std::filesystem::path& path) {
  const std::string name = path.filename().string();
  constexpr std::string_view ext = ".parquet";
  if (name.size() <= ext.size() || name.compare(name.size() - ext.size(), ext.size(), ext) != 0) return std::nullopt;
  const std::string_view stem(name.data(), name.size() - ext.size());
  const auto us = stem.rfind('_');
  if (us == std::string_view::npos) return std::nullopt;
  const auto dash = stem.find('-', us);
  if (dash == std::string_view::npos) return std::nullopt;
  PartFile f;
  f.path = path;
  f.period = std::string(stem.substr(0, us));
  if (f.period.empty()) return std::nullopt;
  if (!parse_u64(stem.substr(us + 1, dash - us - 1), f.first_seq) || !parse_u64(stem.substr(dash + 1), f.last_seq)) return std::nullopt;
  if (f.first_seq > f.last_seq) return std::nullopt;
  return f;
}

std::string journal_file_name(std::uint64_t seq) { return fmt::format("{:010}.parquet", seq); }

std::optional<std::uint64_t> parse_journal_file(const std::filesystem::path& path) {
  const std::string name = path.filename().string();
  constexpr std::string_view ext = ".parquet";
  if (name.size() <= ext.size() || name.compare(name.size() - ext.size(), ext.size(), ext) != 0) return std::nullopt;
  std::uint64_t seq = 0;
  if (!parse_u64(std::string_view(name.data(), name.size() - ext.size()), seq) || seq == 0) return std::nullopt;
  return seq;
}

void split_superseded(std::vector<PartFile>& parts, std::vector<PartFile>* superseded) {
  std::sort(parts.begin(), parts.end(), [](const PartFile& a, const PartFile& b) {
    if (a.period != b.period) return a.period < b.period;
    if (a.first_seq != b.first_seq) return a.first_seq < b.first_seq;
    if (a.last_seq != b.last_seq) return a.last_seq > b.last_seq;  // the wider range first
    return !a.journal && b.journal;  // a part before a journal entry of the same seq (never both)
  });
  std::vector<PartFile> live;
  live.reserve(parts.size());
  for (auto& p : parts) {
    bool covered = false;
    for (const auto& q : live) {
      if (!q.journal && q.period == p.period && q.first_seq <= p.first_seq && p.last_seq <= q.last_seq) {
        covered = true;
        break;
      }
    }
    if (covered) {
      if (superseded != nullptr) superseded->push_back(std::move(p));
    } else {
      live.push_back(std::move(p));
    }
  }
  parts = std::move(live);
}

}  // namespace twinstar::store
