#include "venue/sim/rate_limits.hpp"

#include <optional>

namespace twinstar::venue::sim {

void SlidingWindow::expire(Timestamp now) {
  while (!times_.empty() && times_.front() <= now - window_) times_.pop_front();
}

bool SlidingWindow::try_acquire(Timestamp now) {
  expire(now);
  if (static_cast<int>(times_.size()) >= limit_) return false;
  times_.push_back(now);
  return true;
}

int SlidingWindow::remaining(Timestamp now) {
  expire(now);
  return limit_ - static_cast<int>(times_.size());
}

Timestamp SlidingWindow::reset_at(Timestamp now) {
  expire(now);
  return times_.empty() ? now : times_.front() + window_;
}

SimRateLimits::SimRateLimits(int ip_limit, Duration ip_window, Duration ip_ban)
    : ip_limit_(ip_limit), ip_window_(ip_window), ip_ban_(ip_ban) {}

bool SimRateLimits::admit_ip(const std::string& ip, Timestamp now) {
  auto it = ip_.find(ip);
  if (it == ip_.end()) it = ip_.emplace(ip, IpState{SlidingWindow(ip_limit_, ip_window_), std::nullopt, {}}).first;
  IpState& s = it->second;
  ++s.counters.requests;
  if (s.banned_until && now < *s.banned_until) {
    ++s.counters.rejected;
    ++violations_;
    return false;
  }
  s.banned_until.reset();
  if (!s.window.try_acquire(now)) {
    // Bybit: stop everything and wait at least 10 minutes (scaled by --ip-ban).
    s.banned_until = now + ip_ban_;
    ++s.counters.rejected;
    ++violations_;
    return false;
  }
  s.counters.max_in_window = std::max(s.counters.max_in_window, s.window.in_window());
  return true;
}

UidLimitDecision SimRateLimits::admit_uid(std::uint64_t uid, const std::string& endpoint, int limit, Timestamp now) {
  auto key = std::make_pair(uid, endpoint);
  auto it = uid_.find(key);
  if (it == uid_.end()) {
    it = uid_.emplace(key, UidState{SlidingWindow(limit, std::chrono::seconds(1)), {}}).first;
  }
  UidState& s = it->second;
  ++s.counters.requests;
  UidLimitDecision d;
  d.limit = limit;
  d.allowed = s.window.try_acquire(now);
  if (!d.allowed) {
    ++s.counters.rejected;
    ++violations_;
  }
  s.counters.max_in_window = std::max(s.counters.max_in_window, s.window.in_window());
  d.remaining = s.window.remaining(now);
  // Over the limit: when the window frees a slot; otherwise the current time (Bybit's rule).
  d.reset_ms = to_epoch_ms(d.allowed ? now : s.window.reset_at(now));
  return d;
}

void SimRateLimits::write_stats(JsonWriter& w) const {
  w.begin_array();
  for (const auto& [ip, s] : ip_) {
    w.begin_object().field("limit", "ip").field("key", ip).field("max", s.window.limit());
    w.field("window_ms", std::chrono::duration_cast<std::chrono::milliseconds>(s.window.window()).count());
    w.field("requests", s.counters.requests).field("rejected", s.counters.rejected);
    w.field("max_in_window", s.counters.max_in_window).end_object();
  }
  for (const auto& [key, s] : uid_) {
    w.begin_object().field("limit", "uid").field("uid", key.first).field("endpoint", key.second);
    w.field("max", s.window.limit()).field("window_ms", 1000);
    w.field("requests", s.counters.requests).field("rejected", s.counters.rejected);
    w.field("max_in_window", s.counters.max_in_window).end_object();
  }
  w.end_array();
}

}  // namespace twinstar::venue::sim
