#pragma once
// Streaming technical indicators: one O(1) update per closed candle, bounded memory.
// Each update returns the value once the indicator is warm (std::nullopt before).
// Conventions follow TA-Lib (see ../shared/data/indicators/README.md): EMA seeded with the
// SMA of its first n inputs; RSI and ATR use Wilder's smoothing seeded with a simple average;
// MACD seeds its fast and slow EMAs so both start on the slow EMA's first bar; Bollinger uses
// the population standard deviation. Values are double: indicators are not money.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "core/candle.hpp"

namespace twinstar {

// A fixed-size window of the last n values (the only storage indicators need).
class RollingWindow {
 public:
  explicit RollingWindow(std::size_t n);
  void push(double v) {
    buf_[head_] = v;
    if (++head_ == buf_.size()) head_ = 0;  // not %: a division per value is a hot cost of a replay
    if (size_ < buf_.size()) ++size_;
  }
  bool full() const noexcept { return size_ == buf_.size(); }
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return buf_.size(); }
  double oldest() const noexcept { return buf_[head_]; }  // valid when full: the value about to leave
  // i = 0 is the newest value.
  double newest(std::size_t i = 0) const noexcept;

 private:
  std::vector<double> buf_;
  std::size_t head_ = 0;  // next write position = oldest element when full
  std::size_t size_ = 0;
};

class Sma {
 public:
  explicit Sma(std::size_t n);
  // Inline: a backtest calls it for every candle of every series.
  std::optional<double> update(double v) {
    if (window_.full()) sum_ -= window_.oldest();
    window_.push(v);
    sum_ += v;
    if (!window_.full()) return std::nullopt;
    return sum_ / static_cast<double>(window_.capacity());
  }
  std::size_t period() const noexcept { return window_.capacity(); }

 private:
  RollingWindow window_;
  double sum_ = 0;
};

enum class EmaSeed {
  sma,          // TA-Lib: first output at bar n-1 = SMA of the first n inputs
  first_value,  // Tulip / many charting tools: first output at bar 0 = the first input
};

class Ema {
 public:
  explicit Ema(std::size_t n, EmaSeed seed = EmaSeed::sma);
  // Explicit smoothing factor (Wilder's smoothing is alpha = 1/n).
  Ema(std::size_t n, double alpha, EmaSeed seed);
  std::optional<double> update(double v);
  std::optional<double> value() const noexcept { return warm_ ? std::optional<double>(value_) : std::nullopt; }

 private:
  std::size_t n_;
  double alpha_;
  EmaSeed seed_;
  std::size_t count_ = 0;
  double seed_sum_ = 0;
  double value_ = 0;
  bool warm_ = false;
};

// Linearly weighted: the newest input weighs n, the oldest 1.
class Wma {
 public:
  explicit Wma(std::size_t n);
  std::optional<double> update(double v);

 private:
  RollingWindow window_;
  double sum_ = 0;       // plain sum of the window
  double weighted_ = 0;  // weighted sum of the window
};

// Wilder's RSI: first output after n changes (bar n).
class Rsi {
 public:
  explicit Rsi(std::size_t n);
  std::optional<double> update(double close);

 private:
  std::size_t n_;
  std::optional<double> prev_;
  std::size_t changes_ = 0;
  double avg_gain_ = 0;
  double avg_loss_ = 0;
};

struct MacdValue {
  double macd = 0;
  double signal = 0;
  double histogram = 0;
};

class Macd {
 public:
  Macd(std::size_t fast = 12, std::size_t slow = 26, std::size_t signal = 9);
  std::optional<MacdValue> update(double close);

 private:
  std::size_t fast_n_;
  std::size_t slow_n_;
  RollingWindow seed_window_;  // the last `slow` closes, to seed both EMAs on the same bar
  std::size_t count_ = 0;
  double fast_ = 0;
  double slow_ = 0;
  Ema signal_;
};

struct BollingerValue {
  double upper = 0;
  double middle = 0;
  double lower = 0;
};

class Bollinger {
 public:
  explicit Bollinger(std::size_t n = 20, double k = 2.0);
  std::optional<BollingerValue> update(double close);

 private:
  RollingWindow window_;
  double k_;
};

// Population standard deviation over n values.
class StdDev {
 public:
  explicit StdDev(std::size_t n);
  std::optional<double> update(double v);

 private:
  RollingWindow window_;
};

// Which bar the true range starts on.
enum class FirstBar {
  skip,        // TA-Lib: no previous close, no true range (first output on the second candle)
  high_low,    // StockCharts, Tulip: the first bar's range is high - low
};

class TrueRange {
 public:
  explicit TrueRange(FirstBar first = FirstBar::skip) : first_(first) {}
  std::optional<double> update(double high, double low, double close) {
    std::optional<double> out;
    if (!prev_close_ && first_ == FirstBar::high_low) out = high - low;
    if (prev_close_) out = std::max({high - low, std::abs(high - *prev_close_), std::abs(low - *prev_close_)});
    prev_close_ = close;
    return out;
  }

 private:
  FirstBar first_;
  std::optional<double> prev_close_;
};

// Wilder's ATR: the first output is the mean of the first n true ranges
// (bar n with FirstBar::skip as TA-Lib does, bar n-1 with FirstBar::high_low).
class Atr {
 public:
  explicit Atr(std::size_t n = 14, FirstBar first = FirstBar::skip);
  std::optional<double> update(double high, double low, double close) {
    auto tr = tr_.update(high, low, close);
    if (!tr) return std::nullopt;
    ++count_;
    if (count_ < n_) {
      sum_ += *tr;
      return std::nullopt;
    }
    if (count_ == n_) {
      value_ = (sum_ + *tr) / static_cast<double>(n_);
    } else {
      const auto n = static_cast<double>(n_);
      value_ = (value_ * (n - 1) + *tr) / n;
    }
    return value_;
  }
  std::optional<double> update(const Candle& c) {
    return update(c.high.to_double(), c.low.to_double(), c.close.to_double());
  }

 private:
  std::size_t n_;
  TrueRange tr_;
  std::size_t count_ = 0;
  double sum_ = 0;
  double value_ = 0;
};

// Highest / lowest of the last n values, O(1) amortised with a monotonic queue.
class RollingExtreme {
 public:
  enum class Kind { highest, lowest };
  RollingExtreme(std::size_t n, Kind kind);
  std::optional<double> update(double v);

 private:
  struct Entry {
    std::size_t index;
    double value;
  };
  bool dominates(double a, double b) const noexcept { return kind_ == Kind::highest ? a >= b : a <= b; }
  std::size_t n_;
  Kind kind_;
  std::vector<Entry> ring_;  // a deque bounded by n, stored as a ring
  std::size_t head_ = 0;
  std::size_t size_ = 0;
  std::size_t index_ = 0;
};

// The batch form of any single-input indicator: the same code run over a series,
// so streaming and batch agree exactly by construction.
template <class Indicator>
auto batch(Indicator indicator, std::span<const double> values) {
  using Out = decltype(indicator.update(0.0));
  std::vector<Out> out;
  out.reserve(values.size());
  for (double v : values) out.push_back(indicator.update(v));
  return out;
}

}  // namespace twinstar
