// The built-in strategies. Strength is normalised to [0, 1] by each strategy's own
// volatility yardstick (ATR or band width), so a MultiTrader can rank signals across symbols.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <set>
#include <utility>

#include "strategy/indicators.hpp"
#include "strategy/strategy.hpp"

namespace twinstar {

std::string_view to_string(Side s) noexcept { return s == Side::buy ? "buy" : "sell"; }

namespace {

double clamp01(double v) { return std::isfinite(v) ? std::clamp(v, 0.0, 1.0) : 0.0; }

std::optional<Price> price_of(double v) {
  if (!(v > 0) || !std::isfinite(v)) return std::nullopt;
  auto p = Price::from_double(v);
  if (!p) return std::nullopt;
  return *p;
}

// Reads, range-checks and remembers parameters; unknown keys are errors.
class ParamReader {
 public:
  ParamReader(std::string_view strategy, const StrategyParams& given) : strategy_(strategy), given_(given) {}

  double get(const std::string& key, double fallback, double min, double max, bool integer = false) {
    known_.insert(key);
    double v = fallback;
    if (auto it = given_.find(key); it != given_.end()) v = it->second;
    if (!(v >= min && v <= max) || (integer && v != std::floor(v))) {
      if (!error_) {
        error_ = Error{ErrorCode::invalid_argument,
                       fmt::format("strategy {}: parameter {} must be {} in [{}, {}], got {}", strategy_, key,
                                   integer ? "an integer" : "a number", min, max, v)};
      }
    }
    used_[key] = v;
    return v;
  }

  Status finish() const {
    if (error_) return std::unexpected(*error_);
    for (const auto& [k, v] : given_) {
      if (!known_.contains(k)) {
        std::string list;
        for (const auto& name : known_) list += (list.empty() ? "" : ", ") + name;
        return make_error(ErrorCode::invalid_argument, "strategy {}: unknown parameter {} (known: {})", strategy_, k, list);
      }
    }
    return {};
  }

  const StrategyParams& used() const { return used_; }

 private:
  std::string_view strategy_;
  const StrategyParams& given_;
  std::set<std::string> known_;
  StrategyParams used_;
  std::optional<Error> error_;
};

// Stop and target at multiples of ATR from the entry, on the side the trade needs.
void set_exits(Signal& s, double close, double atr, double stop_atr, double take_atr) {
  const double dir = s.side == Side::buy ? 1.0 : -1.0;
  s.stop_loss = price_of(close - dir * stop_atr * atr);
  s.take_profit = price_of(close + dir * take_atr * atr);
}

Signal make_signal(const Symbol& symbol, const Candle& c, Side side, double strength, std::string reason) {
  Signal s;
  s.symbol = symbol;
  s.side = side;
  s.strength = clamp01(strength);
  s.entry = c.close;
  s.time = c.open_time;
  s.reason = std::move(reason);
  return s;
}

class MaCross final : public Strategy {
 public:
  static Result<std::unique_ptr<Strategy>> create(const StrategyParams& p) {
    ParamReader r("ma_cross", p);
    auto s = std::make_unique<MaCross>();
    s->fast_n_ = static_cast<std::size_t>(r.get("fast", 10, 1, 1000, true));
    s->slow_n_ = static_cast<std::size_t>(r.get("slow", 30, 2, 5000, true));
    s->ema_ = r.get("ema", 0, 0, 1, true) == 1;
    s->atr_n_ = static_cast<std::size_t>(r.get("atr", 14, 1, 1000, true));
    s->stop_atr_ = r.get("stop_atr", 2, 0.1, 100);
    s->take_atr_ = r.get("take_atr", 3, 0.1, 100);
    if (auto st = r.finish(); !st) return std::unexpected(st.error());
    if (s->fast_n_ >= s->slow_n_) {
      return make_error(ErrorCode::invalid_argument, "strategy ma_cross: fast ({}) must be shorter than slow ({})", s->fast_n_,
                        s->slow_n_);
    }
    s->params_ = r.used();
    // Formatted once: a backtest makes thousands of signals.
    for (const bool up : {true, false}) {
      (up ? s->reason_up_ : s->reason_down_) =
          fmt::format("{} {}/{} cross {}", s->ema_ ? "EMA" : "SMA", s->fast_n_, s->slow_n_, up ? "up" : "down");
    }
    s->reset();
    return std::unique_ptr<Strategy>(std::move(s));
  }

