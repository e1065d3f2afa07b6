// Both bots side by side on the simulated market for two simulated days, then the invariants:
// the ledger never exceeded its cap at any instant (replayed from its journal), the journal
// replay equals the live state, the store holds no duplicates or gaps, and the limiter's
// windows were never exceeded (an independent sliding-window check on every grant).

#include "engine/paper_engine.hpp"

#include <deque>
#include <map>
#include <filesystem>

#include <gtest/gtest.h>

#include "ratelimit/preset.hpp"
#include "store_checks.hpp"

namespace twinstar {
namespace {

using namespace std::chrono;

TEST(PaperEngine, both_bots_trade_two_simulated_days_without_breaking_an_invariant) {
  const auto dir = std::filesystem::temp_directory_path() / ("twinstar-paper-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  PaperEngineOptions o;
  o.data_dir = dir;
  o.speed = 150'000;  // two days in about a second
  o.duration = hours(48);
  o.report_every = hours(12);
  o.start = Timestamp(sys_days(year(2026) / 1 / 5));
  o.seed = 7;
  // An independent sliding-window count of every grant, per bucket.
  struct Window {
    std::deque<std::pair<Timestamp, std::int64_t>> grants;
    std::int64_t sum = 0;
    std::int64_t worst = 0;
  };
  std::map<std::string, Window> windows;
  auto bybit = *preset("bybit");
  std::map<std::string, std::pair<Duration, std::int64_t>> limits;
  for (const auto& b : bybit.buckets) limits[b.name] = {b.window, effective_limits(b, bybit.safety_margin)->effective_limit};
  std::size_t order_grants = 0;
  o.grant_observer = [&](const GrantEvent& e) {
    order_grants += e.bucket == "order_create_linear";
    auto& w = windows[std::string(e.bucket)];
    const auto [length, limit] = limits.at(std::string(e.bucket));
    w.grants.emplace_back(e.at, e.weight);
    w.sum += e.weight;
    while (!w.grants.empty() && w.grants.front().first <= e.at - length) {
      w.sum -= w.grants.front().second;
      w.grants.pop_front();
    }
    w.worst = std::max(w.worst, w.sum);
    EXPECT_LE(w.sum, limit) << e.bucket << " window exceeded at " << format_iso8601(e.at);
  };
  std::vector<EngineStatus> reports;
  std::stop_source stop;
  auto ok = run_paper_engine(o, stop.get_token(), [&](const EngineStatus& s) { reports.push_back(s); });
  ASSERT_TRUE(ok) << ok.error().message;
  // Start and end at least; the 12-hourly ones in between depend on how busy the machine is
  // (an accelerated clock keeps running while the engine waits for the CPU).
  ASSERT_GE(reports.size(), 2u);
  EXPECT_GE(reports.back().sim_time, o.start + hours(48));
  const EngineStatus& end = reports.back();
  ASSERT_EQ(end.bots.size(), 2u);
  EXPECT_GT(end.fills, 0u);
  EXPECT_EQ(end.orders, end.fills + end.limiter_refusals);
  EXPECT_EQ(order_grants, end.orders - end.limiter_refusals);
  std::size_t trades = 0;
  for (const auto& b : end.bots) trades += b.trades;
  EXPECT_GT(trades, 0u) << format_status(end);

  // Capital: replay the journal row by row; at no instant locked > cap.
  const auto ledger_file = dir / "capital" / "paper.ledger.sqlite";
  auto replayed = replay_journal(ledger_file);
  ASSERT_TRUE(replayed) << replayed.error().message;
  ManualClock clock(o.start + hours(48));
  LedgerOptions lo;
  auto reopened = CapitalLedger::open(ledger_file, lo, clock);
  ASSERT_TRUE(reopened) << reopened.error().message;
  auto rows = reopened->history(1'000'000);
  ASSERT_TRUE(rows);
  ASSERT_GT(rows->size(), 2u);
  for (std::size_t n = 1; n <= rows->size(); ++n) {
    std::vector<JournalEntry> prefix(rows->begin(), rows->begin() + static_cast<long>(n));
    auto state = replay_journal(prefix);
    ASSERT_TRUE(state) << state.error().message;
    const LedgerStats s = make_stats(*state, lo, Money::zero(), clock.now());
    ASSERT_LE(s.locked, s.cap) << "journal row " << n;
  }
  EXPECT_EQ(reopened->stats().equity, end.capital.equity);
  EXPECT_EQ(reopened->stats().committed, end.capital.committed);

  // Candles: every stored series is gap-free and duplicate-free; warm-up history plus the two
  // days (less the minutes of simulated time that set-up took at this speed).
  testing::expect_store_clean(dir, 31, 200 + 150);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace twinstar
