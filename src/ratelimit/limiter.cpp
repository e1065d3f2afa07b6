#include "ratelimit/limiter.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <charconv>
#include <condition_variable>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/text.hpp"
#include "ratelimit/bucket.hpp"

namespace twinstar {

namespace detail {

// One blocked acquire, on the acquiring thread's stack, linked into its venue's queue.
struct Waiter {
  std::array<Bucket*, kMaxCostItems> buckets{};
  std::array<std::int64_t, kMaxCostItems> weights{};
  std::size_t count = 0;
  Priority priority = Priority::market_data;
  std::condition_variable cv;
  bool notified = false;  // set (under the venue mutex) when the queue ahead of it changed
  Waiter* prev = nullptr;
  Waiter* next = nullptr;

  bool shares_bucket_with(const Waiter& other) const noexcept {
    for (std::size_t i = 0; i < count; ++i) {
      for (std::size_t j = 0; j < other.count; ++j) {
        if (buckets[i] == other.buckets[j]) return true;
      }
    }
    return false;
  }
};

// Everything one venue (exchange + the markets of one preset) shares: the mutex, the IP- and
// account-scoped buckets, and the queue of waiters.
class VenueGroup {
 public:
  VenueGroup(Clock& c, Preset p, std::vector<BucketLimits> l, std::shared_ptr<const GrantObserver> o)
      : clock(c), preset(std::move(p)), limits(std::move(l)), observer(std::move(o)) {}

  Clock& clock;
  const Preset preset;
  const std::vector<BucketLimits> limits;  // by preset bucket index
  const std::shared_ptr<const GrantObserver> observer;

  std::mutex mutex;
  // Bucket sets by scope id, indexed like preset.buckets (nullptr for the other scopes). guarded by mutex
  std::map<std::string, std::vector<std::unique_ptr<Bucket>>, std::less<>> ip_buckets;
  std::map<std::string, std::vector<std::unique_ptr<Bucket>>, std::less<>> account_buckets;
  // FIFO queue per priority class. guarded by mutex
  std::array<Waiter*, kPriorityCount> head{};
  std::array<Waiter*, kPriorityCount> tail{};

  // guarded by mutex
  std::vector<std::unique_ptr<Bucket>>& bucket_set(Scope scope, std::string_view id, Timestamp now) {
    auto& sets = scope == Scope::ip ? ip_buckets : account_buckets;
    auto it = sets.find(id);
    if (it == sets.end()) {
      std::vector<std::unique_ptr<Bucket>> set(preset.buckets.size());
      for (std::size_t i = 0; i < preset.buckets.size(); ++i) {
        if (preset.buckets[i].scope == scope) {
          set[i] = std::make_unique<Bucket>(preset.buckets[i], limits[i], std::string(id), now);
        }
      }
      it = sets.emplace(std::string(id), std::move(set)).first;
    }
    return it->second;
  }

  void enqueue(Waiter& w) {
    const auto p = static_cast<std::size_t>(w.priority);
    w.prev = tail[p];
    w.next = nullptr;
    if (tail[p] != nullptr) {
      tail[p]->next = &w;
    } else {
      head[p] = &w;
    }
    tail[p] = &w;
  }

