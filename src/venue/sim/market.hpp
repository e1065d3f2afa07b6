#pragma once
// The sim's market: instruments, base bars with an intra-bar price path, and candles of any
// Bybit interval aggregated from them. Sources: synthetic (seeded) or replayed CSV files.
// Thread: one owner (the sim's io thread); nothing here is locked.

#include <array>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/candle.hpp"
#include "core/decimal.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/time.hpp"

namespace twinstar::venue::sim {

struct InstrumentSpec {
  Symbol symbol;
  std::string base_coin;
  std::string quote_coin = "USDT";
  Price tick_size;
  int price_scale = 2;  // decimals of tick_size
  Quantity qty_step;
  Quantity min_qty;
  Quantity max_qty;
  Money min_notional = Money::from_units(5);
};

// Points per base bar: the live price moves in these steps (synthetic: 5 s of a 1-minute bar).
inline constexpr int kPointsPerBar = 12;

// One base bar and the path the price took through it: points[0] is the open, points[k] the
// price after step k (k = 1..kPointsPerBar), volumes[k-1] what traded in step k.
struct BarPath {
  Timestamp open_time{};
  std::array<Price, kPointsPerBar + 1> points{};
  std::array<Quantity, kPointsPerBar> volumes{};
};

// A closed base bar's summary.
struct BaseBar {
  Price open, high, low, close;
  Quantity volume;
  Money turnover;
  bool valid = false;  // false: the source has no bar here (a gap, or outside the data)
};

class MarketSource {
 public:
  virtual ~MarketSource() = default;
  virtual const std::vector<InstrumentSpec>& instruments() const noexcept = 0;
  virtual Duration base_interval() const noexcept = 0;
  // The simulated clock starts here unless the user says otherwise.
  virtual Timestamp default_start() const noexcept = 0;
  // Earliest base bar open; klines before it are empty (as before a symbol's listing).
  virtual Timestamp history_begin() const noexcept = 0;
  // Base bar starting at `open` (aligned to base_interval): false when there is no data there.
  virtual bool bar_path(std::size_t instrument, Timestamp open, BarPath& out) = 0;
  virtual BaseBar bar_summary(std::size_t instrument, Timestamp open) = 0;
  virtual std::string describe() const = 0;
};

struct SyntheticOptions {
  std::size_t symbols = 50;
  std::uint64_t seed = 1;
  Timestamp start{};            // the simulated "now" at launch
  Duration history = std::chrono::hours(24 * 7);    // generated bars before start
  Duration retention = std::chrono::hours(24 * 14);  // bars kept in memory (older are evicted)
};

// N symbols (BTCUSDT, ETHUSDT, SOLUSDT, ... then SIM051USDT ...) with realistic start prices,
// per-symbol volatility, a common factor, and volume that rises with |return|; 1-minute bars.
std::unique_ptr<MarketSource> make_synthetic_source(const SyntheticOptions& options);

struct ReplayOptions {
  std::filesystem::path path;  // a CSV file or a folder of them
  std::optional<Timestamp> start;  // default: the first common bar + 1000 bars of history
};

// Candles from CSV files: bybit-linear (`timestamp,open,...` ISO), binance spot
// (`date,open,...,ticker`) or Binance dumps (`open_time` epoch ms). The symbol is the file
// name up to the first '_' or '-'. Errors: io_error, parse_error with file:line.
Result<std::unique_ptr<MarketSource>> make_replay_source(const ReplayOptions& options);

class Market {
 public:
  explicit Market(std::unique_ptr<MarketSource> source);

  const std::vector<InstrumentSpec>& instruments() const noexcept { return source_->instruments(); }
  std::optional<std::size_t> find(std::string_view symbol) const;
  const MarketSource& source() const noexcept { return *source_; }
  // Intervals that are whole multiples of the base bar (or calendar days/weeks/months).
  bool supports(Interval interval) const noexcept;

  // The candle of `interval` opening at `open` as known at `now`: partial while now is inside
  // it (closed=false), complete after. nullopt when the source has no bar in it up to now.
  std::optional<Candle> candle(std::size_t instrument, Interval interval, Timestamp open, Timestamp now);
  // Bybit kline semantics: candles whose start is in [start, end] (end capped at now), newest
  // first, at most `limit`.
  std::vector<Candle> klines(std::size_t instrument, Interval interval, Timestamp start, Timestamp end,
                             std::size_t limit, Timestamp now);
  // The last traded price at `t` (the path point at or before t; the last close after the data ends).
  Price price_at(std::size_t instrument, Timestamp t);
  // Path points in (from, to] for the matching engine; appended to out as (time, price).
  void points_between(std::size_t instrument, Timestamp from, Timestamp to,
                      std::vector<std::pair<Timestamp, Price>>& out);

 private:
  const BarPath* path_for(std::size_t instrument, Timestamp bar_open);
  Timestamp bar_floor(Timestamp t) const noexcept;

  std::unique_ptr<MarketSource> source_;
  std::unordered_map<std::string, std::size_t> index_by_symbol_;
  std::vector<std::optional<BarPath>> current_path_;  // per instrument: the last path generated
};

}  // namespace twinstar::venue::sim
