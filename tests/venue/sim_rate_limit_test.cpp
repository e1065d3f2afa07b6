// The sim enforces Bybit's limits (exchange-api.md §1.3) and reports every violation.
#include "sim_fixture.hpp"

namespace twinstar::venue::sim::testing {
namespace {

using SimRateLimits = SimFixture;

constexpr const char* kRestingOrder =
    R"({"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.001","price":"1000"})";

TEST_F(SimRateLimits, order_create_over_ten_per_second_gets_10006_with_bybit_headers) {
  start_sim();
  std::vector<HttpResult> answers;
  for (int i = 0; i < 12; ++i) answers.push_back(signed_post("/v5/order/create", kRestingOrder));
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(std::int64_t((*parse(answers[i].body))["retCode"]), 0) << answers[i].body;
    EXPECT_EQ(answers[i].header("X-Bapi-Limit"), "10");
    EXPECT_EQ(answers[i].header("X-Bapi-Limit-Status"), std::to_string(9 - i));
  }
  for (int i = 10; i < 12; ++i) {
    auto j = parse(answers[i].body);
    EXPECT_EQ(answers[i].status, 200);
    EXPECT_EQ(std::int64_t((*j)["retCode"]), 10006);
    EXPECT_EQ(str((*j)["retMsg"]), "Too many visits!");
    EXPECT_EQ(answers[i].header("X-Bapi-Limit-Status"), "0");
    // Over the limit: the reset time is when the window frees a slot (1 s after the first).
    EXPECT_EQ(answers[i].header("X-Bapi-Limit-Reset-Timestamp"), std::to_string(now_ms() + 1000));
  }
  // Other endpoints have their own windows.
  EXPECT_EQ(std::int64_t((*parse(signed_get("/v5/order/realtime", "category=linear").body))["retCode"]), 0);
  advance(1s);
  EXPECT_EQ(std::int64_t((*parse(signed_post("/v5/order/create", kRestingOrder).body))["retCode"]), 0);

  auto s = stats();
  EXPECT_EQ(std::int64_t((*s)["violations"]), 2);
  bool found = false;
  for (auto l : simdjson::dom::array((*s)["rate_limits"])) {
    if (str(l["limit"]) == "uid" && str(l["endpoint"]) == "/v5/order/create:linear") {
      found = true;
      EXPECT_EQ(std::int64_t(l["rejected"]), 2);
      EXPECT_EQ(std::int64_t(l["max_in_window"]), 10);
      EXPECT_EQ(std::int64_t(l["max"]), 10);
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(SimRateLimits, spot_orders_have_twenty_per_second) {
  start_sim();
  const std::string body = R"({"category":"spot","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.001","price":"1000"})";
  int ok = 0, limited = 0;
  for (int i = 0; i < 22; ++i) {
    const auto code = std::int64_t((*parse(signed_post("/v5/order/create", body).body))["retCode"]);
    ok += code == 0;
    limited += code == 10006;
  }
  EXPECT_EQ(ok, 20);
  EXPECT_EQ(limited, 2);
}

TEST_F(SimRateLimits, ip_over_its_window_gets_403_and_stays_banned_for_the_ban_time) {
  options.ip_limit = 20;  // Bybit's 600 per 5 s, scaled down so the test sends few requests
  options.ip_ban = std::chrono::minutes(10);
  start_sim();
  int ok = 0, forbidden = 0;
  for (int i = 0; i < 25; ++i) {
    auto r = http->get("/v5/market/time");
    ASSERT_TRUE(r);
    if (r->status == 200) ++ok;
    if (r->status == 403) {
      ++forbidden;
      EXPECT_EQ(r->body, "access too frequent");
    }
  }
  EXPECT_EQ(ok, 20);
  EXPECT_EQ(forbidden, 5);
  advance(std::chrono::seconds(6));  // the window is clear, but the ban holds
  EXPECT_EQ(http->get("/v5/market/time")->status, 403);
  advance(std::chrono::minutes(10));
  EXPECT_EQ(http->get("/v5/market/time")->status, 200);
  auto s = stats();
  EXPECT_EQ(std::int64_t((*s)["violations"]), 6);
}

TEST_F(SimRateLimits, a_client_that_paces_itself_records_no_violation) {
  start_sim();
  for (int second = 0; second < 3; ++second) {
    for (int i = 0; i < 10; ++i) {
      EXPECT_EQ(std::int64_t((*parse(signed_post("/v5/order/create", kRestingOrder).body))["retCode"]), 0);
    }
    advance(1s);
  }
  EXPECT_EQ(std::int64_t((*stats())["violations"]), 0);
}

}  // namespace
}  // namespace twinstar::venue::sim::testing
