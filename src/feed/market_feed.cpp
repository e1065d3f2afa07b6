#include "feed/market_feed.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <condition_variable>
#include <random>
#include <set>
#include <shared_mutex>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "feed/venue_codec.hpp"
#include "net/ws_client.hpp"
#include "venue/common/kline_request.hpp"

namespace twinstar::feed {
namespace detail {

using namespace std::chrono_literals;

struct Counters {
  std::atomic<std::uint64_t> connections_open{0}, connections_opened{0}, connect_failures{0}, reconnects{0};
  std::atomic<std::uint64_t> subscribe_frames{0}, subscribe_errors{0}, refused_retries{0}, pings{0}, frames{0}, parse_errors{0};
  std::atomic<std::uint64_t> closed_candles{0}, open_updates{0}, duplicates{0}, gaps{0}, gap_candles_filled{0};
  std::atomic<std::uint64_t> venue_gap_candles{0}, backfill_requests{0}, backfill_errors{0};
};

struct ConsumerRef {
  std::uint64_t id = 0;
  std::shared_ptr<CandleConsumer> consumer;
  bool want_open = false;
};

// Fans one queue out to the consumers of its series. Thread: its own, owned by FeedShared.
class Dispatcher {
 public:
  Dispatcher(std::size_t capacity, FeedShared& shared) : queue_(capacity), shared_(shared) {}
  void start() { thread_ = std::thread([this] { run(); }); }
  void stop() {
    queue_.close();
    if (thread_.joinable()) thread_.join();
  }
  CandleQueue& queue() { return queue_; }

 private:
  void run();
  CandleQueue queue_;
  FeedShared& shared_;
  std::thread thread_;
};

// Pool-wide connect pacing, so a pool that lost every connection at once reconnects one by one.
class ConnectGate {
 public:
  ConnectGate(Clock& clock, Duration spacing) : clock_(clock), spacing_(spacing) {}
  // Returns false when stopped while waiting.
  bool wait_turn(std::stop_token stop) {
    Timestamp slot;
    {
      std::lock_guard lock(mutex_);
      slot = std::max(clock_.now(), next_);
      next_ = slot + spacing_;
    }
    return clock_.sleep_until(slot, stop);
  }

 private:
  Clock& clock_;
  Duration spacing_;
  std::mutex mutex_;
  Timestamp next_{};  // guarded by mutex_
};

struct FeedShared {
  FeedShared(FeedOptions o, RateLimiterRegistry& r, Clock& c)
      : options(std::move(o)), registry(r), clock(c), gate(c, options.connect_spacing) {}

  std::size_t dispatcher_of(const SeriesKey& k) const { return std::hash<SeriesKey>{}(k) % dispatchers.size(); }
  void deliver(const SeriesKey& series, const Candle& c, bool from_backfill) {
    (c.closed ? counters.closed_candles : counters.open_updates).fetch_add(1, std::memory_order_relaxed);
    dispatchers[dispatcher_of(series)]->queue().push(CandleEvent{series, c, from_backfill});
  }

  FeedOptions options;
  RateLimiterRegistry& registry;
  Clock& clock;
  ConnectGate gate;
  std::shared_ptr<VenueLimiter> rest_limiter;
  Counters counters;
  std::vector<std::unique_ptr<Dispatcher>> dispatchers;
  mutable std::shared_mutex consumers_mutex;  // guards consumers_by_series
  std::unordered_map<SeriesKey, std::vector<ConsumerRef>> consumers_by_series;
};

void Dispatcher::run() {
  std::vector<CandleEvent> batch;
  std::vector<ConsumerRef> targets;
  while (true) {
    batch.clear();
    if (!queue_.pop_batch(batch, 256)) return;
    for (const auto& e : batch) {
      targets.clear();
      {
        std::shared_lock lock(shared_.consumers_mutex);
        auto it = shared_.consumers_by_series.find(e.series);
        if (it != shared_.consumers_by_series.end()) targets = it->second;
      }
      for (const auto& t : targets) {
        if (e.candle.closed || t.want_open) t.consumer->on_candle(e.series, e.candle);
      }
    }
  }
}

// One WebSocket connection and the topics assigned to it. Thread: its own; add/remove/wake from any.
class FeedConnection {
 public:
  FeedConnection(FeedShared& shared, std::size_t index) : shared_(shared), index_(index) {}
  ~FeedConnection() { stop(); }

