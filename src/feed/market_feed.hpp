#pragma once
// The market feed: one venue's kline topics multiplexed over as few WebSocket connections as
// the venue allows, shared by every consumer, with reconnect, resubscribe, REST gap backfill and
// ordered fan-out. See docs/FEED.md.
//
// Threads: one per connection (owns its socket, codec, REST fetcher and per-series sequence
// state) and `dispatch_threads` dispatchers (each series always on the same one, so its
// candles arrive in order on one thread at a time). All are owned by MarketFeed; stop() (or the
// destructor) ends and joins them.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/candle.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "feed/candle_queue.hpp"
#include "feed/endpoints.hpp"
#include "feed/kline_fetcher.hpp"
#include "feed/subscriptions.hpp"
#include "ratelimit/limiter.hpp"

namespace twinstar::feed {

// Receives candles of the series it subscribed to. Thread: a dispatcher thread; one series is
// delivered on one thread at a time, in order (closed candles strictly ascending, no
// duplicates). Must not block for long (it holds up the series sharing its dispatcher) and
// must not call MarketFeed::stop().
class CandleConsumer {
 public:
  virtual ~CandleConsumer() = default;
  virtual void on_candle(const SeriesKey& series, const Candle& candle) = 0;
  // The venue refused the series' topic (an unknown or delisted symbol, a bad interval): no live
  // candles come until the next reconnect resubscribes it. Thread: the feed connection's thread,
  // not the dispatcher's, so it may run beside on_candle.
  virtual void on_refused(const SeriesKey& series, std::string_view reason) { (void)series, (void)reason; }
};

// Where a series' history ends: the open time of its newest stored closed candle, if any.
// Thread: called from connection threads.
using LastStored = std::function<std::optional<TimestampMs>(const SeriesKey&)>;

struct FeedOptions {
  Exchange exchange = Exchange::bybit;
  Market market = Market::linear;
  MarketEndpoints endpoints;
  std::string account = "public";       // the limiter account whose IP buckets REST calls use
  std::size_t queue_capacity = 8192;    // per dispatcher
  std::size_t dispatch_threads = 1;
  std::size_t max_topics_per_connection = 0;  // 0: the venue's limit (venue::ws_limits)
  Duration reconnect_min = std::chrono::milliseconds(500);
  Duration reconnect_max = std::chrono::seconds(30);
  Duration connect_spacing = std::chrono::milliseconds(250);  // pool-wide gap between connects
  Duration stale_after{};               // no frame for this long: reconnect. 0: 3 × ping interval (60 s min)
  Duration ping_interval{};             // 0: the venue's
  // A topic the venue refused is asked for again after refused_retry_min, doubling with each
  // refusal up to refused_retry_max (and at every reconnect). An unknown symbol costs one frame
  // per hour at most; a topic refused for a passing reason comes back without a restart.
  Duration refused_retry_min = std::chrono::minutes(5);
  Duration refused_retry_max = std::chrono::hours(1);
  bool backfill = true;                 // REST gap backfill at start and after reconnects
  LastStored last_stored;               // empty: backfill starts at the first live candle
  std::uint64_t seed = 1;               // jitter
  std::chrono::milliseconds read_slice{100};  // real time between housekeeping passes
  FetchOptions fetch;
};

struct FeedStats {
  std::uint64_t connections_open = 0;
  std::uint64_t connections_opened = 0;
  std::uint64_t connect_failures = 0;
  std::uint64_t reconnects = 0;          // connections lost after being open
  std::uint64_t topics = 0;              // series subscribed on the venue
  std::uint64_t subscribers = 0;         // consumer registrations (≥ topics when shared)
  std::uint64_t subscribe_frames = 0;
  std::uint64_t subscribe_errors = 0;
  std::uint64_t refused_retries = 0;     // refused topics asked for again (without a reconnect)
  std::uint64_t pings = 0;
  std::uint64_t frames = 0;
  std::uint64_t parse_errors = 0;
  std::uint64_t closed_candles = 0;      // delivered to the queues, backfill included
  std::uint64_t open_updates = 0;
  std::uint64_t duplicates = 0;          // closed candles seen again (dup pushes, REST overlap)
  std::uint64_t gaps = 0;                // gaps found (after reconnects, lost pushes, at start)
  std::uint64_t gap_candles_filled = 0;  // closed candles fetched over REST to fill them
  std::uint64_t venue_gap_candles = 0;   // candles missing at the venue itself
  std::uint64_t backfill_requests = 0;
  std::uint64_t backfill_errors = 0;
  QueueStats queue;                      // summed over dispatchers (depth, coalesced, dropped_open)
};

namespace detail {
class FeedConnection;
class Dispatcher;
struct FeedShared;
}  // namespace detail

class MarketFeed {
 public:
  // `registry` and `clock` must outlive the feed. Errors: invalid_argument for bad endpoints.
  static Result<std::unique_ptr<MarketFeed>> create(FeedOptions options, RateLimiterRegistry& registry, Clock& clock);
  ~MarketFeed();  // stop()
  MarketFeed(const MarketFeed&) = delete;
  MarketFeed& operator=(const MarketFeed&) = delete;

  // Registers `consumer` for (symbol, interval) of the feed's venue and market; the first
  // subscriber of a series subscribes its topic. Consumers see the venue's spelling of the
  // symbol (OKX: "BTC-USDT-SWAP" for "BTCUSDT"). Returns the registration id.
  // Thread: any. Errors: invalid_argument (interval or symbol the venue cannot serve).
  Result<std::uint64_t> subscribe(const Symbol& symbol, Interval interval, std::shared_ptr<CandleConsumer> consumer,
                                  bool want_open = false);
  // Removes one registration; the last one of a series unsubscribes its topic. Thread: any.
  void unsubscribe(std::uint64_t id);

  // Starts the connections and dispatchers. Thread: the owner. Errors: conflict if started twice.
  Status start();
  // Ends every connection and drains the queues to the consumers, then joins. Idempotent.
  void stop();

  FeedStats stats() const;
  const FeedOptions& options() const noexcept;

 private:
  explicit MarketFeed(FeedOptions options, RateLimiterRegistry& registry, Clock& clock);
  detail::FeedConnection& connection_for_new_topic();  // with mutex_ held

  std::unique_ptr<detail::FeedShared> shared_;
  mutable std::mutex mutex_;  // guards the members below
  struct Registration {
    SeriesKey series;
    std::shared_ptr<CandleConsumer> consumer;
    bool want_open = false;
  };
  std::map<std::uint64_t, Registration> registrations_;
  std::map<SeriesKey, detail::FeedConnection*> connection_by_series_;
  SubscriptionCounts counts_;
  std::vector<std::unique_ptr<detail::FeedConnection>> connections_;
  std::uint64_t next_id_ = 1;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace twinstar::feed
