#pragma once
// The live engine (`twinstar run`): bots of both kinds on venue accounts over the network,
// sharing one market feed per venue, one candle store, one rate limiter per account and one
// capital ledger. Orders are journaled before they leave (write-ahead; a round's in one
// transaction), sent by the account's sender threads or, over the order channel, straight from
// the trading thread, and settled from the venue's private stream, with polling for updates the
// stream missed. On start the engine reconciles its order journal and ledger with each
// account's open orders and positions, and reports every fix.
//
// Threads, all owned here and joined before run_live_engine returns: the trading loop (bots),
// the order senders of each account, the feed's connection and dispatcher threads, each account's
// private stream, and the caller's thread (housekeeping: control jobs, flushes, reports).

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "engine/paper_engine.hpp"

namespace twinstar {

class EngineMailbox;
class VenueLimiter;
namespace venue {
class VenueTrading;
}

// One account with everything resolved by the caller: URLs (mainnet, testnet, or `twinstar
// sim` on loopback) and the credentials. The secret is never logged.
struct AccountEndpoint {
  std::string name = "default";
  Exchange exchange = Exchange::bybit;
  Market market = Market::linear;
  std::string rest_url;
  std::string public_ws_url;
  std::string private_ws_url;
  std::string trade_ws_url;  // WebSocket order entry (Bybit /v5/trade); empty: orders over REST
  std::string api_key;
  std::string api_secret;
};

struct LiveEngineOptions {
  std::filesystem::path data_dir = "./data";
  std::vector<BotConfig> bots;
  CapitalConfig capital;
  std::vector<RateLimitConfig> rate_limits;
  std::vector<AccountEndpoint> accounts;  // every account a bot names
  Clock* clock = nullptr;                 // required; the venue's time (see run_command.cpp)
  EngineMailbox* mailbox = nullptr;       // run-time control jobs, run on the trading thread
  std::optional<Duration> duration;       // engine-clock time to run; none = until stopped
  Duration report_every = std::chrono::hours(1);    // engine-clock time between reports
  std::size_t warmup_candles = 200;       // history fed to the strategies before trading starts
  std::chrono::milliseconds flush_every{2000};      // real time between candle-store flushes
  std::chrono::milliseconds settle_timeout{10'000}; // real time to wait for in-flight orders on stop
  std::chrono::milliseconds poll_after{2'000};      // an order with no stream update for this long is looked up
  // Engine-clock time without a frame after which a feed connection is presumed dead (0: the
  // feed's default). A sim at --speed S should get S x a real-time allowance.
  Duration feed_stale_after{};
  bool close_on_stop = false;             // flatten every position before exiting
  std::size_t order_queue_capacity = 256; // per account; overflow policy kOrderQueueRefuseNew
  // Sender threads per account, each with its own REST connection (the adapter's pool has as
  // many): a round's orders for different symbols go out side by side; one symbol's stay in order.
  std::size_t senders_per_account = 4;
  std::function<void(const TradeRecord&)> on_trade;  // trading thread
  std::function<void(std::string_view)> on_notice;   // reconciliation fixes, stream trouble (any thread)
  // Every order decided on a closed candle: real ns from the feed handing the candle to the
  // engine to the order being written to the venue (sender thread; benchmarks).
  std::function<void(std::int64_t)> on_candle_to_order_ns;
};

// Order sender queue overflow policy: an order that finds the queue full is refused at once
// (journaled as rejected, its reservation cancelled by the bot); nothing queued is dropped.
inline constexpr std::string_view kOrderQueueRefuseNew = "refuse_new";

// The trading adapter of an account (Bybit v5; Binance USDⓈ-M), with `connections` REST
// connections for that many concurrent callers. Errors: config_error for a venue without live
// trading, invalid_argument for missing keys or a bad URL.
Result<std::unique_ptr<venue::VenueTrading>> make_venue_trading(const AccountEndpoint& account,
                                                                std::shared_ptr<VenueLimiter> limiter, Clock& clock,
                                                                std::size_t connections = 1);

// Runs until `stop` or the duration. Errors: bad config (before any order), an account that
// cannot be reached or authenticated, store, ledger or journal failures.
Status run_live_engine(const LiveEngineOptions& options, std::stop_token stop,
                       const std::function<void(const EngineStatus&)>& report);

}  // namespace twinstar
