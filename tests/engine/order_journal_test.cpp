#include "engine/order_journal.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace twinstar {
namespace {

using namespace std::chrono;

const Timestamp kT0 = Timestamp(sys_days(year(2026) / 3 / 2));

class OrderJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("twinstar-orders-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path file() const { return dir_ / "engine.orders.sqlite"; }
  std::filesystem::path dir_;
};

OrderRecord order(const char* id, const char* bot, const char* symbol, Side side, OrderPurpose purpose, const char* qty,
                  int minute) {
  OrderRecord r;
  r.client_id = id;
  r.bot = bot;
  r.account = "main";
  r.request.client_id = id;
  r.request.symbol = *Symbol::parse(symbol);
  r.request.side = side;
  r.request.quantity = *Quantity::parse(qty);
  r.request.purpose = purpose;
  r.request.decided_at = floor_ms(kT0 + minutes(minute));
  if (purpose == OrderPurpose::entry) {
    r.request.stop_loss = *Price::parse("95");
    r.request.take_profit = *Price::parse("120");
  }
  r.created = r.updated = kT0 + minutes(minute);
  return r;
}

OrderUpdate fill(const char* id, OrderStatus status, const char* filled, const char* price, const char* fees, int minute) {
  return OrderUpdate{id, status, *Quantity::parse(filled), *Price::parse(price), *Money::parse(fees), kT0 + minutes(minute), ""};
}

TEST_F(OrderJournalTest, orders_survive_a_reopen_and_only_move_forward) {
  {
    auto j = OrderJournal::open(file());
    ASSERT_TRUE(j) << j.error().message;
    ASSERT_TRUE((*j)->record_submit(order("single-a-1", "single", "BTCUSDT", Side::buy, OrderPurpose::entry, "0.5", 0)));
    auto dup = (*j)->record_submit(order("single-a-1", "single", "BTCUSDT", Side::buy, OrderPurpose::entry, "0.5", 0));
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().code, ErrorCode::conflict);
    EXPECT_TRUE(*(*j)->record_update(fill("single-a-1", OrderStatus::partially_filled, "0.2", "100", "0.01", 1)));
    // A late, older report changes nothing.
    EXPECT_FALSE(*(*j)->record_update(fill("single-a-1", OrderStatus::open, "0", "0", "0", 2)));
    EXPECT_EQ((*j)->record_update(fill("nope", OrderStatus::filled, "1", "1", "0", 2)).error().code, ErrorCode::not_found);
    ASSERT_TRUE((*j)->record_submit(order("single-a-2", "single", "ETHUSDT", Side::sell, OrderPurpose::entry, "1", 3)));
  }
  auto j = OrderJournal::open(file());
  ASSERT_TRUE(j) << j.error().message;
  auto open = (*j)->open_orders();
  ASSERT_TRUE(open);
  ASSERT_EQ(open->size(), 2u);
  EXPECT_EQ((*open)[0].client_id, "single-a-1");
  EXPECT_EQ((*open)[0].status, OrderStatus::partially_filled);
  EXPECT_EQ((*open)[0].filled.to_string(), "0.2");
  EXPECT_EQ((*open)[0].request.stop_loss->to_string(), "95");
  EXPECT_EQ((*open)[0].request.decided_at, floor_ms(kT0));
  EXPECT_EQ((*open)[1].request.side, Side::sell);
  EXPECT_TRUE(*(*j)->record_update(fill("single-a-1", OrderStatus::filled, "0.5", "100.4", "0.025", 4)));
  EXPECT_FALSE(*(*j)->record_update(fill("single-a-1", OrderStatus::filled, "0.6", "100", "0.03", 5)));  // terminal stays
  EXPECT_EQ((*j)->open_orders()->size(), 1u);
  EXPECT_EQ(*(*j)->last_sequence("single-a-"), 2u);
  EXPECT_EQ(*(*j)->last_sequence("multi-"), 0u);
}

