#include "feed/feed_metrics.hpp"

namespace twinstar::feed {

observe::CollectorHandle register_feed_metrics(observe::MetricsRegistry& registry, const MarketFeed& feed) {
  return registry.add([&feed](observe::MetricSink& sink) {
    const auto s = feed.stats();
    const observe::Labels labels{{"exchange", std::string(to_string(feed.options().exchange))},
                                 {"market", std::string(to_string(feed.options().market))}};
    auto counter = [&](std::string_view name, std::string_view help, std::uint64_t v) {
      sink.counter(name, help, labels, static_cast<double>(v));
    };
    auto gauge = [&](std::string_view name, std::string_view help, std::uint64_t v) {
      sink.gauge(name, help, labels, static_cast<double>(v));
    };
    gauge("twinstar_feed_connections", "WebSocket connections open", s.connections_open);
    gauge("twinstar_feed_topics", "Kline topics subscribed on the venue", s.topics);
    gauge("twinstar_feed_queue_depth", "Candle events waiting for consumers", s.queue.depth);
    gauge("twinstar_feed_queue_max_depth", "Highest queue depth seen", s.queue.max_depth);
    counter("twinstar_feed_reconnects_total", "Connections lost after being open", s.reconnects);
    counter("twinstar_feed_frames_total", "WebSocket frames received", s.frames);
    counter("twinstar_feed_parse_errors_total", "Frames the venue codec rejected", s.parse_errors);
    counter("twinstar_feed_closed_candles_total", "Closed candles delivered, backfill included", s.closed_candles);
    counter("twinstar_feed_duplicates_total", "Closed candles seen again and dropped", s.duplicates);
    counter("twinstar_feed_gaps_total", "Gaps found (start, reconnects, lost pushes)", s.gaps);
    counter("twinstar_feed_gap_candles_filled_total", "Candles fetched over REST to fill gaps", s.gap_candles_filled);
    counter("twinstar_feed_venue_gap_candles_total", "Candles missing at the venue itself", s.venue_gap_candles);
    counter("twinstar_feed_backfill_requests_total", "REST requests made for backfill", s.backfill_requests);
    counter("twinstar_feed_queue_coalesced_total", "Open-candle updates merged in the queue", s.queue.coalesced);
    counter("twinstar_feed_queue_dropped_open_total", "Open-candle updates dropped while the queue was full",
            s.queue.dropped_open);
  });
}

}  // namespace twinstar::feed
