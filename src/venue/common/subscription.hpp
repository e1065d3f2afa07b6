#pragma once
// WebSocket kline subscriptions: the topic type, the frames that carry them, and each venue's
// per-message and per-connection limits, with where each number comes from.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/time.hpp"

namespace twinstar::venue {

// One kline topic on a connection of a known (exchange, market).
struct KlineTopic {
  Symbol symbol;
  Interval interval = Interval::m1;
  friend bool operator==(const KlineTopic&, const KlineTopic&) = default;
};

enum class SubscribeOp : std::uint8_t { subscribe, unsubscribe };

// One frame to send. The topics it carries are topics[first_topic, first_topic + topic_count)
// of the span passed to the builder, so an ack (matched by request_id where the venue echoes
// one) confirms exactly those.
struct WsRequest {
  std::string text;
  std::string request_id;  // empty when the venue's frame has no id (Bitget)
  std::size_t first_topic = 0;
  std::size_t topic_count = 0;
};

// Limits of one venue's public market-data WebSocket. Zero means "no documented limit".
struct WsLimits {
  std::size_t max_topics_per_connection = 0;
  std::size_t max_args_per_message = 0;
  std::size_t max_args_bytes = 0;            // bytes of the args/params array (or whole frame, see venue)
  int max_messages_per_second = 0;           // client-to-server messages, pings included
  int max_subscribe_ops_per_hour = 0;        // subscribe + unsubscribe (+ login) per connection
  Duration ping_interval{};                  // client heartbeat period; zero: the server pings
  Duration max_connection_lifetime{};        // the server closes connections this old
};

// The table in subscription.cpp cites the reference section of every number.
WsLimits ws_limits(Exchange exchange, Market market) noexcept;

namespace detail {

struct ArgBatchLimits {
  std::size_t max_args = 0;   // 0: no count limit
  std::size_t max_bytes = 0;  // 0: no size limit; counted over the args joined by ',' plus "[]"
};
// Renders one frame from a batch of pre-rendered JSON args and its request id.
using RenderFrame = std::function<std::string(std::span<const std::string> args, std::string_view request_id)>;

// Splits `args` into consecutive batches within `limits` and renders each; request ids count up
// from first_request_id (empty ids when with_ids is false).
// Errors: invalid_argument when one arg alone breaks the byte limit, or args is empty.
Result<std::vector<WsRequest>> batch_args(std::span<const std::string> args, ArgBatchLimits limits,
                                          std::uint64_t first_request_id, bool with_ids, const RenderFrame& render);

}  // namespace detail

}  // namespace twinstar::venue
