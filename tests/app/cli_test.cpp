#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "run_command.hpp"

namespace twinstar {
namespace {

using testing::run_twinstar;

TEST(Cli, prints_version) {
  auto r = run_twinstar("--version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output.rfind("twinstar ", 0), 0u) << r.output;
}

TEST(Cli, every_command_has_help) {
  for (const char* cmd : {"", "config", "config check", "config show", "backtest", "sim", "demo", "capital", "capital show"}) {
    auto r = run_twinstar(std::string(cmd) + " --help");
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_NE(r.output.find("Usage:"), std::string::npos) << cmd << ": " << r.output;
    EXPECT_NE(r.output.find("--data-dir"), std::string::npos) << cmd;
    EXPECT_NE(r.output.find("--config"), std::string::npos) << cmd;
  }
}

TEST(Cli, unknown_command_or_flag_is_an_error) {
  EXPECT_NE(run_twinstar("frobnicate").exit_code, 0);
  EXPECT_NE(run_twinstar("config show --no-such-flag").exit_code, 0);
  auto r = run_twinstar("config check --config /does/not/exist.toml");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("/does/not/exist.toml"), std::string::npos) << r.output;
}

TEST(Cli, bad_config_is_reported_with_file_line_and_key) {
  const auto path = std::filesystem::temp_directory_path() / ("twinstar-cli-" + std::to_string(::getpid()) + ".toml");
  { std::ofstream(path) << "[capital]\nmax_allocation_ratio = 1.5\n"; }
  auto r = run_twinstar("config check --config " + path.string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find(path.string() + ":2: capital.max_allocation_ratio must be in (0, 1], got 1.5"), std::string::npos)
      << r.output;
  std::filesystem::remove(path);
}

TEST(Cli, data_dir_flag_overrides_the_config_after_the_subcommand_too) {
  auto r = run_twinstar("config show --data-dir /tmp/elsewhere");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("data_dir             /tmp/elsewhere"), std::string::npos) << r.output;
}

TEST(Cli, help_never_shows_secret_values) {
  auto r = run_twinstar("--help", "TWINSTAR_TEST_SECRET=hunter2-do-not-print");
  EXPECT_EQ(r.output.find("hunter2"), std::string::npos);
}

}  // namespace
}  // namespace twinstar

namespace twinstar {
namespace {

const std::string kBtcCsv = std::string(TWINSTAR_SHARED_DATA_DIR) + "/binance-spot-1h/BTCUSDT_1h.csv";

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(CliBacktest, csv_quick_run_writes_identical_json_twice_and_an_html_report) {
  if (!std::filesystem::exists(kBtcCsv)) GTEST_SKIP() << "real data absent: " << kBtcCsv;
  const auto dir = std::filesystem::temp_directory_path() / ("twinstar-bt-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string common = "backtest --csv " + kBtcCsv +
                             " --exchange binance --market spot --strategy ma_cross --params fast=20,slow=50 --commission 0.001";
  auto a = testing::run_twinstar(common + " --json " + (dir / "a.json").string() + " --html " + (dir / "a.html").string());
  ASSERT_EQ(a.exit_code, 0) << a.output;
  EXPECT_NE(a.output.find("# Trades"), std::string::npos);
  EXPECT_NE(a.output.find("Fill model: market orders fill at the next bar's open"), std::string::npos);
  auto b = testing::run_twinstar(common + " --json " + (dir / "b.json").string());
  ASSERT_EQ(b.exit_code, 0) << b.output;
  const std::string ja = slurp(dir / "a.json");
  EXPECT_GT(ja.size(), 1000u);
  EXPECT_EQ(ja, slurp(dir / "b.json"));
  const std::string html = slurp(dir / "a.html");
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("<h2>Trades ("), std::string::npos);
  EXPECT_NE(html.find("Sharpe ratio"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(CliBacktest, sweep_ranks_parameter_sets) {
  if (!std::filesystem::exists(kBtcCsv)) GTEST_SKIP() << "real data absent: " << kBtcCsv;
  auto r = testing::run_twinstar("backtest --csv " + kBtcCsv +
                                 " --exchange binance --market spot --strategy ma_cross --sweep fast=5:15:5,slow=30:40:10 --rank return");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("sweep: 6 parameter sets"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("   6  "), std::string::npos) << r.output;
}

TEST(CliBacktest, trade_from_warms_up_and_is_printed_with_the_fill_model) {
  if (!std::filesystem::exists(kBtcCsv)) GTEST_SKIP() << "real data absent: " << kBtcCsv;
  const std::string common = "backtest --csv " + kBtcCsv + " --exchange binance --market spot --strategy ma_cross";
  auto r = testing::run_twinstar(common + " --trade-from 2022-01-01");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Start                     2022-01-01T00:00:00"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("trading from 2022-01-01T00:00:00.000Z (earlier candles warm the strategies up)"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("entries sized at the fill price"), std::string::npos) << r.output;
  auto early = testing::run_twinstar(common + " --from 2022-01-01 --trade-from 2021-06-01");
  EXPECT_EQ(early.exit_code, 2);
  EXPECT_NE(early.output.find("--trade-from must not be before --from"), std::string::npos) << early.output;
  auto late = testing::run_twinstar(common + " --trade-from 2030-01-01");
  EXPECT_NE(late.exit_code, 0);
  EXPECT_NE(late.output.find("no candle opens at or after trade_from 2030-01-01"), std::string::npos) << late.output;
}

TEST(CliBacktest, bad_input_is_a_clear_error) {
  auto none = testing::run_twinstar("backtest --data-dir /nonexistent-twinstar");
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.output.find("no bots to backtest"), std::string::npos) << none.output;
  auto missing = testing::run_twinstar("backtest --csv /nonexistent.csv --strategy ma_cross");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.output.find("/nonexistent.csv"), std::string::npos) << missing.output;
  if (!std::filesystem::exists(kBtcCsv)) return;
  auto range = testing::run_twinstar("backtest --csv " + kBtcCsv + " --strategy ma_cross --from 2030-01-01");
  EXPECT_NE(range.output.find("has no candles between 2030-01-01"), std::string::npos) << range.output;
  auto param = testing::run_twinstar("backtest --csv " + kBtcCsv + " --strategy ma_cross --params fast=50,slow=10");
  EXPECT_NE(param.output.find("fast (50) must be shorter than slow (10)"), std::string::npos) << param.output;
  auto sweep = testing::run_twinstar("backtest --csv " + kBtcCsv + " --strategy ma_cross --sweep fast=5");
  EXPECT_NE(sweep.output.find("must look like name=from:to:step"), std::string::npos) << sweep.output;
}

}  // namespace
}  // namespace twinstar

namespace twinstar {
namespace {

TEST(Cli, config_check_asks_the_modules_about_presets_and_strategies) {
  const auto path = std::filesystem::temp_directory_path() / ("twinstar-check-" + std::to_string(::getpid()) + ".toml");
  { std::ofstream(path) << "[[rate_limits]]\npreset = \"okx\"\nbuckets.candlez = { limit = 10 }\n"; }
  auto r = testing::run_twinstar("config check --config " + path.string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("rate_limits preset okx"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("candlez"), std::string::npos) << r.output;
  { std::ofstream(path) << "[[bots]]\nname = \"a\"\nsymbol = \"BTCUSDT\"\nstrategy = \"ma_cross\"\nparams = { fast = 40, slow = 20 }\n"; }
  r = testing::run_twinstar("config check --config " + path.string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find(path.string() + ":1: bot a: strategy ma_cross: fast (40) must be shorter than slow (20)"),
            std::string::npos)
      << r.output;
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace twinstar
