#pragma once
// The shared rate limiter: one RateLimiterRegistry per process, one VenueLimiter per
// (venue, account) shared by every bot on that account, so no bot can get the account or the IP
// blocked. IP-scoped buckets are shared by all accounts of a venue; account-scoped ones are per
// account; connection-scoped ones belong to one connection_limiter().

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/time.hpp"
#include "ratelimit/cost.hpp"
#include "ratelimit/feedback.hpp"
#include "ratelimit/preset.hpp"
#include "ratelimit/stats.hpp"

namespace twinstar {

namespace detail {
class Bucket;
class VenueGroup;
struct Waiter;
}  // namespace detail

// One grant in one bucket, reported to the registry's observer under the venue lock, so events of
// a venue arrive in grant order, each with the time it is accounted at (tests check windows with it).
struct GrantEvent {
  Exchange exchange = Exchange::bybit;
  std::string_view preset;
  std::string_view bucket;
  Scope scope = Scope::ip;
  std::string_view scope_id;
  std::int64_t weight = 0;
  Timestamp at{};
};
using GrantObserver = std::function<void(const GrantEvent&)>;

// A handle on one account's (or one connection's) buckets of one venue.
// Thread: every member may be called from any thread; one mutex per venue makes a multi-bucket
// acquire all-or-nothing. Time comes only from the registry's injected Clock.
class VenueLimiter {
 public:
  ~VenueLimiter();
  VenueLimiter(const VenueLimiter&) = delete;
  VenueLimiter& operator=(const VenueLimiter&) = delete;

  Exchange exchange() const noexcept;
  const std::string& preset_name() const noexcept;
  // The account name, or the connection id of a connection limiter.
  const std::string& scope_id() const noexcept { return scope_id_; }

  // Resolves a bucket name once. Errors: not_found naming the valid buckets, or saying which
  // limiter holds a bucket of another scope (ws_messages lives in connection_limiter()).
  Result<BucketId> bucket(std::string_view name) const;
  // A validated price. Weights of 0 are dropped; the same bucket twice is summed.
  // Errors: invalid_argument for a negative weight, a weight above the bucket's capacity (it could
  // never be granted), more than kMaxCostItems buckets, or a BucketId of another limiter; not_found
  // for an unknown bucket.
  Result<Cost> cost(std::initializer_list<CostItem> items) const;
  Result<Cost> cost(std::span<const CostItem> items) const;
  Result<Cost> cost(BucketId bucket, std::int64_t weight) const;
  // The preset's price for a kind of request ("klines", "order", ...). Errors: not_found naming the valid ones.
  Result<Cost> endpoint_cost(std::string_view endpoint) const;

  // Takes the cost now or not at all; never blocks (beyond the venue mutex).
  // Refuses while a bucket is paused, lacks tokens, or has queued waiters at `priority` or more
  // urgent (no queue jumping). No allocation.
  // Errors: rate_limited (counted as a rejection unless `count_refusal` is false: a caller that
  // then waits in acquire() was not refused); invalid_argument for a Cost of another limiter.
  Status try_acquire(const Cost& cost, Priority priority = Priority::market_data, bool count_refusal = true);

  // Waits until the cost can be taken: FIFO within a priority class, critical before trading before
  // market_data (among requests that share a bucket). The first in line sleeps on the clock until
  // the exact instant its tokens exist; the others sleep until they are first. No busy waiting.
  // Errors: timeout when the deadline passes, or at once when the tokens provably cannot exist by
  // then; cancelled when `stop` is requested; invalid_argument for a Cost of another limiter.
  Status acquire(const Cost& cost, Priority priority, Timestamp deadline, std::stop_token stop = {});
  // acquire() with deadline = now + timeout.
  Status acquire_for(const Cost& cost, Priority priority, Duration timeout, std::stop_token stop = {});

  // The venue counted `used` of `venue_limit` in its current window (e.g. X-MBX-USED-WEIGHT-1M):
  // lowers the local tokens if the venue counted more than we did, never raises them. `used` is
  // rescaled to the bucket's published limit when the venue reports a different one.
  // Errors: invalid_argument for used < 0, venue_limit < 1 or a BucketId of another limiter.
  Status observe_used(BucketId bucket, std::int64_t used, std::int64_t venue_limit);
  // Same with the venue's remaining count (Bybit X-Bapi-Limit-Status and X-Bapi-Limit).
  Status observe_remaining(BucketId bucket, std::int64_t remaining, std::int64_t venue_limit);
  // Applies the usage headers it knows: Binance X-MBX-USED-WEIGHT-<n><unit> to request_weight and
  // X-MBX-ORDER-COUNT-<n><unit> to the orders_* bucket of that window; Bybit X-Bapi-Limit-Status with
  // X-Bapi-Limit to the account-scoped bucket of `request`. Returns how many buckets were lowered.
  std::size_t observe_headers(const Cost& request, std::span<const HttpHeader> headers);
  // What an adapter calls after every response: observe_headers, then, if the answer is a
  // rate-limit signal (retry_after_from), pauses what it names and returns it.
  std::optional<RetryAfter> observe_response(const Cost& request, const VenueResponse& response,
                                             const RetryPolicy& policy = {});

