#pragma once
// Run-time control of a running engine without races: every command (pause a bot, change its
// symbols or parameters, read the status) is a job posted to the engine's own thread and run
// between two events, so a bot never sees a change in the middle of a scan. The control
// server's handlers post and wait with a deadline; the engine drains the mailbox every turn.
//
// Mailbox overflow policy, by name: kMailboxRefuseNew — at most `capacity` pending jobs; a
// further post is refused at once (the caller gets `unavailable`), nothing queued is dropped.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "engine/paper_engine.hpp"

namespace twinstar {

inline constexpr std::string_view kMailboxRefuseNew = "refuse_new";

enum class SymbolChange { set, add, remove };

// What the engine thread offers to control jobs. Thread: the engine's only.
class EngineControl {
 public:
  virtual ~EngineControl() = default;
  virtual EngineStatus status() = 0;
  // Errors: not_found (no such bot), invalid_argument (the change does not apply to it).
  virtual Status pause(std::string_view bot) = 0;
  virtual Status resume(std::string_view bot) = 0;
  virtual Status stop_bot(std::string_view bot) = 0;
  // MultiTraders only; new symbols are warmed up before the bot sees them. Returns the new list.
  virtual Result<std::vector<std::string>> change_symbols(std::string_view bot, SymbolChange change,
                                                          const std::vector<std::string>& symbols) = 0;
  // Replaces the bot's strategy with the same one built from `params` merged over the current
  // ones; the new strategy is warmed up on the stored history before it trades.
  virtual Status set_params(std::string_view bot, const std::map<std::string, double>& params) = 0;
};

class EngineMailbox {
 public:
  using Job = std::function<void(EngineControl&)>;
  explicit EngineMailbox(std::size_t capacity = 64) : capacity_(capacity) {}

  // Any thread. Runs `fn` on the engine thread and returns its result, or `timeout` (engine busy
  // or stopped) / `unavailable` (mailbox full, or closed).
  template <class T>
  Result<T> call(std::function<Result<T>(EngineControl&)> fn, std::chrono::milliseconds timeout);

  // Engine thread: runs every pending job. After close() no job is accepted or run.
  void run_pending(EngineControl& control);
  void close();
  std::size_t depth() const;

 private:
  bool post(Job job);

  mutable std::mutex mutex_;
  std::deque<Job> jobs_;
  std::size_t capacity_;
  bool closed_ = false;
};

// The engine status as JSON (amounts as exact decimal strings), for `twinstar status --json`.
std::string status_json(const EngineStatus& s);

template <class T>
Result<T> EngineMailbox::call(std::function<Result<T>(EngineControl&)> fn, std::chrono::milliseconds timeout) {
  struct Slot {
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    Result<T> result = std::unexpected(Error{ErrorCode::timeout, "the engine did not answer in time"});
  };
  auto slot = std::make_shared<Slot>();
  const bool posted = post([slot, fn = std::move(fn)](EngineControl& c) {
    Result<T> r = fn(c);
    std::lock_guard lock(slot->m);
    slot->result = std::move(r);
    slot->done = true;
    slot->cv.notify_all();
  });
  if (!posted) return std::unexpected(Error{ErrorCode::unavailable, "the engine is not taking commands (stopping, or too many pending)"});
  std::unique_lock lock(slot->m);
  if (!slot->cv.wait_for(lock, timeout, [&] { return slot->done; })) {
    return std::unexpected(Error{ErrorCode::timeout, "the engine did not answer in time"});
  }
  return std::move(slot->result);
}

}  // namespace twinstar
