// Harness: the live engine against `twinstar sim` in process, over loopback sockets, through the Bybit
// adapter, the market feed and the order journal, with faults injected. At the end (every
// position closed on stop): the ledger never exceeded its cap at any instant (replayed from its
// journal), the sim saw no rate-limit violation, the ledger's PnL equals the sim wallet's change,
// every order in the journal settled, and the store holds no gap and no duplicate.

#pragma once
#include "engine/live_engine.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "capital/ledger.hpp"
#include "engine/order_journal.hpp"
#include "net/http_client.hpp"
#include "ratelimit/limiter.hpp"
#include "store_checks.hpp"
#include "venue/common/trading.hpp"
#include "venue/sim/sim_server.hpp"

namespace twinstar::testing {

using namespace std::chrono;

inline std::size_t rss_kib() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)) / 1024;
}

inline std::int64_t json_int(const std::string& body, const std::string& key) {
  std::smatch m;
  if (!std::regex_search(body, m, std::regex("\"" + key + "\":(-?[0-9]+)"))) return -1;
  return std::stoll(m[1].str());
}

struct LiveRun {
  std::vector<EngineStatus> reports;
  std::vector<std::string> notices;
  std::vector<std::size_t> rss;  // KiB, sampled once per report
  std::string sim_stats;
  Money wallet;
  std::size_t open_positions_on_venue = 0;
};

struct LiveSetup {
  std::filesystem::path dir;
  double speed = 1200;
  Duration duration = hours(2);
  std::string faults;
  std::size_t multi_symbols = 10;
  std::chrono::milliseconds flush_every{500};  // real; the store merges its journal every 64 flushes
  bool order_channel = true;  // orders over the sim's /v5/trade (REST while it is down); false: REST only
};

