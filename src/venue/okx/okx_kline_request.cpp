#include "venue/okx/okx_kline_request.hpp"

#include <fmt/format.h>

#include "core/json_writer.hpp"
#include "venue/common/query.hpp"
#include "venue/okx/okx_kline_parser.hpp"

namespace twinstar::venue::okx {

Result<Symbol> inst_id(Market market, const Symbol& symbol) {
  const std::string_view text = symbol.view();
  if (text.find('-') != std::string_view::npos) {
    auto m = market_of_inst_id(text);
    if (!m) return make_error(ErrorCode::invalid_argument, "{}", m.error().message);
    if (*m != market) {
      return make_error(ErrorCode::invalid_argument, "okx instId \"{}\" is {}, not {}", text, to_string(*m),
                        to_string(market));
    }
    return symbol;
  }
  // Longest quote first, so BTCUSDT splits as BTC-USDT and not BTCUS-DT or BTCUSD-T.
  constexpr std::string_view kQuotes[] = {"USDT", "USDC", "USD", "EUR", "BTC", "ETH"};
  for (const auto quote : kQuotes) {
    if (text.size() > quote.size() && text.ends_with(quote)) {
      const std::string_view base = text.substr(0, text.size() - quote.size());
      return Symbol::parse(fmt::format("{}-{}{}", base, quote, market == Market::linear ? "-SWAP" : ""));
    }
  }
  return make_error(ErrorCode::invalid_argument,
                    "okx: cannot split \"{}\" into BASE-QUOTE (known quotes: USDT USDC USD EUR BTC ETH); give the "
                    "OKX instId, e.g. BTC-USDT",
                    text);
}

Result<std::string> candle_channel(Interval interval) {
  auto spelled = venue_interval(Exchange::okx, Market::linear, interval);
  if (!spelled) return std::unexpected(spelled.error());
  return fmt::format("candle{}", *spelled);
}

bool served_by_recent_candles(Interval interval, TimestampMs from, TimestampMs now) noexcept {
  const TimestampMs current = floor_ms(interval_floor(interval, Timestamp(now)));
  // The window's first open must be among the newest kRecentRows - margin candles.
  return count_opens(interval, from, current) < kRecentRows - kRecentRowsMargin;
}

Result<KlineRequest> build_kline_request(Market market, const Symbol& symbol, Interval interval, TimestampMs from,
                                         TimestampMs to, TimestampMs now) {
  auto id = inst_id(market, symbol);
  if (!id) return std::unexpected(id.error());
  auto bar = venue_interval(Exchange::okx, market, interval);
  if (!bar) return std::unexpected(bar.error());
  const bool recent = served_by_recent_candles(interval, from, now);
  // 1s candles exist only on history-candles (§3.1).
  const bool use_recent = recent && interval != Interval::s1;
  const int max_limit = use_recent ? kCandlesMaxLimit : kHistoryCandlesMaxLimit;
  const std::int64_t rows = count_opens(interval, from, to);
  if (rows < 1 || rows > max_limit) {
    return make_error(ErrorCode::invalid_argument, "okx kline request for {} candles: must be 1 to {}", rows, max_limit);
  }
  KlineRequest r;
  r.path = std::string(use_recent ? kCandlesPath : kHistoryCandlesPath);
  detail::QueryBuilder q(r.query);
  q.add("instId", id->view());
  q.add("bar", *bar);
  // after: rows older than ts; before: rows newer than ts. Off by one ms from the window edges
  // so the window is right whether OKX compares strictly or not.
  q.add("after", to_epoch_ms(to) - 1);
  q.add("before", to_epoch_ms(from) - 1);
  q.add("limit", rows);
  r.from = from;
  r.to = to;
  r.limit = static_cast<int>(rows);
  r.expected_rows = static_cast<int>(rows);
  r.keeps_newest = true;  // newest first, paging backwards
  r.weight = 1;
  r.bucket = use_recent ? kBucketCandles : kBucketHistoryCandles;
  return r;
}

Result<std::vector<WsRequest>> build_subscribe_frames(Market market, SubscribeOp op, std::span<const KlineTopic> topics,
                                                      std::uint64_t first_request_id) {
  std::vector<std::string> args;
  args.reserve(topics.size());
  for (const auto& t : topics) {
    auto channel = candle_channel(t.interval);
    if (!channel) return std::unexpected(channel.error());
    auto id = inst_id(market, t.symbol);
    if (!id) return std::unexpected(id.error());
    JsonWriter w;
    w.begin_object().field("channel", *channel).field("instId", id->view()).end_object();
    args.push_back(w.take());
  }
  const std::string_view op_name = op == SubscribeOp::subscribe ? "subscribe" : "unsubscribe";
  // Room for {"id":"<20 digits>","op":"unsubscribe","args":} around the args array.
  constexpr std::size_t kFrameOverhead = 64;
  return detail::batch_args(args, {.max_args = 0, .max_bytes = kSubscribeMaxBytes - kFrameOverhead}, first_request_id,
                            true, [&](std::span<const std::string> batch, std::string_view id) {
                              JsonWriter w;
                              w.begin_object().field("id", id).field("op", op_name).key("args").begin_array();
                              for (const auto& arg : batch) w.raw(arg);
                              w.end_array().end_object();
                              return w.take();
                            });
}

}  // namespace twinstar::venue::okx
