#pragma once
// The event-driven backtest: candles of one or many series merged in time order drive the
// live bot classes unchanged, against an in-memory capital ledger with the live rules and the
// BacktestVenue's explicit fill model.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backtest/backtest_venue.hpp"
#include "backtest/metrics.hpp"
#include "bot/bots.hpp"

namespace twinstar {

struct SeriesData {
  SeriesKey key;
  std::vector<Candle> candles;  // closed candles, oldest first
};

enum class EndOfRun : std::uint8_t {
  close_at_last_close,  // open positions are closed at the last bar's close (default)
  report_open,          // left open and listed as open in the result
};

struct BacktestOptions {
  FillModel fill;
  LedgerOptions ledger;  // initial capital, max_allocation_ratio, caps and guards: the live rules
  EndOfRun end = EndOfRun::close_at_last_close;
  // Candles opening before it only warm the strategies up (the bots are paused, as the paper
  // engine's warm-up does); trading, the equity curve and the metrics start there.
  std::optional<Timestamp> trade_from;
  double risk_free_rate = 0;
  // Called every `progress_every` candles with (done, total).
  std::function<void(std::size_t, std::size_t)> progress;
  std::size_t progress_every = 1'000'000;
};

// How the bots under test are built: called once with the services they must use.
using BotFactory = std::function<std::vector<std::unique_ptr<Bot>>(CapitalLedger&, OrderGateway&, Clock&, SymbolClaims&)>;

struct OpenPositionReport {
  std::string bot;
  Position position;
};

struct BacktestResult {
  Metrics metrics;
  std::vector<TradeRecord> trades;   // every bot's, in exit order
  std::vector<EquityPoint> equity;   // one point per distinct bar time
  std::vector<OpenPositionReport> open_positions;
  std::string fill_model;            // FillModel::describe()
  std::size_t candles = 0;
  std::size_t series = 0;
  LedgerStats ledger;
};

// The fill model and run options in one line, printed with every result.
std::string describe(const BacktestOptions& options);

// Errors: no series, an empty series, series out of order, nothing to trade at or after trade_from.
Result<BacktestResult> run_backtest(const std::vector<SeriesData>& data, const BotFactory& make_bots,
                                    const BacktestOptions& options);

// The result as JSON (metrics, trades, equity curve): the same inputs give byte-identical output.
std::string to_json(const BacktestResult& result);

}  // namespace twinstar
