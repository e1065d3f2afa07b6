// The original system's race and its generalisations: threads and processes sharing one
// ledger never over-allocate, never lose an update, and end equal to the journal replay.

#include <atomic>
#include <barrier>
#include <latch>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "capital/ledger.hpp"
#include "capital_test_support.hpp"
#include "capital_workload.hpp"

namespace twinstar {
namespace {

using testing::money;
using testing::TempDir;

// Two bots read "$10,000 free" at the same moment, one spends $500, the other $600. The
// Python system recorded $9,400 where $8,900 was true; here both must be recorded exactly.
void race_500_and_600(CapitalLedger& ledger, int rounds) {
  for (int round = 0; round < rounds; ++round) {
    std::latch start(2);
    std::optional<PositionId> a, b;
    std::thread bot_a([&] {
      const Money seen_free = ledger.stats().available;  // both read the same free capital...
      start.arrive_and_wait();
      if (seen_free >= money("500")) a = ledger.reserve("main", "BTCUSDT", money("500")).value().commit(money("500")).value();
    });
    std::thread bot_b([&] {
      const Money seen_free = ledger.stats().available;
      start.arrive_and_wait();
      if (seen_free >= money("600")) b = ledger.reserve("multi", "ETHUSDT", money("600")).value().commit(money("600")).value();
    });
    bot_a.join();
    bot_b.join();
    ASSERT_TRUE(a && b);
    const auto s = ledger.stats();
    ASSERT_EQ(s.committed, money("1100")) << "round " << round;  // ...and both spends are there
    ASSERT_EQ(s.available, money("6900")) << "round " << round;
    ASSERT_TRUE(ledger.release(*a, Money::zero()));
    ASSERT_TRUE(ledger.release(*b, Money::zero()));
  }
}

TEST(LedgerRace, two_bots_spending_500_and_600_of_the_same_free_capital_are_both_recorded) {
  ManualClock clock;
  auto ledger = CapitalLedger::in_memory({}, clock).value();
  race_500_and_600(ledger, static_cast<int>(testing::scaled(500)));
}

TEST(LedgerRace, two_bots_spending_500_and_600_on_a_durable_ledger_are_both_recorded) {
  TempDir dir;
  ManualClock clock;
  auto ledger = CapitalLedger::open(dir / "race.ledger.sqlite", {}, clock).value();
  race_500_and_600(ledger, static_cast<int>(testing::scaled(100)));
  EXPECT_EQ(ledger.state(), replay_journal(dir / "race.ledger.sqlite").value());
}

// Two engines started together on one data directory create the ledger file at the same moment:
// both open it, and it is initialised once.
TEST(LedgerRace, two_openers_racing_to_create_a_new_file_both_succeed) {
  TempDir dir;
  ManualClock clock;
  for (int round = 0; round < 40; ++round) {
    const auto path = dir / ("race-" + std::to_string(round) + ".ledger.sqlite");
    std::latch go(2);
    std::string errors[2];
    auto opener = [&](int k) {
      go.arrive_and_wait();
      auto l = CapitalLedger::open(path, {}, clock);
      if (!l) errors[k] = l.error().message;
    };
    std::thread a(opener, 0), b(opener, 1);
    a.join();
    b.join();
    EXPECT_EQ(errors[0], "") << "round " << round;
    EXPECT_EQ(errors[1], "") << "round " << round;
  }
}

TEST(LedgerRace, two_bots_racing_for_more_than_is_free_get_exactly_one_reservation) {
  ManualClock clock;
  auto ledger = CapitalLedger::in_memory({}, clock).value();
  const int rounds = static_cast<int>(testing::scaled(500));
  for (int round = 0; round < rounds; ++round) {
    std::latch start(2);
    Result<Reservation> a = std::unexpected(Error{}), b = std::unexpected(Error{});
    std::thread ta([&] {
      start.arrive_and_wait();
      a = ledger.reserve("main", "BTCUSDT", money("5000"));
    });
    std::thread tb([&] {
      start.arrive_and_wait();
      b = ledger.reserve("multi", "ETHUSDT", money("5000"));
    });
    ta.join();
    tb.join();
    ASSERT_NE(a.has_value(), b.has_value()) << "round " << round;
    const Error& loser = a ? b.error() : a.error();
    ASSERT_EQ(loser.code, ErrorCode::insufficient_capital);
    ASSERT_EQ(ledger.stats().reserved, money("5000"));
  }  // the winners are dropped: cancelled
  EXPECT_EQ(ledger.stats().reserved, Money::zero());
}

// Reads consistent snapshots while others write, and records the first broken invariant.
class InvariantChecker {
 public:
  InvariantChecker(std::function<Result<LedgerState>()> snapshot, LedgerOptions options)
      : snapshot_(std::move(snapshot)), options_(std::move(options)), thread_([this](std::stop_token stop) { run(stop); }) {}
  ~InvariantChecker() { stop(); }
  void stop() {
    if (thread_.joinable()) {
      thread_.request_stop();
      thread_.join();
    }
  }
  const std::string& violation() const { return violation_; }
  std::int64_t snapshots() const { return snapshots_; }