  std::optional<Signal> on_candle(const Symbol& symbol, const Candle& c) override {
    const double close = c.close.to_double();
    const auto fast = ema_ ? fast_ema_->update(close) : fast_sma_->update(close);
    const auto slow = ema_ ? slow_ema_->update(close) : slow_sma_->update(close);
    const auto atr = atr_->update(c);
    if (!fast || !slow || !atr) return std::nullopt;
    const double diff = *fast - *slow;
    const std::optional<double> prev = std::exchange(prev_diff_, diff);
    // Most candles cross nothing: return before any Signal is built.
    if (!prev || !(*atr > 0)) return std::nullopt;
    const bool up = *prev <= 0 && diff > 0;
    const bool down = *prev >= 0 && diff < 0;
    if (!up && !down) return std::nullopt;
    // Strength: how sharply the averages crossed, in ATRs.
    const double speed = std::abs(diff - *prev) / *atr;
    Signal out = make_signal(symbol, c, up ? Side::buy : Side::sell, speed * 4, up ? reason_up_ : reason_down_);
    set_exits(out, close, *atr, stop_atr_, take_atr_);
    return out;
  }

  std::unique_ptr<Strategy> clone_fresh() const override {
    auto s = std::make_unique<MaCross>(*this);
    s->reset();
    return s;
  }
  std::string_view name() const noexcept override { return "ma_cross"; }
  StrategyParams params() const override { return params_; }
  std::size_t warmup() const noexcept override { return std::max(slow_n_, atr_n_ + 1) + 1; }

  MaCross() = default;
  MaCross(const MaCross& o)
      : fast_n_(o.fast_n_), slow_n_(o.slow_n_), atr_n_(o.atr_n_), ema_(o.ema_), stop_atr_(o.stop_atr_),
        take_atr_(o.take_atr_), params_(o.params_), reason_up_(o.reason_up_), reason_down_(o.reason_down_) {}

 private:
  void reset() {
    fast_sma_.emplace(fast_n_);
    slow_sma_.emplace(slow_n_);
    fast_ema_.emplace(fast_n_);
    slow_ema_.emplace(slow_n_);
    atr_.emplace(atr_n_);
    prev_diff_.reset();
  }

  std::size_t fast_n_ = 10, slow_n_ = 30, atr_n_ = 14;
  bool ema_ = false;
  double stop_atr_ = 2, take_atr_ = 3;
  StrategyParams params_;
  std::string reason_up_, reason_down_;
  std::optional<Sma> fast_sma_, slow_sma_;
  std::optional<Ema> fast_ema_, slow_ema_;
  std::optional<Atr> atr_;
  std::optional<double> prev_diff_;
};

class RsiReversion final : public Strategy {
 public:
  static Result<std::unique_ptr<Strategy>> create(const StrategyParams& p) {
    ParamReader r("rsi_reversion", p);
    auto s = std::make_unique<RsiReversion>();
    s->period_ = static_cast<std::size_t>(r.get("period", 14, 2, 1000, true));
    s->oversold_ = r.get("oversold", 30, 1, 49);
    s->overbought_ = r.get("overbought", 70, 51, 99);
    s->atr_n_ = static_cast<std::size_t>(r.get("atr", 14, 1, 1000, true));
    s->stop_atr_ = r.get("stop_atr", 1.5, 0.1, 100);
    s->take_atr_ = r.get("take_atr", 2, 0.1, 100);
    if (auto st = r.finish(); !st) return std::unexpected(st.error());
    s->params_ = r.used();
    s->reset();
    return std::unique_ptr<Strategy>(std::move(s));
  }

  std::optional<Signal> on_candle(const Symbol& symbol, const Candle& c) override {
    const double close = c.close.to_double();
    const auto rsi = rsi_->update(close);
    const auto atr = atr_->update(c);
    if (!rsi || !atr) return std::nullopt;
    std::optional<Signal> out;
    // Signal on entering a zone, not on every bar inside it.
    if (prev_ && *atr > 0) {
      if (*prev_ >= oversold_ && *rsi < oversold_) {
        out = make_signal(symbol, c, Side::buy, (oversold_ - *rsi) / oversold_ * 4 + 0.25,
                          fmt::format("RSI({}) {:.1f} below {}", period_, *rsi, oversold_));
      } else if (*prev_ <= overbought_ && *rsi > overbought_) {
        out = make_signal(symbol, c, Side::sell, (*rsi - overbought_) / (100 - overbought_) * 4 + 0.25,
                          fmt::format("RSI({}) {:.1f} above {}", period_, *rsi, overbought_));
      }
      if (out) set_exits(*out, close, *atr, stop_atr_, take_atr_);
    }
    prev_ = rsi;
    return out;
  }

