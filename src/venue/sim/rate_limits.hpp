#pragma once
// The sim's own sliding-window counters, answering the way Bybit does (exchange-api.md §1.3):
// the IP window (600 / 5 s -> HTTP 403 and a ban) and per-UID per-endpoint 1 s windows
// (-> retCode 10006). Independent of src/ratelimit on purpose: it is the referee.
// Thread: one owner (the sim's io thread).

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>

#include "core/json_writer.hpp"
#include "core/time.hpp"

namespace twinstar::venue::sim {

// Remembers the accepted requests of the last `window`; refuses beyond `limit`.
// Memory: at most `limit` timestamps.
class SlidingWindow {
 public:
  SlidingWindow(int limit, Duration window) : limit_(limit), window_(window) {}
  // Counts one request at `now` if the window has room. Returns false (not counted) when full.
  bool try_acquire(Timestamp now);
  int remaining(Timestamp now);
  // When the oldest counted request leaves the window (the reset time Bybit reports).
  Timestamp reset_at(Timestamp now);
  int limit() const noexcept { return limit_; }
  Duration window() const noexcept { return window_; }
  int in_window() const noexcept { return static_cast<int>(times_.size()); }

 private:
  void expire(Timestamp now);
  int limit_;
  Duration window_;
  std::deque<Timestamp> times_;
};

struct LimitCounters {
  std::uint64_t requests = 0;
  std::uint64_t rejected = 0;
  int max_in_window = 0;
};

struct UidLimitDecision {
  bool allowed = true;
  int limit = 0;
  int remaining = 0;
  std::int64_t reset_ms = 0;
};

class SimRateLimits {
 public:
  SimRateLimits(int ip_limit, Duration ip_window, Duration ip_ban);
  // HTTP requests from `ip`: false -> answer 403 "access too frequent" (also while banned).
  bool admit_ip(const std::string& ip, Timestamp now);
  // One call to `endpoint` (e.g. "/v5/order/create:linear") by `uid` with `limit` per second.
  UidLimitDecision admit_uid(std::uint64_t uid, const std::string& endpoint, int limit, Timestamp now);
  std::uint64_t violations() const noexcept { return violations_; }
  void write_stats(JsonWriter& w) const;

 private:
  struct IpState {
    SlidingWindow window;
    std::optional<Timestamp> banned_until;
    LimitCounters counters;
  };
  struct UidState {
    SlidingWindow window;
    LimitCounters counters;
  };
  int ip_limit_;
  Duration ip_window_;
  Duration ip_ban_;
  std::map<std::string, IpState> ip_;
  std::map<std::pair<std::uint64_t, std::string>, UidState> uid_;
  std::uint64_t violations_ = 0;
};

}  // namespace twinstar::venue::sim