 private:
  void run(std::stop_token stop) {
    std::int64_t last_seq = 0;
    while (!stop.stop_requested() && violation_.empty()) {
      auto state = snapshot_();
      if (!state) {
        violation_ = "snapshot failed: " + state.error().message;
        break;
      }
      violation_ = testing::invariant_violation(*state, options_);
      if (state->last_seq() < last_seq) violation_ = fmt::format("seq went back from {} to {}", last_seq, state->last_seq());
      last_seq = state->last_seq();
      ++snapshots_;
      std::this_thread::yield();
    }
  }

  std::function<Result<LedgerState>()> snapshot_;
  LedgerOptions options_;
  std::string violation_;
  std::int64_t snapshots_ = 0;
  std::jthread thread_;
};

TEST(LedgerContention, eight_threads_of_random_operations_never_exceed_a_cap_and_end_equal_to_the_replay) {
  constexpr int kThreads = 8;
  const std::int64_t ops = testing::scaled(100'000);
  ManualClock clock;
  LedgerOptions o = testing::shared_test_options();
  o.keep_journal = true;
  auto ledger = CapitalLedger::in_memory(o, clock).value();
  std::atomic<int> unexpected_errors{0};
  std::string first_error;
  std::mutex error_mutex;
  {
    InvariantChecker checker([&]() -> Result<LedgerState> { return ledger.state(); }, o);
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        testing::RandomWorkload work(ledger, 1000 + static_cast<std::uint64_t>(t));
        for (std::int64_t i = 0; i < ops; ++i) {
          auto r = work.step();
          if (!r) {
            std::lock_guard lock(error_mutex);
            if (unexpected_errors++ == 0) first_error = r.error().message;
            return;
          }
        }
        if (auto s = work.finish(); !s) ++unexpected_errors;
      });
    }
    threads.clear();  // joins
    checker.stop();
    EXPECT_EQ(checker.violation(), "");
    EXPECT_GT(checker.snapshots(), 0);
  }
  EXPECT_EQ(unexpected_errors.load(), 0) << first_error;
  const auto rows = testing::all_rows(ledger);
  EXPECT_EQ(static_cast<std::int64_t>(rows.size()), ledger.last_seq());
  EXPECT_EQ(testing::journal_violation(rows, o), "");  // no prefix of the history ever over-allocated
  EXPECT_EQ(replay_journal(rows).value(), ledger.state());
  EXPECT_EQ(ledger.stats().locked, Money::zero());  // everything settled
}

TEST(LedgerContention, eight_threads_on_one_durable_ledger_share_transactions_without_losing_a_change) {
  TempDir dir;
  const auto path = dir / "group-commit.ledger.sqlite";
  const std::int64_t ops = testing::scaled(10'000);
  ManualClock clock;
  const LedgerOptions o = testing::shared_test_options();
  auto ledger = CapitalLedger::open(path, o, clock).value();
  std::atomic<int> unexpected_errors{0};
  std::atomic<std::int64_t> acknowledged{0};
  {
    InvariantChecker checker([&]() -> Result<LedgerState> { return ledger.state(); }, o);
    std::vector<std::jthread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        testing::RandomWorkload work(ledger, 3000 + static_cast<std::uint64_t>(t));
        for (std::int64_t i = 0; i < ops; ++i) {
          auto r = work.step();
          if (!r) {
            ++unexpected_errors;
            return;
          }
          if (*r) ++acknowledged;
        }
        if (auto s = work.finish(); !s) ++unexpected_errors;
      });
    }
    threads.clear();
    checker.stop();
    EXPECT_EQ(checker.violation(), "");
  }
  EXPECT_EQ(unexpected_errors.load(), 0);
  const auto io = ledger.io_stats();
  EXPECT_EQ(io.rows_written, ledger.last_seq());  // every row this ledger wrote is one it acknowledged
  EXPECT_LE(io.transactions, io.rows_written);
  EXPECT_GE(io.rows_written, acknowledged.load());
  EXPECT_EQ(io.failed_batches, 0);
  EXPECT_EQ(ledger.state(), replay_journal(path).value());
  EXPECT_EQ(testing::journal_violation(testing::all_rows(ledger), o), "");
  RecordProperty("rows_per_transaction",
                 fmt::format("{:.2f}", static_cast<double>(io.rows_written) / static_cast<double>(io.transactions)));
}

