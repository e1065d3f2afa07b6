#pragma once
// Injected clocks. Nothing in the engine reads the system clock directly: it asks a Clock,
// so tests run on a ManualClock and a day can be replayed on an AcceleratedClock.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

#include "core/time.hpp"

namespace twinstar {

class Clock {
 public:
  virtual ~Clock() = default;

  // Current UTC time on this clock's timeline. Thread: any.
  virtual Timestamp now() const noexcept = 0;

  // Waits on `cv` (with `lock` held, as std::condition_variable does) until pred() is true,
  // this clock reaches `deadline`, or `stop` is requested. Returns pred().
  // Whoever makes pred() true must notify `cv`. Thread: any.
  template <class Pred>
  bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, Timestamp deadline,
                  Pred pred, std::stop_token stop = {}) {
    if (pred()) return true;
    // A stop requested before this registration runs the callback at once, here, in the waiting
    // thread, which holds `lock`: it must not take it again (the loop below sees the stop).
    const auto waiter = std::this_thread::get_id();
    std::stop_callback on_stop(stop, [&] {
      if (std::this_thread::get_id() == waiter) return;
      std::lock_guard<std::mutex> guard(*lock.mutex());
      cv.notify_all();
    });
    {
      Registration reg(*this, lock, cv);
      while (!pred() && !stop.stop_requested() && now() < deadline) wait_step(lock, cv, deadline);
    }
    // Unregistering may briefly release the lock, so the answer is read after it.
    return pred();
  }

  // Sleeps until `deadline` on this clock, or until `stop` is requested. Returns false if stopped.
  bool sleep_until(Timestamp deadline, std::stop_token stop = {});
  bool sleep_for(Duration d, std::stop_token stop = {}) { return sleep_until(now() + d, stop); }

 protected:
  // One blocking step toward `deadline`; may return early (spurious wake-ups are fine).
  virtual void wait_step(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, Timestamp deadline) = 0;
  // Clocks whose time moves by calls (ManualClock) track waiters to wake them.
  virtual void add_waiter(std::mutex*, std::condition_variable*) {}
  virtual void remove_waiter(std::unique_lock<std::mutex>&, std::condition_variable*) {}

 private:
  struct Registration {
    Registration(Clock& c, std::unique_lock<std::mutex>& l, std::condition_variable& v) : clock(c), lock(l), cv(v) {
      clock.add_waiter(lock.mutex(), &cv);
    }
    ~Registration() { clock.remove_waiter(lock, &cv); }
    Clock& clock;
    std::unique_lock<std::mutex>& lock;
    std::condition_variable& cv;
  };
};

// The system clock.
class RealClock final : public Clock {
 public:
  Timestamp now() const noexcept override;
  // A process-wide instance for `main` to inject; library code never reaches for it.
  static RealClock& instance();

 protected:
  void wait_step(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, Timestamp deadline) override;
};

// Time moves only when a test calls set() or advance(); waiters wake when it passes their deadline.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Timestamp start = Timestamp(std::chrono::seconds(1'700'000'000)));
  Timestamp now() const noexcept override { return Timestamp(Duration(now_ns_.load(std::memory_order_acquire))); }
  // Moves time forward (never backward: a smaller value is ignored) and wakes waiters.
  // Thread: any, but not while holding a mutex that a waiter on this clock uses.
  void set(Timestamp t);
  void advance(Duration d) { set(now() + d); }
  // Number of threads currently blocked in wait_until/sleep_until on this clock (for tests).
  std::size_t waiter_count() const;

 protected:
  void wait_step(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, Timestamp deadline) override;
  void add_waiter(std::mutex* m, std::condition_variable* cv) override;
  void remove_waiter(std::unique_lock<std::mutex>& lock, std::condition_variable* cv) override;

 private:
  struct Waiter {
    std::mutex* mutex;
    std::condition_variable* cv;
  };
  std::atomic<std::int64_t> now_ns_;
  mutable std::mutex waiters_mutex_;
  std::condition_variable notified_cv_;   // signalled when a notification pass ends
  std::vector<Waiter> waiters_;           // guarded by waiters_mutex_
  int notifying_ = 0;                     // guarded by waiters_mutex_
};

// Runs `speed` times faster than real time from a chosen start (speed 900: 15 minutes per second).
class AcceleratedClock final : public Clock {
 public:
  AcceleratedClock(Timestamp start, double speed);
  Timestamp now() const noexcept override;
  double speed() const noexcept { return speed_; }

 protected:
  void wait_step(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, Timestamp deadline) override;

 private:
  Timestamp start_;
  std::chrono::steady_clock::time_point real_start_;
  double speed_;
};

}  // namespace twinstar
