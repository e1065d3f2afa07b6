#pragma once
// Everything `twinstar sim` can be told: market source, speed, accounts, fees, limits, faults.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/decimal.hpp"
#include "core/error.hpp"
#include "core/time.hpp"
#include "net/server.hpp"

namespace twinstar::venue::sim {

// One paper account. The keys are the sim's own fake credentials, safe to print.
struct SimAccountConfig {
  std::string name;
  std::string api_key;
  std::string api_secret;
  std::uint64_t uid = 0;
  Money usdt = Money::from_units(100'000);
};

// Fault injection, parsed from e.g. "drop=30s,stall=60s:5s,dup=0.01,delay=0.05:200ms,
// rest5xx=0.02,timeout=0.01,refuse=120s:10s". Periods and durations are simulated time.
struct FaultSpec {
  std::optional<Duration> drop_every;     // drop=N: every N, one WebSocket connection is cut (no close frame)
  std::optional<Duration> stall_every;    // stall=N:D: every N, one connection gets nothing for D, then all of it
  Duration stall_for = std::chrono::seconds(5);
  double dup_probability = 0;             // dup=P: each push is sent twice with probability P
  double delay_probability = 0;           // delay=P:D: a push (and what follows it) is held back D
  Duration delay_for = std::chrono::milliseconds(200);
  double rest_5xx_probability = 0;        // rest5xx=P: a REST call answers HTTP 503
  double timeout_probability = 0;         // timeout=P[:D]: a REST call gets no answer; closed after D
  Duration timeout_hold = std::chrono::seconds(30);
  std::optional<Duration> refuse_every;   // refuse=N:D: every N, new connections are refused for D
  Duration refuse_for = std::chrono::seconds(10);

  bool any() const noexcept;
  std::string describe() const;
};

// Errors: invalid_argument naming the bad item and the expected form.
Result<FaultSpec> parse_fault_spec(std::string_view spec);

// Accounts file (TOML):
//   [[account]]
//   name = "alice"            # optional
//   api_key = "..."           # required, 1..64 chars
//   api_secret = "..."        # required
//   usdt = "100000"           # optional starting USDT balance (decimal string or number)
//   uid = 1001                # optional
// Errors: config_error with file:line.
Result<std::vector<SimAccountConfig>> load_accounts_file(const std::filesystem::path& file);
// Two accounts with fixed keys (documented in docs/SIM.md), used when no file is given.
std::vector<SimAccountConfig> default_accounts();

struct SimOptions {
  std::uint64_t seed = 1;
  double speed = 1.0;
  std::size_t symbols = 50;
  std::optional<std::filesystem::path> replay;
  std::optional<Timestamp> start;  // the simulated clock's start; synthetic default: now, floored to the minute
  FaultSpec faults;
  std::vector<SimAccountConfig> accounts = default_accounts();
  // Listed with status "Closed" in instruments-info (a delisted or halted symbol), for tests.
  std::vector<std::string> closed_symbols;

  Ratio linear_taker_fee = *Ratio::parse("0.00055");  // Bybit's non-VIP defaults
  Ratio linear_maker_fee = *Ratio::parse("0.0002");
  Ratio spot_taker_fee = *Ratio::parse("0.001");
  Ratio spot_maker_fee = *Ratio::parse("0.001");
  Ratio slippage = *Ratio::parse("0.0005");  // market orders fill this much worse than the last price
  int leverage = 10;

  // Bybit's limits (exchange-api.md §1.3); windows are simulated time.
  int ip_limit = 600;
  Duration ip_window = std::chrono::seconds(5);
  Duration ip_ban = std::chrono::minutes(10);
  int order_create_linear = 10;
  int order_create_spot = 20;
  int order_cancel_linear = 10;
  int order_cancel_spot = 20;
  int query_limit = 50;

  // Idle WebSocket cut: no client frame for this long (simulated). 0 = Bybit's 10 minutes, but
  // never less than 30 s of real time at the chosen speed, so real-time clients survive.
  Duration idle_timeout{};
  // Open-candle updates are pushed on this simulated grid. 0 = max(1 s, speed x 200 ms).
  Duration push_period{};
  Duration history = std::chrono::hours(24 * 7);
  Duration retention = std::chrono::hours(24 * 14);
  std::size_t max_ws_args_chars = 21'000;
  std::size_t spot_max_args = 10;
  std::size_t max_topics_per_connection = 2'000;

  std::chrono::milliseconds tick{5};  // real time between market steps
  // Real time added before every REST answer and order-channel reply: a venue far away (the
  // round trip a sender waits for). 0: loopback as is.
  std::chrono::milliseconds latency{0};
  net::ServerOptions server;

  Duration effective_idle_timeout() const;
  Duration effective_push_period() const;
};

}  // namespace twinstar::venue::sim
