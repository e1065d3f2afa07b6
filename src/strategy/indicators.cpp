#include "strategy/indicators.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace twinstar {

namespace {

std::size_t require_period(std::size_t n) {
  if (n == 0) throw std::invalid_argument("indicator period must be at least 1");
  return n;
}

struct MeanStdDev {
  double mean;
  double stddev;
};

// Two passes over the (small) window: exact enough and free of running-sum cancellation.
MeanStdDev population_stats(const RollingWindow& w) {
  const auto n = static_cast<double>(w.capacity());
  double mean = 0;
  for (std::size_t i = 0; i < w.capacity(); ++i) mean += w.newest(i);
  mean /= n;
  double var = 0;
  for (std::size_t i = 0; i < w.capacity(); ++i) {
    const double d = w.newest(i) - mean;
    var += d * d;
  }
  return {mean, std::sqrt(var / n)};
}

}  // namespace

RollingWindow::RollingWindow(std::size_t n) : buf_(require_period(n), 0.0) {}


double RollingWindow::newest(std::size_t i) const noexcept {
  return buf_[(head_ + buf_.size() - 1 - i) % buf_.size()];
}

Sma::Sma(std::size_t n) : window_(n) {}


Ema::Ema(std::size_t n, EmaSeed seed) : Ema(n, 2.0 / (static_cast<double>(require_period(n)) + 1.0), seed) {}

Ema::Ema(std::size_t n, double alpha, EmaSeed seed) : n_(require_period(n)), alpha_(alpha), seed_(seed) {}

std::optional<double> Ema::update(double v) {
  if (warm_) {
    value_ += alpha_ * (v - value_);
    return value_;
  }
  if (seed_ == EmaSeed::first_value) {
    value_ = v;
    warm_ = true;
    return value_;
  }
  seed_sum_ += v;
  if (++count_ < n_) return std::nullopt;
  value_ = seed_sum_ / static_cast<double>(n_);
  warm_ = true;
  return value_;
}

Wma::Wma(std::size_t n) : window_(n) {}

std::optional<double> Wma::update(double v) {
  const auto n = static_cast<double>(window_.capacity());
  if (window_.full()) {
    // Every weight drops by one (the oldest, weight 1, leaves); the new value enters at weight n.
    weighted_ -= sum_;
    sum_ -= window_.oldest();
    window_.push(v);
    sum_ += v;
    weighted_ += n * v;
  } else {
    window_.push(v);
    sum_ += v;
    weighted_ += static_cast<double>(window_.size()) * v;
  }
  if (!window_.full()) return std::nullopt;
  return weighted_ / (n * (n + 1) / 2);
}

Rsi::Rsi(std::size_t n) : n_(require_period(n)) {}

std::optional<double> Rsi::update(double close) {
  if (!prev_) {
    prev_ = close;
    return std::nullopt;
  }
  const double change = close - *prev_;
  prev_ = close;
  const double gain = change > 0 ? change : 0;
  const double loss = change < 0 ? -change : 0;
  ++changes_;
  if (changes_ <= n_) {
    avg_gain_ += gain / static_cast<double>(n_);
    avg_loss_ += loss / static_cast<double>(n_);
    if (changes_ < n_) return std::nullopt;
  } else {
    const auto n = static_cast<double>(n_);
    avg_gain_ = (avg_gain_ * (n - 1) + gain) / n;
    avg_loss_ = (avg_loss_ * (n - 1) + loss) / n;
  }
  const double total = avg_gain_ + avg_loss_;
  if (total == 0) return 50.0;  // no movement at all: neutral
  return 100.0 * avg_gain_ / total;
}

Macd::Macd(std::size_t fast, std::size_t slow, std::size_t signal)
    : fast_n_(require_period(fast)), slow_n_(require_period(slow)), seed_window_(slow), signal_(signal) {
  if (fast >= slow) throw std::invalid_argument("MACD fast period must be shorter than the slow one");
}

std::optional<MacdValue> Macd::update(double close) {
  ++count_;
  if (count_ < slow_n_) {
    seed_window_.push(close);
    return std::nullopt;
  }
  const double fast_alpha = 2.0 / (static_cast<double>(fast_n_) + 1.0);
  const double slow_alpha = 2.0 / (static_cast<double>(slow_n_) + 1.0);
  if (count_ == slow_n_) {
    // TA-Lib: both EMAs are seeded on this bar, the fast one with the SMA of its last `fast` closes.
    seed_window_.push(close);
    double slow_sum = 0;
    double fast_sum = 0;
    for (std::size_t i = 0; i < slow_n_; ++i) {
      const double v = seed_window_.newest(i);
      slow_sum += v;
      if (i < fast_n_) fast_sum += v;
    }
    slow_ = slow_sum / static_cast<double>(slow_n_);
    fast_ = fast_sum / static_cast<double>(fast_n_);
  } else {
    fast_ += fast_alpha * (close - fast_);
    slow_ += slow_alpha * (close - slow_);
  }
  const double macd = fast_ - slow_;
  auto signal = signal_.update(macd);
  if (!signal) return std::nullopt;
  return MacdValue{macd, *signal, macd - *signal};
}

StdDev::StdDev(std::size_t n) : window_(n) {}

std::optional<double> StdDev::update(double v) {
  window_.push(v);
  if (!window_.full()) return std::nullopt;
  return population_stats(window_).stddev;
}

Bollinger::Bollinger(std::size_t n, double k) : window_(n), k_(k) {}

std::optional<BollingerValue> Bollinger::update(double close) {
  window_.push(close);
  if (!window_.full()) return std::nullopt;
  const auto [mean, sd] = population_stats(window_);
  return BollingerValue{mean + k_ * sd, mean, mean - k_ * sd};
}


Atr::Atr(std::size_t n, FirstBar first) : n_(require_period(n)), tr_(first) {}


RollingExtreme::RollingExtreme(std::size_t n, Kind kind) : n_(require_period(n)), kind_(kind), ring_(n) {}

std::optional<double> RollingExtreme::update(double v) {
  const std::size_t cap = ring_.size();
  // Drop the front if it has left the window.
  if (size_ > 0 && ring_[head_].index + n_ <= index_) {
    head_ = (head_ + 1) % cap;
    --size_;
  }
  // Drop from the back every value the new one dominates: they can never be the extreme again.
  while (size_ > 0 && dominates(v, ring_[(head_ + size_ - 1) % cap].value)) --size_;
  ring_[(head_ + size_) % cap] = Entry{index_, v};
  ++size_;
  ++index_;
  if (index_ < n_) return std::nullopt;
  return ring_[head_].value;
}

}  // namespace twinstar
