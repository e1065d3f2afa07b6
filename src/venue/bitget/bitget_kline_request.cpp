#include "venue/bitget/bitget_kline_request.hpp"

#include <fmt/format.h>

#include "core/json_writer.hpp"
#include "venue/common/query.hpp"

namespace twinstar::venue::bitget {

std::string_view inst_type(Market market) noexcept { return market == Market::spot ? "SPOT" : kProductType; }

Result<std::string> candle_channel(Interval interval) {
  // §4.2 lists no 3m or 2H channel, though the mix REST granularities have them.
  if (interval == Interval::m3 || interval == Interval::h2) {
    return make_error(ErrorCode::invalid_argument, "bitget has no {} candle channel", to_string(interval));
  }
  auto spelled = venue_interval(Exchange::bitget, Market::linear, interval);
  if (!spelled) return std::unexpected(spelled.error());
  return fmt::format("candle{}", *spelled);
}

bool served_by_recent_candles(Interval interval, TimestampMs from, TimestampMs now) noexcept {
  const auto lookback = interval_length(interval) <= Duration(std::chrono::minutes(30)) ? kRecentLookbackShort
                                                                                         : kRecentLookbackLong;
  return Timestamp(from) >= Timestamp(now) - lookback + kRecentLookbackMargin;
}

Result<KlineRequest> build_kline_request(Market market, const Symbol& symbol, Interval interval, TimestampMs from,
                                         TimestampMs to, TimestampMs now) {
  if (symbol.view().find_first_of("-_/") != std::string_view::npos) {
    return make_error(ErrorCode::invalid_argument, "bitget symbol \"{}\": v2 spells symbols without separators (BTCUSDT)",
                      symbol.view());
  }
  auto granularity = venue_interval(Exchange::bitget, market, interval);
  if (!granularity) return std::unexpected(granularity.error());
  const bool recent = served_by_recent_candles(interval, from, now);
  const int max_limit =
      recent ? (market == Market::spot ? kSpotCandlesMaxLimit : kMixCandlesMaxLimit) : kHistoryCandlesMaxLimit;
  const std::int64_t rows = count_opens(interval, from, to);
  if (rows < 1 || rows > max_limit) {
    return make_error(ErrorCode::invalid_argument, "bitget kline request for {} candles: must be 1 to {}", rows, max_limit);
  }
  if (Timestamp(to) - Timestamp(from) > Duration(kMaxWindowSpan)) {
    return make_error(ErrorCode::invalid_argument, "bitget kline request spans more than 90 days");
  }
  KlineRequest r;
  if (market == Market::spot) {
    r.path = std::string(recent ? kSpotCandlesPath : kSpotHistoryCandlesPath);
  } else {
    r.path = std::string(recent ? kMixCandlesPath : kMixHistoryCandlesPath);
  }
  detail::QueryBuilder q(r.query);
  q.add("symbol", symbol.view());
  if (market == Market::linear) q.add("productType", kProductType);
  q.add("granularity", *granularity);
  // Spot history-candles takes endTime (required) and limit, no startTime (§4.1): it returns the
  // `limit` rows before endTime, which is the window when limit = its row count.
  const bool end_only = market == Market::spot && !recent;
  if (!end_only) q.add("startTime", to_epoch_ms(from));
  q.add("endTime", to_epoch_ms(to) - 1);
  q.add("limit", rows);
  r.from = from;
  r.to = to;
  r.limit = static_cast<int>(rows);
  r.expected_rows = static_cast<int>(rows);
  r.keeps_newest = end_only;
  r.weight = 1;
  r.bucket = kBucketMarket;
  return r;
}

Result<std::vector<WsRequest>> build_subscribe_frames(Market market, SubscribeOp op, std::span<const KlineTopic> topics) {
  std::vector<std::string> args;
  args.reserve(topics.size());
  for (const auto& t : topics) {
    auto channel = candle_channel(t.interval);
    if (!channel) return std::unexpected(channel.error());
    JsonWriter w;
    w.begin_object().field("instType", inst_type(market)).field("channel", *channel).field("instId", t.symbol.view());
    w.end_object();
    args.push_back(w.take());
  }
  const std::string_view op_name = op == SubscribeOp::subscribe ? "subscribe" : "unsubscribe";
  constexpr std::size_t kFrameOverhead = 32;  // {"op":"unsubscribe","args":}
  return detail::batch_args(args, {.max_args = 0, .max_bytes = kSubscribeMaxBytes - kFrameOverhead}, 0, false,
                            [&](std::span<const std::string> batch, std::string_view) {
                              JsonWriter w;
                              w.begin_object().field("op", op_name).key("args").begin_array();
                              for (const auto& arg : batch) w.raw(arg);
                              w.end_array().end_object();
                              return w.take();
                            });
}

}  // namespace twinstar::venue::bitget
