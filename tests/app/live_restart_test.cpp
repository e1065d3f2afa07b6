// Crash recovery of the live engine, with real processes: `twinstar sim` on loopback, `twinstar
// run` trading against it, kill -9 in the middle, then a second `twinstar run` that reconciles
// with the sim and closes everything on stop. Nothing may be double-counted: at the end the sim
// holds no position, the ledger holds nothing open and its PnL equals the sim wallet's change.

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include "capital/ledger.hpp"
#include "engine/order_journal.hpp"
#include "sim_process.hpp"

namespace twinstar::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

void write_config(const fs::path& dir, const std::string& url) {
  const auto key_file = dir / "sim.key";
  {
    std::ofstream k(key_file);
    k << "api_key = \"" << kSimKey << "\"\napi_secret = \"" << kSimSecret << "\"\n";
  }
  ::chmod(key_file.c_str(), 0600);
  std::ofstream c(dir / "run.toml");
  c << "data_dir = \"" << (dir / "data").string() << "\"\n"
    << "[capital]\nexchange = \"bybit\"\ninitial_capital = \"10000\"\n"
    << "[[accounts]]\nname = \"main\"\nexchange = \"bybit\"\nmarket = \"linear\"\nendpoint = \"" << url << "\"\n"
    << "key_file = \"" << key_file.string() << "\"\n"
    << "[[bots]]\nname = \"single\"\nkind = \"single\"\naccount = \"main\"\ninterval = \"1m\"\nsymbol = \"BTCUSDT\"\n"
    << "strategy = \"ma_cross\"\nparams = { fast = 3, slow = 8 }\n"
    << "sizing = { mode = \"fixed_quote\", amount = \"1500\", lot_size = \"0.001\" }\nallow_short = true\n"
    << "[[bots]]\nname = \"multi\"\nkind = \"multi\"\naccount = \"main\"\ninterval = \"1m\"\n"
    << "symbols = [\"ETHUSDT\", \"SOLUSDT\", \"XRPUSDT\", \"DOGEUSDT\", \"BNBUSDT\", \"ADAUSDT\"]\n"
    << "strategy = \"rsi_reversion\"\nparams = { period = 5, oversold = 40, overbought = 60 }\n"
    << "sizing = { mode = \"fixed_quote\", amount = \"600\", lot_size = \"0.001\" }\nmax_positions = 4\nallow_short = true\n";
}

std::int64_t filled_orders(const std::string& status_json) {
  std::smatch m;
  if (!std::regex_search(status_json, m, std::regex(R"("filled":([0-9]+))"))) return -1;
  return std::stoll(m[1].str());
}

TEST(LiveRestart, kill_9_mid_run_then_restart_reconciles_and_counts_nothing_twice) {
  const auto dir = fs::temp_directory_path() / ("twinstar-restart-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  ChildProcess sim({"sim", "--port", "0", "--speed", "120", "--symbols", "40", "--seed", "5"}, (dir / "sim.log").string());
  const std::string url = wait_for_sim_url(sim);
  ASSERT_FALSE(url.empty());
  write_config(dir, url);
  const std::string data = "--data-dir=" + (dir / "data").string();
  const std::string config = "--config=" + (dir / "run.toml").string();

  {
    ChildProcess first({"run", config, data, "--speed", "120", "--report-every", "10m"}, (dir / "run1.log").string());
    ASSERT_GT(first.pid(), 0);
    // Trade until a few orders filled (bounded), then kill -9 without warning.
    const auto until = std::chrono::steady_clock::now() + 150s;
    std::int64_t filled = 0;
    while (std::chrono::steady_clock::now() < until && filled < 6) {
      std::this_thread::sleep_for(500ms);
      auto s = run_twinstar("status --json " + data);
      if (s.exit_code == 0) filled = filled_orders(s.output);
    }
    ASSERT_GE(filled, 6) << first.output();
    first.kill(SIGKILL);
  }

  ChildProcess second({"run", config, data, "--speed", "120", "--duration", "20m", "--close-on-stop"},
                      (dir / "run2.log").string());
  ASSERT_EQ(second.wait_exit(180s), 0) << second.output();
  const std::string out = second.output();
  EXPECT_NE(out.find("reconcile:"), std::string::npos) << out;
  {
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with("reconcile:")) std::cout << line << "\n";
    }
  }

  // The sim's view of the account.
  const SimAccountView venue = sim_account_view(url);
  for (const auto& symbol : venue.open_positions) ADD_FAILURE() << symbol << " still open on the sim";
  EXPECT_EQ(venue.open_orders, 0u);
  const Money wallet = venue.wallet;

  // The engine's view: nothing open, PnL equal to the sim's, every order settled.
  auto state = replay_journal(dir / "data" / "capital" / "bybit.ledger.sqlite");
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_TRUE(state->positions().empty());
  EXPECT_TRUE(state->reservations().empty());
  EXPECT_EQ(state->realized_pnl() - state->fees(), wallet - Money::from_units(100'000))
      << "ledger realized " << state->realized_pnl() << " fees " << state->fees() << " sim wallet " << wallet << "\n"
      << out;
  auto journal = OrderJournal::open(dir / "data" / "state" / "orders.sqlite");
  ASSERT_TRUE(journal);
  auto unsettled = (*journal)->open_orders();
  ASSERT_TRUE(unsettled);
  EXPECT_TRUE(unsettled->empty());
  sim.kill(SIGINT);
  EXPECT_EQ(sim.wait_exit(20s), 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace twinstar::testing
