#include "venue/sim/market.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>

#include <fmt/format.h>

#include "venue/sim/rng.hpp"

namespace twinstar::venue::sim {

namespace {

using std::chrono::minutes;

// Decimal places of a power-of-ten step given as raw 1e-8 units.
int decimals_of(std::int64_t raw_step) {
  int d = 8;
  while (raw_step >= 10 && raw_step % 10 == 0 && d > 0) {
    raw_step /= 10;
    --d;
  }
  return d;
}

// 10^e as raw 1e-8 units, clamped to [1e-8, 1e4].
std::int64_t pow10_raw(int e) {
  e = std::clamp(e, -8, 4);
  std::int64_t r = 1;
  for (int k = -8; k < e; ++k) r *= 10;
  return r;
}

std::int64_t round_to_step(double value_units, std::int64_t step_raw) {
  const double steps = std::nearbyint(value_units * static_cast<double>(kDecimalScale) / static_cast<double>(step_raw));
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(steps)) * step_raw;
}

// Order sizes: steps worth about $100 at the start price, minimum one step.
void fill_lot_rules(InstrumentSpec& spec, double price) {
  spec.qty_step = Quantity::from_raw(pow10_raw(static_cast<int>(std::floor(std::log10(100.0 / price)))));
  spec.min_qty = spec.qty_step;
  spec.max_qty = Quantity::from_raw(spec.qty_step.raw() * 1'000'000);
}

struct SymbolSeed {
  const char* name;
  double price;          // realistic start price, USDT
  double daily_musd;     // typical 24h turnover, millions of USDT
  double annual_vol;     // annualised volatility
};

// Start prices and activity of the most traded Bybit USDT perpetuals (rounded, late 2024).
constexpr SymbolSeed kSeeds[] = {
    {"BTCUSDT", 60000, 9000, 0.55},  {"ETHUSDT", 3000, 4000, 0.70},    {"SOLUSDT", 150, 1500, 0.90},
    {"XRPUSDT", 0.6, 700, 0.85},     {"DOGEUSDT", 0.12, 800, 1.00},    {"BNBUSDT", 580, 200, 0.60},
    {"ADAUSDT", 0.45, 250, 0.85},    {"AVAXUSDT", 30, 200, 0.95},      {"LINKUSDT", 14, 180, 0.90},
    {"DOTUSDT", 6.5, 120, 0.85},     {"TRXUSDT", 0.12, 60, 0.50},      {"LTCUSDT", 75, 150, 0.75},
    {"BCHUSDT", 380, 120, 0.80},     {"NEARUSDT", 5, 150, 1.00},       {"ATOMUSDT", 7, 80, 0.85},
    {"UNIUSDT", 8, 90, 0.95},        {"XLMUSDT", 0.1, 40, 0.80},       {"ETCUSDT", 22, 60, 0.85},
    {"FILUSDT", 4.5, 60, 0.95},      {"APTUSDT", 8, 90, 1.05},         {"ARBUSDT", 0.8, 120, 1.05},
    {"OPUSDT", 1.8, 100, 1.05},      {"INJUSDT", 22, 80, 1.10},        {"SUIUSDT", 1.2, 300, 1.20},
    {"SEIUSDT", 0.4, 80, 1.15},      {"TIAUSDT", 6, 70, 1.15},         {"AAVEUSDT", 140, 80, 0.95},
    {"MKRUSDT", 2000, 40, 0.90},     {"LDOUSDT", 1.5, 50, 1.05},       {"RUNEUSDT", 4, 70, 1.15},
    {"ALGOUSDT", 0.15, 25, 0.90},    {"HBARUSDT", 0.07, 40, 0.95},     {"ICPUSDT", 9, 40, 1.00},
    {"VETUSDT", 0.03, 20, 0.95},     {"SANDUSDT", 0.3, 30, 1.00},      {"MANAUSDT", 0.3, 20, 1.00},
    {"AXSUSDT", 5, 25, 1.00},        {"GALAUSDT", 0.025, 40, 1.10},    {"EGLDUSDT", 30, 15, 0.95},
    {"THETAUSDT", 1.5, 15, 1.00},    {"XTZUSDT", 0.8, 10, 0.90},       {"EOSUSDT", 0.6, 20, 0.90},
    {"FLOWUSDT", 0.6, 10, 1.00},     {"CRVUSDT", 0.3, 40, 1.15},       {"SNXUSDT", 2, 15, 1.10},
    {"COMPUSDT", 50, 15, 1.00},      {"WLDUSDT", 2, 120, 1.25},        {"1000PEPEUSDT", 0.01, 400, 1.30},
    {"ORDIUSDT", 35, 100, 1.25},     {"STXUSDT", 1.8, 40, 1.15},
};

class SyntheticSource final : public MarketSource {
 public:
  explicit SyntheticSource(const SyntheticOptions& o) : options_(o) {
    const auto start_min = std::chrono::floor<minutes>(o.start);
    origin_ = Timestamp(start_min - std::chrono::floor<minutes>(o.history));
    retention_bars_ = static_cast<std::size_t>(std::max<std::int64_t>(
        std::chrono::floor<minutes>(o.retention).count(), 60));
    const std::size_t n_seeds = std::size(kSeeds);
    for (std::size_t i = 0; i < o.symbols; ++i) {
      InstrumentSpec spec;
      Params p;
      std::string name;
      if (i < n_seeds) {
        name = kSeeds[i].name;
        p.p0 = kSeeds[i].price;
        p.daily_musd = kSeeds[i].daily_musd;
        p.annual_vol = kSeeds[i].annual_vol;
      } else {
        // Beyond the table: SIM051USDT ... with a seeded price between 0.01 and 1000.
        name = fmt::format("SIM{:03}USDT", i + 1);
        const std::uint64_t h = hash_combine(o.seed, hash_string(name));
        p.p0 = std::pow(10.0, -2.0 + 5.0 * unit_from(h));
        p.daily_musd = 5.0 + 50.0 * unit_from(mix64(h));
        p.annual_vol = 0.8 + 0.5 * unit_from(mix64(mix64(h)));
      }
      spec.symbol = *Symbol::parse(name);
      spec.base_coin = name.substr(0, name.size() - 4);
      const int tick_exp = static_cast<int>(std::floor(std::log10(p.p0))) - 5;
      spec.tick_size = Price::from_raw(pow10_raw(tick_exp));
      spec.price_scale = decimals_of(spec.tick_size.raw());
      fill_lot_rules(spec, p.p0);
      p.name_hash = hash_string(name);
      p.sigma = p.annual_vol / std::sqrt(525600.0);
      p.beta = 0.55 + 0.35 * unit_from(hash_combine(o.seed, p.name_hash, 7));
      if (name == "BTCUSDT") p.beta = 0.95;  // the market factor is mostly bitcoin
      p.log_p0 = std::log(p.p0);
      p.base_volume = p.daily_musd * 1e6 / 1440.0 / p.p0;
      specs_.push_back(spec);
      params_.push_back(p);
      bars_.emplace_back();
      first_index_.push_back(0);
      last_log_.push_back(p.log_p0);
    }
    // Generate the history now so the first kline request is fast.
    const std::int64_t upto = std::chrono::duration_cast<minutes>(Timestamp(start_min) - origin_).count();
    for (std::size_t i = 0; i < specs_.size(); ++i) extend(i, upto);
  }

