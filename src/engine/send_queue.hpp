#pragma once
// An account's outgoing order jobs, taken by several sender threads. Bounded (overflow policy
// refuse_new: a push into a full queue fails, nothing queued is dropped). At most one job per
// symbol is out at a time, so one symbol's orders and cancels reach the venue in the order they
// were made, while different symbols' go out side by side.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "bot/order.hpp"
#include "core/ids.hpp"
#include "core/time.hpp"

namespace twinstar {

struct SendJob {
  enum class Kind : std::uint8_t { place, cancel } kind = Kind::place;
  OrderRequest request;       // place only
  std::string client_id;      // the order placed or cancelled
  Symbol symbol;
  std::int64_t received_ns = 0;  // real ns the deciding candle reached the engine; 0 = none
  Timestamp queued_at{};         // engine clock at submit (the journal's created time)
  bool via_rest = false;         // the order channel did not send it: REST only
  bool journaled = false;        // place: already in the order journal (a resend)
};

// Thread: any.
class SendQueue {
 public:
  explicit SendQueue(std::size_t capacity) : capacity_(capacity) {}

  // false when full (refuse_new).
  bool push(SendJob job);

  // The oldest job whose symbol has none out, marked out; waits for one until `deadline` or a
  // stop. Once stopped it still hands out what can be taken (so the queue drains), then nullopt.
  std::optional<SendJob> take(std::stop_token stop, std::chrono::steady_clock::time_point deadline);

  // Marks `job` out without queuing it, if its symbol has no job queued or out (a caller that
  // sends it itself, keeping each symbol's jobs in order). false: push() it instead.
  bool take_direct(const SendJob& job);

  // The job's answer is in: its symbol's next job may be taken.
  void done(const SendJob& job);

  // Queued or out (a place or a cancel of it).
  bool pending(std::string_view client_id) const;

  std::size_t queued() const;
  // Place jobs queued or out: orders the journal may not hold yet.
  std::size_t places() const;
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  std::deque<SendJob>::iterator takeable_locked();

  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable_any cv_;
  std::deque<SendJob> jobs_;       // guarded by mutex_
  std::vector<SendJob> out_;       // guarded by mutex_: jobs being sent (one per symbol)
};

}  // namespace twinstar