  void unlink(Waiter& w) {
    const auto p = static_cast<std::size_t>(w.priority);
    if (w.prev != nullptr) {
      w.prev->next = w.next;
    } else {
      head[p] = w.next;
    }
    if (w.next != nullptr) {
      w.next->prev = w.prev;
    } else {
      tail[p] = w.prev;
    }
    w.prev = w.next = nullptr;
  }
};

}  // namespace detail

namespace {

using detail::Bucket;
using detail::Waiter;

// A waiter re-checks at least this often, which also keeps huge deadlines away from
// condition_variable::wait_for overflow on the real clock.
constexpr Duration kMaxSleep = std::chrono::hours(1);

std::atomic<std::uint32_t> g_next_limiter_id{1};

// try_acquire refusals: short texts that fit std::string's inline buffer, so refusing allocates nothing.
std::unexpected<Error> refusal(const char* text) {
  return std::unexpected<Error>(Error{ErrorCode::rate_limited, std::string(text)});
}

std::string bucket_list(const Preset& preset) {
  std::vector<std::string_view> names;
  for (const auto& b : preset.buckets) names.push_back(b.name);
  return fmt::format("{}", fmt::join(names, ", "));
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// Binance interval suffixes: "1M" (minute), "10S", "1D", "1H"; any case.
std::optional<Duration> parse_binance_interval(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  auto n = parse_header_int(text.substr(0, text.size() - 1));
  if (!n || *n < 1) return std::nullopt;
  switch (std::tolower(static_cast<unsigned char>(text.back()))) {
    case 's': return std::chrono::seconds(*n);
    case 'm': return std::chrono::minutes(*n);
    case 'h': return std::chrono::hours(*n);
    case 'd': return std::chrono::days(*n);
    default: return std::nullopt;
  }
}

}  // namespace

// ---- VenueLimiter -------------------------------------------------------------------------------

VenueLimiter::VenueLimiter(std::shared_ptr<detail::VenueGroup> group, std::string scope_id,
                           std::vector<detail::Bucket*> buckets, std::vector<std::unique_ptr<detail::Bucket>> owned)
    : group_(std::move(group)),
      scope_id_(std::move(scope_id)),
      buckets_(std::move(buckets)),
      owned_(std::move(owned)),
      id_(g_next_limiter_id.fetch_add(1, std::memory_order_relaxed)) {}

VenueLimiter::~VenueLimiter() = default;

Exchange VenueLimiter::exchange() const noexcept { return group_->preset.exchange; }
const std::string& VenueLimiter::preset_name() const noexcept { return group_->preset.name; }

Status VenueLimiter::check_owner(std::uint32_t owner) const {
  if (owner == id_) return {};
  return make_error(ErrorCode::invalid_argument,
                    "rate limit {}/{}: this cost or bucket id was resolved by another limiter; resolve it with "
                    "this limiter's cost() or bucket()",
                    group_->preset.name, scope_id_);
}

Result<BucketId> VenueLimiter::bucket(std::string_view name) const {
  const auto& specs = group_->preset.buckets;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].name != name) continue;
    if (buckets_[i] == nullptr) {
      return make_error(ErrorCode::not_found,
                        "rate limit {}: bucket {} is {}-scoped and not part of limiter {}; {}", group_->preset.name,
                        name, to_string(specs[i].scope), scope_id_,
                        specs[i].scope == Scope::connection ? "use registry.connection_limiter()"
                                                            : "use registry.limiter() for an account");
    }
    return BucketId(static_cast<std::uint8_t>(i), id_);
  }
  return make_error(ErrorCode::not_found, "rate limit {}: no bucket '{}'; valid buckets: {}", group_->preset.name, name,
                    bucket_list(group_->preset));
}

Result<Cost> VenueLimiter::cost(std::initializer_list<CostItem> items) const {
  return cost(std::span<const CostItem>(items.begin(), items.size()));
}

Result<Cost> VenueLimiter::cost(std::span<const CostItem> items) const {
  Cost out;
  out.owner_ = id_;
  for (const auto& item : items) {
    auto id = bucket(item.bucket);
    if (!id) return std::unexpected(id.error());
    auto one = cost(*id, item.weight);
    if (!one) return one;
    if (one->empty()) continue;
    const auto w = one->items_[0];
    bool merged = false;
    for (std::size_t i = 0; i < out.size_; ++i) {
      if (out.items_[i].bucket == w.bucket) {
        const auto capacity = group_->limits[w.bucket].capacity;
        if (out.items_[i].weight + w.weight > capacity) {
          return make_error(ErrorCode::invalid_argument,
                            "rate limit {}: total weight {} in bucket {} exceeds its capacity {} and could never be "
                            "granted",
                            group_->preset.name, out.items_[i].weight + w.weight, item.bucket, capacity);
        }
        out.items_[i].weight += w.weight;
        merged = true;
      }
    }
    if (merged) continue;
    if (out.size_ == kMaxCostItems) {
      return make_error(ErrorCode::invalid_argument, "rate limit {}: a cost may touch at most {} buckets",
                        group_->preset.name, kMaxCostItems);
    }
    out.items_[out.size_++] = w;
  }
  return out;
}