  std::unique_ptr<Strategy> clone_fresh() const override {
    auto s = std::make_unique<RsiReversion>();
    s->period_ = period_;
    s->oversold_ = oversold_;
    s->overbought_ = overbought_;
    s->atr_n_ = atr_n_;
    s->stop_atr_ = stop_atr_;
    s->take_atr_ = take_atr_;
    s->params_ = params_;
    s->reset();
    return s;
  }
  std::string_view name() const noexcept override { return "rsi_reversion"; }
  StrategyParams params() const override { return params_; }
  std::size_t warmup() const noexcept override { return std::max(period_, atr_n_) + 2; }

 private:
  void reset() {
    rsi_.emplace(period_);
    atr_.emplace(atr_n_);
    prev_.reset();
  }
  std::size_t period_ = 14, atr_n_ = 14;
  double oversold_ = 30, overbought_ = 70, stop_atr_ = 1.5, take_atr_ = 2;
  StrategyParams params_;
  std::optional<Rsi> rsi_;
  std::optional<Atr> atr_;
  std::optional<double> prev_;
};

class BollingerBreakout final : public Strategy {
 public:
  static Result<std::unique_ptr<Strategy>> create(const StrategyParams& p) {
    ParamReader r("bollinger_breakout", p);
    auto s = std::make_unique<BollingerBreakout>();
    s->period_ = static_cast<std::size_t>(r.get("period", 20, 2, 1000, true));
    s->k_ = r.get("k", 2, 0.1, 10);
    s->atr_n_ = static_cast<std::size_t>(r.get("atr", 14, 1, 1000, true));
    s->stop_atr_ = r.get("stop_atr", 2, 0.1, 100);
    s->take_atr_ = r.get("take_atr", 4, 0.1, 100);
    if (auto st = r.finish(); !st) return std::unexpected(st.error());
    s->params_ = r.used();
    s->reset();
    return std::unique_ptr<Strategy>(std::move(s));
  }

  std::optional<Signal> on_candle(const Symbol& symbol, const Candle& c) override {
    const double close = c.close.to_double();
    const auto band = bands_->update(close);
    const auto atr = atr_->update(c);
    if (!band || !atr) return std::nullopt;
    std::optional<Signal> out;
    const double half_width = band->upper - band->middle;
    if (prev_close_ && prev_band_ && half_width > 0 && *atr > 0) {
      if (*prev_close_ <= prev_band_->upper && close > band->upper) {
        out = make_signal(symbol, c, Side::buy, (close - band->upper) / half_width * 4 + 0.25,
                          fmt::format("close {:.8g} broke above the upper band {:.8g}", close, band->upper));
      } else if (*prev_close_ >= prev_band_->lower && close < band->lower) {
        out = make_signal(symbol, c, Side::sell, (band->lower - close) / half_width * 4 + 0.25,
                          fmt::format("close {:.8g} broke below the lower band {:.8g}", close, band->lower));
      }
      if (out) set_exits(*out, close, *atr, stop_atr_, take_atr_);
    }
    prev_close_ = close;
    prev_band_ = band;
    return out;
  }

  std::unique_ptr<Strategy> clone_fresh() const override {
    auto s = std::make_unique<BollingerBreakout>();
    s->period_ = period_;
    s->k_ = k_;
    s->atr_n_ = atr_n_;
    s->stop_atr_ = stop_atr_;
    s->take_atr_ = take_atr_;
    s->params_ = params_;
    s->reset();
    return s;
  }
  std::string_view name() const noexcept override { return "bollinger_breakout"; }
  StrategyParams params() const override { return params_; }
  std::size_t warmup() const noexcept override { return std::max(period_, atr_n_ + 1) + 1; }

