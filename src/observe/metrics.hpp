#pragma once
// One metrics registry for the whole engine. Services are not instrumented on their hot paths:
// each registers a collector that reads its existing stats when someone scrapes, so a scrape
// costs the services one stats() call each and costs them nothing between scrapes.
// Rendered in the Prometheus text format by prometheus-cpp's serializer.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace twinstar::observe {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Where a collector writes what it sees. Names must match [a-zA-Z_:][a-zA-Z0-9_:]*; samples of
// one name must share one help text and type (the first one wins).
class MetricSink {
 public:
  virtual ~MetricSink() = default;
  virtual void counter(std::string_view name, std::string_view help, const Labels& labels, double value) = 0;
  virtual void gauge(std::string_view name, std::string_view help, const Labels& labels, double value) = 0;
  // A histogram: cumulative counts per upper bound (the +Inf bucket is `count`), and the sum.
  virtual void histogram(std::string_view name, std::string_view help, const Labels& labels,
                         const std::vector<std::pair<double, std::uint64_t>>& cumulative, std::uint64_t count,
                         double sum) = 0;
};

using Collector = std::function<void(MetricSink&)>;

class MetricsRegistry;

// Keeps a collector registered; unregisters it when destroyed (before the service it reads).
class CollectorHandle {
 public:
  CollectorHandle() = default;
  CollectorHandle(CollectorHandle&&) noexcept;
  CollectorHandle& operator=(CollectorHandle&&) noexcept;
  CollectorHandle(const CollectorHandle&) = delete;
  CollectorHandle& operator=(const CollectorHandle&) = delete;
  ~CollectorHandle();
  void reset();

 private:
  friend class MetricsRegistry;
  CollectorHandle(std::weak_ptr<MetricsRegistry*> registry, std::uint64_t id) : registry_(std::move(registry)), id_(id) {}
  std::weak_ptr<MetricsRegistry*> registry_;
  std::uint64_t id_ = 0;
};

// One sample as collected (tests and the JSON status read these).
struct Sample {
  std::string name;
  Labels labels;
  double value = 0;
};

// Thread: any. Collectors run on the scraping thread, one scrape at a time, so each must be
// safe to call from any thread (the services' stats() are).
class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  [[nodiscard]] CollectorHandle add(Collector collector);
  // The Prometheus text exposition (version 0.0.4) of every collector's samples.
  std::string render_prometheus() const;
  // Counters and gauges only, flattened (histograms appear as NAME_count and NAME_sum).
  std::vector<Sample> collect() const;

 private:
  friend class CollectorHandle;
  void remove(std::uint64_t id);
  template <class Fn>
  void run_collectors(Fn&& sink_user) const;

  mutable std::mutex mutex_;  // guards collectors_ and serialises scrapes
  std::vector<std::pair<std::uint64_t, Collector>> collectors_;  // guarded by mutex_
  std::uint64_t next_id_ = 1;                                    // guarded by mutex_
  std::shared_ptr<MetricsRegistry*> self_;  // handles hold a weak_ptr: a handle may outlive the registry
};

// A latency histogram with fixed exponential buckets (1 µs .. ~17 s, ×2), lock-free to record,
// bounded (no per-sample storage). Quantiles are read as the bucket upper bound, so a p99 is
// an upper bound within a factor of 2 — plus the exact max. Thread: any.
class LatencyHistogram {
 public:
  static constexpr std::size_t kBuckets = 25;  // bucket i holds samples <= 2^i µs
  void record_ns(std::int64_t ns) noexcept;
  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
  std::int64_t max_ns() const noexcept { return max_ns_.load(std::memory_order_relaxed); }
  double sum_seconds() const noexcept { return static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9; }
  // Upper bound (in ns) of the bucket holding quantile q in [0, 1]; 0 when empty.
  std::int64_t quantile_ns(double q) const noexcept;
  // Writes it to a sink in seconds.
  void write(MetricSink& sink, std::string_view name, std::string_view help, const Labels& labels) const;
  static constexpr std::int64_t bucket_bound_ns(std::size_t i) noexcept { return std::int64_t{1000} << i; }

 private:
  std::atomic<std::uint64_t> buckets_[kBuckets + 1] = {};  // the last one: beyond the largest bound
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::int64_t> sum_ns_{0};
  std::atomic<std::int64_t> max_ns_{0};
};

}  // namespace twinstar::observe
