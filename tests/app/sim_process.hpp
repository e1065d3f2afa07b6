#pragma once
// A real `twinstar sim` child for the process-level tests, and the account's view on it.

#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "engine/live_engine.hpp"
#include "ratelimit/limiter.hpp"
#include "run_command.hpp"
#include "venue/common/trading.hpp"

namespace twinstar::testing {

// The sim's first paper account (docs/SIM.md): printing it is harmless.
inline constexpr const char* kSimKey = "SIMKEYALICE000000001";
inline constexpr const char* kSimSecret = "SIMSECRETALICE00000000000000000001";

// Waits (bounded) until the sim listens; its REST URL, or "" (with a test failure) if it did not.
inline std::string wait_for_sim_url(const ChildProcess& sim) {
  if (!sim.wait_for_output("Ctrl-C stops", std::chrono::seconds(30))) {
    ADD_FAILURE() << "twinstar sim did not start:\n" << sim.output();
    return "";
  }
  std::smatch m;
  const std::string out = sim.output();
  if (!std::regex_search(out, m, std::regex(R"(protocol on (http://127\.0\.0\.1:[0-9]+))"))) {
    ADD_FAILURE() << "no URL in:\n" << out;
    return "";
  }
  return m[1].str();
}

// What the sim's account holds at the end of a run.
struct SimAccountView {
  std::vector<std::string> open_positions;  // symbols still held
  std::size_t open_orders = 0;
  Money wallet;  // USDT
};

inline SimAccountView sim_account_view(const std::string& url) {
  SimAccountView v;
  RealClock& clock = RealClock::instance();
  RateLimiterRegistry registry(clock);
  AccountEndpoint a;
  a.rest_url = url;
  a.private_ws_url = "ws" + url.substr(4) + "/v5/private";
  a.api_key = kSimKey;
  a.api_secret = kSimSecret;
  auto trading = make_venue_trading(a, *registry.limiter(Exchange::bybit, "check"), clock);
  EXPECT_TRUE(trading) << trading.error().message;
  if (!trading) return v;
  (void)(*trading)->sync_time();  // a sim at --speed > 1 is ahead: the skew is reported, and signed with
  auto positions = (*trading)->positions();
  EXPECT_TRUE(positions) << positions.error().message;
  if (positions) {
    for (const auto& p : *positions) {
      if (p.size.is_positive()) v.open_positions.push_back(p.symbol.str());
    }
  }
  auto orders = (*trading)->open_orders(Market::linear);
  EXPECT_TRUE(orders);
  if (orders) v.open_orders = orders->size();
  auto balances = (*trading)->balances();
  EXPECT_TRUE(balances);
  if (balances) {
    for (const auto& b : *balances) {
      if (b.coin == "USDT") v.wallet = b.wallet;
    }
  }
  return v;
}

}  // namespace twinstar::testing
