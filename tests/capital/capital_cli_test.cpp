// `twinstar capital ...` run as a real process against a real ledger file.

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "capital/ledger.hpp"
#include "capital_test_support.hpp"

namespace twinstar {
namespace {

using testing::money;

struct CliRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

class CapitalCliTest : public ::testing::Test {
 protected:
  CliRun run(const std::string& args) const {
    const std::string cmd = std::string(TWINSTAR_CAPITAL_CLI) + " " + args + " --data-dir " + dir_.path().string() + " 2>&1";
    CliRun r;
    FILE* pipe = ::popen(cmd.c_str(), "r");
    std::array<char, 4096> buf{};
    for (std::size_t n; (n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0;) r.output.append(buf.data(), n);
    const int status = ::pclose(pipe);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
  }
  std::filesystem::path ledger() const { return dir_ / "capital/bybit.ledger.sqlite"; }
  static bool has(const CliRun& r, std::string_view s) { return r.output.find(s) != std::string::npos; }

  testing::TempDir dir_;
};

TEST_F(CapitalCliTest, every_capital_command_has_help) {
  for (const char* cmd : {"capital", "capital show", "capital history", "capital init", "capital deposit",
                          "capital withdraw"}) {
    const CliRun r = run(std::string(cmd) + " --help");
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_TRUE(has(r, "Usage:")) << cmd << ": " << r.output;
    EXPECT_TRUE(has(r, "--data-dir")) << cmd;
  }
  EXPECT_TRUE(has(run("capital init --help"), "--force"));
  EXPECT_TRUE(has(run("capital history --help"), "--limit"));
}

TEST_F(CapitalCliTest, show_without_a_ledger_says_how_to_create_one_and_creates_nothing) {
  const CliRun r = run("capital show");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.output, "error: no capital ledger at " + ledger().string() +
                          "; create one with `twinstar capital init --amount 10000`\n");
  EXPECT_FALSE(std::filesystem::exists(ledger()));
  EXPECT_EQ(run("capital deposit --amount 5").exit_code, 1);
  EXPECT_FALSE(std::filesystem::exists(ledger()));
}

TEST_F(CapitalCliTest, init_then_show_prints_the_capital_and_the_cap) {
  const CliRun init = run("capital init --amount 10000");
  EXPECT_EQ(init.exit_code, 0) << init.output;
  EXPECT_EQ(init.output, "created capital ledger " + ledger().string() + " with 10000\n");
  const CliRun show = run("capital show");
  EXPECT_EQ(show.exit_code, 0) << show.output;
  EXPECT_TRUE(has(show, "total capital     10000  (initial 10000, deposits 0, withdrawals 0)")) << show.output;
  EXPECT_TRUE(has(show, "allocation cap    8000  (0.8 of total capital)")) << show.output;
  EXPECT_TRUE(has(show, "available         8000")) << show.output;
}

TEST_F(CapitalCliTest, init_refuses_to_overwrite_an_existing_ledger_without_force) {
  ASSERT_EQ(run("capital init --amount 10000").exit_code, 0);
  ASSERT_EQ(run("capital deposit --amount 5").exit_code, 0);
  const CliRun again = run("capital init --amount 500");
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(again.output, "error: capital ledger " + ledger().string() +
                              " already exists (journal seq 2, total capital 10005); pass --force to start over with "
                              "500 (its history stays in the journal)\n");
  EXPECT_EQ(replay_journal(ledger()).value().equity(), money("10005"));

  const CliRun forced = run("capital init --amount 500 --force");
  EXPECT_EQ(forced.exit_code, 0) << forced.output;
  EXPECT_TRUE(has(forced, "re-initialised capital ledger")) << forced.output;
  EXPECT_EQ(replay_journal(ledger()).value().equity(), money("500"));
  EXPECT_EQ(read_journal(ledger(), 100).value().size(), 3u);  // nothing erased
}

TEST_F(CapitalCliTest, init_force_is_refused_while_a_position_is_open) {
  ASSERT_EQ(run("capital init --amount 10000").exit_code, 0);
  {
    ManualClock clock;
    auto ledger = CapitalLedger::open(this->ledger(), {}, clock).value();
    ASSERT_TRUE(ledger.reserve("main", "BTCUSDT", money("500")).value().commit(money("500")));
  }
  const CliRun r = run("capital init --amount 500 --force");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(has(r, "cannot re-initialise while 0 reservation(s) and 1 position(s) are open")) << r.output;
}

TEST_F(CapitalCliTest, deposit_and_withdraw_move_the_capital_and_a_too_large_withdrawal_is_refused) {
  ASSERT_EQ(run("capital init --amount 10000").exit_code, 0);
  const CliRun d = run("capital deposit --amount 250.12345678");
  EXPECT_EQ(d.exit_code, 0) << d.output;
  EXPECT_EQ(d.output, "deposited 250.12345678: total capital 10250.12345678, available 8200.09876542\n");
  const CliRun too_much = run("capital withdraw --amount 20000");
  EXPECT_EQ(too_much.exit_code, 1);
  EXPECT_EQ(too_much.output, "error: cannot withdraw 20000: equity is only 10250.12345678\n");
  const CliRun w = run("capital withdraw --amount 250.12345678");
  EXPECT_EQ(w.exit_code, 0) << w.output;
  EXPECT_EQ(replay_journal(ledger()).value().equity(), money("10000"));
}

TEST_F(CapitalCliTest, bad_amounts_name_the_flag_and_the_value) {
  ASSERT_EQ(run("capital init --amount 10000").exit_code, 0);
  EXPECT_TRUE(has(run("capital deposit --amount abc"), "error: --amount: \"abc\" is not a decimal amount"));
  const CliRun negative = run("capital deposit --amount=-5");
  EXPECT_EQ(negative.exit_code, 1);
  EXPECT_EQ(negative.output, "error: --amount: the amount must be > 0, got -5\n");
  const CliRun zero = run("capital withdraw --amount 0");
  EXPECT_EQ(zero.output, "error: --amount: the amount must be > 0, got 0\n");
  const CliRun too_precise = run("capital deposit --amount 1.000000001");
  EXPECT_EQ(too_precise.exit_code, 1);
  EXPECT_TRUE(has(too_precise, "error: --amount: \"1.000000001\" is not a decimal amount")) << too_precise.output;
  EXPECT_NE(run("capital deposit").exit_code, 0);  // --amount is required
  EXPECT_EQ(read_journal(ledger(), 100).value().size(), 1u);  // nothing was written
}

TEST_F(CapitalCliTest, show_json_carries_the_original_state_file_keys) {
  ASSERT_EQ(run("capital init --amount 10000").exit_code, 0);
  {
    ManualClock clock(parse_iso8601("2024-01-02T10:00:00Z").value());
    auto ledger = CapitalLedger::open(this->ledger(), {}, clock).value();
    auto p = ledger.reserve("main", "BTCUSDT", money("600")).value().commit(money("500")).value();
    auto q = ledger.reserve("multi", "ETHUSDT", money("300")).value().commit(money("300")).value();
    ASSERT_TRUE(ledger.release(q, money("-12.5"), money("0.3")));
    (void)p;
  }
  const CliRun r = run("capital show --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* part : {
           "{\"exchange\":\"bybit\",", "\"total_capital\":\"9987.2\"", "\"initial_capital\":\"10000\"",
           "\"locked_capital\":{\"BTCUSDT\":\"500\"}", "\"stats\":{", "\"available_capital\":\"7489.76\"",
           "\"locked_symbols\":[\"BTCUSDT\"]", "\"realized_pnl\":\"-12.5\"", "\"roi\":", "\"peak_capital\":\"10000\"",
           "\"daily_pnl\":{\"2024-01-02\":\"-12.8\"}", "\"last_update\":\"2024-01-02T10:00:00.000Z\"",
           "\"peak\":\"10000\"", "\"drawdown\":\"0.00128\"", "\"max_drawdown\":\"0.00128\"",
           "\"bots\":{\"main\":{\"reserved\":\"0\",\"committed\":\"500\",\"reservations\":0,\"positions\":1}}"}) {
    EXPECT_TRUE(has(r, part)) << part << "\n" << r.output;
  }
}

TEST_F(CapitalCliTest, history_lists_the_newest_rows_oldest_first) {
  ASSERT_EQ(run("capital init --amount 10000").exit_code, 0);
  ASSERT_EQ(run("capital deposit --amount 5").exit_code, 0);
  ASSERT_EQ(run("capital withdraw --amount 3").exit_code, 0);
  const CliRun json = run("capital history --limit 2 --json");
  ASSERT_EQ(json.exit_code, 0) << json.output;
  EXPECT_EQ(json.output.find("\"seq\":1"), std::string::npos) << json.output;
  const auto deposit = json.output.find("\"op\":\"deposit\",\"bot\":\"\",\"symbol\":\"\",\"ref\":0,\"amount\":\"5\"");
  const auto withdraw = json.output.find("\"op\":\"withdraw\"");
  EXPECT_NE(deposit, std::string::npos) << json.output;
  EXPECT_LT(deposit, withdraw);
  const CliRun text = run("capital history");
  EXPECT_TRUE(has(text, "seq  time (UTC)")) << text.output;
  EXPECT_TRUE(has(text, "init")) << text.output;
  EXPECT_NE(run("capital history --limit 0").exit_code, 0);
}

TEST_F(CapitalCliTest, a_corrupt_ledger_file_is_reported_and_left_untouched) {
  std::filesystem::create_directories(ledger().parent_path());
  { std::ofstream(ledger()) << "not a ledger"; }
  for (const char* cmd : {"capital show", "capital history", "capital deposit --amount 1", "capital init --amount 1"}) {
    const CliRun r = run(cmd);
    EXPECT_EQ(r.exit_code, 1) << cmd;
    EXPECT_TRUE(has(r, ledger().string() + " is not a SQLite database")) << cmd << ": " << r.output;
  }
  std::ifstream in(ledger());
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "not a ledger");
}

}  // namespace
}  // namespace twinstar