TEST_F(OrderJournalTest, positions_are_entries_minus_exits_with_the_entry_levels) {
  std::vector<OrderRecord> orders;
  auto add = [&](OrderRecord r, OrderStatus st, const char* filled, const char* price) {
    r.status = st;
    r.filled = *Quantity::parse(filled);
    r.average_price = *Price::parse(price);
    r.fees = *Money::parse("0.1");
    orders.push_back(r);
  };
  // BTC: two entry fills (1 @ 100, 1 @ 110), half closed: 1 left at 105.
  add(order("m-1", "multi", "BTCUSDT", Side::buy, OrderPurpose::entry, "1", 0), OrderStatus::filled, "1", "100");
  add(order("m-2", "multi", "BTCUSDT", Side::buy, OrderPurpose::entry, "1", 1), OrderStatus::filled, "1", "110");
  add(order("m-3", "multi", "BTCUSDT", Side::sell, OrderPurpose::take_profit, "1", 2), OrderStatus::filled, "1", "120");
  // ETH: opened and fully closed; then reversed into a short that is still open.
  add(order("m-4", "multi", "ETHUSDT", Side::buy, OrderPurpose::entry, "2", 3), OrderStatus::filled, "2", "50");
  add(order("m-5", "multi", "ETHUSDT", Side::sell, OrderPurpose::exit_signal, "2", 4), OrderStatus::filled, "2", "55");
  add(order("m-6", "multi", "ETHUSDT", Side::sell, OrderPurpose::entry, "3", 4), OrderStatus::partially_filled, "1.5", "55");
  // SOL: an entry that never filled.
  add(order("m-7", "multi", "SOLUSDT", Side::buy, OrderPurpose::entry, "3", 5), OrderStatus::rejected, "0", "0");
  // Another bot's order on BTC is its own.
  add(order("s-1", "single", "BTCUSDT", Side::sell, OrderPurpose::entry, "0.1", 6), OrderStatus::filled, "0.1", "111");

  auto positions = positions_from_orders(orders);
  ASSERT_EQ(positions.size(), 3u);
  std::map<std::pair<std::string, std::string>, JournalPosition> by;
  for (auto& p : positions) by[{p.bot, p.symbol.str()}] = p;
  const auto& btc = by.at({"multi", "BTCUSDT"});
  EXPECT_EQ(btc.side, Side::buy);
  EXPECT_EQ(btc.quantity.to_string(), "1");
  EXPECT_EQ(btc.entered.to_string(), "2");
  EXPECT_EQ(btc.entry_price.to_string(), "105");
  EXPECT_EQ(btc.stop_loss->to_string(), "95");
  EXPECT_EQ(btc.exit_notional.to_string(), "120");
  const auto& eth = by.at({"multi", "ETHUSDT"});
  EXPECT_EQ(eth.side, Side::sell);
  EXPECT_EQ(eth.quantity.to_string(), "1.5");
  EXPECT_EQ(eth.entry_price.to_string(), "55");
  EXPECT_EQ(by.at({"single", "BTCUSDT"}).side, Side::sell);
}

// A sender's late ack ("open") and the stream's fill race on every order: the journal must
// judge each against the state it replaces, so no order ever moves back from filled.
TEST_F(OrderJournalTest, racing_reports_of_one_order_never_move_it_backwards) {
  auto j = OrderJournal::open(file());
  ASSERT_TRUE(j) << j.error().message;
  constexpr int kOrders = 300;
  std::vector<std::string> ids;
  for (int i = 0; i < kOrders; ++i) {
    ids.push_back("multi-r-" + std::to_string(i));
    ASSERT_TRUE((*j)->record_submit(order(ids.back().c_str(), "multi", "ETHUSDT", Side::buy, OrderPurpose::entry, "1", 0)));
  }
  auto report = [&](OrderStatus status, const char* filled) {
    for (const auto& id : ids) {
      auto r = (*j)->record_update(OrderUpdate{id, status, *Quantity::parse(filled), *Price::parse("100"), Money::zero(), kT0, ""});
      ASSERT_TRUE(r) << r.error().message;
    }
  };
  std::thread acks([&] { report(OrderStatus::open, "0"); });
  std::thread fills([&] { report(OrderStatus::filled, "1"); });
  acks.join();
  fills.join();
  for (const auto& id : ids) {
    auto r = (*j)->find(id);
    ASSERT_TRUE(r && *r);
    EXPECT_EQ((*r)->status, OrderStatus::filled) << id;
    EXPECT_EQ((*r)->filled.to_string(), "1") << id;
  }
  auto open = (*j)->open_orders();
  ASSERT_TRUE(open);
  EXPECT_TRUE(open->empty());
}

// Writers never checkpoint inline (until the log is very large): the owner's checkpoint()
// moves the rows into the file itself, on its own connection, while the journal stays usable.
TEST_F(OrderJournalTest, checkpoint_moves_the_log_into_the_file) {
  auto j = OrderJournal::open(file());
  ASSERT_TRUE(j) << j.error().message;
  for (int i = 0; i < 200; ++i) {
    const std::string id = "single-c-" + std::to_string(i);
    ASSERT_TRUE((*j)->record_submit(order(id.c_str(), "single", "BTCUSDT", Side::buy, OrderPurpose::entry, "1", i)));
  }
  const auto before = std::filesystem::file_size(file());
  ASSERT_TRUE((*j)->checkpoint());
  const auto after = std::filesystem::file_size(file());
  EXPECT_GT(after, before) << "the rows were still only in the write-ahead log";
  ASSERT_TRUE((*j)->record_submit(order("single-c-x", "single", "BTCUSDT", Side::buy, OrderPurpose::entry, "1", 0)));
  auto all = (*j)->all();
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 201u);
}