  const std::vector<InstrumentSpec>& instruments() const noexcept override { return specs_; }
  Duration base_interval() const noexcept override { return minutes(1); }
  Timestamp default_start() const noexcept override { return options_.start; }
  Timestamp history_begin() const noexcept override {
    return origin_ + minutes(first_index_.empty() ? 0 : first_index_.front());
  }
  std::string describe() const override {
    return fmt::format("synthetic: {} symbols, seed {}, 1-minute bars, history from {}", specs_.size(), options_.seed,
                       format_iso8601(history_begin()));
  }

  BaseBar bar_summary(std::size_t i, Timestamp open) override {
    const Stored* s = stored(i, open);
    return s ? s->bar : BaseBar{};
  }

  bool bar_path(std::size_t i, Timestamp open, BarPath& out) override {
    const std::int64_t idx = index_of(open);
    if (idx < first_index_[i]) return false;
    const Stored* s = stored(i, open);
    if (!s) return false;
    generate(i, idx, s->log_open, &out);
    return true;
  }

 private:
  struct Params {
    double p0 = 1, daily_musd = 1, annual_vol = 1, sigma = 0, beta = 0.7, log_p0 = 0, base_volume = 1;
    std::uint64_t name_hash = 0;
  };
  struct Stored {
    BaseBar bar;
    double log_open = 0;
    double log_close = 0;
  };

