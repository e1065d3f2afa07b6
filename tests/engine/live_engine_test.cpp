// The live engine against `twinstar sim` in process (live_harness.hpp): two simulated hours.
#include <iostream>

#include "live_harness.hpp"

namespace twinstar::testing {
namespace {

using namespace std::chrono;

TEST(LiveEngine, both_bots_trade_against_the_sim_over_loopback) {
  LiveSetup s;
  s.dir = fresh_dir("twinstar-live");
  s.duration = hours(2);
  s.speed = 600;
  s.multi_symbols = 6;
  s.faults = "dup=0.02,rest5xx=0.02";
  const LiveRun run = run_against_sim(s);
  check_invariants(s, run);
  if (!run.reports.empty()) std::cout << format_status(run.reports.back());
  for (const auto& n : run.notices) std::cout << "notice: " << n << "\n";
  std::filesystem::remove_all(s.dir);
}

// The same with every order and cancel over REST (order_entry = "rest"; Binance USDⓈ-M's only way).
TEST(LiveEngine, both_bots_trade_against_the_sim_with_orders_over_rest_only) {
  LiveSetup s;
  s.dir = fresh_dir("twinstar-live-rest");
  s.duration = hours(2);
  s.speed = 600;
  s.multi_symbols = 6;
  s.faults = "dup=0.02,rest5xx=0.02";
  s.order_channel = false;
  const LiveRun run = run_against_sim(s);
  check_invariants(s, run);
  std::filesystem::remove_all(s.dir);
}

// A symbol the venue does not list, or a bot on an account that does not exist: a clear error
// before any order (the journal stays empty).
TEST(LiveEngine, refuses_a_symbol_the_venue_does_not_list_or_trade_before_any_order) {
  LiveSetup s;
  s.dir = fresh_dir("twinstar-live-bad");
  venue::sim::SimOptions so;
  so.speed = 60;
  so.closed_symbols = {"ALGOUSDT"};
  auto source = venue::sim::make_market_source(so, Timestamp(sys_days(year(2026) / 3 / 2)));
  ASSERT_TRUE(source);
  AcceleratedClock clock((*source)->default_start(), so.speed);
  venue::sim::SimServer sim(so, std::move(*source), clock);
  ASSERT_TRUE(sim.start());
  std::stop_source stop;
  {
    LiveEngineOptions o = options_for(s, sim, clock);
    o.bots[1].symbols.push_back("NOPEUSDT");
    auto ok = run_live_engine(o, stop.get_token(), {});
    ASSERT_FALSE(ok);
    EXPECT_NE(ok.error().message.find("NOPEUSDT"), std::string::npos) << ok.error().message;
    EXPECT_NE(ok.error().message.find("multi"), std::string::npos) << ok.error().message;
  }
  {
    LiveEngineOptions o = options_for(s, sim, clock);
    o.bots[0].account = "nobody";
    auto ok = run_live_engine(o, stop.get_token(), {});
    ASSERT_FALSE(ok);
    EXPECT_EQ(ok.error().code, ErrorCode::config_error);
    EXPECT_NE(ok.error().message.find("nobody"), std::string::npos) << ok.error().message;
  }
  {
    LiveEngineOptions o = options_for(s, sim, clock);
    o.bots[1].symbols.push_back("ALGOUSDT");  // listed, but its status is "Closed"
    auto ok = run_live_engine(o, stop.get_token(), {});
    ASSERT_FALSE(ok);
    EXPECT_EQ(ok.error().code, ErrorCode::config_error);
    EXPECT_NE(ok.error().message.find("ALGOUSDT is listed but not trading"), std::string::npos) << ok.error().message;
    EXPECT_NE(ok.error().message.find("multi"), std::string::npos) << ok.error().message;
  }
  auto journal = OrderJournal::open(s.dir / "state" / "orders.sqlite");
  ASSERT_TRUE(journal);
  auto all = (*journal)->all();
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->empty());
  sim.stop();
  std::filesystem::remove_all(s.dir);
}

}  // namespace
}  // namespace twinstar::testing
