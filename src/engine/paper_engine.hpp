#pragma once
// The paper engine: every bot of the config (or the default pair: a SingleBot on BTCUSDT and
// a MultiTrader on 30 other symbols) trading side by side against the built-in simulated
// market, in process, on an accelerated clock, through the shared services — one rate
// limiter per account, one durable capital ledger, one candle store. `twinstar demo` runs it.
// The same bots over real sockets: live_engine.hpp (`twinstar run`).

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "bot/bots.hpp"
#include "capital/ledger.hpp"
#include "config/config.hpp"
#include "ratelimit/limiter.hpp"
#include "store/candle_store.hpp"

namespace twinstar {

class EngineMailbox;

struct PaperEngineOptions {
  std::filesystem::path data_dir = "./data/demo";
  double speed = 900;                     // simulated seconds per real second (900: a 15-minute candle a second)
  std::optional<Duration> duration;       // simulated time to run; none = until stopped
  Duration report_every = std::chrono::hours(1);  // simulated time between status reports
  std::uint64_t seed = 1;
  Timestamp start{};                      // the simulated clock's start (the caller passes "now")
  std::size_t market_symbols = 50;
  std::vector<BotConfig> bots;            // empty: the default SingleBot + MultiTrader
  CapitalConfig capital;
  std::vector<RateLimitConfig> rate_limits;  // preset overrides from the config
  Ratio taker_fee = Ratio::from_raw(55'000);   // 0.055 %, Bybit's linear taker fee
  Ratio slippage = Ratio::from_raw(20'000);    // 0.02 % against every market order
  bool fresh_ledger = true;               // start each run from a clean paper account
  std::size_t warmup_candles = 200;       // history fed to the strategies before trading starts
  GrantObserver grant_observer;           // every rate-limit grant (tests check the windows with it)
  EngineMailbox* mailbox = nullptr;       // run-time control jobs, drained every turn (engine_control.hpp)
  // The clock to run on, standing at `start` (a test drives a ManualClock step by step, so a
  // run is deterministic); none = an AcceleratedClock at `speed` from `start`.
  Clock* clock = nullptr;
  std::function<void(const TradeRecord&)> on_trade;  // every closed trade, as it closes
};

struct BotStatus {
  std::string name;
  std::string kind;
  std::string state;
  std::vector<std::string> symbols;
  std::map<std::string, double> params;
  std::size_t positions = 0;
  std::size_t trades = 0;
  Money realized_pnl;
  std::string last_signal;
  std::string last_refusal;
};

// The market feed's part of the report (live engine only).
struct FeedSummary {
  std::uint64_t connections = 0;
  std::uint64_t reconnects = 0;
  std::uint64_t closed_candles = 0;
  std::uint64_t gaps = 0;
  std::uint64_t gap_candles_filled = 0;
  std::uint64_t queue_depth = 0;
};

// What the original system's main loop printed every 60 s, and more.
struct EngineStatus {
  Timestamp sim_time{};
  LedgerStats capital;
  RateLimiterSummary limiter;
  store::StoreStats data;
  std::size_t gaps = 0;                 // missing candles the store knows of
  std::vector<BotStatus> bots;
  std::uint64_t orders = 0;
  std::uint64_t fills = 0;
  std::uint64_t limiter_refusals = 0;   // orders not sent because the limiter said no in time
  std::optional<FeedSummary> feed;      // live engine
  // Closed candle handed to the engine -> its order written to the venue (live engine, real time).
  std::int64_t candle_to_order_p50_ns = 0;
  std::int64_t candle_to_order_p99_ns = 0;
};

std::string format_status(const EngineStatus& s);

// The default bots of the demo.
std::vector<BotConfig> default_demo_bots(std::size_t market_symbols);

// Runs until `stop` is requested or the duration passes. Calls `report` every report_every.
// Errors: bad bot config (before any order), store or ledger failures.
Status run_paper_engine(const PaperEngineOptions& options, std::stop_token stop,
                        const std::function<void(const EngineStatus&)>& report);

}  // namespace twinstar