TEST(LedgerContention, two_ledgers_on_one_file_with_four_threads_each_never_over_allocate) {
  TempDir dir;
  const auto path = dir / "shared.ledger.sqlite";
  const std::int64_t ops = testing::scaled(20'000);
  ManualClock clock;
  const LedgerOptions o = testing::shared_test_options();
  auto a = CapitalLedger::open(path, o, clock).value();
  auto b = CapitalLedger::open(path, o, clock).value();
  auto watcher = CapitalLedger::open(path, o, clock).value();
  std::atomic<int> unexpected_errors{0};
  std::string first_error;
  std::mutex error_mutex;
  {
    InvariantChecker checker(
        [&]() -> Result<LedgerState> {
          if (auto s = watcher.refresh(); !s) return std::unexpected(s.error());
          return watcher.state();
        },
        o);
    std::vector<std::jthread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        testing::RandomWorkload work(t % 2 == 0 ? a : b, 2000 + static_cast<std::uint64_t>(t));
        for (std::int64_t i = 0; i < ops; ++i) {
          auto r = work.step();
          if (!r) {
            std::lock_guard lock(error_mutex);
            if (unexpected_errors++ == 0) first_error = r.error().message;
            return;
          }
        }
        if (auto s = work.finish(); !s) ++unexpected_errors;
      });
    }
    threads.clear();
    checker.stop();
    EXPECT_EQ(checker.violation(), "");
  }
  EXPECT_EQ(unexpected_errors.load(), 0) << first_error;
  ASSERT_TRUE(a.refresh());
  ASSERT_TRUE(b.refresh());
  const LedgerState replayed = replay_journal(path).value();
  EXPECT_EQ(a.state(), replayed);
  EXPECT_EQ(b.state(), replayed);
  EXPECT_EQ(testing::journal_violation(testing::all_rows(a), o), "");
  EXPECT_EQ(replayed.locked(), Money::zero());
}

TEST(LedgerProcesses, two_processes_hammering_one_file_never_over_allocate_and_end_equal_to_the_replay) {
  TempDir dir;
  const auto path = dir / "two-processes.ledger.sqlite";
  const LedgerOptions o = testing::shared_test_options();
  ManualClock clock;
  auto watcher = CapitalLedger::open(path, o, clock).value();
  const std::string ops = std::to_string(testing::scaled(50'000));
  const pid_t p1 = testing::spawn_helper({"hammer", path.string(), "11", ops});
  const pid_t p2 = testing::spawn_helper({"hammer", path.string(), "22", ops});
  ASSERT_GT(p1, 0);
  ASSERT_GT(p2, 0);
  int exit1 = -1, exit2 = -1;
  {
    InvariantChecker checker(
        [&]() -> Result<LedgerState> {
          if (auto s = watcher.refresh(); !s) return std::unexpected(s.error());
          return watcher.state();
        },
        o);
    exit1 = testing::wait_exit_code(p1);
    exit2 = testing::wait_exit_code(p2);
    checker.stop();
    EXPECT_EQ(checker.violation(), "");
  }
  EXPECT_EQ(exit1, 0);
  EXPECT_EQ(exit2, 0);
  ASSERT_TRUE(watcher.refresh());
  const LedgerState replayed = replay_journal(path).value();
  EXPECT_EQ(watcher.state(), replayed);
  const auto rows = testing::all_rows(watcher);
  EXPECT_EQ(testing::journal_violation(rows, o), "");
  std::set<std::int64_t> owners;
  for (const auto& r : rows) {
    if (r.op == JournalOp::reserve) owners.insert(r.owner);
  }
  EXPECT_EQ(owners.size(), 2u);  // both processes really wrote
  EXPECT_EQ(replayed.locked(), Money::zero());
}

}  // namespace
}  // namespace twinstar