 private:
  void reset() {
    bands_.emplace(period_, k_);
    atr_.emplace(atr_n_);
    prev_close_.reset();
    prev_band_.reset();
  }
  std::size_t period_ = 20, atr_n_ = 14;
  double k_ = 2, stop_atr_ = 2, take_atr_ = 4;
  StrategyParams params_;
  std::optional<Bollinger> bands_;
  std::optional<Atr> atr_;
  std::optional<double> prev_close_;
  std::optional<BollingerValue> prev_band_;
};

// Double bottom (buy) and double top (sell): two swing lows (highs) of nearly equal price,
// at least `min_gap` bars apart, with a rally (drop) of at least `depth_atr` ATRs between
// them; the signal fires when the close breaks the neckline (the extreme between the two).
class DoublePattern final : public Strategy {
 public:
  static Result<std::unique_ptr<Strategy>> create(const StrategyParams& p) {
    ParamReader r("double_pattern", p);
    auto s = std::make_unique<DoublePattern>();
    s->swing_ = static_cast<std::size_t>(r.get("swing", 3, 1, 50, true));
    s->lookback_ = static_cast<std::size_t>(r.get("lookback", 60, 10, 1000, true));
    s->min_gap_ = static_cast<std::size_t>(r.get("min_gap", 5, 2, 500, true));
    s->tolerance_ = r.get("tolerance", 0.5, 0.01, 10);  // the two extremes within this many ATRs
    s->depth_atr_ = r.get("depth_atr", 1.5, 0.1, 50);
    s->atr_n_ = static_cast<std::size_t>(r.get("atr", 14, 1, 1000, true));
    if (auto st = r.finish(); !st) return std::unexpected(st.error());
    if (s->min_gap_ + 2 * s->swing_ >= s->lookback_) {
      return make_error(ErrorCode::invalid_argument, "strategy double_pattern: lookback ({}) must exceed min_gap + 2 × swing ({})",
                        s->lookback_, s->min_gap_ + 2 * s->swing_);
    }
    s->params_ = r.used();
    s->reset();
    return std::unique_ptr<Strategy>(std::move(s));
  }

  std::optional<Signal> on_candle(const Symbol& symbol, const Candle& c) override {
    const auto atr = atr_->update(c);
    bars_.push_back(Bar{index_, c.high.to_double(), c.low.to_double(), c.close.to_double()});
    if (bars_.size() > lookback_) bars_.pop_front();
    ++index_;
    find_swings();
    while (!swings_.empty() && swings_.front().index + lookback_ < index_) swings_.pop_front();
    if (!atr || *atr <= 0) return std::nullopt;
    const double close = c.close.to_double();
    if (auto s = check(symbol, c, close, *atr, true)) return s;
    return check(symbol, c, close, *atr, false);
  }

  std::unique_ptr<Strategy> clone_fresh() const override {
    auto s = std::make_unique<DoublePattern>();
    s->swing_ = swing_;
    s->lookback_ = lookback_;
    s->min_gap_ = min_gap_;
    s->tolerance_ = tolerance_;
    s->depth_atr_ = depth_atr_;
    s->atr_n_ = atr_n_;
    s->params_ = params_;
    s->reset();
    return s;
  }
  std::string_view name() const noexcept override { return "double_pattern"; }
  StrategyParams params() const override { return params_; }
  std::size_t warmup() const noexcept override { return std::max(atr_n_ + 1, min_gap_ + 2 * swing_ + 1); }

 private:
  struct Bar {
    std::size_t index;
    double high, low, close;
  };
  struct Swing {
    std::size_t index;
    double price;
    bool low;
  };

  void reset() {
    atr_.emplace(atr_n_);
    bars_.clear();
    swings_.clear();
    index_ = 0;
    last_bottom_ = last_top_ = SIZE_MAX;
  }

  // The bar `swing_` bars back is a swing low (high) if no bar within `swing_` on either side
  // goes lower (higher); ties count for the earliest bar only.
  void find_swings() {
    const std::size_t width = 2 * swing_ + 1;
    if (bars_.size() < width) return;
    const std::size_t center = bars_.size() - 1 - swing_;
    const Bar& b = bars_[center];
    bool is_low = true, is_high = true;
    for (std::size_t i = center - swing_; i <= center + swing_; ++i) {
      if (i == center) continue;
      const bool before = i < center;
      if (before ? bars_[i].low <= b.low : bars_[i].low < b.low) is_low = false;
      if (before ? bars_[i].high >= b.high : bars_[i].high > b.high) is_high = false;
    }
    if (is_low) swings_.push_back(Swing{b.index, b.low, true});
    if (is_high) swings_.push_back(Swing{b.index, b.high, false});
  }