  std::size_t desired_count() const {
    std::lock_guard lock(mutex_);
    return desired_.size();
  }
  void add(const SeriesKey& s) {
    {
      std::lock_guard lock(mutex_);
      desired_.insert(s);
      backfill_pending_.insert(s);  // a series added while connected backfills from the store too
      dirty_ = true;
    }
    wake();
  }
  void remove(const SeriesKey& s) {
    {
      std::lock_guard lock(mutex_);
      desired_.erase(s);
      dirty_ = true;
    }
    wake();
  }
  void start() { thread_ = std::jthread([this](std::stop_token st) { run(st); }); }
  void stop() {
    if (!thread_.joinable()) return;
    thread_.request_stop();
    wake();
    thread_.join();
  }
  std::size_t confirmed_topics() const { return confirmed_count_.load(); }

 private:
  void wake() {
    std::lock_guard lock(ws_mutex_);
    if (ws_) ws_->wake();
  }
  void run(std::stop_token stop);
  bool connect(std::stop_token stop);
  void sync_topics(std::stop_token stop);
  void send_paced(const std::string& text, std::stop_token stop);
  void backfill_all(std::stop_token stop);
  void on_message(std::string_view text, std::stop_token stop);
  void emit(const SeriesKey& series, const Candle& c, std::stop_token stop);
  // Fills [from, to) over REST and emits it; returns the candles delivered, or nullopt when
  // the REST calls failed (what was delivered stays delivered).
  std::optional<std::int64_t> fill(const SeriesKey& series, TimestampMs from, TimestampMs to, std::stop_token stop);
  void drop_connection(bool lost);

  FeedShared& shared_;
  std::size_t index_;
  mutable std::mutex mutex_;          // guards desired_, dirty_ and backfill_pending_
  std::set<SeriesKey> desired_;
  bool dirty_ = false;
  std::mutex ws_mutex_;               // guards the ws_ pointer (wake() from other threads)
  std::unique_ptr<net::WsClient> ws_;  // written by the connection thread under ws_mutex_
  std::atomic<std::size_t> confirmed_count_{0};
  std::jthread thread_;