Result<Cost> VenueLimiter::cost(BucketId bucket, std::int64_t weight) const {
  if (auto s = check_owner(bucket.owner_); !s) return std::unexpected(s.error());
  const auto& spec = group_->preset.buckets[bucket.index()];
  const auto capacity = group_->limits[bucket.index()].capacity;
  if (weight < 0 || weight > capacity) {
    return make_error(ErrorCode::invalid_argument,
                      "rate limit {}: weight {} in bucket {} must be in [0, {}] (its capacity); a larger weight "
                      "could never be granted",
                      group_->preset.name, weight, spec.name, capacity);
  }
  Cost out;
  out.owner_ = id_;
  if (weight > 0) out.items_[out.size_++] = Cost::Item{bucket.index(), weight};
  return out;
}

Result<Cost> VenueLimiter::endpoint_cost(std::string_view endpoint) const {
  for (const auto& ep : group_->preset.endpoints) {
    if (ep.name != endpoint) continue;
    std::array<CostItem, kMaxCostItems> items{};
    for (std::size_t i = 0; i < ep.weights.size(); ++i) items[i] = CostItem{ep.weights[i].bucket, ep.weights[i].weight};
    return cost(std::span<const CostItem>(items.data(), ep.weights.size()));
  }
  std::vector<std::string_view> names;
  for (const auto& ep : group_->preset.endpoints) names.push_back(ep.name);
  return make_error(ErrorCode::not_found, "rate limit {}: no endpoint '{}'; valid endpoints: {}", group_->preset.name,
                    endpoint, fmt::join(names, ", "));
}

void VenueLimiter::grant(const Cost& cost) {
  ++counters_.requests;
  const auto& observer = group_->observer;
  for (const auto& item : cost) {
    Bucket& b = *buckets_[item.bucket];
    b.take(item.weight);
    ++b.counters.requests;
    b.counters.weight += static_cast<std::uint64_t>(item.weight);
    if (observer) {
      (*observer)(GrantEvent{group_->preset.exchange, group_->preset.name, b.spec().name, b.spec().scope, b.scope_id(),
                             item.weight, b.last_time()});
    }
  }
}

Status VenueLimiter::try_acquire(const Cost& cost, Priority priority, bool count_refusal) {
  if (cost.owner_ != id_ && !cost.empty()) [[unlikely]] return check_owner(cost.owner_);
  auto& g = *group_;
  // Read before locking: the clock read is most of the cost, and keeping it out of the critical
  // section doubles contended throughput. A reading older than the bucket's latest time counts as
  // that latest time (Bucket::advance), so accounting stays exact and ordered.
  const Timestamp now = g.clock.now();
  std::lock_guard<std::mutex> lock(g.mutex);
  for (const auto& item : cost) {
    Bucket& b = *buckets_[item.bucket];
    const char* why = nullptr;
    if (b.paused_at(now)) {
      why = "bucket paused";
    } else if (b.has_waiters_at_or_above(priority)) {
      why = "waiters queued";
    } else {
      b.advance(now);
      if (!b.can_take(item.weight)) why = "no tokens";
    }
    if (why != nullptr) {
      if (count_refusal) {
        ++b.counters.rejections;
        ++counters_.rejections;
      }
      return refusal(why);
    }
  }
  grant(cost);
  return {};
}

