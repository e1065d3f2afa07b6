#pragma once
// The engine's one TOML configuration file, parsed and validated. Data only: each module
// maps its section onto its own options, so modules never depend on this one.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/decimal.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/time.hpp"

namespace twinstar {

struct CapitalConfig {
  Exchange exchange = Exchange::bybit;      // which account's capital this ledger tracks
  Money initial_capital = Money::from_units(10'000);
  Ratio max_allocation_ratio = Ratio::from_raw(80'000'000);  // 0.8: 20 % stays free for emergencies
  std::map<std::string, Money> per_symbol_cap;  // symbol -> most that may be reserved + committed
  std::map<std::string, Money> per_bot_cap;     // bot name -> most that may be reserved + committed
  std::optional<Money> daily_loss_limit;        // refuse new reservations once today's loss reaches it
  std::optional<Ratio> max_drawdown;            // refuse new reservations once drawdown from peak reaches it
};

// Overrides of one bucket of a rate-limit preset.
struct BucketOverride {
  std::optional<std::int64_t> limit;   // published limit per window
  std::optional<Duration> window;
  std::optional<bool> strict;          // sliding window: no window ever holds more than the limit
};

struct RateLimitConfig {
  std::string preset;                          // bybit, binance_spot, binance_usdm, okx, bitget
  std::optional<Ratio> safety_margin;          // default 0.9 of the published limit
  // This process's part of the budget when several engine processes trade through one host or
  // account (default 1: all of it). Claimed in DATA_DIR/ratelimit/<preset>.shares at start.
  std::optional<Ratio> share;
  std::map<std::string, BucketOverride> buckets;
};

// An exchange account. Secrets are never stored here: only where to find them.
struct AccountConfig {
  std::string name = "default";
  Exchange exchange = Exchange::bybit;
  Market market = Market::linear;
  std::string endpoint;             // empty = the venue's mainnet; "sim" = twinstar sim
  std::string api_key_env;          // environment variable holding the API key
  std::string api_secret_env;       // environment variable holding the API secret
  std::string key_file;             // or a file (mode 0600) with key and secret
  // websocket: orders over the venue's WebSocket order entry where it has one (Bybit /v5/trade),
  // REST while it is down; rest: REST only.
  std::string order_entry = "websocket";
};

// How a bot sizes its entries.
struct SizingConfig {
  std::string mode = "fixed_quote";   // fixed_quote | percent_available | risk
  Money amount = Money::from_units(100);                 // fixed_quote
  Ratio fraction = Ratio::from_raw(10'000'000);          // percent_available: 0.1 of available capital
  Ratio risk_fraction = Ratio::from_raw(1'000'000);      // risk: 0.01 of equity lost at the stop
  Quantity lot_size = Quantity::from_raw(1);
  Money min_notional = Money::zero();
};

// One bot: kind "single" (one symbol) or "multi" (a list of symbols, ranked signals).
struct BotConfig {
  std::string name;
  std::string kind = "single";
  std::string account = "default";
  Exchange exchange = Exchange::bybit;
  Market market = Market::linear;
  Interval interval = Interval::m15;
  std::vector<std::string> symbols;        // one for a single bot
  std::string strategy = "ma_cross";
  std::map<std::string, double> params;    // validated by the strategy itself
  SizingConfig sizing;
  std::size_t max_positions = 1;
  bool allow_short = false;
  bool trade_symbols_of_other_bots = false;  // a multi bot may enter a symbol another bot holds
  int line = 0;                              // where it was defined, for later errors
};

// The backtest's fill model and run options (see docs/BACKTEST.md).
struct BacktestConfig {
  std::optional<Timestamp> from;
  std::optional<Timestamp> to;
  std::string market_fill = "next_open";   // next_open | signal_close
  std::string exits = "at_level";          // at_level | next_open
  std::string both_touched = "stop_first"; // stop_first | take_profit_first
  Ratio commission = Ratio::zero();        // rate of notional per side
  Price slippage = Price::zero();          // fixed, per unit
  Ratio slippage_pct = Ratio::zero();      // relative, as a fraction of price
  std::string size_at = "fill";            // fill | signal: price a quote-sized entry's quantity is computed at
  std::optional<Timestamp> trade_from;     // candles before it only warm the strategies up
  std::string end = "close";               // close | report_open
  double risk_free_rate = 0;
};

struct EngineConfig {
  std::string source;               // the file it came from, for messages ("" = defaults)
  std::string data_dir = "./data";
  // Names this engine among others sharing data_dir (two `twinstar run` processes on one account):
  // its control endpoint lives in DATA_DIR/state/engines/<instance>. Empty: DATA_DIR/state.
  std::string instance;
  std::string log_level = "info";
  CapitalConfig capital;
  std::vector<RateLimitConfig> rate_limits;
  std::vector<AccountConfig> accounts;
  std::vector<BotConfig> bots;
  BacktestConfig backtest;
};

// An instance name: 1-32 of a-z, 0-9, '-', '_', starting with a letter or digit (it names a folder).
Status validate_instance_name(std::string_view name);

// Parses and validates `path`. Errors name the file, line, key, rule and value:
// "twinstar.toml:14: capital.max_allocation_ratio must be in (0, 1], got 1.5".
Result<EngineConfig> load_config(const std::string& path);
Result<EngineConfig> parse_config(std::string_view toml_text, const std::string& source_name);

}  // namespace twinstar