  // Connection thread only:
  std::unique_ptr<VenueCodec> codec_;
  std::unique_ptr<KlineFetcher> fetcher_;
  std::shared_ptr<VenueLimiter> conn_limiter_;
  std::optional<Cost> message_cost_;
  std::set<SeriesKey> subscribed_;  // sent (acked or not) on this connection
  std::map<std::string, std::vector<SeriesKey>> pending_by_request_;  // subscribe frames not yet acked
  struct Refusal {
    Timestamp retry_at{};  // not asked for again before (engine clock)
    int count = 0;         // refusals on this connection
  };
  std::map<SeriesKey, Refusal> refused_;  // the venue refused them on this connection (until an ack or a reconnect)
  bool held_back(const SeriesKey& k, Timestamp now) const {
    auto it = refused_.find(k);
    return it != refused_.end() && now < it->second.retry_at;
  }
  bool retry_due(Timestamp now) const {
    for (const auto& [k, r] : refused_) {
      if (now >= r.retry_at && !subscribed_.contains(k)) return true;
    }
    return false;
  }
  std::deque<Timestamp> ops_sent_;  // (un)subscribe frames in the last hour (OKX 480 / h, Bitget 240 / h)
  std::map<SeriesKey, TimestampMs> next_open_;  // next closed candle expected, per series
  std::set<SeriesKey> backfill_pending_;  // guarded by mutex_ (add() inserts from other threads)
  std::uint64_t next_request_id_ = 1;
  Timestamp last_frame_{};
  Timestamp connected_at_{};
  Timestamp last_ping_{};
  Timestamp last_send_{};
  venue::KlineFrame frame_;
  std::mt19937_64 rng_;
  int failures_ = 0;
};

bool FeedConnection::connect(std::stop_token stop) {
  const auto& o = shared_.options;
  if (failures_ > 0) {
    // Exponential backoff with jitter in [d/2, d], so a pool that lost its connections together
    // spreads out; the gate then keeps the connects apart.
    const double factor = std::pow(2.0, std::min(failures_ - 1, 20));
    const auto d = std::min<Duration>(std::chrono::duration_cast<Duration>(o.reconnect_min * factor), o.reconnect_max);
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    const auto wait = std::chrono::duration_cast<Duration>(d * jitter(rng_));
    if (!shared_.clock.sleep_for(wait, stop)) return false;
  }
  if (!shared_.gate.wait_turn(stop)) return false;
  if (auto ws_connect = shared_.rest_limiter->endpoint_cost("ws_connect")) {
    if (!shared_.rest_limiter->acquire_for(*ws_connect, Priority::market_data, std::chrono::minutes(5), stop)) return false;
  }
  auto c = net::WsClient::connect(o.endpoints.ws_url);
  if (!c) {
    ++failures_;
    shared_.counters.connect_failures.fetch_add(1);
    spdlog::warn("feed {} #{}: {}", o.exchange, index_, c.error().message);
    return false;
  }
  {
    std::lock_guard lock(ws_mutex_);
    ws_ = std::move(*c);
  }
  shared_.counters.connections_opened.fetch_add(1);
  shared_.counters.connections_open.fetch_add(1);
  last_frame_ = last_ping_ = connected_at_ = shared_.clock.now();
  subscribed_.clear();
  pending_by_request_.clear();
  refused_.clear();
  ops_sent_.clear();  // the budget is per connection
  confirmed_count_ = 0;
  {
    std::lock_guard lock(mutex_);
    dirty_ = true;
    backfill_pending_.insert(desired_.begin(), desired_.end());
  }
  return true;
}

void FeedConnection::drop_connection(bool lost) {
  std::unique_ptr<net::WsClient> old;
  {
    std::lock_guard lock(ws_mutex_);
    old = std::move(ws_);
  }
  if (!old) return;
  shared_.counters.connections_open.fetch_sub(1);
  if (lost) {
    shared_.counters.reconnects.fetch_add(1);
    ++failures_;
  } else {
    old->close();
  }
  subscribed_.clear();
  confirmed_count_ = 0;
}

void FeedConnection::send_paced(const std::string& text, std::stop_token stop) {
  if (message_cost_) {
    (void)conn_limiter_->acquire_for(*message_cost_, Priority::market_data, std::chrono::minutes(1), stop);
  } else {
    // The venue publishes no message rate for this stream: keep frames ≥ 100 ms apart anyway.
    const auto next = last_send_ + 100ms;
    if (shared_.clock.now() < next) shared_.clock.sleep_until(next, stop);
  }
  last_send_ = shared_.clock.now();
  if (ws_) {
    if (auto st = ws_->send(text); !st) spdlog::warn("feed {} #{}: {}", shared_.options.exchange, index_, st.error().message);
  }
}

void FeedConnection::sync_topics(std::stop_token stop) {
  std::set<SeriesKey> want;
  {
    std::lock_guard lock(mutex_);
    if (!dirty_) return;
    dirty_ = false;
    want = desired_;
  }
  std::vector<venue::KlineTopic> add, drop;
  std::vector<SeriesKey> add_keys;
  const Timestamp now = shared_.clock.now();
  std::erase_if(refused_, [&](const auto& r) { return !want.contains(r.first); });
  for (const auto& s : want) {
    if (!subscribed_.contains(s) && !held_back(s, now)) {
      add.push_back({s.symbol, s.interval});
      add_keys.push_back(s);
      if (refused_.contains(s)) {  // asked for again: if it works now, its gap is filled as at a start
        shared_.counters.refused_retries.fetch_add(1);
        std::lock_guard lock(mutex_);
        backfill_pending_.insert(s);
      }
    }
  }
  std::vector<SeriesKey> drop_keys;
  for (const auto& s : subscribed_) {
    if (!want.contains(s)) {
      drop.push_back({s.symbol, s.interval});
      drop_keys.push_back(s);
    }
  }
  for (auto [op, topics] : {std::pair{venue::SubscribeOp::unsubscribe, &drop}, std::pair{venue::SubscribeOp::subscribe, &add}}) {
    if (topics->empty()) continue;
    auto frames = codec_->subscribe_frames(op, *topics, next_request_id_);
    if (!frames) {
      spdlog::error("feed {} #{}: cannot build subscribe frames: {}", shared_.options.exchange, index_, frames.error().message);
      shared_.counters.subscribe_errors.fetch_add(1);
      continue;
    }
    next_request_id_ += frames->size();
    const auto& keys = op == venue::SubscribeOp::subscribe ? add_keys : drop_keys;
    for (const auto& f : *frames) {
      if (op == venue::SubscribeOp::subscribe && !f.request_id.empty()) {
        auto& pending = pending_by_request_[f.request_id];
        for (std::size_t i = f.first_topic; i < f.first_topic + f.topic_count && i < keys.size(); ++i) pending.push_back(keys[i]);
      }
      // The venue's per-connection budget of subscribe operations per hour: wait for the oldest
      // to age out rather than get the connection closed.
      if (const auto budget = static_cast<std::size_t>(codec_->limits().max_subscribe_ops_per_hour); budget > 0) {
        while (!ops_sent_.empty() && shared_.clock.now() - ops_sent_.front() >= std::chrono::hours(1)) ops_sent_.pop_front();
        if (ops_sent_.size() >= budget && !shared_.clock.sleep_until(ops_sent_.front() + std::chrono::hours(1), stop)) return;
        ops_sent_.push_back(shared_.clock.now());
      }
      send_paced(f.text, stop);
      shared_.counters.subscribe_frames.fetch_add(1);
    }
  }
  for (const auto& k : drop_keys) {
    subscribed_.erase(k);
    next_open_.erase(k);
    codec_->forget(k);
  }
  for (const auto& k : add_keys) subscribed_.insert(k);
  confirmed_count_ = subscribed_.size();
}

std::optional<std::int64_t> FeedConnection::fill(const SeriesKey& series, TimestampMs from, TimestampMs to,
                                                 std::stop_token stop) {
  if (!shared_.options.backfill || !fetcher_ || to <= from) return 0;
  const auto before = fetcher_->stats().requests;
  std::int64_t delivered = 0;
  auto n = fetcher_->fetch(series, from, to, [&](std::span<const Candle> candles) -> Status {
    for (const auto& c : candles) {
      shared_.deliver(series, c, true);
      next_open_[series] = floor_ms(interval_next(series.interval, Timestamp(c.open_time)));
      ++delivered;
    }
    return {};
  }, stop);
  shared_.counters.backfill_requests.fetch_add(fetcher_->stats().requests - before);
  if (!n) {
    shared_.counters.backfill_errors.fetch_add(1);
    spdlog::warn("feed: backfill of {} {} [{}, {}) failed: {}", series.symbol, series.interval, format_iso8601(from),
                 format_iso8601(to), n.error().message);
  }
  shared_.counters.gap_candles_filled.fetch_add(static_cast<std::uint64_t>(delivered));
  if (!n) return std::nullopt;
  return delivered;
}

void FeedConnection::emit(const SeriesKey& series, const Candle& c, std::stop_token stop) {
  auto it = next_open_.find(series);
  if (!c.closed) {
    if (it == next_open_.end() || c.open_time >= it->second) shared_.deliver(series, c, false);
    return;
  }
  if (it != next_open_.end()) {
    if (c.open_time < it->second) {
      shared_.counters.duplicates.fetch_add(1);
      return;
    }
    if (c.open_time > it->second) {
      // A closed candle we did not see: fetch the ones before it first, so consumers stay in order.
      shared_.counters.gaps.fetch_add(1);
      const auto from = it->second;
      const auto expected = venue::count_opens(series.interval, from, c.open_time);
      const auto got = fill(series, from, c.open_time, stop);
      if (!got) {
        // REST is failing: delivering this close would leave the gap for good. Reconnect
        // instead; the backfill after it retries from the last candle delivered.
        spdlog::warn("feed {} #{}: gap in {} {} not filled, reconnecting to retry", shared_.options.exchange, index_,
                     series.symbol, series.interval);
        drop_connection(true);
        return;
      }
      if (*got < expected) shared_.counters.venue_gap_candles.fetch_add(static_cast<std::uint64_t>(expected - *got));
    }
  }
  shared_.deliver(series, c, false);
  next_open_[series] = floor_ms(interval_next(series.interval, Timestamp(c.open_time)));
}

void FeedConnection::backfill_all(std::stop_token stop) {
  std::set<SeriesKey> todo;
  {
    std::lock_guard lock(mutex_);
    todo.swap(backfill_pending_);
  }
  std::vector<SeriesKey> not_yet;  // added after this pass subscribed: next pass
  for (const auto& series : todo) {
    if (stop.stop_requested()) return;
    if (!subscribed_.contains(series)) {
      not_yet.push_back(series);
      continue;
    }
    auto it = next_open_.find(series);
    if (it == next_open_.end() && shared_.options.last_stored) {
      if (auto last = shared_.options.last_stored(series)) {
        it = next_open_.emplace(series, floor_ms(interval_next(series.interval, Timestamp(*last)))).first;
      }
    }
    if (it == next_open_.end()) continue;
    // Everything up to the candle forming now; the live stream carries on from there.
    const auto now_open = floor_ms(interval_floor(series.interval, shared_.clock.now()));
    if (it->second >= now_open) continue;
    shared_.counters.gaps.fetch_add(1);
    const auto from = it->second;
    const auto expected = venue::count_opens(series.interval, from, now_open);
    std::int64_t got = 0;
    TimestampMs last{};
    const auto requests_before = fetcher_ ? fetcher_->stats().requests : 0;
    auto n = fetcher_ ? fetcher_->fetch(series, from, now_open, [&](std::span<const Candle> candles) -> Status {
      for (const auto& c : candles) {
        shared_.deliver(series, c, true);
        last = c.open_time;
        ++got;
      }
      return {};
    }, stop) : Result<std::int64_t>(0);
    shared_.counters.backfill_requests.fetch_add(fetcher_ ? fetcher_->stats().requests - requests_before : 0);
    shared_.counters.gap_candles_filled.fetch_add(static_cast<std::uint64_t>(got));
    if (!n) {
      shared_.counters.backfill_errors.fetch_add(1);
      spdlog::warn("feed: backfill of {} {} failed: {}", series.symbol, series.interval, n.error().message);
    }
    if (got > 0) next_open_[series] = floor_ms(interval_next(series.interval, Timestamp(last)));
    if (n && got < expected) {
      shared_.counters.venue_gap_candles.fetch_add(static_cast<std::uint64_t>(expected - got));
      next_open_[series] = now_open;  // the venue has nothing more before now: do not ask again
    }
  }
  if (!not_yet.empty()) {
    std::lock_guard lock(mutex_);
    for (const auto& k : not_yet) {
      if (desired_.contains(k) && !refused_.contains(k)) backfill_pending_.insert(k);
    }
  }
}

void FeedConnection::on_message(std::string_view text, std::stop_token stop) {
  shared_.counters.frames.fetch_add(1, std::memory_order_relaxed);
  last_frame_ = shared_.clock.now();
  if (auto st = codec_->parse(text, frame_); !st) {
    shared_.counters.parse_errors.fetch_add(1);
    spdlog::debug("feed {} #{}: {}", shared_.options.exchange, index_, st.error().message);
    return;
  }
  switch (frame_.kind) {
    case venue::FrameKind::kline: {
      if (!subscribed_.contains(frame_.series)) return;  // a late push after unsubscribe
      for (const auto& c : frame_.candles) {
        emit(frame_.series, c, stop);
        if (!ws_) break;  // the gap could not be filled: the connection was dropped to retry
      }
      break;
    }
    case venue::FrameKind::subscribe_ack:
      if (auto it = pending_by_request_.find(frame_.request_id); it != pending_by_request_.end()) {
        auto& keys = it->second;
        if (frame_.has_series) {
          // OKX acknowledges each channel of a frame on its own, under the frame's id: only this
          // one is live; the frame's others may still be refused.
          if (auto k = std::find(keys.begin(), keys.end(), frame_.series); k != keys.end()) {
            refused_.erase(*k);  // a retried topic that is live now
            keys.erase(k);
          }
        } else {
          for (const auto& k : keys) refused_.erase(k);  // a retried topic that is live now
          keys.clear();
        }
        if (keys.empty()) pending_by_request_.erase(it);
      }
      break;
    case venue::FrameKind::request_error: {
      shared_.counters.subscribe_errors.fetch_add(1);
      // The topics of the refused frame (the one the error names, else all of the frame its id
      // matches) are not live: forget them here and ask again only after a backoff (or at a
      // reconnect).
      std::vector<SeriesKey> refused;
      auto it = frame_.request_id.empty() ? pending_by_request_.end() : pending_by_request_.find(frame_.request_id);
      if (frame_.has_series) {
        refused.push_back(frame_.series);
        if (it != pending_by_request_.end()) {
          std::erase(it->second, frame_.series);
          if (it->second.empty()) pending_by_request_.erase(it);
        }
      } else if (it != pending_by_request_.end()) {
        refused = std::move(it->second);
        pending_by_request_.erase(it);
      }
      Duration backoff{};
      for (const auto& k : refused) {
        subscribed_.erase(k);
        Refusal& r = refused_[k];
        ++r.count;
        const double factor = std::pow(2.0, std::min(r.count - 1, 20));
        // At least a second, whatever the options say: never a subscribe loop.
        backoff = std::max<Duration>(std::min<Duration>(std::chrono::duration_cast<Duration>(shared_.options.refused_retry_min * factor),
                                                        shared_.options.refused_retry_max),
                                     std::chrono::seconds(1));
        r.retry_at = shared_.clock.now() + backoff;
      }
      confirmed_count_ = subscribed_.size();
      spdlog::error("feed {} #{}: venue refused request {} ({} topics): {} {} (asked again in {})", shared_.options.exchange, index_,
                    frame_.request_id, refused.size(), frame_.code, frame_.message, format_duration(backoff));
      const std::string reason = fmt::format("{} {}", frame_.code, frame_.message);
      for (const auto& k : refused) {
        std::vector<ConsumerRef> targets;
        {
          std::shared_lock lock(shared_.consumers_mutex);
          if (auto it = shared_.consumers_by_series.find(k); it != shared_.consumers_by_series.end()) targets = it->second;
        }
        for (const auto& t : targets) t.consumer->on_refused(k, reason);
      }
      break;
    }
    case venue::FrameKind::server_shutdown:
      spdlog::info("feed {} #{}: server shutdown notice, reconnecting", shared_.options.exchange, index_);
      drop_connection(true);
      failures_ = 0;
      break;
    default: break;
  }
}

void FeedConnection::run(std::stop_token stop) {
  const auto& o = shared_.options;
  rng_.seed(o.seed * 1'000'003 + index_);
  codec_ = std::move(*VenueCodec::create(o.exchange, o.market));
  auto fetcher = KlineFetcher::create(o.exchange, o.market, o.endpoints.rest_url, shared_.rest_limiter, shared_.clock, o.fetch);
  if (fetcher) {
    fetcher_ = std::move(*fetcher);
  } else {
    spdlog::error("feed {}: no REST backfill: {}", o.exchange, fetcher.error().message);
  }
  if (auto cl = shared_.registry.connection_limiter(o.exchange, o.market, fmt::format("feed-{}", index_))) {
    conn_limiter_ = *cl;
    if (auto b = conn_limiter_->bucket("ws_messages")) {
      if (auto cost = conn_limiter_->cost(*b, 1)) message_cost_ = *cost;
    }
  }
  const auto limits = codec_->limits();
  const Duration ping_every = o.ping_interval != Duration{} ? o.ping_interval : limits.ping_interval;
  const Duration stale = o.stale_after != Duration{} ? o.stale_after
                                                     : std::max<Duration>(3 * ping_every, std::chrono::seconds(60));
  const std::string ping = codec_->ping_text();
  const Duration lifetime = limits.max_connection_lifetime != Duration{}
                                ? limits.max_connection_lifetime - std::chrono::minutes(10)
                                : Duration{};

  while (!stop.stop_requested()) {
    if (!ws_) {
      if (!connect(stop)) continue;
    }
    if (!refused_.empty() && retry_due(shared_.clock.now())) {
      std::lock_guard lock(mutex_);
      dirty_ = true;
    }
    sync_topics(stop);
    backfill_all(stop);
    const auto now = shared_.clock.now();
    if (ping_every != Duration{} && !ping.empty() && now - last_ping_ >= ping_every) {
      send_paced(ping, stop);
      last_ping_ = shared_.clock.now();
      shared_.counters.pings.fetch_add(1);
    }
    // Venues close connections at a fixed age (Binance, Bitget: 24 h): leave a little before,
    // on our terms; the new connection resubscribes and backfills like any other.
    if (lifetime != Duration{} && ws_ && now - connected_at_ >= lifetime) {
      spdlog::info("feed {} #{}: connection is {} old, replacing it", o.exchange, index_, format_duration(lifetime));
      drop_connection(false);
    }
    if (!ws_) continue;
    auto m = ws_->read(o.read_slice);
    if (m) {
      on_message(*m, stop);
      if (failures_ > 0 && ws_) failures_ = 0;  // a live frame: the connection works again
      continue;
    }
    if (m.error().code == ErrorCode::timeout) {
      if (shared_.clock.now() - last_frame_ > stale) {
        spdlog::warn("feed {} #{}: no frame for {}, reconnecting", o.exchange, index_, format_duration(stale));
        drop_connection(true);
      }
      continue;
    }
    if (m.error().code == ErrorCode::cancelled) continue;
    if (!stop.stop_requested()) spdlog::warn("feed {} #{}: {}", o.exchange, index_, m.error().message);
    drop_connection(true);
  }
  drop_connection(false);
}

}  // namespace detail

MarketFeed::MarketFeed(FeedOptions options, RateLimiterRegistry& registry, Clock& clock)
    : shared_(std::make_unique<detail::FeedShared>(std::move(options), registry, clock)) {}

MarketFeed::~MarketFeed() { stop(); }

Result<std::unique_ptr<MarketFeed>> MarketFeed::create(FeedOptions options, RateLimiterRegistry& registry, Clock& clock) {
  if (options.endpoints.ws_url.empty() || options.endpoints.rest_url.empty()) {
    auto d = default_endpoints(options.exchange, options.market);
    if (!d) return std::unexpected(d.error());
    if (options.endpoints.ws_url.empty()) options.endpoints.ws_url = d->ws_url;
    if (options.endpoints.rest_url.empty()) options.endpoints.rest_url = d->rest_url;
  }
  if (auto u = net::parse_url(options.endpoints.ws_url); !u) return std::unexpected(u.error());
  if (auto u = net::parse_url(options.endpoints.rest_url); !u) return std::unexpected(u.error());
  auto limiter = registry.limiter(options.exchange, options.account, options.market);
  if (!limiter) return std::unexpected(limiter.error());
  options.dispatch_threads = std::max<std::size_t>(options.dispatch_threads, 1);
  std::unique_ptr<MarketFeed> feed(new MarketFeed(std::move(options), registry, clock));
  feed->shared_->rest_limiter = *limiter;
  for (std::size_t i = 0; i < feed->shared_->options.dispatch_threads; ++i) {
    feed->shared_->dispatchers.push_back(
        std::make_unique<detail::Dispatcher>(feed->shared_->options.queue_capacity, *feed->shared_));
  }
  return feed;
}

const FeedOptions& MarketFeed::options() const noexcept { return shared_->options; }

detail::FeedConnection& MarketFeed::connection_for_new_topic() {
  std::size_t max = shared_->options.max_topics_per_connection;
  const auto venue_max = venue::ws_limits(shared_->options.exchange, shared_->options.market).max_topics_per_connection;
  if (max == 0 || (venue_max != 0 && max > venue_max)) max = venue_max;
  for (auto& c : connections_) {
    if (max == 0 || c->desired_count() < max) return *c;
  }
  connections_.push_back(std::make_unique<detail::FeedConnection>(*shared_, connections_.size()));
  if (started_ && !stopped_) connections_.back()->start();
  return *connections_.back();
}

Result<std::uint64_t> MarketFeed::subscribe(const Symbol& symbol, Interval interval,
                                            std::shared_ptr<CandleConsumer> consumer, bool want_open) {
  const auto& o = shared_->options;
  if (!consumer) return make_error(ErrorCode::invalid_argument, "subscribe {} {}: no consumer", symbol, interval);
  if (auto v = venue_interval(o.exchange, o.market, interval); !v) {
    return make_error(ErrorCode::invalid_argument, "subscribe {} {}: {} {} has no such interval", symbol, interval,
                      o.exchange, o.market);
  }
  auto spelled = venue_symbol(o.exchange, o.market, symbol);
  if (!spelled) return make_error(ErrorCode::invalid_argument, "subscribe {} on {}: {}", symbol, o.exchange, spelled.error().message);
  const SeriesKey series{o.exchange, o.market, *spelled, interval};
  std::lock_guard lock(mutex_);
  const std::uint64_t id = next_id_++;
  registrations_[id] = Registration{series, consumer, want_open};
  {
    std::unique_lock w(shared_->consumers_mutex);
    shared_->consumers_by_series[series].push_back(detail::ConsumerRef{id, std::move(consumer), want_open});
  }
  if (counts_.add(series)) {
    auto& conn = connection_for_new_topic();
    connection_by_series_[series] = &conn;
    conn.add(series);
  }
  return id;
}

void MarketFeed::unsubscribe(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  auto it = registrations_.find(id);
  if (it == registrations_.end()) return;
  const SeriesKey series = it->second.series;
  registrations_.erase(it);
  {
    std::unique_lock w(shared_->consumers_mutex);
    auto& refs = shared_->consumers_by_series[series];
    std::erase_if(refs, [&](const detail::ConsumerRef& r) { return r.id == id; });
    if (refs.empty()) shared_->consumers_by_series.erase(series);
  }
  if (counts_.remove(series)) {
    if (auto c = connection_by_series_.find(series); c != connection_by_series_.end()) {
      c->second->remove(series);
      connection_by_series_.erase(c);
    }
  }
}

Status MarketFeed::start() {
  std::lock_guard lock(mutex_);
  if (started_) return make_error(ErrorCode::conflict, "market feed {} already started", shared_->options.exchange);
  started_ = true;
  for (auto& d : shared_->dispatchers) d->start();
  for (auto& c : connections_) c->start();
  return {};
}

void MarketFeed::stop() {
  std::vector<detail::FeedConnection*> conns;
  {
    std::lock_guard lock(mutex_);
    if (!started_ || stopped_) return;
    stopped_ = true;
    for (auto& c : connections_) conns.push_back(c.get());
  }
  for (auto* c : conns) c->stop();
  for (auto& d : shared_->dispatchers) d->stop();
}

FeedStats MarketFeed::stats() const {
  FeedStats s;
  const auto& c = shared_->counters;
  s.connections_open = c.connections_open;
  s.connections_opened = c.connections_opened;
  s.connect_failures = c.connect_failures;
  s.reconnects = c.reconnects;
  s.subscribe_frames = c.subscribe_frames;
  s.subscribe_errors = c.subscribe_errors;
  s.refused_retries = c.refused_retries;
  s.pings = c.pings;
  s.frames = c.frames;
  s.parse_errors = c.parse_errors;
  s.closed_candles = c.closed_candles;
  s.open_updates = c.open_updates;
  s.duplicates = c.duplicates;
  s.gaps = c.gaps;
  s.gap_candles_filled = c.gap_candles_filled;
  s.venue_gap_candles = c.venue_gap_candles;
  s.backfill_requests = c.backfill_requests;
  s.backfill_errors = c.backfill_errors;
  {
    std::lock_guard lock(mutex_);
    s.topics = counts_.series();
    s.subscribers = registrations_.size();
  }
  for (const auto& d : shared_->dispatchers) {
    const auto q = d->queue().stats();
    s.queue.depth += q.depth;
    s.queue.max_depth = std::max(s.queue.max_depth, q.max_depth);
    s.queue.capacity += q.capacity;
    s.queue.pushed += q.pushed;
    s.queue.popped += q.popped;
    s.queue.coalesced += q.coalesced;
    s.queue.dropped_open += q.dropped_open;
    s.queue.waits += q.waits;
  }
  return s;
}

}  // namespace twinstar::feed