bool VenueLimiter::eligible(const Waiter& w) const {
  const auto& g = *group_;
  for (std::size_t p = 0; p <= static_cast<std::size_t>(w.priority); ++p) {
    for (const Waiter* x = g.head[p]; x != nullptr && x != &w; x = x->next) {
      if (x->shares_bucket_with(w)) return false;
    }
  }
  return true;
}

void VenueLimiter::wake_all_waiters() {
  auto& g = *group_;
  for (Waiter* first : g.head) {
    for (Waiter* x = first; x != nullptr; x = x->next) {
      x->notified = true;
      x->cv.notify_one();
    }
  }
}

void VenueLimiter::leave(Waiter& w) {
  group_->unlink(w);
  for (std::size_t i = 0; i < w.count; ++i) --w.buckets[i]->waiting[static_cast<std::size_t>(w.priority)];
  --counters_.waiting;
  wake_all_waiters();  // whoever was behind it may now be first in line
}

Status VenueLimiter::acquire_for(const Cost& cost, Priority priority, Duration timeout, std::stop_token stop) {
  const Timestamp now = group_->clock.now();
  const Timestamp deadline = timeout >= Timestamp::max() - now ? Timestamp::max() : now + timeout;
  return acquire(cost, priority, deadline, std::move(stop));
}

Status VenueLimiter::acquire(const Cost& cost, Priority priority, Timestamp deadline, std::stop_token stop) {
  if (cost.owner_ != id_ && !cost.empty()) return check_owner(cost.owner_);
  auto& g = *group_;
  std::unique_lock<std::mutex> lock(g.mutex);
  if (stop.stop_requested()) {
    ++counters_.cancellations;
    return make_error(ErrorCode::cancelled, "rate limit {}/{}: acquire cancelled", g.preset.name, scope_id_);
  }
  const Timestamp arrival = g.clock.now();

  // Fast path: nobody it must let go first, nothing paused, tokens there.
  bool free_now = true;
  for (const auto& item : cost) {
    Bucket& b = *buckets_[item.bucket];
    b.advance(arrival);
    if (b.paused_at(arrival) || b.has_waiters_at_or_above(priority) || !b.can_take(item.weight)) {
      free_now = false;
      break;
    }
  }
  if (free_now) {
    grant(cost);
    return {};
  }

  Waiter w;
  w.priority = priority;
  for (const auto& item : cost) {
    w.buckets[w.count] = buckets_[item.bucket];
    w.weights[w.count] = item.weight;
    ++w.count;
    ++buckets_[item.bucket]->waiting[static_cast<std::size_t>(priority)];
  }
  g.enqueue(w);
  ++counters_.waiting;

  auto give_up = [&](ErrorCode code, Timestamp ready) -> Status {
    for (std::size_t i = 0; i < w.count; ++i) {
      if (code == ErrorCode::timeout) {
        ++w.buckets[i]->counters.timeouts;
      } else {
        ++w.buckets[i]->counters.cancellations;
      }
    }
    leave(w);
    if (code == ErrorCode::cancelled) {
      ++counters_.cancellations;
      return make_error(code, "rate limit {}/{}: acquire cancelled", g.preset.name, scope_id_);
    }
    ++counters_.timeouts;
    if (ready == Timestamp{}) {
      return make_error(code, "rate limit {}/{}: still queued behind earlier requests at the deadline {}",
                        g.preset.name, scope_id_, format_iso8601(deadline));
    }
    return make_error(code, "rate limit {}/{}: tokens exist only at {}, after the deadline {}", g.preset.name,
                      scope_id_, format_iso8601(ready), format_iso8601(deadline));
  };

  for (bool first = true;; first = false) {
    if (!first) ++counters_.wakeups;
    w.notified = false;
    if (stop.stop_requested()) return give_up(ErrorCode::cancelled, {});
    const Timestamp now = g.clock.now();
    Timestamp wake = deadline;
    if (eligible(w)) {
      Timestamp ready = now;
      for (std::size_t i = 0; i < w.count; ++i) {
        Bucket& b = *w.buckets[i];
        b.advance(now);
        ready = std::max({ready, b.paused_until(), b.ready_at(w.weights[i])});
      }
      if (ready <= now) {
        grant(cost);
        const Duration waited = now - arrival;
        ++counters_.waits;
        counters_.total_wait += waited;
        counters_.max_wait = std::max(counters_.max_wait, waited);
        for (std::size_t i = 0; i < w.count; ++i) {
          auto& c = w.buckets[i]->counters;
          ++c.waits;
          c.total_wait += waited;
          c.max_wait = std::max(c.max_wait, waited);
        }
        leave(w);
        return {};
      }
      // Tokens only appear with time and pauses only grow, so this cannot get better: fail now.
      if (ready > deadline) return give_up(ErrorCode::timeout, ready);
      wake = ready;
    } else if (now >= deadline) {
      return give_up(ErrorCode::timeout, {});
    }
    if (wake - now > kMaxSleep) wake = now + kMaxSleep;
    g.clock.wait_until(lock, w.cv, wake, [&] { return w.notified; }, stop);
  }
}

