#include "bot/bot_factory.hpp"

#include <gtest/gtest.h>

namespace twinstar {
namespace {

BotConfig fixed(const char* name, std::vector<std::string> symbols, const char* amount) {
  BotConfig b;
  b.name = name;
  b.kind = symbols.size() == 1 ? "single" : "multi";
  b.symbols = std::move(symbols);
  b.sizing.amount = *Money::parse(amount);
  b.line = 7;
  return b;
}

TEST(BotFactory, caps_that_can_never_admit_a_fixed_entry_are_config_errors_naming_the_cap) {
  CapitalConfig capital;
  capital.initial_capital = Money::from_units(1000);  // cap 800
  EXPECT_TRUE(validate_bots_against_capital({fixed("single", {"BTCUSDT"}, "700")}, capital, "cfg.toml"));

  auto over_cap = validate_bots_against_capital({fixed("single", {"BTCUSDT"}, "790")}, capital, "cfg.toml");
  ASSERT_FALSE(over_cap);  // 790 + 2 % buffer = 805.8 > 800
  EXPECT_EQ(over_cap.error().code, ErrorCode::config_error);
  EXPECT_NE(over_cap.error().message.find("cfg.toml:7: bot single: each entry reserves 805.8"), std::string::npos)
      << over_cap.error().message;
  EXPECT_NE(over_cap.error().message.find("allocation cap 800"), std::string::npos) << over_cap.error().message;

  capital.per_bot_cap["multi"] = Money::from_units(100);
  auto bot_cap = validate_bots_against_capital({fixed("multi", {"ETHUSDT", "SOLUSDT"}, "200")}, capital, "cfg.toml");
  ASSERT_FALSE(bot_cap);
  EXPECT_NE(bot_cap.error().message.find("capital.per_bot_cap.multi = 100"), std::string::npos) << bot_cap.error().message;

  capital.per_bot_cap.clear();
  capital.per_symbol_cap["SOLUSDT"] = Money::from_units(150);
  auto symbol_cap = validate_bots_against_capital({fixed("multi", {"ETHUSDT", "SOLUSDT"}, "200")}, capital, "cfg.toml");
  ASSERT_FALSE(symbol_cap);
  EXPECT_NE(symbol_cap.error().message.find("capital.per_symbol_cap.SOLUSDT = 150"), std::string::npos)
      << symbol_cap.error().message;

  // Sizing by a fraction of what is available always fits.
  BotConfig percent = fixed("multi", {"ETHUSDT", "SOLUSDT"}, "100000");
  percent.sizing.mode = "percent_available";
  EXPECT_TRUE(validate_bots_against_capital({percent}, capital, "cfg.toml"));
}

TEST(BotFactory, unknown_strategies_and_parameters_out_of_range_are_named) {
  BotConfig b = fixed("single", {"BTCUSDT"}, "100");
  b.strategy = "moon_shot";
  auto unknown = validate_bots({b}, "cfg.toml");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("cfg.toml:7: bot single"), std::string::npos) << unknown.error().message;
  EXPECT_NE(unknown.error().message.find("moon_shot"), std::string::npos) << unknown.error().message;
  b.strategy = "ma_cross";
  b.params = {{"fast", 50}, {"slow", 10}};
  auto range = validate_bots({b}, "cfg.toml");
  ASSERT_FALSE(range);
  EXPECT_NE(range.error().message.find("fast"), std::string::npos) << range.error().message;
}

}  // namespace
}  // namespace twinstar
