#include "venue/common/subscription.hpp"

#include "venue/binance/binance_kline_request.hpp"
#include "venue/bitget/bitget_kline_request.hpp"
#include "venue/bybit/bybit_kline_request.hpp"
#include "venue/okx/okx_kline_request.hpp"

namespace twinstar::venue {

WsLimits ws_limits(Exchange exchange, Market market) noexcept {
  WsLimits l;
  switch (exchange) {
    case Exchange::bybit:
      l.max_topics_per_connection = bybit::kMaxTopicsPerConnection;
      l.max_args_per_message = market == Market::spot ? bybit::kSpotArgsPerSubscribe : 0;
      l.max_args_bytes = bybit::kArgsArrayMaxChars - 1;
      l.ping_interval = bybit::kPingInterval;
      break;
    case Exchange::binance:
      l.max_topics_per_connection =
          market == Market::spot ? binance::kSpotMaxStreamsPerConnection : binance::kUsdmMaxStreamsPerConnection;
      l.max_args_per_message = binance::kParamsPerMessage;
      l.max_messages_per_second = market == Market::spot ? binance::kSpotMessagesPerSecond : binance::kUsdmMessagesPerSecond;
      l.max_connection_lifetime = binance::kConnectionLifetime;
      break;  // the server pings; the client answers (ping_interval stays zero)
    case Exchange::okx:
      l.max_topics_per_connection = okx::kMaxTopicsPerConnection;
      l.max_args_bytes = okx::kSubscribeMaxBytes;
      l.max_subscribe_ops_per_hour = okx::kSubscribeOpsPerHour;
      l.ping_interval = okx::kPingInterval;
      break;
    case Exchange::bitget:
      l.max_topics_per_connection = bitget::kMaxTopicsPerConnection;
      l.max_args_bytes = bitget::kSubscribeMaxBytes;
      l.max_messages_per_second = bitget::kMessagesPerSecond;
      l.max_subscribe_ops_per_hour = bitget::kSubscribeOpsPerHour;
      l.ping_interval = bitget::kPingInterval;
      l.max_connection_lifetime = bitget::kConnectionLifetime;
      break;
  }
  return l;
}

namespace detail {

Result<std::vector<WsRequest>> batch_args(std::span<const std::string> args, ArgBatchLimits limits,
                                          std::uint64_t first_request_id, bool with_ids, const RenderFrame& render) {
  if (args.empty()) return make_error(ErrorCode::invalid_argument, "no topics to (un)subscribe");
  std::vector<WsRequest> frames;
  std::uint64_t next_id = first_request_id;
  std::size_t begin = 0;
  while (begin < args.size()) {
    std::size_t bytes = 2;  // "[" and "]"
    std::size_t end = begin;
    while (end < args.size()) {
      if (limits.max_args != 0 && end - begin == limits.max_args) break;
      const std::size_t add = args[end].size() + (end > begin ? 1 : 0);
      if (limits.max_bytes != 0 && bytes + add > limits.max_bytes) break;
      bytes += add;
      ++end;
    }
    if (end == begin) {
      return make_error(ErrorCode::invalid_argument, "subscribe arg {} is {} bytes, over the {}-byte limit", args[begin],
                        args[begin].size(), limits.max_bytes);
    }
    WsRequest r;
    if (with_ids) r.request_id = std::to_string(next_id++);
    r.first_topic = begin;
    r.topic_count = end - begin;
    r.text = render(args.subspan(begin, end - begin), r.request_id);
    frames.push_back(std::move(r));
    begin = end;
  }
  return frames;
}

}  // namespace detail

}  // namespace twinstar::venue
