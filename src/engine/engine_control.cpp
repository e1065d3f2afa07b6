#include "engine/engine_control.hpp"

#include "core/json_writer.hpp"
#include "core/time.hpp"

namespace twinstar {

bool EngineMailbox::post(Job job) {
  std::lock_guard lock(mutex_);
  if (closed_ || jobs_.size() >= capacity_) return false;
  jobs_.push_back(std::move(job));
  return true;
}

void EngineMailbox::run_pending(EngineControl& control) {
  std::deque<Job> jobs;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    jobs.swap(jobs_);
  }
  for (Job& job : jobs) job(control);
}

void EngineMailbox::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  jobs_.clear();  // their callers time out; nothing they asked for was started
}

std::size_t EngineMailbox::depth() const {
  std::lock_guard lock(mutex_);
  return jobs_.size();
}

std::string status_json(const EngineStatus& s) {
  JsonWriter w;
  const auto& c = s.capital;
  w.begin_object();
  w.field("sim_time", format_iso8601(s.sim_time));
  w.key("capital").begin_object();
  w.field("equity", c.equity).field("reserved", c.reserved).field("committed", c.committed);
  w.field("cap", c.cap).field("realized_pnl", c.realized_pnl).field("fees", c.fees);
  w.field("allocation_ratio", c.allocation_ratio.to_double()).field("roi", c.roi.to_double());
  w.field("max_drawdown", c.max_drawdown.to_double());
  w.end_object();
  w.key("limiter").begin_object();
  w.field("requests", static_cast<std::uint64_t>(s.limiter.total_requests));
  w.field("rejected", static_cast<std::uint64_t>(s.limiter.rejected_requests));
  w.field("rejection_rate", s.limiter.rejection_rate).field("mean_wait_seconds", s.limiter.avg_wait_time);
  w.end_object();
  w.key("data").begin_object();
  w.field("series", static_cast<std::uint64_t>(s.data.series_known));
  w.field("series_resident", static_cast<std::uint64_t>(s.data.series_resident));
  w.field("candles_in_memory", static_cast<std::uint64_t>(s.data.candles_resident));
  w.field("resident_bytes", static_cast<std::uint64_t>(s.data.resident_bytes));
  w.field("candles_flushed", static_cast<std::uint64_t>(s.data.candles_flushed));
  w.field("flushes", static_cast<std::uint64_t>(s.data.flushes));
  w.field("gaps", static_cast<std::uint64_t>(s.gaps));
  w.end_object();
  w.key("orders").begin_object();
  w.field("sent", s.orders).field("filled", s.fills).field("not_sent", s.limiter_refusals);
  w.end_object();
  if (s.feed) {
    w.key("feed").begin_object();
    w.field("connections", s.feed->connections).field("reconnects", s.feed->reconnects);
    w.field("closed_candles", s.feed->closed_candles).field("gaps", s.feed->gaps);
    w.field("gap_candles_filled", s.feed->gap_candles_filled).field("queue_depth", s.feed->queue_depth);
    w.field("candle_to_order_p50_ns", s.candle_to_order_p50_ns).field("candle_to_order_p99_ns", s.candle_to_order_p99_ns);
    w.end_object();
  }
  w.key("bots").begin_array();
  for (const auto& b : s.bots) {
    w.begin_object();
    w.field("name", b.name).field("kind", b.kind).field("state", b.state);
    w.field("symbols", static_cast<std::uint64_t>(b.symbols.size()));
    w.key("symbol_list").begin_array();
    for (const auto& sym : b.symbols) w.value(sym);
    w.end_array();
    w.key("params").begin_object();
    for (const auto& [k, v] : b.params) w.field(k, v);
    w.end_object();
    w.field("positions", static_cast<std::uint64_t>(b.positions)).field("trades", static_cast<std::uint64_t>(b.trades));
    w.field("realized_pnl", b.realized_pnl).field("last_signal", b.last_signal).field("last_refusal", b.last_refusal);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return w.take();
}

}  // namespace twinstar
