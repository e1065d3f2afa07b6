#include "engine/trading_loop.hpp"

#include <future>

#include <spdlog/spdlog.h>

namespace twinstar {

TradingLoop::TradingLoop(Clock& clock, const Clock& latency_clock, TradingLoopOptions options)
    : clock_(clock), latency_clock_(latency_clock), options_(options) {
  if (options_.inbox_capacity == 0) options_.inbox_capacity = 1;
}

TradingLoop::~TradingLoop() { stop(); }

void TradingLoop::add_bot(std::unique_ptr<Bot> bot) {
  bots_.push_back(std::move(bot));
  refresh_routes();
}

void TradingLoop::refresh_routes() {
  bots_by_series_.clear();
  for (auto& bot : bots_) {
    for (const SeriesKey& key : bot->subscriptions()) bots_by_series_[key].push_back(bot.get());
  }
}

Bot* TradingLoop::find_bot(std::string_view name) noexcept {
  for (auto& bot : bots_) {
    if (bot->name() == name) return bot.get();
  }
  return nullptr;
}

void TradingLoop::start() {
  if (thread_.joinable()) return;
  std::promise<void> started;
  auto ready = started.get_future();
  thread_ = std::jthread([this, &started](std::stop_token stop) {
    loop_id_ = std::this_thread::get_id();
    started.set_value();
    run(stop);
  });
  ready.wait();
}

void TradingLoop::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  not_empty_.notify_all();
  not_full_.notify_all();
  thread_.request_stop();
  thread_.join();
  // Commands that never ran: their callers see `cancelled` (their promise is dropped).
  std::lock_guard lock(mutex_);
  inbox_.clear();
  open_index_.clear();
}

bool TradingLoop::in_loop_thread() const noexcept { return std::this_thread::get_id() == loop_id_; }

void TradingLoop::push(Event event) {
  std::unique_lock lock(mutex_);
  if (stopping_) return;
  if (event.kind == Event::Kind::candle && !event.candle.closed) {
    const auto slot = std::make_pair(event.key, to_epoch_ms(event.candle.open_time));
    if (auto it = open_index_.find(slot); it != open_index_.end()) {
      inbox_[it->second - popped_].candle = event.candle;  // the newest state of the same open candle
      ++stats_.coalesced;
      return;
    }
  }
  // The loop thread never waits for itself: what one event's handling posts (an order refused
  // while a round was being sent) may go past the capacity.
  if (inbox_.size() >= options_.inbox_capacity && !in_loop_thread()) {
    ++stats_.blocked_pushes;
    // Real-time wait: backpressure, not trading time.
    not_full_.wait(lock, [&] { return inbox_.size() < options_.inbox_capacity || stopping_; });
    if (stopping_) return;
  }
  if (event.kind == Event::Kind::candle && !event.candle.closed) {
    open_index_[std::make_pair(event.key, to_epoch_ms(event.candle.open_time))] = pushed_;
  }
  inbox_.push_back(std::move(event));
  ++pushed_;
  stats_.high_water = std::max(stats_.high_water, inbox_.size());
  lock.unlock();
  not_empty_.notify_one();
}

void TradingLoop::post_candle(const SeriesKey& key, const Candle& candle) {
  Event e;
  e.kind = Event::Kind::candle;
  e.key = key;
  e.candle = candle;
  e.received_ns = latency_clock_.now().time_since_epoch().count();
  push(std::move(e));
}

void TradingLoop::post_order_update(OrderUpdate update) {
  Event e;
  e.kind = Event::Kind::order;
  e.update = std::move(update);
  push(std::move(e));
}

void TradingLoop::post(std::function<void()> fn) {
  Event e;
  e.kind = Event::Kind::command;
  e.fn = std::move(fn);
  push(std::move(e));
}

Status TradingLoop::call(std::function<void()> fn, std::chrono::milliseconds timeout) {
  if (in_loop_thread()) {
    fn();
    return {};
  }
  auto done = std::make_shared<std::promise<void>>();
  auto finished = done->get_future();
  // Only the queued command holds the promise, so dropping it unrun breaks the promise.
  post([fn = std::move(fn), done = std::move(done)] {
    fn();
    done->set_value();
  });
  // A dropped promise (the loop stopped first) makes the future ready with broken_promise.
  if (finished.wait_for(timeout) != std::future_status::ready) {
    return make_error(ErrorCode::timeout, "the trading thread did not answer within {} ms", timeout.count());
  }
  try {
    finished.get();
  } catch (const std::future_error&) {
    return make_error(ErrorCode::cancelled, "the engine stopped before the command ran");
  }
  return {};
}

void TradingLoop::handle(Event& e) {
  switch (e.kind) {
    case Event::Kind::candle: {
      auto it = bots_by_series_.find(e.key);
      current_received_ns_ = e.received_ns;
      if (it != bots_by_series_.end()) {
        for (Bot* bot : it->second) bot->on_candle(e.key, e.candle);
      }
      current_received_ns_ = 0;
      if (e.candle.closed) handling_.record_ns(latency_clock_.now().time_since_epoch().count() - e.received_ns);
      break;
    }
    case Event::Kind::order: {
      bool routed = false;
      for (auto& bot : bots_) {
        if (bot->trader().owns(e.update.client_id)) {
          bot->on_order_update(e.update);
          routed = true;
          break;
        }
      }
      if (!routed) {
        std::lock_guard lock(mutex_);
        ++stats_.unrouted_updates;
        spdlog::debug("order update for {} that no bot owns ({})", e.update.client_id, to_string(e.update.status));
      }
      break;
    }
    case Event::Kind::command:
      e.fn();
      break;
  }
}

void TradingLoop::run(std::stop_token stop) {
  Timestamp next_tick = clock_.now() + options_.tick;
  for (;;) {
    Event event;
    bool have = false;
    {
      std::unique_lock lock(mutex_);
      clock_.wait_until(lock, not_empty_, next_tick, [&] { return !inbox_.empty() || stopping_; }, stop);
      if (!inbox_.empty()) {
        event = std::move(inbox_.front());
        inbox_.pop_front();
        if (event.kind == Event::Kind::candle && !event.candle.closed) {
          open_index_.erase(std::make_pair(event.key, to_epoch_ms(event.candle.open_time)));
        }
        ++popped_;
        switch (event.kind) {
          case Event::Kind::candle: ++(event.candle.closed ? stats_.candles : stats_.open_updates); break;
          case Event::Kind::order: ++stats_.order_updates; break;
          case Event::Kind::command: ++stats_.commands; break;
        }
        have = true;
      } else if (stopping_ || stop.stop_requested()) {
        return;  // everything queued before stop() has been handled
      }
    }
    if (have) {
      not_full_.notify_one();
      handle(event);
    }
    if (const Timestamp now = clock_.now(); now >= next_tick) {
      for (auto& bot : bots_) bot->on_time(now);
      next_tick = now + options_.tick;
    }
  }
}

TradingLoopStats TradingLoop::stats() const {
  std::lock_guard lock(mutex_);
  TradingLoopStats s = stats_;
  s.depth = inbox_.size();
  return s;
}

}  // namespace twinstar
