// Two `twinstar run` processes on one account, one data directory and one ledger file: the
// SingleBot in one, the MultiTrader in the other, each with half the account's rate budget, both
// trading against one real `twinstar sim` over loopback. At the end: the sim saw no rate-limit
// violation and holds no position, the shared ledger never exceeded its cap at any instant and its
// PnL equals the sim wallet's change (both processes' trades), the order journal is settled, and
// the shared candle store is gap- and duplicate-free for both processes' series.

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../engine/store_checks.hpp"
#include "capital/ledger.hpp"
#include "engine/order_journal.hpp"
#include "net/http_client.hpp"
#include "sim_process.hpp"

namespace twinstar::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::vector<std::string> kMultiSymbols = {"ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT", "BNBUSDT", "ADAUSDT"};

// One process's config: the shared parts (data_dir, capital, half the rate budget, the account)
// and its own bot.
void write_config(const fs::path& file, const fs::path& dir, const std::string& url, const std::string& instance,
                  const std::string& bot) {
  const auto key_file = dir / "sim.key";
  if (!fs::exists(key_file)) {
    std::ofstream k(key_file);
    k << "api_key = \"" << kSimKey << "\"\napi_secret = \"" << kSimSecret << "\"\n";
  }
  ::chmod(key_file.c_str(), 0600);
  std::ofstream c(file);
  c << "data_dir = \"" << (dir / "data").string() << "\"\ninstance = \"" << instance << "\"\n"
    << "[capital]\nexchange = \"bybit\"\ninitial_capital = \"10000\"\nmax_allocation_ratio = 0.5\n"
    << "[[rate_limits]]\npreset = \"bybit\"\nshare = 0.5\n"
    << "[[accounts]]\nname = \"main\"\nexchange = \"bybit\"\nmarket = \"linear\"\nendpoint = \"" << url << "\"\n"
    << "key_file = \"" << key_file.string() << "\"\n"
    << bot;
}

std::int64_t json_int(const std::string& body, const std::string& key) {
  std::smatch m;
  if (!std::regex_search(body, m, std::regex("\"" + key + "\":(-?[0-9]+)"))) return -1;
  return std::stoll(m[1].str());
}