bool VenueLimiter::lower_locked(detail::Bucket& b, std::int64_t used, std::int64_t venue_limit) {
  b.advance(group_->clock.now());
  // Rescale to the published limit this bucket was built from: ceil(used * limit / venue_limit).
  const auto scaled = (static_cast<detail::Int128>(used) * b.spec().limit + venue_limit - 1) / venue_limit;
  const auto used_local = static_cast<std::int64_t>(std::min<detail::Int128>(scaled, b.spec().limit * 2));
  if (!b.lower_to_used(used_local)) return false;
  ++b.counters.corrections;
  return true;
}

Status VenueLimiter::observe_used(BucketId bucket, std::int64_t used, std::int64_t venue_limit) {
  if (auto s = check_owner(bucket.owner_); !s) return s;
  if (used < 0 || venue_limit < 1) {
    return make_error(ErrorCode::invalid_argument,
                      "rate limit {}: venue usage must be used >= 0 of a limit >= 1, got {} of {}", group_->preset.name,
                      used, venue_limit);
  }
  std::lock_guard<std::mutex> lock(group_->mutex);
  lower_locked(*buckets_[bucket.index()], used, venue_limit);
  return {};
}

Status VenueLimiter::observe_remaining(BucketId bucket, std::int64_t remaining, std::int64_t venue_limit) {
  if (remaining < 0 || venue_limit < 1) {
    return make_error(ErrorCode::invalid_argument,
                      "rate limit {}: venue remaining must be >= 0 of a limit >= 1, got {} of {}", group_->preset.name,
                      remaining, venue_limit);
  }
  return observe_used(bucket, std::max<std::int64_t>(0, venue_limit - remaining), venue_limit);
}

