#include "venue/bybit/bybit_kline_request.hpp"

#include <fmt/format.h>

#include "core/json_writer.hpp"
#include "venue/common/query.hpp"

namespace twinstar::venue::bybit {

std::string_view category(Market market) noexcept { return market == Market::spot ? "spot" : "linear"; }

Result<std::string> kline_topic(Interval interval, const Symbol& symbol) {
  auto spelled = venue_interval(Exchange::bybit, Market::linear, interval);
  if (!spelled) return std::unexpected(spelled.error());
  return fmt::format("kline.{}.{}", *spelled, symbol.view());
}

Result<KlineRequest> build_kline_request(Market market, const Symbol& symbol, Interval interval, TimestampMs from,
                                         TimestampMs to) {
  auto spelled = venue_interval(Exchange::bybit, market, interval);
  if (!spelled) return std::unexpected(spelled.error());
  const std::int64_t rows = count_opens(interval, from, to);
  if (rows < 1 || rows > kKlineMaxLimit) {
    return make_error(ErrorCode::invalid_argument, "bybit kline request for {} candles: must be 1 to {}", rows,
                      kKlineMaxLimit);
  }
  KlineRequest r;
  r.path = std::string(kKlinePath);
  detail::QueryBuilder q(r.query);
  q.add("category", category(market));
  q.add("symbol", symbol.view());
  q.add("interval", *spelled);
  // start/end are open-time bounds; end = to - 1 ms is right whether Bybit treats end as
  // inclusive or exclusive, since open times sit on the interval grid.
  q.add("start", to_epoch_ms(from));
  q.add("end", to_epoch_ms(to) - 1);
  q.add("limit", rows);
  r.from = from;
  r.to = to;
  r.limit = static_cast<int>(rows);
  r.expected_rows = static_cast<int>(rows);
  r.keeps_newest = true;
  r.weight = 1;
  r.bucket = kBucketIp;
  return r;
}

Result<std::vector<WsRequest>> build_subscribe_frames(Market market, SubscribeOp op, std::span<const KlineTopic> topics,
                                                      std::uint64_t first_request_id) {
  std::vector<std::string> args;
  args.reserve(topics.size());
  for (const auto& t : topics) {
    auto topic = kline_topic(t.interval, t.symbol);
    if (!topic) return std::unexpected(topic.error());
    std::string quoted;
    append_json_string(quoted, *topic);
    args.push_back(std::move(quoted));
  }
  const detail::ArgBatchLimits limits{
      .max_args = market == Market::spot ? kSpotArgsPerSubscribe : 0,
      // "under 21,000 characters": at most 20,999.
      .max_bytes = kArgsArrayMaxChars - 1,
  };
  const std::string_view op_name = op == SubscribeOp::subscribe ? "subscribe" : "unsubscribe";
  return detail::batch_args(args, limits, first_request_id, true,
                            [&](std::span<const std::string> batch, std::string_view id) {
                              JsonWriter w;
                              w.begin_object().field("req_id", id).field("op", op_name).key("args").begin_array();
                              for (const auto& arg : batch) w.raw(arg);
                              w.end_array().end_object();
                              return w.take();
                            });
}

std::string ping_frame(std::string_view request_id) {
  JsonWriter w;
  w.begin_object();
  if (!request_id.empty()) w.field("req_id", request_id);
  w.field("op", "ping").end_object();
  return w.take();
}

}  // namespace twinstar::venue::bybit
