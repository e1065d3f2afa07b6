// Each fault kind happens as configured (seeded, on simulated time) and the client sees it.
#include "sim_fixture.hpp"

namespace twinstar::venue::sim::testing {
namespace {

using SimFaults = SimFixture;

std::unique_ptr<WsClient> subscribed(SimFixture& f, std::unique_ptr<WsClient> c) {
  EXPECT_TRUE(c);
  if (!c) return c;
  EXPECT_TRUE(c->send(R"({"op":"subscribe","args":["kline.1.BTCUSDT"]})"));
  auto ack = c->read(5s);
  EXPECT_TRUE(ack);
  (void)f;
  return c;
}

// Frames available now (reads until nothing arrives for `quiet`).
std::vector<std::string> drain(WsClient& c, std::chrono::milliseconds quiet = 1s, int max = 1000) {
  std::vector<std::string> out;
  for (int i = 0; i < max; ++i) {
    auto m = c.read(quiet);
    if (!m) break;
    out.push_back(*m);
  }
  return out;
}

int confirms(const std::vector<std::string>& frames) {
  int n = 0;
  for (const auto& f : frames) n += f.find("\"confirm\":true") != std::string::npos;
  return n;
}

TEST_F(SimFaults, drop_cuts_a_websocket_connection_every_period) {
  options.faults = *parse_fault_spec("drop=60s");
  start_sim();
  auto c = subscribed(*this, ws("/v5/public/linear"));
  advance(59s);
  drain(*c);
  EXPECT_FALSE(c->is_closed());
  advance(2s);
  drain(*c, 2s);
  EXPECT_TRUE(c->is_closed());
  EXPECT_EQ(c->close_code(), -1);  // no close frame: the link just went away
  EXPECT_EQ(std::int64_t((*stats())["faults"]["drop"]), 1);
  auto again = subscribed(*this, ws("/v5/public/linear"));  // reconnecting works
  EXPECT_TRUE(again);
}

TEST_F(SimFaults, refuse_turns_new_connections_away_for_a_while) {
  options.faults = *parse_fault_spec("refuse=60s:10s");
  start_sim();
  advance(61s);  // the HTTP connection used by advance() was opened before: it keeps working
  auto refused = WsClient::connect(sim->port(), "/v5/public/linear");
  EXPECT_FALSE(refused);
  twinstar::testing::HttpClient fresh(sim->port());
  EXPECT_FALSE(fresh.get("/v5/market/time"));
  advance(10s);
  EXPECT_TRUE(WsClient::connect(sim->port(), "/v5/public/linear"));
  EXPECT_GE(std::int64_t((*stats())["faults"]["refused"]), 2);
}

TEST_F(SimFaults, stall_holds_a_connection_back_then_delivers_everything_in_order) {
  options.faults = *parse_fault_spec("stall=120s:30s");
  start_sim();
  auto c = subscribed(*this, ws("/v5/public/linear"));
  advance(119s);
  EXPECT_EQ(confirms(drain(*c)), 1);  // minute 1 confirmed
  advance(2s);                         // the stall starts at 120 s: minute 2's confirm is held
  EXPECT_TRUE(drain(*c).empty());
  advance(20s);
  EXPECT_TRUE(drain(*c).empty());
  advance(10s);                        // 151 s: the stall is over
  const auto frames = drain(*c);
  EXPECT_EQ(confirms(frames), 1);
  EXPECT_GT(frames.size(), 1u);
  EXPECT_EQ(std::int64_t((*stats())["faults"]["stall"]), 1);
}

TEST_F(SimFaults, dup_sends_pushes_twice) {
  options.faults = *parse_fault_spec("dup=1");
  start_sim();
  auto c = subscribed(*this, ws("/v5/public/linear"));
  advance(60s);
  const auto frames = drain(*c);
  ASSERT_GE(frames.size(), 2u);
  EXPECT_EQ(confirms(frames), 2);
  for (std::size_t i = 0; i + 1 < frames.size(); i += 2) EXPECT_EQ(frames[i], frames[i + 1]);
  EXPECT_GE(std::int64_t((*stats())["faults"]["dup"]), 1);
}

TEST_F(SimFaults, delay_holds_pushes_back_by_the_delay) {
  options.faults = *parse_fault_spec("delay=1:30s");
  start_sim();
  auto c = subscribed(*this, ws("/v5/public/linear"));
  advance(60s);
  EXPECT_TRUE(drain(*c).empty());
  advance(31s);
  EXPECT_EQ(confirms(drain(*c)), 1);
  EXPECT_GE(std::int64_t((*stats())["faults"]["delay"]), 1);
}

TEST_F(SimFaults, rest5xx_answers_503) {
  options.faults = *parse_fault_spec("rest5xx=1");
  start_sim();
  auto r = http->get("/v5/market/time");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(std::int64_t((*stats())["faults"]["rest5xx"]), 1);
}

TEST_F(SimFaults, timeout_leaves_a_rest_call_unanswered) {
  options.faults = *parse_fault_spec("timeout=1:200ms");
  start_sim();
  twinstar::testing::HttpClient c(sim->port(), 3s);
  auto r = c.get("/v5/market/time");
  EXPECT_FALSE(r);  // closed after 200 ms without an answer
  EXPECT_EQ(std::int64_t((*stats())["faults"]["timeout"]), 1);
}

TEST_F(SimFaults, the_fault_schedule_is_the_same_for_the_same_seed) {
  options.faults = *parse_fault_spec("rest5xx=0.5");
  options.seed = 42;
  start_sim();
  std::string pattern;
  for (int i = 0; i < 32; ++i) pattern += http->get("/v5/market/time")->status == 503 ? 'x' : '.';
  sim->stop();
  sim.reset();
  start_sim();
  std::string again;
  for (int i = 0; i < 32; ++i) again += http->get("/v5/market/time")->status == 503 ? 'x' : '.';
  EXPECT_EQ(pattern, again);
  EXPECT_NE(pattern.find('x'), std::string::npos);
  EXPECT_NE(pattern.find('.'), std::string::npos);
}

TEST_F(SimFaults, idle_connections_without_pings_are_closed_after_ten_minutes) {
  start_sim();
  auto quiet = ws("/v5/public/linear");
  auto pinging = ws("/v5/public/linear");
  ASSERT_TRUE(quiet && pinging);
  for (int i = 0; i < 11; ++i) {
    ASSERT_TRUE(pinging->send(R"({"op":"ping"})"));
    ASSERT_TRUE(pinging->read(5s));
    advance(60s);
  }
  EXPECT_FALSE(quiet->read(2s));
  EXPECT_TRUE(quiet->is_closed());
  EXPECT_FALSE(pinging->is_closed());
  EXPECT_EQ(std::int64_t((*stats())["connections"]["idle_closes"]), 1);
}

}  // namespace
}  // namespace twinstar::venue::sim::testing