  std::int64_t index_of(Timestamp t) const { return std::chrono::floor<minutes>(t - origin_).count(); }

  const Stored* stored(std::size_t i, Timestamp open) {
    const std::int64_t idx = index_of(open);
    if (idx < first_index_[i]) return nullptr;
    // Bars are generated forward on demand; Market never asks past the simulated now.
    if (idx >= first_index_[i] + static_cast<std::int64_t>(bars_[i].size())) extend(i, idx + 1);
    return &bars_[i][static_cast<std::size_t>(idx - first_index_[i])];
  }

  void extend(std::size_t i, std::int64_t upto_exclusive) {
    auto& dq = bars_[i];
    while (first_index_[i] + static_cast<std::int64_t>(dq.size()) < upto_exclusive) {
      const std::int64_t idx = first_index_[i] + static_cast<std::int64_t>(dq.size());
      Stored s;
      s.log_open = last_log_[i];
      s.log_close = generate(i, idx, s.log_open, nullptr, &s.bar);
      last_log_[i] = s.log_close;
      dq.push_back(s);
      // Bounded memory: bars older than the retention window are evicted (klines there are empty).
      if (dq.size() > retention_bars_) {
        dq.pop_front();
        ++first_index_[i];
      }
    }
  }

  Price quantize(std::size_t i, double log_price) const {
    return Price::from_raw(round_to_step(std::exp(log_price), specs_[i].tick_size.raw()));
  }

  // Generates bar `idx` of instrument i from its open log price; fills the path and/or the
  // summary; returns the close log price. A pure function of (seed, symbol, minute, log_open).
  double generate(std::size_t i, std::int64_t idx, double log_open, BarPath* path, BaseBar* summary = nullptr) const {
    const Params& p = params_[i];
    const std::uint64_t minute = static_cast<std::uint64_t>(
        std::chrono::floor<minutes>(origin_.time_since_epoch()).count() + idx);
    const double z_f = normal_from(hash_combine(options_.seed, 0xFAC7, minute));
    const double z_i = normal_from(hash_combine(options_.seed, p.name_hash, minute));
    // Weak pull toward the start price (half-life ~ a month) keeps long runs in a sane range.
    const double reversion = -2e-5 * (log_open - p.log_p0);
    const double r = p.sigma * (p.beta * z_f + std::sqrt(1 - p.beta * p.beta) * z_i) + reversion;
    const double log_close = log_open + r;

    std::array<double, kPointsPerBar + 1> w{};
    for (int k = 1; k <= kPointsPerBar; ++k) {
      w[k] = w[k - 1] + normal_from(hash_combine(options_.seed, p.name_hash ^ 0xB81D, minute * 64 + k)) * p.sigma /
                            std::sqrt(static_cast<double>(kPointsPerBar));
    }
    std::array<Price, kPointsPerBar + 1> pts{};
    for (int k = 0; k <= kPointsPerBar; ++k) {
      const double f = static_cast<double>(k) / kPointsPerBar;
      pts[k] = quantize(i, log_open + f * r + (w[k] - f * w[kPointsPerBar]));
    }
    const double activity = 1.0 + 1.5 * std::abs(r) / p.sigma;
    const double vol_units =
        p.base_volume * std::exp(0.5 * normal_from(hash_combine(options_.seed, p.name_hash ^ 0x701, minute)) - 0.125) *
        activity;
    const std::int64_t step = specs_[i].qty_step.raw();
    std::array<Quantity, kPointsPerBar> vols{};
    for (int k = 0; k < kPointsPerBar; ++k) {
      const double share = (0.5 + unit_from(hash_combine(options_.seed, p.name_hash ^ 0x5EA, minute * 64 + k))) /
                           kPointsPerBar;
      const double units = vol_units * share;
      vols[k] = Quantity::from_raw(static_cast<std::int64_t>(units * static_cast<double>(kDecimalScale) /
                                                             static_cast<double>(step)) * step);
    }
    if (path) {
      path->open_time = origin_ + minutes(idx);
      path->points = pts;
      path->volumes = vols;
    }
    if (summary) {
      summary->valid = true;
      summary->open = pts[0];
      summary->close = pts[kPointsPerBar];
      summary->high = *std::max_element(pts.begin(), pts.end());
      summary->low = *std::min_element(pts.begin(), pts.end());
      summary->volume = Quantity::zero();
      summary->turnover = Money::zero();
      for (int k = 0; k < kPointsPerBar; ++k) {
        summary->volume += vols[k];
        summary->turnover += notional(pts[k + 1], vols[k]);
      }
    }
    return log_close;
  }

