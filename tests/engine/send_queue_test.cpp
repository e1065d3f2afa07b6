#include "engine/send_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <thread>

namespace twinstar {
namespace {

using namespace std::chrono_literals;

SendJob job(std::string id, std::string_view symbol, SendJob::Kind kind = SendJob::Kind::place) {
  SendJob j;
  j.kind = kind;
  j.client_id = std::move(id);
  j.symbol = *Symbol::parse(symbol);
  return j;
}

std::chrono::steady_clock::time_point now() { return std::chrono::steady_clock::now(); }

TEST(SendQueue, one_job_per_symbol_is_out_and_other_symbols_pass_it) {
  SendQueue q(8);
  std::stop_source stop;
  ASSERT_TRUE(q.push(job("a-1", "BTCUSDT")));
  ASSERT_TRUE(q.push(job("a-1", "BTCUSDT", SendJob::Kind::cancel)));
  ASSERT_TRUE(q.push(job("b-1", "ETHUSDT")));
  EXPECT_EQ(q.places(), 2u);  // orders the journal may not hold yet; a cancel is not one

  auto first = q.take(stop.get_token(), now());
  ASSERT_TRUE(first);
  EXPECT_EQ(first->client_id, "a-1");
  auto second = q.take(stop.get_token(), now());  // the cancel waits for the place; ETH passes
  ASSERT_TRUE(second);
  EXPECT_EQ(second->client_id, "b-1");
  EXPECT_FALSE(q.take(stop.get_token(), now() + 20ms));  // only BTC's cancel is left, and BTC is out
  EXPECT_TRUE(q.pending("a-1"));
  EXPECT_EQ(q.places(), 2u);  // out counts until its answer is in
  q.done(*first);
  EXPECT_EQ(q.places(), 1u);
  auto third = q.take(stop.get_token(), now());
  ASSERT_TRUE(third);
  EXPECT_EQ(third->kind, SendJob::Kind::cancel);
  EXPECT_TRUE(q.pending("a-1"));  // its cancel is out
  q.done(*third);
  q.done(*second);
  EXPECT_FALSE(q.pending("a-1"));
  EXPECT_FALSE(q.pending("b-1"));
  EXPECT_EQ(q.queued(), 0u);
  EXPECT_EQ(q.places(), 0u);
}

TEST(SendQueue, a_full_queue_refuses_new_jobs_and_keeps_the_queued_ones) {
  SendQueue q(2);
  EXPECT_TRUE(q.push(job("a-1", "BTCUSDT")));
  EXPECT_TRUE(q.push(job("a-2", "ETHUSDT")));
  EXPECT_FALSE(q.push(job("a-3", "SOLUSDT")));
  EXPECT_EQ(q.queued(), 2u);
  EXPECT_FALSE(q.pending("a-3"));
  std::stop_source stop;
  EXPECT_EQ(q.take(stop.get_token(), now())->client_id, "a-1");
  EXPECT_TRUE(q.push(job("a-3", "SOLUSDT")));  // room again once one is out
}

TEST(SendQueue, a_stop_wakes_a_waiting_sender_and_what_is_left_still_drains) {
  SendQueue q(4);
  std::stop_source stop;
  std::atomic<bool> woke{false};
  std::thread waiter([&] {
    EXPECT_FALSE(q.take(stop.get_token(), now() + 60s));
    woke = true;
  });
  std::this_thread::sleep_for(20ms);
  stop.request_stop();
  waiter.join();  // would take a minute without the stop
  EXPECT_TRUE(woke.load());
  ASSERT_TRUE(q.push(job("a-1", "BTCUSDT")));
  auto left = q.take(stop.get_token(), now() + 60s);  // stopped, but a job can be taken: handed out
  ASSERT_TRUE(left);
  EXPECT_EQ(left->client_id, "a-1");
}

// Property: with several senders and random delays, every job is sent exactly once, one
// symbol's jobs are sent in push order and never two at a time.
TEST(SendQueue, several_senders_keep_each_symbols_order_and_send_everything_once) {
  constexpr int kJobs = 2000;
  const std::vector<std::string> symbols = {"BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT"};
  SendQueue q(64);
  std::stop_source stop;
  std::mutex m;
  std::map<std::string, std::vector<int>> sent;  // symbol -> job numbers in send order
  std::map<std::string, int> out;                 // symbol -> jobs out now
  int max_out_per_symbol = 0;
  std::vector<std::thread> senders;
  for (int s = 0; s < 4; ++s) {
    senders.emplace_back([&, s] {
      std::mt19937 rng(static_cast<unsigned>(s));
      for (;;) {
        auto j = q.take(stop.get_token(), now() + 100ms);
        if (!j) {
          if (stop.stop_requested()) break;
          continue;  // a timeout: nothing takeable for now
        }
        const std::string sym(j->symbol.str());
        {
          std::lock_guard lock(m);
          max_out_per_symbol = std::max(max_out_per_symbol, ++out[sym]);
          sent[sym].push_back(std::stoi(j->client_id));
        }
        if (rng() % 4 == 0) std::this_thread::sleep_for(std::chrono::microseconds(rng() % 200));
        {
          std::lock_guard lock(m);
          --out[sym];
        }
        q.done(*j);
      }
    });
  }
  std::mt19937 rng(7);
  std::map<std::string, std::vector<int>> pushed;
  for (int i = 0; i < kJobs; ++i) {
    const std::string& sym = symbols[rng() % symbols.size()];
    while (!q.push(job(std::to_string(i), sym))) std::this_thread::sleep_for(50us);  // full: the caller retries
    pushed[sym].push_back(i);
  }
  while (q.queued() > 0) std::this_thread::sleep_for(1ms);
  stop.request_stop();
  for (auto& t : senders) t.join();
  EXPECT_EQ(sent, pushed);
  EXPECT_EQ(max_out_per_symbol, 1);
}

// The trading thread sends a job itself only when nothing of its symbol is queued or out, and the
// job then holds its symbol like a taken one until done().
TEST(SendQueue, a_direct_send_keeps_each_symbols_jobs_in_order) {
  SendQueue q(8);
  std::stop_source stop;
  ASSERT_TRUE(q.push(job("a-1", "BTCUSDT")));
  EXPECT_FALSE(q.take_direct(job("a-2", "BTCUSDT")));  // a-1 is queued: a-2 may not pass it
  const SendJob direct = job("b-1", "ETHUSDT");
  ASSERT_TRUE(q.take_direct(direct));
  EXPECT_TRUE(q.pending("b-1"));
  EXPECT_EQ(q.places(), 2u);
  ASSERT_TRUE(q.push(job("b-1", "ETHUSDT", SendJob::Kind::cancel)));
  auto first = q.take(stop.get_token(), now());
  ASSERT_TRUE(first);
  EXPECT_EQ(first->client_id, "a-1");
  EXPECT_FALSE(q.take(stop.get_token(), now() + 20ms));  // ETH's cancel waits for the direct send's answer
  EXPECT_FALSE(q.take_direct(job("a-3", "BTCUSDT")));   // a-1 is out
  q.done(direct);
  auto cancel = q.take(stop.get_token(), now());
  ASSERT_TRUE(cancel);
  EXPECT_EQ(cancel->kind, SendJob::Kind::cancel);
  q.done(*cancel);
  q.done(*first);
  EXPECT_TRUE(q.take_direct(job("a-3", "BTCUSDT")));
}

}  // namespace
}  // namespace twinstar
