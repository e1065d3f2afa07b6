#include "feed/store_sink.hpp"

#include <spdlog/spdlog.h>

namespace twinstar::feed {

void StoreSink::on_candle(const SeriesKey& series, const Candle& candle) {
  auto r = store_.append(series, candle);
  if (!r) {
    errors_.fetch_add(1);
    spdlog::warn("store: {} {} {} at {}: {}", series.exchange, series.symbol, series.interval,
                 format_iso8601(candle.open_time), r.error().message);
    return;
  }
  if (*r == store::AppendOutcome::duplicate) {
    duplicates_.fetch_add(1);
  } else if (candle.closed) {
    appended_.fetch_add(1);
  }
}

LastStored last_stored_in(store::CandleStore& store) {
  return [&store](const SeriesKey& series) -> std::optional<TimestampMs> {
    auto gap = store.gap_to_now(series);
    if (!gap) return std::nullopt;
    return gap->last_stored;
  };
}

}  // namespace twinstar::feed