  // Until `until`, acquire waits and try_acquire fails on the paused buckets; a pause is never
  // shortened and each call counts as a pause in each bucket it touches.
  void pause(Timestamp until);  // every bucket of this limiter (IP buckets are shared: other accounts wait too)
  Status pause(BucketId bucket, Timestamp until);  // Errors: invalid_argument for another limiter's id
  // What a rate-limit answer names (RetryAfter::target). Errors: invalid_argument for another limiter's cost.
  Status pause(const Cost& request, PauseTarget target, Timestamp until);

  LimiterStats stats() const;

 private:
  friend class RateLimiterRegistry;
  struct Counters {
    std::uint64_t requests = 0;
    std::uint64_t rejections = 0;
    std::uint64_t waits = 0;
    Duration total_wait{};
    Duration max_wait{};
    std::uint64_t timeouts = 0;
    std::uint64_t cancellations = 0;
    std::uint64_t pauses = 0;
    std::uint64_t wakeups = 0;
    std::uint32_t waiting = 0;
  };

  VenueLimiter(std::shared_ptr<detail::VenueGroup> group, std::string scope_id, std::vector<detail::Bucket*> buckets,
               std::vector<std::unique_ptr<detail::Bucket>> owned);

  Status check_owner(std::uint32_t owner) const;
  bool eligible(const detail::Waiter& w) const;           // guarded by the venue mutex
  void grant(const Cost& cost);                           // guarded by the venue mutex; buckets advanced
  void leave(detail::Waiter& w);                          // guarded by the venue mutex
  void pause_locked(detail::Bucket& b, Timestamp until);  // guarded by the venue mutex
  bool lower_locked(detail::Bucket& b, std::int64_t used, std::int64_t venue_limit);  // guarded by the venue mutex
  void wake_all_waiters();                                // guarded by the venue mutex

  std::shared_ptr<detail::VenueGroup> group_;
  std::string scope_id_;
  std::vector<detail::Bucket*> buckets_;  // by preset bucket index; nullptr when of another scope
  std::vector<std::unique_ptr<detail::Bucket>> owned_;  // connection-scoped buckets live with the handle
  std::uint32_t id_;
  Counters counters_;                     // guarded by the venue mutex
};

// One per process: owns every venue's buckets and hands out shared VenueLimiter handles.
// Thread: any; configure() a venue before the first limiter() for it.
class RateLimiterRegistry {
 public:
  // `clock` must outlive the registry and every limiter it hands out.
  explicit RateLimiterRegistry(Clock& clock);
  ~RateLimiterRegistry();
  RateLimiterRegistry(const RateLimiterRegistry&) = delete;
  RateLimiterRegistry& operator=(const RateLimiterRegistry&) = delete;

  // Installs a (possibly overridden) preset for its exchange and markets.
  // Errors: config_error from validate(); conflict if one of its markets is already configured
  // (explicitly, or by an earlier limiter() call that used the default preset).
  Status configure(const Preset& preset);

  // The shared limiter of `account` on this venue: the same handle for the same arguments.
  // Bybit, OKX and Bitget spot and linear share one preset; Binance spot and USDⓈ-M are separate
  // venues (binance_spot, binance_usdm). An unconfigured venue gets default_preset_name().
  // `ip` names the egress IP whose IP-scoped buckets the account shares ("default": the host's).
  // Errors: invalid_argument for an empty account or ip.
  Result<std::shared_ptr<VenueLimiter>> limiter(Exchange exchange, std::string_view account,
                                                Market market = Market::linear, std::string_view ip = "default");

  // A fresh limiter for one WebSocket connection: its connection-scoped buckets (ws_messages) plus
  // the venue's IP-scoped ones. The buckets live as long as the handle. Errors: invalid_argument.
  Result<std::shared_ptr<VenueLimiter>> connection_limiter(Exchange exchange, Market market,
                                                           std::string_view connection_id,
                                                           std::string_view ip = "default");

  // Called for every grant, under the venue lock (keep it short). Venues configured or used before
  // this call keep the previous observer, so set it first (tests, metrics).
  void set_grant_observer(GrantObserver observer);

  // Stats of every account limiter and every live connection limiter.
  std::vector<LimiterStats> stats() const;

 private:
  Result<std::shared_ptr<detail::VenueGroup>> group_for(Exchange exchange, Market market);  // guarded by mutex_

  Clock& clock_;
  mutable std::mutex mutex_;
  std::shared_ptr<const GrantObserver> observer_;  // guarded by mutex_
  std::map<std::pair<Exchange, Market>, std::shared_ptr<detail::VenueGroup>> groups_;  // guarded by mutex_
  // By (venue, account, ip): Bybit spot and linear share one venue, hence one handle per account.
  std::map<std::tuple<const detail::VenueGroup*, std::string, std::string>, std::shared_ptr<VenueLimiter>, std::less<>>
      limiters_;                                                          // guarded by mutex_
  std::vector<std::weak_ptr<VenueLimiter>> connection_limiters_;          // guarded by mutex_
};

}  // namespace twinstar