TEST(TwoProcesses, single_bot_and_multi_trader_in_two_processes_share_one_account_ledger_and_store) {
  const auto dir = fs::temp_directory_path() / ("twinstar-two-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  ChildProcess sim({"sim", "--port", "0", "--speed", "120", "--symbols", "40", "--seed", "7"}, (dir / "sim.log").string());
  const std::string url = wait_for_sim_url(sim);
  ASSERT_FALSE(url.empty());

  std::string multi_symbols;
  for (const auto& s : kMultiSymbols) multi_symbols += (multi_symbols.empty() ? "\"" : ", \"") + s + "\"";
  write_config(dir / "single.toml", dir, url, "single",
               "[[bots]]\nname = \"single\"\nkind = \"single\"\naccount = \"main\"\ninterval = \"1m\"\nsymbol = \"BTCUSDT\"\n"
               "strategy = \"ma_cross\"\nparams = { fast = 3, slow = 8 }\n"
               "sizing = { mode = \"fixed_quote\", amount = \"1500\", lot_size = \"0.001\" }\nallow_short = true\n");
  write_config(dir / "multi.toml", dir, url, "multi",
               "[[bots]]\nname = \"multi\"\nkind = \"multi\"\naccount = \"main\"\ninterval = \"1m\"\nsymbols = [" +
                   multi_symbols +
                   "]\nstrategy = \"rsi_reversion\"\nparams = { period = 5, oversold = 40, overbought = 60 }\n"
                   "sizing = { mode = \"fixed_quote\", amount = \"600\", lot_size = \"0.001\" }\nmax_positions = 4\n"
                   "allow_short = true\n");
  const std::string data = "--data-dir=" + (dir / "data").string();
  const std::vector<std::string> common = {data, "--speed", "120", "--duration", "40m", "--close-on-stop", "--report-every", "10m"};
  auto args = [&](const std::string& config) {
    std::vector<std::string> a{"run", "--config=" + (dir / config).string()};
    a.insert(a.end(), common.begin(), common.end());
    return a;
  };
  ChildProcess single(args("single.toml"), (dir / "single.log").string());
  ChildProcess multi(args("multi.toml"), (dir / "multi.log").string());
  ASSERT_GT(single.pid(), 0);
  ASSERT_GT(multi.pid(), 0);

  // Both answer on their own control endpoint.
  bool single_seen = false, multi_seen = false;
  for (auto until = std::chrono::steady_clock::now() + 60s; std::chrono::steady_clock::now() < until && !(single_seen && multi_seen);) {
    std::this_thread::sleep_for(300ms);
    single_seen = single_seen || run_twinstar("status --json --instance single " + data).exit_code == 0;
    multi_seen = multi_seen || run_twinstar("status --json --instance multi " + data).exit_code == 0;
  }
  EXPECT_TRUE(single_seen) << single.output();
  EXPECT_TRUE(multi_seen) << multi.output();
  // Without --instance the CLI cannot choose, and names both.
  const auto unnamed = run_twinstar("status " + data);
  EXPECT_EQ(unnamed.exit_code, 1);
  EXPECT_NE(unnamed.output.find("multi, single (pass --instance NAME)"), std::string::npos) << unnamed.output;

  ASSERT_EQ(single.wait_exit(240s), 0) << single.output();
  ASSERT_EQ(multi.wait_exit(240s), 0) << multi.output();

  // The sim: no rate-limit violation, nothing open, and the wallet the ledger must agree with.
  auto http = net::HttpClient::create(url);
  ASSERT_TRUE(http) << http.error().message;
  auto stats = (*http)->get("/sim/stats");
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(json_int(stats->body, "violations"), 0) << stats->body;
  const SimAccountView venue = sim_account_view(url);
  for (const auto& symbol : venue.open_positions) ADD_FAILURE() << symbol << " still open on the sim";
  EXPECT_EQ(venue.open_orders, 0u);
  const Money wallet = venue.wallet;

  // One ledger for both: at no instant more locked than the cap; both bots traded through it; its
  // PnL is the sim wallet's change.
  auto rows = read_journal(dir / "data" / "capital" / "bybit.ledger.sqlite", 10'000'000);
  ASSERT_TRUE(rows) << rows.error().message;
  LedgerOptions lo;
  lo.initial_capital = Money::from_units(10'000);
  lo.max_allocation_ratio = Ratio::from_raw(50'000'000);
  LedgerState state;
  std::set<std::string> bots;
  for (std::size_t n = 0; n < rows->size(); ++n) {
    ASSERT_TRUE(state.apply((*rows)[n])) << "journal row " << n;
    if (!(*rows)[n].bot.empty()) bots.insert((*rows)[n].bot);
    const LedgerStats st = make_stats(state, lo, Money::zero(), (*rows)[n].time);
    ASSERT_LE(st.locked, st.cap) << "journal row " << n;
  }
  EXPECT_EQ(bots, (std::set<std::string>{"multi", "single"})) << "both processes reserve in the one ledger";
  EXPECT_TRUE(state.positions().empty());
  EXPECT_TRUE(state.reservations().empty());
  EXPECT_GT(state.fees(), Money::zero()) << "nothing traded:\n" << single.output() << multi.output();
  EXPECT_EQ(state.realized_pnl() - state.fees(), wallet - Money::from_units(100'000))
      << "ledger realized " << state.realized_pnl() << " fees " << state.fees() << " sim wallet " << wallet;

  // One order journal: every order of both processes settled.
  auto journal = OrderJournal::open(dir / "data" / "state" / "orders.sqlite");
  ASSERT_TRUE(journal);
  auto unsettled = journal.value()->open_orders();
  ASSERT_TRUE(unsettled);
  EXPECT_TRUE(unsettled->empty());

  // One candle store, written by both: every series of both processes complete.
  expect_store_clean(dir / "data", 1 + kMultiSymbols.size(), 20);
  sim.kill(SIGINT);
  EXPECT_EQ(sim.wait_exit(20s), 0);
  if (HasFailure()) {
    std::cout << "kept for inspection: " << dir << "\n";
  } else {
    fs::remove_all(dir);
  }
}

}  // namespace
}  // namespace twinstar::testing