std::size_t VenueLimiter::observe_headers(const Cost& request, std::span<const HttpHeader> headers) {
  const auto& specs = group_->preset.buckets;
  std::size_t lowered = 0;
  std::lock_guard<std::mutex> lock(group_->mutex);
  auto apply = [&](std::size_t index, std::int64_t used, std::int64_t limit) {
    if (buckets_[index] != nullptr && used >= 0 && limit >= 1 && lower_locked(*buckets_[index], used, limit)) {
      ++lowered;
    }
  };
  auto find_bucket = [&](auto&& match) -> std::optional<std::size_t> {
    for (std::size_t i = 0; i < specs.size(); ++i) {
      if (match(specs[i])) return i;
    }
    return std::nullopt;
  };
  for (const auto& h : headers) {
    for (std::string_view prefix : {std::string_view("x-mbx-used-weight-"), std::string_view("x-mbx-order-count-")}) {
      if (!istarts_with(h.name, prefix)) continue;
      const auto window = parse_binance_interval(h.name.substr(prefix.size()));
      const auto used = parse_header_int(h.value);
      if (!window || !used) continue;
      const bool weight = prefix == "x-mbx-used-weight-";
      auto index = find_bucket([&](const BucketSpec& s) {
        if (s.window != *window) return false;
        return weight ? s.name == "request_weight" : (s.scope == Scope::account && s.name.starts_with("orders_"));
      });
      if (index) apply(*index, *used, specs[*index].limit);
    }
  }
  // Bybit: remaining and limit of the per-UID endpoint window the request used.
  const auto remaining = find_header(headers, "X-Bapi-Limit-Status");
  const auto limit = find_header(headers, "X-Bapi-Limit");
  if (remaining && limit && (request.owner_ == id_ || request.empty())) {
    const auto r = parse_header_int(*remaining);
    const auto l = parse_header_int(*limit);
    if (r && l && *r >= 0 && *l >= 1) {
      for (const auto& item : request) {
        if (specs[item.bucket].scope == Scope::account) {
          apply(item.bucket, std::max<std::int64_t>(0, *l - *r), *l);
          break;
        }
      }
    }
  }
  return lowered;
}

std::optional<RetryAfter> VenueLimiter::observe_response(const Cost& request, const VenueResponse& response,
                                                         const RetryPolicy& policy) {
  observe_headers(request, response.headers);
  const Timestamp now = group_->clock.now();
  auto advice = retry_after_from(response, now, policy);
  if (advice) (void)pause(request, advice->target, now + advice->pause);  // a foreign cost pauses nothing
  return advice;
}

void VenueLimiter::pause_locked(detail::Bucket& b, Timestamp until) {
  b.pause_until(until);
  ++b.counters.pauses;
}

void VenueLimiter::pause(Timestamp until) {
  std::lock_guard<std::mutex> lock(group_->mutex);
  for (Bucket* b : buckets_) {
    if (b != nullptr) pause_locked(*b, until);
  }
  ++counters_.pauses;
  wake_all_waiters();  // so waiters whose deadline falls inside the pause give up now
}

Status VenueLimiter::pause(BucketId bucket, Timestamp until) {
  if (auto s = check_owner(bucket.owner_); !s) return s;
  std::lock_guard<std::mutex> lock(group_->mutex);
  pause_locked(*buckets_[bucket.index()], until);
  ++counters_.pauses;
  wake_all_waiters();
  return {};
}

Status VenueLimiter::pause(const Cost& request, PauseTarget target, Timestamp until) {
  if (request.owner_ != id_ && !request.empty()) return check_owner(request.owner_);
  std::lock_guard<std::mutex> lock(group_->mutex);
  if (target == PauseTarget::ip) {
    for (Bucket* b : buckets_) {
      if (b != nullptr && b->spec().scope == Scope::ip) pause_locked(*b, until);
    }
  } else {
    for (const auto& item : request) {
      Bucket& b = *buckets_[item.bucket];
      if (target == PauseTarget::request || b.spec().scope != Scope::ip) pause_locked(b, until);
    }
  }
  ++counters_.pauses;
  wake_all_waiters();
  return {};
}

