#pragma once
// Small fakes and checkers shared by the rate-limiter tests.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "ratelimit/limiter.hpp"

namespace twinstar::testing {

using namespace std::chrono_literals;

inline const Timestamp kStart = Timestamp(std::chrono::seconds(1'700'000'000));

// A one-venue preset with the buckets given, margin 1 unless told, so numbers in tests are the limits.
inline Preset test_preset(std::vector<BucketSpec> buckets, Ratio margin = Ratio::from_units(1)) {
  Preset p;
  p.name = "test";
  p.exchange = Exchange::bybit;
  p.markets = {Market::spot, Market::linear};
  p.safety_margin = margin;
  p.buckets = std::move(buckets);
  return p;
}

inline BucketSpec spec(std::string name, std::int64_t limit, Duration window, BucketMode mode,
                       Scope scope = Scope::ip, std::int64_t max_weight = 1) {
  return BucketSpec{std::move(name), limit, window, scope, mode, max_weight, "test"};
}

// Spins (yielding) until `done()`; the test's own way to wait for another thread to reach a state.
template <class Pred>
void spin_until(Pred done) {
  while (!done()) std::this_thread::yield();
}

// Records every grant the limiters report, in grant order per venue.
class GrantLog {
 public:
  struct Event {
    std::string preset;
    std::string bucket;
    std::string scope_id;
    std::int64_t weight;
    Timestamp at;
    std::thread::id thread;
  };

  GrantObserver observer() {
    return [this](const GrantEvent& e) {
      std::lock_guard<std::mutex> g(mutex_);
      events_.push_back(Event{std::string(e.preset), std::string(e.bucket), std::string(e.scope_id), e.weight, e.at,
                              std::this_thread::get_id()});
    };
  }
  std::vector<Event> events() const {
    std::lock_guard<std::mutex> g(mutex_);
    return events_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Event> events_;
};

// The invariant, checked plainly: for every closed window [t, t + window], the weight of the
// grants inside is at most `limit`. Returns the worst window's weight.
inline std::int64_t max_window_weight(std::vector<std::pair<Timestamp, std::int64_t>> grants, Duration window) {
  std::sort(grants.begin(), grants.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::int64_t worst = 0;
  std::int64_t sum = 0;
  std::size_t end = 0;
  for (std::size_t start = 0; start < grants.size(); ++start) {
    while (end < grants.size() && grants[end].first <= grants[start].first + window) sum += grants[end++].second;
    worst = std::max(worst, sum);
    sum -= grants[start].second;
  }
  return worst;
}

}  // namespace twinstar::testing
