#include "core/clock.hpp"

#include <future>
#include <memory>
#include <thread>

#include <gtest/gtest.h>

namespace twinstar {
namespace {

using namespace std::chrono;

TEST(ManualClock, moves_only_forward_and_only_when_told) {
  ManualClock clock(Timestamp(seconds(100)));
  EXPECT_EQ(clock.now(), Timestamp(seconds(100)));
  clock.advance(seconds(5));
  EXPECT_EQ(clock.now(), Timestamp(seconds(105)));
  clock.set(Timestamp(seconds(50)));
  EXPECT_EQ(clock.now(), Timestamp(seconds(105)));
}

TEST(ManualClock, wakes_a_sleeper_exactly_when_time_passes_its_deadline) {
  ManualClock clock(Timestamp(seconds(0)));
  std::atomic<bool> woke{false};
  std::thread sleeper([&] {
    clock.sleep_until(Timestamp(seconds(10)));
    woke = true;
  });
  while (clock.waiter_count() == 0) std::this_thread::yield();
  clock.advance(seconds(9));
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_FALSE(woke.load());
  clock.advance(seconds(1));
  sleeper.join();
  EXPECT_TRUE(woke.load());
  EXPECT_EQ(clock.waiter_count(), 0u);
}

TEST(ManualClock, wait_until_returns_when_predicate_turns_true) {
  ManualClock clock;
  std::mutex m;
  std::condition_variable cv;
  bool ready = false;
  std::thread t([&] {
    std::this_thread::sleep_for(milliseconds(10));
    std::lock_guard g(m);
    ready = true;
    cv.notify_all();
  });
  std::unique_lock lock(m);
  EXPECT_TRUE(clock.wait_until(lock, cv, clock.now() + hours(1), [&] { return ready; }));
  lock.unlock();
  t.join();
}

TEST(ManualClock, stop_token_cancels_a_wait) {
  ManualClock clock;
  std::stop_source stop;
  std::thread t([&] { EXPECT_FALSE(clock.sleep_for(hours(1), stop.get_token())); });
  while (clock.waiter_count() == 0) std::this_thread::yield();
  stop.request_stop();
  t.join();
}

TEST(ManualClock, many_waiters_and_advancers_do_not_lose_wakeups) {
  ManualClock clock(Timestamp(seconds(0)));
  constexpr int kThreads = 8;
  std::vector<std::thread> sleepers;
  for (int i = 0; i < kThreads; ++i) {
    sleepers.emplace_back([&, i] {
      for (int k = 1; k <= 50; ++k) clock.sleep_until(Timestamp(milliseconds(k * 10 + i)));
    });
  }
  std::thread driver([&] {
    while (clock.now() < Timestamp(seconds(1))) {
      clock.advance(milliseconds(1));
      std::this_thread::yield();
    }
  });
  for (auto& s : sleepers) s.join();
  driver.join();
  SUCCEED();
}

TEST(AcceleratedClock, runs_faster_than_real_time) {
  AcceleratedClock clock(Timestamp(seconds(0)), 1000.0);
  const auto real_start = steady_clock::now();
  clock.sleep_for(seconds(2));  // 2 simulated seconds = 2 real milliseconds
  const auto real = steady_clock::now() - real_start;
  EXPECT_GE(clock.now(), Timestamp(seconds(2)));
  EXPECT_LT(real, seconds(1));
}

// A stop requested before a wait starts (a thread stopped between its own stop check and its
// wait, e.g. a feed connection about to back off) ends the wait at once. The stop callback then
// runs in the waiting thread, which holds the wait's lock; it used to take it again and hang.
// Runs on its own thread, bounded: a hung one is left behind (with a leaked clock) to fail.
bool returns_at_once_when_already_stopped(Clock* clock) {
  std::stop_source stop;
  stop.request_stop();
  auto result = std::make_shared<std::promise<bool>>();
  auto answer = result->get_future();
  std::thread t([clock, token = stop.get_token(), result] { result->set_value(clock->sleep_for(hours(1), token)); });
  if (answer.wait_for(seconds(5)) != std::future_status::ready) {
    t.detach();
    ADD_FAILURE() << "sleep_for with an already stopped token did not return";
    return false;
  }
  t.join();
  EXPECT_FALSE(answer.get());  // stopped, not slept
  return true;
}

TEST(ManualClock, a_stop_requested_before_the_wait_ends_it_at_once) {
  auto* clock = new ManualClock();
  if (returns_at_once_when_already_stopped(clock)) delete clock;
}

TEST(RealClock, a_stop_requested_before_the_wait_ends_it_at_once) {
  EXPECT_TRUE(returns_at_once_when_already_stopped(&RealClock::instance()));
}

TEST(RealClock, reads_the_system_clock) {
  const auto a = RealClock::instance().now();
  const auto b = time_point_cast<Duration>(system_clock::now());
  EXPECT_LT(abs((b - a).count()), duration_cast<Duration>(seconds(1)).count());
}

}  // namespace
}  // namespace twinstar