  SyntheticOptions options_;
  Timestamp origin_{};
  std::size_t retention_bars_ = 0;
  std::vector<InstrumentSpec> specs_;
  std::vector<Params> params_;
  std::vector<std::deque<Stored>> bars_;
  std::vector<std::int64_t> first_index_;
  std::vector<double> last_log_;
};

// ---------------------------------------------------------------- replay

struct ReplaySeries {
  std::string symbol;
  Duration interval{};
  std::vector<TimestampMs> opens;
  std::vector<BaseBar> bars;
  int price_decimals = 0;
};

std::vector<std::string_view> split_csv(std::string_view line) {
  std::vector<std::string_view> out;
  while (true) {
    const auto c = line.find(',');
    out.push_back(line.substr(0, c));
    if (c == std::string_view::npos) break;
    line.remove_prefix(c + 1);
  }
  return out;
}

int decimals_in(std::string_view s) {
  const auto dot = s.find('.');
  if (dot == std::string_view::npos) return 0;
  std::string_view frac = s.substr(dot + 1);
  while (!frac.empty() && frac.back() == '0') frac.remove_suffix(1);
  return static_cast<int>(frac.size());
}

Result<ReplaySeries> load_csv(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return make_error(ErrorCode::io_error, "{}: cannot open", file.string());
  ReplaySeries s;
  const std::string stem = file.stem().string();
  s.symbol = stem.substr(0, stem.find_first_of("_-"));
  if (!Symbol::parse(s.symbol)) return make_error(ErrorCode::parse_error, "{}: no symbol in the file name", file.string());
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const auto cols = split_csv(line);
    if (line_no == 1 && !cols.empty() && !cols[0].empty() && !(cols[0][0] >= '0' && cols[0][0] <= '9')) continue;
    if (cols.size() < 6) return make_error(ErrorCode::parse_error, "{}:{}: expected at least 6 columns", file.string(), line_no);
    TimestampMs open{};
    const std::string_view t = cols[0];
    if (t.find('-') == std::string_view::npos) {
      std::int64_t ms = 0;
      auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), ms);
      if (ec != std::errc() || p != t.data() + t.size()) {
        return make_error(ErrorCode::parse_error, "{}:{}: bad epoch time '{}'", file.string(), line_no, t);
      }
      if (ms > 100'000'000'000'000LL) ms /= 1000;  // microsecond dumps
      open = from_epoch_ms(ms);
    } else {
      auto ts = parse_iso8601(t);
      if (!ts) return make_error(ErrorCode::parse_error, "{}:{}: {}", file.string(), line_no, ts.error().message);
      open = floor_ms(*ts);
    }
    BaseBar b;
    auto o = Price::parse_rounded(cols[1]);
    auto h = Price::parse_rounded(cols[2]);
    auto l = Price::parse_rounded(cols[3]);
    auto c = Price::parse_rounded(cols[4]);
    auto v = Quantity::parse_rounded(cols[5]);
    if (!o || !h || !l || !c || !v) {
      return make_error(ErrorCode::parse_error, "{}:{}: bad number in '{}'", file.string(), line_no, line);
    }
    b.open = *o;
    b.high = *h;
    b.low = *l;
    b.close = *c;
    b.volume = *v;
    // The files carry no turnover: volume times the bar's typical price.
    b.turnover = notional(Price::from_raw((h->raw() + l->raw() + c->raw()) / 3), *v);
    b.valid = true;
    if (!s.opens.empty() && open <= s.opens.back()) continue;  // duplicates and disorder: keep the first
    for (const auto& col : {cols[1], cols[2], cols[3], cols[4]}) s.price_decimals = std::max(s.price_decimals, decimals_in(col));
    s.opens.push_back(open);
    s.bars.push_back(b);
  }
  if (s.opens.size() < 2) return make_error(ErrorCode::parse_error, "{}: fewer than 2 candles", file.string());
  auto step = s.opens[1] - s.opens[0];
  for (std::size_t k = 2; k < std::min<std::size_t>(s.opens.size(), 200); ++k) step = std::min(step, s.opens[k] - s.opens[k - 1]);
  s.interval = step;
  return s;
}

