// `twinstar download` and `twinstar feed` as a user runs them, against an in-process
// `twinstar sim` on 127.0.0.1 that keeps real time (the commands use the real clock).
#include <filesystem>

#include <gtest/gtest.h>

#include "../app/run_command.hpp"
#include "venue/sim/sim_server.hpp"

namespace twinstar {
namespace {

using namespace std::chrono_literals;
using testing::run_twinstar;

class FeedCli : public ::testing::Test {
 protected:
  void SetUp() override {
    options.tick = 5ms;
    options.history = 24h;
    options.symbols = 5;
    auto source = venue::sim::make_market_source(options, start);
    ASSERT_TRUE(source);
    sim = std::make_unique<venue::sim::SimServer>(options, std::move(*source), clock);
    ASSERT_TRUE(sim->start());
    dir = std::filesystem::temp_directory_path() / ("twinstar-feed-cli-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
  }
  void TearDown() override {
    sim->stop();
    std::filesystem::remove_all(dir);
  }
  std::string common() const { return fmt::format("--data-dir {} --endpoint {}", dir.string(), sim->rest_url()); }

  Timestamp start = interval_floor(Interval::m1, RealClock::instance().now());
  AcceleratedClock clock{start, 1.0};  // the sim keeps real time, as the CLI's clock does
  venue::sim::SimOptions options;
  std::unique_ptr<venue::sim::SimServer> sim;
  std::filesystem::path dir;
};

TEST_F(FeedCli, download_stores_history_with_progress_and_resumes) {
  // A fixed --to: "up to now" would move if the run crossed a minute boundary.
  const auto range = fmt::format("--from {} --to {}", format_iso8601(start - 3h), format_iso8601(start));
  auto r = run_twinstar(fmt::format("download {} --symbols BTCUSDT,ETHUSDT --interval 1m {}", common(), range));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("BTCUSDT 1m: 100%"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("360 candles stored"), std::string::npos) << r.output;
  auto again = run_twinstar(fmt::format("download {} --symbols BTCUSDT --interval 1m {}", common(), range));
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("already stored"), std::string::npos) << again.output;  // resumed: nothing left
  EXPECT_NE(again.output.find("0 requests"), std::string::npos) << again.output;
}

TEST_F(FeedCli, feed_connects_runs_and_stops_cleanly) {
  auto r = run_twinstar(fmt::format("feed {} --symbols BTCUSDT,ETHUSDT --interval 1m --run-for 2", common()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("via ws://127.0.0.1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("twinstar feed: stopped"), std::string::npos) << r.output;
}

TEST_F(FeedCli, bad_arguments_say_what_is_wrong) {
  auto r = run_twinstar(fmt::format("download {} --exchange nope --symbols BTCUSDT --from 2024-01-01", common()));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--exchange"), std::string::npos) << r.output;
  auto i = run_twinstar(fmt::format("feed {} --symbols BTCUSDT --interval 8h --run-for 1", common()));
  EXPECT_EQ(i.exit_code, 2);
  EXPECT_NE(i.output.find("no 8h candles"), std::string::npos) << i.output;
  auto help = run_twinstar("feed --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("--endpoint"), std::string::npos);
}

}  // namespace
}  // namespace twinstar
