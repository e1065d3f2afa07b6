#include "venue/common/kline_request.hpp"

#include <algorithm>

#include "venue/binance/binance_kline_request.hpp"
#include "venue/bitget/bitget_kline_request.hpp"
#include "venue/bybit/bybit_kline_request.hpp"
#include "venue/okx/okx_kline_request.hpp"

namespace twinstar::venue {

namespace {

std::int64_t interval_ms(Interval interval) noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(interval_length(interval)).count();
}

}  // namespace

TimestampMs first_open_at_or_after(Interval interval, TimestampMs from) noexcept {
  const Timestamp floor = interval_floor(interval, Timestamp(from));
  if (floor == Timestamp(from)) return from;
  return floor_ms(interval_next(interval, floor));
}

std::int64_t count_opens(Interval interval, TimestampMs from, TimestampMs to) noexcept {
  const TimestampMs first = first_open_at_or_after(interval, from);
  if (first >= to) return 0;
  if (is_fixed_length(interval)) {
    return (to_epoch_ms(to) - to_epoch_ms(first) - 1) / interval_ms(interval) + 1;
  }
  std::int64_t n = 0;
  for (Timestamp t{first}; t < Timestamp(to); t = interval_next(interval, t)) ++n;
  return n;
}

TimestampMs advance_opens(Interval interval, TimestampMs open, std::int64_t n) noexcept {
  if (is_fixed_length(interval)) return open + std::chrono::milliseconds(n * interval_ms(interval));
  Timestamp t{open};
  for (std::int64_t i = 0; i < n; ++i) t = interval_next(interval, t);
  return floor_ms(t);
}

Result<PageShape> kline_page_shape(const KlineQuery& query, TimestampMs from) {
  const Market market = query.series.market;
  switch (query.series.exchange) {
    case Exchange::bybit: return PageShape{bybit::kKlineMaxLimit, bybit::kKlineMaxLimit, std::nullopt};
    case Exchange::binance:
      if (market == Market::spot) {
        return PageShape{binance::kSpotKlineMaxLimit, binance::kSpotKlineMaxLimit, std::nullopt};
      }
      return PageShape{binance::kUsdmKlineMaxLimit, binance::kUsdmDefaultPageRows, std::nullopt};
    case Exchange::okx: {
      const bool recent = okx::served_by_recent_candles(query.series.interval, from, query.now);
      const int max = recent ? okx::kCandlesMaxLimit : okx::kHistoryCandlesMaxLimit;
      return PageShape{max, max, std::nullopt};
    }
    case Exchange::bitget: {
      const bool recent = bitget::served_by_recent_candles(query.series.interval, from, query.now);
      const int max = !recent ? bitget::kHistoryCandlesMaxLimit
                              : (market == Market::spot ? bitget::kSpotCandlesMaxLimit : bitget::kMixCandlesMaxLimit);
      return PageShape{max, max, Duration(bitget::kMaxWindowSpan)};
    }
  }
  return make_error(ErrorCode::invalid_argument, "unknown exchange");
}

Result<KlineRequest> build_kline_request(const KlineQuery& query, TimestampMs from, TimestampMs to) {
  const auto& s = query.series;
  switch (s.exchange) {
    case Exchange::bybit: return bybit::build_kline_request(s.market, s.symbol, s.interval, from, to);
    case Exchange::binance: return binance::build_kline_request(s.market, s.symbol, s.interval, from, to);
    case Exchange::okx: return okx::build_kline_request(s.market, s.symbol, s.interval, from, to, query.now);
    case Exchange::bitget: return bitget::build_kline_request(s.market, s.symbol, s.interval, from, to, query.now);
  }
  return make_error(ErrorCode::invalid_argument, "unknown exchange");
}

Result<KlinePager> KlinePager::create(const KlineQuery& query) {
  if (query.page_rows < 0) {
    return make_error(ErrorCode::invalid_argument, "page_rows must be 0 (venue default) or positive, got {}",
                      query.page_rows);
  }
  if (to_epoch_ms(query.from) < 0 || to_epoch_ms(query.to) > 4'102'444'800'000) {
    return make_error(ErrorCode::invalid_argument, "kline range must lie between 1970 and 2100");
  }
  KlinePager pager(query);
  pager.cursor_ = first_open_at_or_after(query.series.interval, query.from);
  pager.end_ = query.to;
  pager.total_rows_ = count_opens(query.series.interval, query.from, query.to);
  // Dry run of one candle: catches an interval or symbol the venue cannot spell, up front.
  const TimestampMs probe = pager.done() ? first_open_at_or_after(query.series.interval, query.from) : pager.cursor_;
  auto check = build_kline_request(query, probe, advance_opens(query.series.interval, probe, 1));
  if (!check) return std::unexpected(check.error());
  return pager;
}

Result<KlineRequest> KlinePager::next() {
  if (done()) return make_error(ErrorCode::invalid_argument, "kline pager: the range is already covered");
  auto shape = kline_page_shape(query_, cursor_);
  if (!shape) return std::unexpected(shape.error());
  std::int64_t rows = query_.page_rows > 0 ? std::min(query_.page_rows, shape->max_rows) : shape->default_rows;
  if (shape->max_span) {
    const auto per_span = *shape->max_span / interval_length(query_.series.interval);
    rows = std::min<std::int64_t>(rows, std::max<std::int64_t>(per_span, 1));
  }
  rows = std::min(rows, count_opens(query_.series.interval, cursor_, end_));
  const TimestampMs window_to = std::min(advance_opens(query_.series.interval, cursor_, rows), end_);
  auto request = request_for(cursor_, window_to);
  if (!request) return request;
  cursor_ = advance_opens(query_.series.interval, cursor_, rows);
  return request;
}

Result<KlineRequest> KlinePager::request_for(TimestampMs from, TimestampMs to) const {
  return build_kline_request(query_, from, to);
}

std::vector<KlineRequest> KlinePager::follow_ups(const KlineRequest& sent, std::span<const Candle> page) const {
  std::vector<KlineRequest> out;
  const Interval interval = query_.series.interval;
  std::int64_t in_window = 0;
  TimestampMs oldest = TimestampMs::max();
  TimestampMs newest = TimestampMs::min();
  for (const Candle& c : page) {
    if (c.open_time < sent.from || c.open_time >= sent.to) continue;
    ++in_window;
    oldest = std::min(oldest, c.open_time);
    newest = std::max(newest, c.open_time);
  }
  if (in_window == 0 || in_window >= sent.expected_rows) return out;
  // The side the venue drops when a window holds more rows than it returns comes first.
  auto add = [&](TimestampMs from, TimestampMs to) {
    if (count_opens(interval, from, to) == 0) return;
    if (auto r = request_for(first_open_at_or_after(interval, from), to)) out.push_back(std::move(*r));
  };
  const TimestampMs after_newest = floor_ms(interval_next(interval, Timestamp(newest)));
  if (sent.keeps_newest) {
    add(sent.from, oldest);
    add(after_newest, sent.to);
  } else {
    add(after_newest, sent.to);
    add(sent.from, oldest);
  }
  return out;
}

}  // namespace twinstar::venue