// Senders write at once: every write lands, and a refused row (a client id used before)
// fails alone without disturbing the others.
TEST_F(OrderJournalTest, concurrent_writers_all_land_and_a_refused_row_fails_alone) {
  auto j = OrderJournal::open(file());
  ASSERT_TRUE(j) << j.error().message;
  ASSERT_TRUE((*j)->record_submit(order("taken", "multi", "ETHUSDT", Side::buy, OrderPurpose::entry, "1", 0)));
  constexpr int kThreads = 4;
  constexpr int kEach = 150;
  std::atomic<int> conflicts{0};
  std::atomic<int> other_errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string id = "multi-" + std::to_string(t) + "-" + std::to_string(i);
        if (!(*j)->record_submit(order(id.c_str(), "multi", "ETHUSDT", Side::buy, OrderPurpose::entry, "1", i))) ++other_errors;
        auto open = (*j)->record_update(OrderUpdate{id, OrderStatus::open, {}, {}, {}, kT0, ""});
        if (!open || !*open) ++other_errors;
        if (i % 10 == 0) {
          auto dup = (*j)->record_submit(order("taken", "multi", "ETHUSDT", Side::buy, OrderPurpose::entry, "1", 0));
          if (!dup && dup.error().code == ErrorCode::conflict) ++conflicts;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(other_errors.load(), 0);
  EXPECT_EQ(conflicts.load(), kThreads * (kEach / 10));
  auto all = (*j)->all();
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 1u + kThreads * kEach);
  auto open = (*j)->open_orders();
  ASSERT_TRUE(open);
  EXPECT_EQ(open->size(), 1u + kThreads * kEach);
  for (const auto& r : *open) EXPECT_EQ(r.status, r.client_id == "taken" ? OrderStatus::submitted : OrderStatus::open) << r.client_id;
}

// Two engines started together on one data directory create the journal file at the same
// moment: both must open it (found by the two-process end-to-end test, where one was refused
// as "not a twinstar order journal" while the other was half-way through the schema).
TEST_F(OrderJournalTest, two_openers_racing_to_create_a_new_file_both_succeed) {
  for (int round = 0; round < 40; ++round) {
    const auto path = dir_ / ("race-" + std::to_string(round) + ".sqlite");
    std::atomic<int> ready{0};
    std::string errors[2];
    auto opener = [&](int k) {
      ready.fetch_add(1);
      while (ready.load() < 2) {
      }
      auto j = OrderJournal::open(path);
      if (!j) errors[k] = j.error().message;
    };
    std::thread a(opener, 0), b(opener, 1);
    a.join();
    b.join();
    EXPECT_EQ(errors[0], "") << "round " << round;
    EXPECT_EQ(errors[1], "") << "round " << round;
  }
}

TEST_F(OrderJournalTest, a_file_that_is_not_an_order_journal_is_refused_untouched) {
  { std::ofstream(file()) << "not a database at all, just text that must survive"; }
  auto j = OrderJournal::open(file());
  ASSERT_FALSE(j);
  EXPECT_EQ(j.error().code, ErrorCode::io_error);
  EXPECT_NE(j.error().message.find(file().string()), std::string::npos) << j.error().message;
  std::ifstream in(file());
  std::string text;
  std::getline(in, text);
  EXPECT_EQ(text, "not a database at all, just text that must survive");
}

TEST_F(OrderJournalTest, a_rounds_orders_are_written_all_or_none) {
  auto j = OrderJournal::open(file());
  ASSERT_TRUE(j) << j.error().message;
  ASSERT_TRUE((*j)->record_submit(order("multi-7", "multi", "SOLUSDT", Side::buy, OrderPurpose::entry, "1", 0)));
  std::vector<OrderRecord> round = {order("multi-8", "multi", "BTCUSDT", Side::buy, OrderPurpose::entry, "0.1", 1),
                                    order("multi-9", "multi", "ETHUSDT", Side::sell, OrderPurpose::entry, "2", 1)};
  ASSERT_TRUE((*j)->record_submits(round));
  auto all = (*j)->all();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[1].client_id, "multi-8");  // in order
  EXPECT_EQ((*all)[2].client_id, "multi-9");
  // A used client id in the middle: nothing of that round is written.
  std::vector<OrderRecord> bad = {order("multi-10", "multi", "XRPUSDT", Side::buy, OrderPurpose::entry, "5", 2),
                                  order("multi-7", "multi", "SOLUSDT", Side::buy, OrderPurpose::entry, "1", 2),
                                  order("multi-11", "multi", "ADAUSDT", Side::buy, OrderPurpose::entry, "9", 2)};
  auto refused = (*j)->record_submits(bad);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::conflict);
  EXPECT_FALSE(*(*j)->find("multi-10"));
  EXPECT_FALSE(*(*j)->find("multi-11"));
  // The journal carries on, in order, and a reopen sees the same.
  ASSERT_TRUE((*j)->record_submits(std::vector<OrderRecord>{order("multi-12", "multi", "DOTUSDT", Side::buy, OrderPurpose::entry, "3", 3),
                                                            order("multi-13", "multi", "LTCUSDT", Side::buy, OrderPurpose::entry, "1", 3)}));
  j->reset();
  auto again = OrderJournal::open(file());
  ASSERT_TRUE(again);
  auto after = (*again)->all();
  ASSERT_TRUE(after);
  std::vector<std::string> ids;
  for (const auto& r : *after) ids.push_back(r.client_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"multi-7", "multi-8", "multi-9", "multi-12", "multi-13"}));
}

}  // namespace
}  // namespace twinstar
