#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "venue/sim/sim_options.hpp"

namespace twinstar::venue::sim {
namespace {

using namespace std::chrono_literals;

TEST(SimOptions, fault_spec_parses_every_kind) {
  auto f = parse_fault_spec("drop=30s,stall=60s:5s,dup=0.01,delay=0.05:200ms,rest5xx=0.02,timeout=0.01,refuse=120s:10s");
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->drop_every, Duration(30s));
  EXPECT_EQ(f->stall_every, Duration(60s));
  EXPECT_EQ(f->stall_for, Duration(5s));
  EXPECT_DOUBLE_EQ(f->dup_probability, 0.01);
  EXPECT_DOUBLE_EQ(f->delay_probability, 0.05);
  EXPECT_EQ(f->delay_for, Duration(200ms));
  EXPECT_DOUBLE_EQ(f->rest_5xx_probability, 0.02);
  EXPECT_DOUBLE_EQ(f->timeout_probability, 0.01);
  EXPECT_EQ(f->refuse_every, Duration(120s));
  EXPECT_EQ(f->refuse_for, Duration(10s));
  EXPECT_TRUE(f->any());
}

TEST(SimOptions, fault_spec_errors_name_the_bad_item) {
  for (const char* bad : {"drop", "dup=2", "stall=60s", "stall=5s:10s", "delay=0.1", "nosuch=1", "refuse=x:1s"}) {
    auto f = parse_fault_spec(bad);
    EXPECT_FALSE(f) << bad;
  }
  EXPECT_NE(parse_fault_spec("nosuch=1").error().message.find("nosuch"), std::string::npos);
}

TEST(SimOptions, accounts_file_is_read_and_checked) {
  const auto path = std::filesystem::temp_directory_path() / "twinstar_sim_accounts_test.toml";
  {
    std::ofstream f(path);
    f << "[[account]]\nname = \"a\"\napi_key = \"K1\"\napi_secret = \"S1\"\nusdt = \"2500.5\"\n"
         "[[account]]\napi_key = \"K2\"\napi_secret = \"S2\"\n";
  }
  auto a = load_accounts_file(path);
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_EQ(a->size(), 2u);
  EXPECT_EQ((*a)[0].usdt, *Money::parse("2500.5"));
  EXPECT_EQ((*a)[1].usdt, Money::from_units(100'000));
  EXPECT_NE((*a)[0].uid, (*a)[1].uid);
  {
    std::ofstream f(path);
    f << "[[account]]\napi_key = \"K1\"\n";
  }
  auto bad = load_accounts_file(path);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find(":1:"), std::string::npos) << bad.error().message;
  std::filesystem::remove(path);
}

TEST(SimOptions, idle_timeout_and_push_period_scale_with_speed) {
  SimOptions o;
  o.speed = 1;
  EXPECT_EQ(o.effective_idle_timeout(), Duration(10min));
  EXPECT_EQ(o.effective_push_period(), Duration(1s));
  o.speed = 900;
  EXPECT_EQ(o.effective_idle_timeout(), Duration(30s * 900));  // 30 s of real time
  EXPECT_EQ(o.effective_push_period(), Duration(180s));         // 0.2 s of real time
}

}  // namespace
}  // namespace twinstar::venue::sim