LimiterStats VenueLimiter::stats() const {
  auto& g = *group_;
  LimiterStats out;
  out.exchange = g.preset.exchange;
  out.preset = g.preset.name;
  out.scope_id = scope_id_;
  std::lock_guard<std::mutex> lock(g.mutex);
  const Timestamp now = g.clock.now();
  out.requests = counters_.requests;
  out.rejections = counters_.rejections;
  out.waits = counters_.waits;
  out.total_wait = counters_.total_wait;
  out.mean_wait = counters_.waits == 0 ? Duration::zero() : counters_.total_wait / static_cast<std::int64_t>(counters_.waits);
  out.max_wait = counters_.max_wait;
  out.timeouts = counters_.timeouts;
  out.cancellations = counters_.cancellations;
  out.pauses = counters_.pauses;
  out.wakeups = counters_.wakeups;
  out.waiting = counters_.waiting;
  for (Bucket* b : buckets_) {
    if (b == nullptr) continue;
    b->advance(now);  // refill and expiry only catch up with time: no visible change of behaviour
    BucketStats s;
    s.name = b->spec().name;
    s.scope = b->spec().scope;
    s.scope_id = b->scope_id();
    s.mode = b->limits().mode;
    s.published_limit = b->spec().limit;
    s.effective_limit = b->limits().effective_limit;
    s.window = b->spec().window;
    s.capacity = b->limits().capacity;
    s.current_tokens = b->available();
    const auto& c = b->counters;
    s.requests = c.requests;
    s.weight = c.weight;
    s.rejections = c.rejections;
    s.waits = c.waits;
    s.mean_wait = c.waits == 0 ? Duration::zero() : c.total_wait / static_cast<std::int64_t>(c.waits);
    s.max_wait = c.max_wait;
    s.timeouts = c.timeouts;
    s.cancellations = c.cancellations;
    s.pauses = c.pauses;
    s.corrections = c.corrections;
    s.paused_until = b->paused_until();
    for (auto n : b->waiting) s.waiting += n;
    out.buckets.push_back(std::move(s));
  }
  return out;
}

RateLimiterSummary LimiterStats::summary() const {
  RateLimiterSummary s;
  s.total_requests = requests;
  s.rejected_requests = rejections + timeouts;
  const auto attempts = s.total_requests + s.rejected_requests;
  s.rejection_rate = attempts == 0 ? 0.0 : static_cast<double>(s.rejected_requests) / static_cast<double>(attempts);
  s.avg_wait_time = requests == 0 ? 0.0
                                  : std::chrono::duration<double>(total_wait).count() / static_cast<double>(requests);
  if (!buckets.empty()) {
    s.current_tokens = buckets.front().current_tokens;
    s.max_tokens = buckets.front().capacity;
  }
  return s;
}

// ---- RateLimiterRegistry ------------------------------------------------------------------------

RateLimiterRegistry::RateLimiterRegistry(Clock& clock) : clock_(clock) {}
RateLimiterRegistry::~RateLimiterRegistry() = default;

void RateLimiterRegistry::set_grant_observer(GrantObserver observer) {
  std::lock_guard<std::mutex> lock(mutex_);
  observer_ = observer ? std::make_shared<const GrantObserver>(std::move(observer)) : nullptr;
}

Status RateLimiterRegistry::configure(const Preset& preset) {
  if (auto s = validate(preset); !s) return s;
  std::vector<BucketLimits> limits;
  for (const auto& b : preset.buckets) limits.push_back(*effective_limits(b, preset.safety_margin, preset.burst_fraction));
  std::lock_guard<std::mutex> lock(mutex_);
  for (Market m : preset.markets) {
    if (auto it = groups_.find({preset.exchange, m}); it != groups_.end()) {
      return make_error(ErrorCode::conflict,
                        "rate limits for {} {} are already configured (preset {}); configure each venue once, before "
                        "the first limiter() call",
                        preset.exchange, m, it->second->preset.name);
    }
  }
  auto group = std::make_shared<detail::VenueGroup>(clock_, preset, std::move(limits), observer_);
  for (Market m : preset.markets) groups_[{preset.exchange, m}] = group;
  return {};
}

Result<std::shared_ptr<detail::VenueGroup>> RateLimiterRegistry::group_for(Exchange exchange, Market market) {
  if (auto it = groups_.find({exchange, market}); it != groups_.end()) return it->second;
  auto p = preset(default_preset_name(exchange, market));
  if (!p) return std::unexpected(p.error());
  if (p->exchange != exchange ||
      std::find(p->markets.begin(), p->markets.end(), market) == p->markets.end()) {
    return make_error(ErrorCode::internal, "default preset {} does not cover {} {}", p->name, exchange, market);
  }
  std::vector<BucketLimits> limits;
  for (const auto& b : p->buckets) limits.push_back(*effective_limits(b, p->safety_margin, p->burst_fraction));
  auto group = std::make_shared<detail::VenueGroup>(clock_, std::move(*p), std::move(limits), observer_);
  for (Market m : group->preset.markets) groups_.try_emplace({exchange, m}, group);
  return group;
}