class ReplaySource final : public MarketSource {
 public:
  ReplaySource(std::vector<ReplaySeries> series, Duration interval, std::optional<Timestamp> start)
      : series_(std::move(series)), interval_(interval) {
    Timestamp first_common{};
    Timestamp last_common = Timestamp::max();
    for (const auto& s : series_) {
      InstrumentSpec spec;
      spec.symbol = *Symbol::parse(s.symbol);
      spec.base_coin = s.symbol.ends_with("USDT") ? s.symbol.substr(0, s.symbol.size() - 4) : s.symbol;
      spec.price_scale = std::min(s.price_decimals, 8);
      spec.tick_size = Price::from_raw(pow10_raw(-spec.price_scale));
      fill_lot_rules(spec, s.bars.front().close.to_double());
      specs_.push_back(spec);
      first_common = std::max(first_common, Timestamp(s.opens.front()));
      last_common = std::min(last_common, Timestamp(s.opens.back()));
      begin_ = begin_ == Timestamp{} ? Timestamp(s.opens.front()) : std::min(begin_, Timestamp(s.opens.front()));
    }
    // Enough history before the start for a 1000-candle backfill, when the files allow it.
    Timestamp st = first_common + interval_ * 1000;
    if (st >= last_common) st = first_common + (last_common - first_common) / 2;
    start_ = start.value_or(st);
  }

  const std::vector<InstrumentSpec>& instruments() const noexcept override { return specs_; }
  Duration base_interval() const noexcept override { return interval_; }
  Timestamp default_start() const noexcept override { return start_; }
  Timestamp history_begin() const noexcept override { return begin_; }
  std::string describe() const override {
    return fmt::format("replay: {} symbols, {} bars, {} .. {}", specs_.size(), format_duration(interval_),
                       format_iso8601(begin_), format_iso8601(start_));
  }

  BaseBar bar_summary(std::size_t i, Timestamp open) override {
    const auto& s = series_[i];
    const auto it = std::lower_bound(s.opens.begin(), s.opens.end(), floor_ms(open));
    if (it == s.opens.end() || Timestamp(*it) != open) return {};
    return s.bars[static_cast<std::size_t>(it - s.opens.begin())];
  }

