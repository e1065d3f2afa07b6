#include "core/clock.hpp"

#include <algorithm>
#include <stdexcept>

namespace twinstar {

bool Clock::sleep_until(Timestamp deadline, std::stop_token stop) {
  std::mutex m;
  std::condition_variable cv;
  std::unique_lock<std::mutex> lock(m);
  wait_until(lock, cv, deadline, [] { return false; }, stop);
  return !stop.stop_requested();
}

Timestamp RealClock::now() const noexcept {
  return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
}

RealClock& RealClock::instance() {
  static RealClock clock;
  return clock;
}

void RealClock::wait_step(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, Timestamp deadline) {
  // Map the remaining UTC span onto the steady clock, so a wall-clock jump cannot stretch a wait.
  cv.wait_for(lock, deadline - now());
}

ManualClock::ManualClock(Timestamp start) : now_ns_(start.time_since_epoch().count()) {}

void ManualClock::set(Timestamp t) {
  const auto target = t.time_since_epoch().count();
  auto current = now_ns_.load(std::memory_order_acquire);
  while (current < target && !now_ns_.compare_exchange_weak(current, target, std::memory_order_acq_rel)) {
  }
  std::vector<Waiter> copy;
  {
    std::lock_guard<std::mutex> guard(waiters_mutex_);
    copy = waiters_;
    ++notifying_;
  }
  // Taking each waiter's mutex closes the gap between its deadline check and its wait.
  for (const Waiter& w : copy) {
    { std::lock_guard<std::mutex> g(*w.mutex); }
    w.cv->notify_all();
  }
  {
    std::lock_guard<std::mutex> guard(waiters_mutex_);
    --notifying_;
  }
  notified_cv_.notify_all();
}

std::size_t ManualClock::waiter_count() const {
  std::lock_guard<std::mutex> guard(waiters_mutex_);
  return waiters_.size();
}

void ManualClock::wait_step(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, Timestamp) {
  cv.wait(lock);
}

void ManualClock::add_waiter(std::mutex* m, std::condition_variable* cv) {
  std::lock_guard<std::mutex> guard(waiters_mutex_);
  waiters_.push_back(Waiter{m, cv});
}

void ManualClock::remove_waiter(std::unique_lock<std::mutex>& lock, std::condition_variable* cv) {
  // A notification pass may be about to lock this waiter's mutex: release it while we wait
  // for the pass to end, so the entry (and the cv it points to) is never used after removal.
  lock.unlock();
  {
    std::unique_lock<std::mutex> guard(waiters_mutex_);
    notified_cv_.wait(guard, [&] { return notifying_ == 0; });
    auto it = std::find_if(waiters_.begin(), waiters_.end(), [&](const Waiter& w) { return w.cv == cv; });
    if (it != waiters_.end()) waiters_.erase(it);
  }
  lock.lock();
}

AcceleratedClock::AcceleratedClock(Timestamp start, double speed)
    : start_(start), real_start_(std::chrono::steady_clock::now()), speed_(speed) {
  if (!(speed > 0)) throw std::invalid_argument("AcceleratedClock speed must be positive");
}

Timestamp AcceleratedClock::now() const noexcept {
  const auto real = std::chrono::steady_clock::now() - real_start_;
  return start_ + std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::nano>(
                      static_cast<double>(std::chrono::duration_cast<Duration>(real).count()) * speed_));
}

void AcceleratedClock::wait_step(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, Timestamp deadline) {
  const double remaining = static_cast<double>((deadline - now()).count()) / speed_;
  cv.wait_for(lock, std::chrono::nanoseconds(static_cast<std::int64_t>(remaining) + 1));
}

}  // namespace twinstar
