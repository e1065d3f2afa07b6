#include "engine/send_queue.hpp"

#include <algorithm>

namespace twinstar {

bool SendQueue::push(SendJob job) {
  {
    std::lock_guard lock(mutex_);
    if (jobs_.size() >= capacity_) return false;
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

std::deque<SendJob>::iterator SendQueue::takeable_locked() {
  return std::find_if(jobs_.begin(), jobs_.end(), [&](const SendJob& j) {
    return std::none_of(out_.begin(), out_.end(), [&](const SendJob& o) { return o.symbol == j.symbol; });
  });
}

std::optional<SendJob> SendQueue::take(std::stop_token stop, std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  cv_.wait_until(lock, stop, deadline, [&] { return takeable_locked() != jobs_.end(); });
  auto it = takeable_locked();
  if (it == jobs_.end()) return std::nullopt;
  SendJob job = std::move(*it);
  jobs_.erase(it);
  out_.push_back(job);
  return job;
}

bool SendQueue::take_direct(const SendJob& job) {
  std::lock_guard lock(mutex_);
  const auto same = [&](const SendJob& j) { return j.symbol == job.symbol; };
  if (std::any_of(jobs_.begin(), jobs_.end(), same) || std::any_of(out_.begin(), out_.end(), same)) return false;
  out_.push_back(job);
  return true;
}

void SendQueue::done(const SendJob& job) {
  {
    std::lock_guard lock(mutex_);
    auto it = std::find_if(out_.begin(), out_.end(), [&](const SendJob& o) { return o.client_id == job.client_id && o.kind == job.kind; });
    if (it != out_.end()) out_.erase(it);
  }
  cv_.notify_all();  // whoever waits for this symbol
}

bool SendQueue::pending(std::string_view client_id) const {
  std::lock_guard lock(mutex_);
  const auto is = [&](const SendJob& j) { return j.client_id == client_id; };
  return std::any_of(jobs_.begin(), jobs_.end(), is) || std::any_of(out_.begin(), out_.end(), is);
}

std::size_t SendQueue::queued() const {
  std::lock_guard lock(mutex_);
  return jobs_.size();
}

std::size_t SendQueue::places() const {
  std::lock_guard lock(mutex_);
  const auto is = [](const SendJob& j) { return j.kind == SendJob::Kind::place; };
  return static_cast<std::size_t>(std::count_if(jobs_.begin(), jobs_.end(), is) + std::count_if(out_.begin(), out_.end(), is));
}

}  // namespace twinstar