  bool bar_path(std::size_t i, Timestamp open, BarPath& out) override {
    const BaseBar b = bar_summary(i, open);
    if (!b.valid) return false;
    // open -> first extreme -> second extreme -> close; down first on an up bar.
    const bool up = b.close >= b.open;
    const Price e1 = up ? b.low : b.high;
    const Price e2 = up ? b.high : b.low;
    const std::int64_t tick = specs_[i].tick_size.raw();
    auto lerp = [tick](Price a, Price z, int k, int n) {
      const std::int64_t d = (z.raw() - a.raw()) * k / n;
      return Price::from_raw(a.raw() + d / tick * tick);
    };
    out.open_time = open;
    out.points[0] = b.open;
    for (int k = 1; k <= 3; ++k) out.points[k] = lerp(b.open, e1, k, 3);
    for (int k = 4; k <= 9; ++k) out.points[k] = lerp(e1, e2, k - 3, 6);
    for (int k = 10; k <= kPointsPerBar; ++k) out.points[k] = lerp(e2, b.close, k - 9, 3);
    const std::int64_t each = b.volume.raw() / kPointsPerBar;
    for (int k = 0; k < kPointsPerBar; ++k) out.volumes[k] = Quantity::from_raw(each);
    out.volumes[kPointsPerBar - 1] = Quantity::from_raw(b.volume.raw() - each * (kPointsPerBar - 1));
    return true;
  }

 private:
  std::vector<ReplaySeries> series_;
  Duration interval_;
  std::vector<InstrumentSpec> specs_;
  Timestamp begin_{};
  Timestamp start_{};
};

}  // namespace

std::unique_ptr<MarketSource> make_synthetic_source(const SyntheticOptions& options) {
  return std::make_unique<SyntheticSource>(options);
}

Result<std::unique_ptr<MarketSource>> make_replay_source(const ReplayOptions& options) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  if (std::filesystem::is_directory(options.path, ec)) {
    for (const auto& e : std::filesystem::directory_iterator(options.path, ec)) {
      if (e.path().extension() == ".csv") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
  } else if (std::filesystem::exists(options.path, ec)) {
    files.push_back(options.path);
  } else {
    return make_error(ErrorCode::io_error, "--replay {}: no such file or folder", options.path.string());
  }
  if (files.empty()) return make_error(ErrorCode::io_error, "--replay {}: no .csv files", options.path.string());
  // Per symbol, every file's series; the base interval is the finest one most symbols have.
  std::map<std::string, std::vector<ReplaySeries>> by_symbol;
  for (const auto& f : files) {
    auto s = load_csv(f);
    if (!s) return make_error(s.error());
    by_symbol[s->symbol].push_back(std::move(*s));
  }
  std::map<Duration, int> finest_count;
  for (auto& [sym, list] : by_symbol) {
    Duration finest = Duration::max();
    for (const auto& s : list) finest = std::min(finest, s.interval);
    ++finest_count[finest];
  }
  Duration base{};
  int best = -1;
  for (const auto& [d, n] : finest_count) {
    if (n > best) {
      best = n;
      base = d;
    }
  }
  std::vector<ReplaySeries> chosen;
  for (auto& [sym, list] : by_symbol) {
    for (auto& s : list) {
      if (s.interval == base) {
        chosen.push_back(std::move(s));
        break;
      }
    }
  }
  return std::unique_ptr<MarketSource>(std::make_unique<ReplaySource>(std::move(chosen), base, options.start));
}

// ---------------------------------------------------------------- Market

Market::Market(std::unique_ptr<MarketSource> source) : source_(std::move(source)) {
  const auto& specs = source_->instruments();
  for (std::size_t i = 0; i < specs.size(); ++i) index_by_symbol_.emplace(specs[i].symbol.str(), i);
  current_path_.resize(specs.size());
}

std::optional<std::size_t> Market::find(std::string_view symbol) const {
  const auto it = index_by_symbol_.find(std::string(symbol));
  if (it == index_by_symbol_.end()) return std::nullopt;
  return it->second;
}

bool Market::supports(Interval interval) const noexcept {
  const Duration base = source_->base_interval();
  if (interval == Interval::mo1) return std::chrono::hours(24) % base == Duration::zero();
  const Duration len = interval_length(interval);
  return len >= base && len % base == Duration::zero();
}

Timestamp Market::bar_floor(Timestamp t) const noexcept {
  const Duration base = source_->base_interval();
  const auto since = t.time_since_epoch();
  return Timestamp(since - ((since % base) + base) % base);
}

