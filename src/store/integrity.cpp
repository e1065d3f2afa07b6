#include "store/integrity.hpp"

#include <algorithm>
#include <chrono>

namespace twinstar::store {

namespace {

std::int64_t month_index(TimestampMs t) {
  using namespace std::chrono;
  const year_month_day ymd{floor<days>(t)};
  return static_cast<int>(ymd.year()) * 12LL + static_cast<unsigned>(ymd.month()) - 1;
}

}  // namespace

IntegrityReport check_series(const SeriesKey& key, std::span<const Candle> rows) {
  IntegrityReport r;
  r.key = key;
  r.candles = rows.size();
  if (rows.empty()) return r;
  const bool monthly = key.interval == Interval::mo1;
  const std::int64_t len = std::chrono::duration_cast<std::chrono::milliseconds>(interval_length(key.interval)).count();

  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Candle& c = rows[i];
    if (auto s = check_ohlc(c); !s) r.violations.push_back(OhlcViolation{c.open_time, s.error().message});
    if (!monthly && floor_ms(interval_floor(key.interval, Timestamp(c.open_time))) != c.open_time) r.misaligned.push_back(c.open_time);
    if (i > 0 && c.open_time < rows[i - 1].open_time) r.out_of_order.push_back(c.open_time);
  }

  std::vector<const Candle*> sorted;
  sorted.reserve(rows.size());
  for (const auto& c : rows) sorted.push_back(&c);
  std::stable_sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->open_time < b->open_time; });
  r.first = sorted.front()->open_time;
  r.last = sorted.back()->open_time;
  for (std::size_t i = 0; i < sorted.size();) {
    std::size_t j = i + 1;
    bool identical = true;
    while (j < sorted.size() && sorted[j]->open_time == sorted[i]->open_time) {
      identical = identical && *sorted[j] == *sorted[i];
      ++j;
    }
    if (j - i > 1) r.duplicates.push_back(DuplicateCandle{sorted[i]->open_time, j - i, identical});
    if (j < sorted.size()) {
      const TimestampMs a = sorted[i]->open_time;
      const TimestampMs b = sorted[j]->open_time;
      std::int64_t missing = 0;
      TimestampMs from{};
      if (monthly) {
        missing = month_index(b) - month_index(a) - 1;
        from = floor_ms(interval_next(key.interval, Timestamp(a)));
      } else {
        const std::int64_t diff = to_epoch_ms(b) - to_epoch_ms(a);
        missing = diff / len - 1;
        from = a + std::chrono::milliseconds(len);
      }
      if (missing > 0) {
        r.gaps.push_back(CandleGap{from, missing});
        r.missing += missing;
      }
    }
    i = j;
  }
  return r;
}

}  // namespace twinstar::store
