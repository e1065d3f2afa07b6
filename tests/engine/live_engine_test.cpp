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

}  // namespace
}  // namespace twinstar::testing
