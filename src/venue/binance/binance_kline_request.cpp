#include "venue/binance/binance_kline_request.hpp"

#include "core/json_writer.hpp"
#include "venue/common/query.hpp"

namespace twinstar::venue::binance {

int usdm_kline_weight(int limit) noexcept {
  if (limit < 100) return 1;
  if (limit < 500) return 2;
  if (limit <= 1000) return 5;
  return 10;
}

Result<std::string> stream_name(Market market, Interval interval, const Symbol& symbol) {
  auto spelled = venue_interval(Exchange::binance, market, interval);
  if (!spelled) return std::unexpected(spelled.error());
  std::string name;
  name.reserve(symbol.view().size() + 7 + spelled->size());
  for (char c : symbol.view()) name += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  name += "@kline_";
  name += *spelled;
  return name;
}

Result<std::string> combined_stream_url(Market market, std::span<const KlineTopic> topics) {
  std::string url(market == Market::spot ? kSpotStreamBase : kUsdmStreamBase);
  url += "/stream?streams=";
  for (std::size_t i = 0; i < topics.size(); ++i) {
    auto name = stream_name(market, topics[i].interval, topics[i].symbol);
    if (!name) return std::unexpected(name.error());
    if (i) url += '/';
    url += *name;
  }
  return url;
}

Result<KlineRequest> build_kline_request(Market market, const Symbol& symbol, Interval interval, TimestampMs from,
                                         TimestampMs to) {
  auto spelled = venue_interval(Exchange::binance, market, interval);
  if (!spelled) return std::unexpected(spelled.error());
  const int max_limit = market == Market::spot ? kSpotKlineMaxLimit : kUsdmKlineMaxLimit;
  const std::int64_t rows = count_opens(interval, from, to);
  if (rows < 1 || rows > max_limit) {
    return make_error(ErrorCode::invalid_argument, "binance {} kline request for {} candles: must be 1 to {}",
                      to_string(market), rows, max_limit);
  }
  KlineRequest r;
  r.path = std::string(market == Market::spot ? kSpotKlinesPath : kUsdmKlinesPath);
  detail::QueryBuilder q(r.query);
  q.add("symbol", symbol.view());
  q.add("interval", *spelled);
  q.add("startTime", to_epoch_ms(from));
  q.add("endTime", to_epoch_ms(to) - 1);  // inclusive on Binance; the last open is at most to - 1 interval
  q.add("limit", rows);
  r.from = from;
  r.to = to;
  r.limit = static_cast<int>(rows);
  r.expected_rows = static_cast<int>(rows);
  r.keeps_newest = false;  // with startTime, Binance returns the oldest rows from that point (§2.1)
  r.weight = market == Market::spot ? kSpotKlineWeight : usdm_kline_weight(r.limit);
  r.bucket = market == Market::spot ? kBucketSpotWeight : kBucketUsdmWeight;
  return r;
}

Result<std::vector<WsRequest>> build_subscribe_frames(Market market, SubscribeOp op, std::span<const KlineTopic> topics,
                                                      std::uint64_t first_request_id) {
  std::vector<std::string> params;
  params.reserve(topics.size());
  for (const auto& t : topics) {
    auto name = stream_name(market, t.interval, t.symbol);
    if (!name) return std::unexpected(name.error());
    std::string quoted;
    append_json_string(quoted, *name);
    params.push_back(std::move(quoted));
  }
  const std::string_view method = op == SubscribeOp::subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE";
  return detail::batch_args(params, {.max_args = kParamsPerMessage, .max_bytes = 0}, first_request_id, true,
                            [&](std::span<const std::string> batch, std::string_view id) {
                              JsonWriter w;
                              w.begin_object().field("method", method).key("params").begin_array();
                              for (const auto& p : batch) w.raw(p);
                              // The id goes out as a JSON integer, as in the reference sample.
                              w.end_array().key("id").raw(id).end_object();
                              return w.take();
                            });
}

}  // namespace twinstar::venue::binance
