#pragma once
// The engine's trading thread and its inbox. Bots are single-threaded event handlers: every
// candle, order update, timer tick and control command reaches them through this one thread,
// in arrival order, so a bot's state needs no lock and run-time changes (symbols, pause,
// parameters) cannot race a scan (the original MultiTrader's bug).
//
// Inbox overflow policy, by name: kInboxBlockProducers. Closed candles and order updates are
// never dropped: a producer waits for room (counted); the loop thread itself never waits (what
// one event's handling posts may go past the capacity, or it would wait for itself). Open-candle updates replace a queued
// update of the same candle (the newest state is all a bot needs). The feed, upstream, has its
// own bounded queue, so a slow trading thread pushes back to the socket, never into memory.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bot/bots.hpp"
#include "core/clock.hpp"
#include "observe/metrics.hpp"

namespace twinstar {

inline constexpr std::string_view kInboxBlockProducers = "block_producers_coalesce_open";

struct TradingLoopOptions {
  std::size_t inbox_capacity = 16384;
  Duration tick = std::chrono::seconds(1);  // bots' on_time period (engine clock)
};

struct TradingLoopStats {
  std::size_t depth = 0;
  std::size_t high_water = 0;
  std::uint64_t candles = 0;           // closed candles handled
  std::uint64_t open_updates = 0;      // open-candle updates handled
  std::uint64_t coalesced = 0;         // open updates replaced in the inbox before being handled
  std::uint64_t order_updates = 0;
  std::uint64_t unrouted_updates = 0;  // order updates no bot owns (logged)
  std::uint64_t commands = 0;
  std::uint64_t blocked_pushes = 0;    // producers that had to wait for room
};

// Thread: post_* and call() from any thread; everything else from the owner.
class TradingLoop {
 public:
  // `clock` is the engine's (trading) clock; `latency_clock` measures real handling latency
  // (a RealClock in production, a ManualClock in tests). Both must outlive the loop.
  TradingLoop(Clock& clock, const Clock& latency_clock, TradingLoopOptions options = {});
  ~TradingLoop();  // stop()
  TradingLoop(const TradingLoop&) = delete;
  TradingLoop& operator=(const TradingLoop&) = delete;

  // Before start(): the loop owns the bots from here on.
  void add_bot(std::unique_ptr<Bot> bot);
  void start();
  // Handles what is queued, then ends the thread. Idempotent. Thread: not the loop thread.
  void stop();
  bool in_loop_thread() const noexcept;

  // A candle of a series; routed to every bot that subscribes to it.
  void post_candle(const SeriesKey& key, const Candle& candle);
  // An order update; routed to the bot owning the client id.
  void post_order_update(OrderUpdate update);
  // Runs fn on the trading thread and waits for it to finish (at most `timeout`, real time).
  // Errors: timeout (fn still queued or running: it will run or has run), cancelled (the loop
  // stopped before running it). From the loop thread itself, fn runs at once.
  Status call(std::function<void()> fn, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Queues fn without waiting.
  void post(std::function<void()> fn);

  // Loop thread only (inside call/post, or from bots): the bots and the candle being handled.
  std::vector<std::unique_ptr<Bot>>& bots() noexcept { return bots_; }
  Bot* find_bot(std::string_view name) noexcept;
  // The latency clock's time when the candle being handled arrived (0 outside a candle).
  std::int64_t current_candle_received_ns() const noexcept { return current_received_ns_; }
  // Loop thread only: re-reads every bot's subscriptions (after a symbol-list change).
  void refresh_routes();

  TradingLoopStats stats() const;
  // Latency from a closed candle's arrival in the inbox to the bots having handled it.
  const observe::LatencyHistogram& handling_latency() const noexcept { return handling_; }

 private:
  struct Event {
    enum class Kind : std::uint8_t { candle, order, command } kind = Kind::candle;
    SeriesKey key;
    Candle candle;
    OrderUpdate update;
    std::function<void()> fn;
    std::int64_t received_ns = 0;
  };
  void push(Event event);
  void run(std::stop_token stop);
  void handle(Event& event);

  Clock& clock_;
  const Clock& latency_clock_;
  TradingLoopOptions options_;
  std::vector<std::unique_ptr<Bot>> bots_;                  // loop thread (or owner before start)
  std::map<SeriesKey, std::vector<Bot*>> bots_by_series_;   // loop thread
  std::int64_t current_received_ns_ = 0;                    // loop thread
  observe::LatencyHistogram handling_;

  mutable std::mutex mutex_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<Event> inbox_;                                   // guarded by mutex_
  std::map<std::pair<SeriesKey, std::int64_t>, std::size_t> open_index_;  // guarded by mutex_: queued open update -> sequence
  std::uint64_t popped_ = 0;                                  // guarded by mutex_: events popped so far
  std::uint64_t pushed_ = 0;                                  // guarded by mutex_
  bool stopping_ = false;                                     // guarded by mutex_
  TradingLoopStats stats_;                                    // guarded by mutex_
  std::jthread thread_;
  std::thread::id loop_id_;
};

}  // namespace twinstar