inline LiveEngineOptions options_for(const LiveSetup& s, const venue::sim::SimServer& sim, Clock& clock) {
  LiveEngineOptions o;
  o.data_dir = s.dir;
  o.clock = &clock;
  o.duration = s.duration;
  o.report_every = minutes(30);
  o.warmup_candles = 60;
  o.close_on_stop = true;
  o.feed_stale_after = duration_cast<Duration>(duration<double>(30 * s.speed));
  o.flush_every = s.flush_every;
  o.poll_after = milliseconds(500);
  AccountEndpoint a;
  a.name = "main";
  a.rest_url = sim.rest_url();
  a.public_ws_url = sim.ws_url("/v5/public/linear");
  a.private_ws_url = sim.ws_url("/v5/private");
  if (s.order_channel) a.trade_ws_url = sim.ws_url("/v5/trade");
  const auto paper = venue::sim::default_accounts().front();
  a.api_key = paper.api_key;
  a.api_secret = paper.api_secret;
  o.accounts = {a};
  BotConfig single;
  single.name = "single";
  single.kind = "single";
  single.account = "main";
  single.interval = Interval::m1;
  single.symbols = {"BTCUSDT"};
  single.strategy = "ma_cross";
  single.params = {{"fast", 3}, {"slow", 8}};
  single.sizing.mode = "fixed_quote";
  single.sizing.amount = Money::from_units(1500);
  single.sizing.lot_size = Quantity::from_raw(100'000);  // 0.001
  single.allow_short = true;
  BotConfig multi = single;
  multi.name = "multi";
  multi.kind = "multi";
  multi.symbols.clear();
  const char* names[] = {"ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT", "BNBUSDT", "ADAUSDT", "AVAXUSDT", "LINKUSDT",
                         "DOTUSDT", "TRXUSDT", "LTCUSDT", "BCHUSDT", "NEARUSDT", "ATOMUSDT", "UNIUSDT", "XLMUSDT",
                         "ETCUSDT", "FILUSDT", "APTUSDT", "ARBUSDT", "OPUSDT", "INJUSDT", "SUIUSDT", "SEIUSDT",
                         "TIAUSDT", "AAVEUSDT", "MKRUSDT", "LDOUSDT", "RUNEUSDT", "ALGOUSDT"};
  for (std::size_t i = 0; i < s.multi_symbols && i < std::size(names); ++i) multi.symbols.emplace_back(names[i]);
  multi.strategy = "rsi_reversion";
  multi.params = {{"period", 5}, {"oversold", 40}, {"overbought", 60}};
  multi.sizing.amount = Money::from_units(600);
  multi.max_positions = 4;
  o.bots = {single, multi};
  o.capital.initial_capital = Money::from_units(10'000);
  return o;
}

inline LiveRun run_against_sim(const LiveSetup& s) {
  LiveRun out;
  venue::sim::SimOptions so;
  so.speed = s.speed;
  so.seed = 11;
  so.symbols = 40;
  if (!s.faults.empty()) {
    auto f = venue::sim::parse_fault_spec(s.faults);
    EXPECT_TRUE(f) << f.error().message;
    if (f) so.faults = *f;
  }
  auto source = venue::sim::make_market_source(so, Timestamp(sys_days(year(2026) / 3 / 2)));
  EXPECT_TRUE(source);
  AcceleratedClock clock((*source)->default_start(), s.speed);
  venue::sim::SimServer sim(so, std::move(*source), clock);
  EXPECT_TRUE(sim.start());
  LiveEngineOptions o = options_for(s, sim, clock);
  o.on_notice = [&](std::string_view n) { out.notices.emplace_back(n); };
  std::stop_source stop;
  auto ok = run_live_engine(o, stop.get_token(), [&](const EngineStatus& st) {
    out.reports.push_back(st);
    out.rss.push_back(rss_kib());
  });
  EXPECT_TRUE(ok) << ok.error().message;
  auto http = net::HttpClient::create(sim.rest_url());
  if (http) {
    if (auto r = (*http)->get("/sim/stats")) out.sim_stats = r->body;
  }
  RateLimiterRegistry registry(clock);
  auto limiter = registry.limiter(Exchange::bybit, "check");
  auto trading = make_venue_trading(o.accounts.front(), *limiter, clock);
  if (trading) {
    if (auto b = (*trading)->balances()) {
      for (const auto& bal : *b) {
        if (bal.coin == "USDT") out.wallet = bal.wallet;
      }
    }
    if (auto p = (*trading)->positions()) {
      for (const auto& pos : *p) out.open_positions_on_venue += pos.size.is_positive();
    }
  }
  sim.stop();
  return out;
}

inline void check_invariants(const LiveSetup& s, const LiveRun& run) {
  ASSERT_GE(run.reports.size(), 2u);
  const EngineStatus& end = run.reports.back();
  ASSERT_TRUE(end.feed.has_value());
  std::size_t trades = 0;
  for (const auto& b : end.bots) trades += b.trades;
  EXPECT_GT(end.fills, 0u) << format_status(end);
  EXPECT_GT(trades, 0u) << format_status(end);

  // The sim: no rate-limit violation, every position closed.
  ASSERT_FALSE(run.sim_stats.empty());
  EXPECT_EQ(json_int(run.sim_stats, "violations"), 0) << run.sim_stats;
  // Orders went the configured way (the channel falls back to REST only while it is down).
  if (s.order_channel) {
    EXPECT_GT(json_int(run.sim_stats, "orders"), 0) << run.sim_stats;
  } else {
    EXPECT_EQ(json_int(run.sim_stats, "orders"), 0) << run.sim_stats;
  }
  EXPECT_EQ(run.open_positions_on_venue, 0u);

  // The ledger: at no instant locked > cap; nothing left open; PnL == the sim wallet's change.
  const auto ledger_file = s.dir / "capital" / "bybit.ledger.sqlite";
  auto rows = read_journal(ledger_file, 10'000'000);
  ASSERT_TRUE(rows) << rows.error().message;
  LedgerOptions lo;
  lo.initial_capital = Money::from_units(10'000);
  LedgerState state;
  for (std::size_t n = 0; n < rows->size(); ++n) {
    ASSERT_TRUE(state.apply((*rows)[n])) << "journal row " << n;
    const LedgerStats st = make_stats(state, lo, Money::zero(), end.sim_time);
    ASSERT_LE(st.locked, st.cap) << "journal row " << n;
  }
  EXPECT_TRUE(state.positions().empty());
  EXPECT_TRUE(state.reservations().empty());
  const Money ledger_pnl = state.realized_pnl() - state.fees();
  EXPECT_EQ(ledger_pnl, run.wallet - Money::from_units(100'000))
      << "ledger realized " << state.realized_pnl() << " fees " << state.fees() << ", sim wallet " << run.wallet;

  // The order journal: every order settled.
  auto journal = OrderJournal::open(s.dir / "state" / "orders.sqlite");
  ASSERT_TRUE(journal);
  auto open = (*journal)->open_orders();
  ASSERT_TRUE(open);
  for (const auto& r : *open) {
    ADD_FAILURE() << "unsettled: " << r.client_id << " " << to_string(r.request.purpose) << " " << r.request.symbol << " "
                  << to_string(r.status) << " filled " << r.filled << " created " << format_iso8601(r.created) << " updated "
                  << format_iso8601(r.updated);
  }
  auto all = (*journal)->all();
  ASSERT_TRUE(all);
  std::size_t filled = 0;
  for (const auto& r : *all) filled += r.filled.is_positive();
  EXPECT_GE(filled, 2 * trades);  // at least an entry and an exit per trade

  // The store: every watched series gap-free and duplicate-free.
  expect_store_clean(s.dir, 1 + s.multi_symbols);
}

inline std::filesystem::path fresh_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir;
}

}  // namespace twinstar::testing