  std::optional<Signal> check(const Symbol& symbol, const Candle& c, double close, double atr, bool bottom) {
    // The two newest swings of the kind.
    const Swing* second = nullptr;
    const Swing* first = nullptr;
    for (auto it = swings_.rbegin(); it != swings_.rend(); ++it) {
      if (it->low != bottom) continue;
      if (!second) {
        second = &*it;
      } else {
        first = &*it;
        break;
      }
    }
    if (!first || !second) return std::nullopt;
    std::size_t& last = bottom ? last_bottom_ : last_top_;
    if (last == second->index) return std::nullopt;  // this pattern already fired
    if (second->index - first->index < min_gap_) return std::nullopt;
    const double difference = std::abs(second->price - first->price);
    if (difference > tolerance_ * atr) return std::nullopt;
    // The neckline: the highest high (lowest low) between the two extremes.
    double neck = bottom ? -1e300 : 1e300;
    for (const Bar& b : bars_) {
      if (b.index <= first->index || b.index >= second->index) continue;
      neck = bottom ? std::max(neck, b.high) : std::min(neck, b.low);
    }
    const double extreme = bottom ? std::min(first->price, second->price) : std::max(first->price, second->price);
    const double depth = bottom ? neck - extreme : extreme - neck;
    if (depth < depth_atr_ * atr) return std::nullopt;
    const bool broke = bottom ? close > neck : close < neck;
    if (!broke) return std::nullopt;
    last = second->index;
    const double similarity = 1.0 - difference / (tolerance_ * atr);
    const double thrust = (bottom ? close - neck : neck - close) / atr;
    Signal s = make_signal(symbol, c, bottom ? Side::buy : Side::sell, 0.5 * similarity + 0.5 * clamp01(thrust),
                           fmt::format("double {} at {:.8g}/{:.8g}, neckline {:.8g}", bottom ? "bottom" : "top",
                                       first->price, second->price, neck));
    // Stop beyond the extremes; target the pattern's height projected from the entry
    // (the breakout candle may close well past the neckline).
    s.stop_loss = price_of(bottom ? extreme - 0.25 * atr : extreme + 0.25 * atr);
    s.take_profit = price_of(bottom ? close + depth : close - depth);
    return s;
  }

  std::size_t swing_ = 3, lookback_ = 60, min_gap_ = 5, atr_n_ = 14;
  double tolerance_ = 0.5, depth_atr_ = 1.5;
  StrategyParams params_;
  std::optional<Atr> atr_;
  std::deque<Bar> bars_;      // bounded by lookback_
  std::deque<Swing> swings_;  // only swings inside the lookback
  std::size_t index_ = 0;
  std::size_t last_bottom_ = SIZE_MAX, last_top_ = SIZE_MAX;
};

struct Entry {
  std::string_view name;
  Result<std::unique_ptr<Strategy>> (*create)(const StrategyParams&);
};

constexpr Entry kStrategies[] = {
    {"ma_cross", &MaCross::create},
    {"rsi_reversion", &RsiReversion::create},
    {"bollinger_breakout", &BollingerBreakout::create},
    {"double_pattern", &DoublePattern::create},
};

}  // namespace

std::vector<std::string_view> strategy_names() {
  std::vector<std::string_view> names;
  for (const auto& e : kStrategies) names.push_back(e.name);
  return names;
}

Result<std::unique_ptr<Strategy>> make_strategy(std::string_view name, const StrategyParams& params) {
  for (const auto& e : kStrategies) {
    if (e.name == name) return e.create(params);
  }
  return make_error(ErrorCode::invalid_argument, "unknown strategy \"{}\" (known: {})", name, fmt::join(strategy_names(), ", "));
}

Result<StrategyParams> parse_strategy_params(std::string_view text) {
  StrategyParams out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return make_error(ErrorCode::parse_error, "strategy parameter \"{}\" must look like key=value", item);
    }
    const std::string_view key = item.substr(0, eq);
    const std::string_view value = item.substr(eq + 1);
    double v = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || ptr != value.data() + value.size()) {
      return make_error(ErrorCode::parse_error, "strategy parameter {} must be a number, got \"{}\"", key, value);
    }
    out[std::string(key)] = v;
  }
  return out;
}

}  // namespace twinstar
