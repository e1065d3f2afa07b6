#include "observe/metrics.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

namespace twinstar::observe {

CollectorHandle::CollectorHandle(CollectorHandle&& other) noexcept
    : registry_(std::move(other.registry_)), id_(std::exchange(other.id_, 0)) {}

CollectorHandle& CollectorHandle::operator=(CollectorHandle&& other) noexcept {
  if (this != &other) {
    reset();
    registry_ = std::move(other.registry_);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

CollectorHandle::~CollectorHandle() { reset(); }

void CollectorHandle::reset() {
  if (id_ == 0) return;
  if (auto r = registry_.lock()) (*r)->remove(id_);
  id_ = 0;
  registry_.reset();
}

MetricsRegistry::MetricsRegistry() : self_(std::make_shared<MetricsRegistry*>(this)) {}

MetricsRegistry::~MetricsRegistry() = default;

CollectorHandle MetricsRegistry::add(Collector collector) {
  std::lock_guard lock(mutex_);
  const std::uint64_t id = next_id_++;
  collectors_.emplace_back(id, std::move(collector));
  return CollectorHandle(self_, id);
}

void MetricsRegistry::remove(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  std::erase_if(collectors_, [id](const auto& c) { return c.first == id; });
}

template <class Fn>
void MetricsRegistry::run_collectors(Fn&& sink_user) const {
  std::lock_guard lock(mutex_);
  for (const auto& [id, collector] : collectors_) sink_user(collector);
}

namespace {

prometheus::ClientMetric make_metric(const Labels& labels) {
  prometheus::ClientMetric m;
  for (const auto& [k, v] : labels) m.label.push_back({k, v});
  return m;
}

// Families in first-seen order, so the output is stable from scrape to scrape.
class FamilySink final : public MetricSink {
 public:
  void counter(std::string_view name, std::string_view help, const Labels& labels, double value) override {
    auto m = make_metric(labels);
    m.counter.value = value;
    family(name, help, prometheus::MetricType::Counter).metric.push_back(std::move(m));
  }
  void gauge(std::string_view name, std::string_view help, const Labels& labels, double value) override {
    auto m = make_metric(labels);
    m.gauge.value = value;
    family(name, help, prometheus::MetricType::Gauge).metric.push_back(std::move(m));
  }
  void histogram(std::string_view name, std::string_view help, const Labels& labels,
                 const std::vector<std::pair<double, std::uint64_t>>& cumulative, std::uint64_t count,
                 double sum) override {
    auto m = make_metric(labels);
    m.histogram.sample_count = count;
    m.histogram.sample_sum = sum;
    for (const auto& [bound, n] : cumulative) m.histogram.bucket.push_back({n, bound});
    m.histogram.bucket.push_back({count, std::numeric_limits<double>::infinity()});
    family(name, help, prometheus::MetricType::Histogram).metric.push_back(std::move(m));
  }
  std::vector<prometheus::MetricFamily> take() { return std::move(families_); }

 private:
  prometheus::MetricFamily& family(std::string_view name, std::string_view help, prometheus::MetricType type) {
    auto [it, inserted] = index_.try_emplace(std::string(name), families_.size());
    if (inserted) families_.push_back(prometheus::MetricFamily{std::string(name), std::string(help), type, {}});
    return families_[it->second];
  }
  std::map<std::string, std::size_t, std::less<>> index_;
  std::vector<prometheus::MetricFamily> families_;
};

class SampleSink final : public MetricSink {
 public:
  explicit SampleSink(std::vector<Sample>& out) : out_(out) {}
  void counter(std::string_view name, std::string_view, const Labels& labels, double value) override {
    out_.push_back({std::string(name), labels, value});
  }
  void gauge(std::string_view name, std::string_view, const Labels& labels, double value) override {
    out_.push_back({std::string(name), labels, value});
  }
  void histogram(std::string_view name, std::string_view, const Labels& labels,
                 const std::vector<std::pair<double, std::uint64_t>>&, std::uint64_t count, double sum) override {
    out_.push_back({std::string(name) + "_count", labels, static_cast<double>(count)});
    out_.push_back({std::string(name) + "_sum", labels, sum});
  }

 private:
  std::vector<Sample>& out_;
};

}  // namespace

std::string MetricsRegistry::render_prometheus() const {
  FamilySink sink;
  run_collectors([&](const Collector& c) { c(sink); });
  std::ostringstream out;
  prometheus::TextSerializer{}.Serialize(out, sink.take());
  return std::move(out).str();
}

std::vector<Sample> MetricsRegistry::collect() const {
  std::vector<Sample> out;
  SampleSink sink(out);
  run_collectors([&](const Collector& c) { c(sink); });
  return out;
}

void LatencyHistogram::record_ns(std::int64_t ns) noexcept {
  if (ns < 0) ns = 0;
  // Bucket i holds (2^(i-1) µs, 2^i µs]; bucket 0 everything up to 1 µs.
  const auto us_ceil = static_cast<std::uint64_t>((ns + 999) / 1000);
  const std::size_t i = us_ceil <= 1 ? 0 : static_cast<std::size_t>(std::bit_width(us_ceil - 1));
  buckets_[std::min(i, kBuckets)].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(ns, std::memory_order_relaxed);
  std::int64_t seen = max_ns_.load(std::memory_order_relaxed);
  while (ns > seen && !max_ns_.compare_exchange_weak(seen, ns, std::memory_order_relaxed)) {
  }
}

std::int64_t LatencyHistogram::quantile_ns(double q) const noexcept {
  const std::uint64_t n = count();
  if (n == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(std::max(1.0, std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(n))));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i].load(std::memory_order_relaxed);
    if (seen >= rank) return std::min(bucket_bound_ns(i), max_ns());
  }
  return max_ns();
}

void LatencyHistogram::write(MetricSink& sink, std::string_view name, std::string_view help, const Labels& labels) const {
  std::vector<std::pair<double, std::uint64_t>> cumulative;
  cumulative.reserve(kBuckets);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i].load(std::memory_order_relaxed);
    cumulative.emplace_back(static_cast<double>(bucket_bound_ns(i)) / 1e9, seen);
  }
  sink.histogram(name, help, labels, cumulative, std::max(seen + buckets_[kBuckets].load(std::memory_order_relaxed), count()),
                 sum_seconds());
}

}  // namespace twinstar::observe
