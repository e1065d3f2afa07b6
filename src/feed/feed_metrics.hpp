#pragma once
// The feed's counters in the engine's metrics registry (scraped, not pushed: a scrape costs
// one MarketFeed::stats() call).

#include "feed/market_feed.hpp"
#include "observe/metrics.hpp"

namespace twinstar::feed {

// Registers twinstar_feed_* counters and gauges labelled {exchange, market}. `feed` must outlive
// the returned handle. Thread: any.
[[nodiscard]] observe::CollectorHandle register_feed_metrics(observe::MetricsRegistry& registry, const MarketFeed& feed);

}  // namespace twinstar::feed