Result<std::shared_ptr<VenueLimiter>> RateLimiterRegistry::limiter(Exchange exchange, std::string_view account,
                                                                   Market market, std::string_view ip) {
  if (account.empty() || ip.empty()) {
    return make_error(ErrorCode::invalid_argument, "rate limit {}: account and ip must not be empty", exchange);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  auto group = group_for(exchange, market);
  if (!group) return std::unexpected(group.error());
  const auto key = std::make_tuple(static_cast<const detail::VenueGroup*>(group->get()), std::string(account),
                                   std::string(ip));
  if (auto it = limiters_.find(key); it != limiters_.end()) return it->second;

  auto& g = **group;
  std::vector<detail::Bucket*> buckets(g.preset.buckets.size(), nullptr);
  {
    std::lock_guard<std::mutex> group_lock(g.mutex);
    const Timestamp now = clock_.now();
    auto& ip_set = g.bucket_set(Scope::ip, ip, now);
    auto& account_set = g.bucket_set(Scope::account, account, now);
    for (std::size_t i = 0; i < buckets.size(); ++i) {
      if (ip_set[i]) buckets[i] = ip_set[i].get();
      if (account_set[i]) buckets[i] = account_set[i].get();
    }
  }
  std::shared_ptr<VenueLimiter> handle(new VenueLimiter(*group, std::string(account), std::move(buckets), {}));
  limiters_.emplace(key, handle);
  return handle;
}

Result<std::shared_ptr<VenueLimiter>> RateLimiterRegistry::connection_limiter(Exchange exchange, Market market,
                                                                              std::string_view connection_id,
                                                                              std::string_view ip) {
  if (connection_id.empty() || ip.empty()) {
    return make_error(ErrorCode::invalid_argument, "rate limit {}: connection id and ip must not be empty", exchange);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  auto group = group_for(exchange, market);
  if (!group) return std::unexpected(group.error());
  auto& g = **group;
  std::vector<detail::Bucket*> buckets(g.preset.buckets.size(), nullptr);
  std::vector<std::unique_ptr<detail::Bucket>> owned;
  {
    std::lock_guard<std::mutex> group_lock(g.mutex);
    const Timestamp now = clock_.now();
    auto& ip_set = g.bucket_set(Scope::ip, ip, now);
    for (std::size_t i = 0; i < buckets.size(); ++i) {
      if (ip_set[i]) buckets[i] = ip_set[i].get();
      if (g.preset.buckets[i].scope == Scope::connection) {
        owned.push_back(std::make_unique<detail::Bucket>(g.preset.buckets[i], g.limits[i], std::string(connection_id), now));
        buckets[i] = owned.back().get();
      }
    }
  }
  std::shared_ptr<VenueLimiter> handle(
      new VenueLimiter(*group, std::string(connection_id), std::move(buckets), std::move(owned)));
  std::erase_if(connection_limiters_, [](const auto& w) { return w.expired(); });
  connection_limiters_.push_back(handle);
  return handle;
}

std::vector<LimiterStats> RateLimiterRegistry::stats() const {
  std::vector<std::shared_ptr<VenueLimiter>> all;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [key, l] : limiters_) all.push_back(l);
    for (const auto& w : connection_limiters_) {
      if (auto l = w.lock()) all.push_back(std::move(l));
    }
  }
  std::vector<LimiterStats> out;
  for (const auto& l : all) out.push_back(l->stats());
  return out;
}

}  // namespace twinstar