const BarPath* Market::path_for(std::size_t i, Timestamp bar_open) {
  auto& cached = current_path_[i];
  if (cached && cached->open_time == bar_open) return &*cached;
  BarPath p;
  if (!source_->bar_path(i, bar_open, p)) return nullptr;
  cached = p;
  return &*cached;
}

std::optional<Candle> Market::candle(std::size_t i, Interval interval, Timestamp open, Timestamp now) {
  if (open > now) return std::nullopt;
  const Timestamp end = interval_next(interval, open);
  const Duration base = source_->base_interval();
  const Duration step = base / kPointsPerBar;
  Candle c;
  c.open_time = floor_ms(open);
  bool any = false;
  auto merge = [&](Price o, Price h, Price l, Price cl, Quantity v, Money t) {
    if (!any) {
      c.open = o;
      c.high = h;
      c.low = l;
      any = true;
    } else {
      c.high = std::max(c.high, h);
      c.low = std::min(c.low, l);
    }
    c.close = cl;
    c.volume += v;
    c.turnover += t;
  };
  for (Timestamp t = bar_floor(open); t < end && t <= now; t += base) {
    if (t + base <= now) {
      const BaseBar b = source_->bar_summary(i, t);
      if (b.valid) merge(b.open, b.high, b.low, b.close, b.volume, b.turnover);
      continue;
    }
    const BarPath* p = path_for(i, t);
    if (!p) continue;
    const int j = static_cast<int>(std::min<std::int64_t>((now - t) / step, kPointsPerBar - 1));
    Price hi = p->points[0], lo = p->points[0];
    Quantity v;
    Money turn;
    for (int k = 1; k <= j; ++k) {
      hi = std::max(hi, p->points[k]);
      lo = std::min(lo, p->points[k]);
      v += p->volumes[k - 1];
      turn += notional(p->points[k], p->volumes[k - 1]);
    }
    merge(p->points[0], hi, lo, p->points[j], v, turn);
  }
  if (!any) return std::nullopt;
  c.closed = now >= end;
  return c;
}

std::vector<Candle> Market::klines(std::size_t i, Interval interval, Timestamp start, Timestamp end,
                                   std::size_t limit, Timestamp now) {
  std::vector<Candle> out;
  const Timestamp last = std::min(end, now);
  if (last < start) return out;
  const Timestamp begin = source_->history_begin();
  for (Timestamp o = interval_floor(interval, last); out.size() < limit && o >= interval_floor(interval, start);) {
    if (interval_next(interval, o) <= begin) break;
    if (o >= start || interval_floor(interval, start) == o) {
      if (auto c = candle(i, interval, o, now)) out.push_back(*c);
    }
    o = is_fixed_length(interval) ? o - interval_length(interval) : interval_floor(interval, o - Duration(1));
  }
  return out;
}

Price Market::price_at(std::size_t i, Timestamp t) {
  const Duration base = source_->base_interval();
  const Timestamp bar = bar_floor(t);
  if (const BarPath* p = path_for(i, bar)) {
    const auto j = std::min<std::int64_t>((t - bar) / (base / kPointsPerBar), kPointsPerBar - 1);
    return p->points[static_cast<std::size_t>(j)];
  }
  // No bar at t (a gap, or after the data ends): the last close before it.
  for (Timestamp b = bar - base; b >= source_->history_begin() && b > bar - base * 100'000; b -= base) {
    const BaseBar s = source_->bar_summary(i, b);
    if (s.valid) return s.close;
  }
  return Price::zero();
}

void Market::points_between(std::size_t i, Timestamp from, Timestamp to, std::vector<std::pair<Timestamp, Price>>& out) {
  if (to <= from) return;
  const Duration base = source_->base_interval();
  const Duration step = base / kPointsPerBar;
  for (Timestamp b = bar_floor(from); b <= to; b += base) {
    const BarPath* p = path_for(i, b);
    if (!p) continue;
    for (int k = 0; k < kPointsPerBar; ++k) {
      const Timestamp tk = b + step * k;
      if (tk > from && tk <= to) out.emplace_back(tk, p->points[k]);
    }
  }
}

}  // namespace twinstar::venue::sim
