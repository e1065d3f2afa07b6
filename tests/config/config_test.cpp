#include "config/config.hpp"

#include <gtest/gtest.h>

namespace twinstar {
namespace {

constexpr const char* kFull = R"(data_dir = "/var/lib/twinstar"
log_level = "debug"

[capital]
exchange = "binance"
initial_capital = "25000.50"
max_allocation_ratio = 0.75
daily_loss_limit = 500
max_drawdown = 0.2
per_symbol_cap = { BTCUSDT = 2000, ETHUSDT = "1500.5" }
per_bot_cap = { multi = 5000 }

[[rate_limits]]
preset = "okx"
safety_margin = 0.8
share = 0.5
buckets.candles = { limit = 40, window = "2s", strict = true }

[[accounts]]
name = "main"
exchange = "bybit"
market = "linear"
endpoint = "sim"
api_key_env = "BYBIT_KEY"
api_secret_env = "BYBIT_SECRET"
)";

TEST(Config, reads_every_section) {
  auto c = parse_config(kFull, "twinstar.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->data_dir, "/var/lib/twinstar");
  EXPECT_EQ(c->capital.exchange, Exchange::binance);
  EXPECT_EQ(c->capital.initial_capital.to_string(), "25000.5");
  EXPECT_EQ(c->capital.max_allocation_ratio.to_string(), "0.75");
  EXPECT_EQ(c->capital.daily_loss_limit->to_string(), "500");
  EXPECT_EQ(c->capital.max_drawdown->to_string(), "0.2");
  EXPECT_EQ(c->capital.per_symbol_cap.at("ETHUSDT").to_string(), "1500.5");
  EXPECT_EQ(c->capital.per_bot_cap.at("multi").to_string(), "5000");
  ASSERT_EQ(c->rate_limits.size(), 1u);
  EXPECT_EQ(c->rate_limits[0].preset, "okx");
  EXPECT_EQ(c->rate_limits[0].safety_margin->to_string(), "0.8");
  EXPECT_EQ(c->rate_limits[0].share->to_string(), "0.5");
  EXPECT_EQ(*c->rate_limits[0].buckets.at("candles").limit, 40);
  EXPECT_EQ(*c->rate_limits[0].buckets.at("candles").window, std::chrono::seconds(2));
  EXPECT_TRUE(*c->rate_limits[0].buckets.at("candles").strict);
  ASSERT_EQ(c->accounts.size(), 1u);
  EXPECT_EQ(c->accounts[0].api_key_env, "BYBIT_KEY");
}

TEST(Config, defaults_when_empty) {
  auto c = parse_config("", "empty.toml");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->data_dir, "./data");
  EXPECT_EQ(c->instance, "");
  EXPECT_EQ(c->capital.max_allocation_ratio.to_string(), "0.8");
  EXPECT_EQ(c->capital.initial_capital.to_string(), "10000");
}

// Each bad value gives one message naming file, line, key, rule and value.
TEST(Config, errors_name_file_line_key_rule_and_value) {
  struct Case {
    const char* toml;
    const char* message;
  };
  const Case cases[] = {
      {"[capital]\n\nmax_allocation_ratio = 1.5\n", "cfg.toml:3: capital.max_allocation_ratio must be in (0, 1], got 1.5"},
      {"[capital]\nmax_allocation_ratio = 0\n", "cfg.toml:2: capital.max_allocation_ratio must be in (0, 1], got 0"},
      {"[capital]\ninitial_capital = -5\n", "cfg.toml:2: capital.initial_capital must be greater than 0, got -5"},
      {"[capital]\ninitial_capital = \"12.123456789\"\n",
       "cfg.toml:2: capital.initial_capital must be a decimal number with at most 8 decimal places, got \"12.123456789\""},
      {"[capital]\nexchange = \"ftx\"\n", "cfg.toml:2: capital.exchange must be one of bybit, binance, okx, bitget, got \"ftx\""},
      {"[capital]\nmax_alloc_ratio = 0.5\n", "cfg.toml:2: capital.max_alloc_ratio is not a known setting"},
      {"[capital]\nmax_drawdown = 1\n", "cfg.toml:2: capital.max_drawdown must be in (0, 1), got 1"},
      {"[capital.per_symbol_cap]\n\"BTC USDT\" = 5\n", "cfg.toml:2: capital.per_symbol_cap.BTC USDT is not a valid symbol"},
      {"instance = \"Single Bot\"\n",
       "cfg.toml:1: instance must be 1-32 of a-z, 0-9, '-', '_', starting with a letter or digit, got \"Single Bot\""},
      {"instance = \"../up\"\n", "cfg.toml:1: instance must be 1-32 of a-z"},
      {"log_level = \"loud\"\n", "cfg.toml:1: log_level must be one of trace, debug, info, warn, error, critical, off, got \"loud\""},
      {"[[rate_limits]]\nsafety_margin = 0.9\n", "cfg.toml: rate_limits[0].preset is required"},
      {"[[rate_limits]]\npreset = \"okx\"\nbuckets.candles = { window = \"fast\" }\n",
       "cfg.toml:3: rate_limits[0].buckets.candles.window must be a positive duration"},
      {"[[rate_limits]]\npreset = \"okx\"\nbuckets.candles = { limit = 0 }\n",
       "cfg.toml:3: rate_limits[0].buckets.candles.limit must be at least 1, got 0"},
      {"[[accounts]]\nname = \"a\"\nkey_file = \"k\"\napi_key_env = \"K\"\n",
       "cfg.toml:1: accounts[0] must name either key_file or api_key_env/api_secret_env, not both"},
      {"[[accounts]]\nname = \"a\"\n[[accounts]]\nname = \"a\"\n", "cfg.toml:3: accounts[1] repeats account name, got \"a\""},
      {"capital = 5\n", "cfg.toml:1: capital must be a table, got 5"},
      {"data_dir = [1\n", "cfg.toml:1:"},
  };
  for (const auto& c : cases) {
    auto r = parse_config(c.toml, "cfg.toml");
    ASSERT_FALSE(r) << c.toml;
    EXPECT_EQ(r.error().code, ErrorCode::config_error);
    EXPECT_EQ(r.error().message.rfind(c.message, 0), 0u) << "got: " << r.error().message << "\nwant prefix: " << c.message;
  }
}

TEST(Config, missing_file_is_a_clear_error) {
  auto r = load_config("/nonexistent/twinstar.toml");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("/nonexistent/twinstar.toml: cannot read the config file"), std::string::npos);
}

}  // namespace
}  // namespace twinstar

namespace twinstar {
namespace {

TEST(Config, the_shipped_example_is_valid) {
  auto c = load_config(std::string(TWINSTAR_SOURCE_DIR) + "/examples/twinstar.toml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->accounts.size(), 1u);
  EXPECT_EQ(c->rate_limits.size(), 1u);
}

}  // namespace
}  // namespace twinstar

namespace twinstar {
namespace {

TEST(Config, reads_bots_and_backtest_sections) {
  auto c = parse_config(R"([[bots]]
name = "single"
kind = "single"
symbol = "BTCUSDT"
interval = "15m"
strategy = "ma_cross"
params = { fast = 10, slow = 30 }
sizing = { mode = "risk", risk_fraction = 0.01, lot_size = "0.001" }

[[bots]]
name = "multi"
kind = "multi"
symbols = ["ETHUSDT", "SOLUSDT"]
max_positions = 3
allow_short = true

[backtest]
from = "2023-01-01"
to = "2023-06-01"
commission = 0.001
slippage_pct = 0.0005
exits = "next_open"
both_touched = "take_profit_first"
size_at = "signal"
trade_from = "2023-02-01"
end = "report_open"
)",
                        "bots.toml");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->bots.size(), 2u);
  EXPECT_EQ(c->bots[0].symbols, std::vector<std::string>{"BTCUSDT"});
  EXPECT_EQ(c->bots[0].params.at("slow"), 30);
  EXPECT_EQ(c->bots[0].sizing.mode, "risk");
  EXPECT_EQ(c->bots[0].sizing.lot_size.to_string(), "0.001");
  EXPECT_EQ(c->bots[0].line, 1);
  EXPECT_EQ(c->bots[1].kind, "multi");
  EXPECT_EQ(c->bots[1].max_positions, 3u);
  EXPECT_TRUE(c->bots[1].allow_short);
  EXPECT_EQ(c->backtest.commission.to_string(), "0.001");
  EXPECT_EQ(c->backtest.exits, "next_open");
  EXPECT_EQ(format_utc_date(*c->backtest.from), "2023-01-01");
  EXPECT_EQ(c->backtest.both_touched, "take_profit_first");
  EXPECT_EQ(c->backtest.size_at, "signal");
  EXPECT_EQ(format_utc_date(*c->backtest.trade_from), "2023-02-01");
  EXPECT_EQ(c->backtest.end, "report_open");
}

TEST(Config, bad_bot_and_backtest_values_are_named) {
  struct Case {
    const char* toml;
    const char* message;
  };
  const Case cases[] = {
      {"[[bots]]\nname = \"a\"\nkind = \"grid\"\nsymbol = \"X\"\n", "b.toml:3: bots[0].kind must be single or multi, got \"grid\""},
      {"[[bots]]\nname = \"a\"\n", "b.toml:1: bots[0] needs symbol = \"...\""},
      {"[[bots]]\nname = \"a\"\nsymbols = [\"A\", \"B\"]\n", "b.toml:1: bots[0] is a single bot: give exactly one symbol"},
      {"[[bots]]\nname = \"a\"\nsymbol = \"BTC USDT\"\n", "b.toml:1: bots[0].symbols has an invalid symbol, got \"BTC USDT\""},
      {"[[bots]]\nname = \"a\"\nsymbol = \"X\"\nsizing = { mode = \"martingale\" }\n",
       "b.toml:4: bots[0].sizing.mode must be fixed_quote, percent_available or risk, got \"martingale\""},
      {"[[bots]]\nname = \"a\"\nsymbol = \"X\"\n[[bots]]\nname = \"a\"\nsymbol = \"Y\"\n", "b.toml:4: bots[1] repeats bot name"},
      {"[backtest]\nexits = \"never\"\n", "b.toml:2: backtest.exits must be one of at_level, next_open, got \"never\""},
      {"[backtest]\nfrom = \"2023-02-01\"\nto = \"2023-01-01\"\n", "b.toml:1: backtest.to must be after backtest.from"},
      {"[backtest]\ncommission = 1.5\n", "b.toml:2: backtest.commission must be in [0, 1), got 1.5"},
      {"[backtest]\nsize_at = \"open\"\n", "b.toml:2: backtest.size_at must be one of fill, signal, got \"open\""},
      {"[backtest]\nfrom = \"2023-02-01\"\ntrade_from = \"2023-01-01\"\n",
       "b.toml:1: backtest.trade_from must be within [backtest.from, backtest.to)"},
  };
  for (const auto& c : cases) {
    auto r = parse_config(c.toml, "b.toml");
    ASSERT_FALSE(r) << c.toml;
    EXPECT_EQ(r.error().message.rfind(c.message, 0), 0u) << "got: " << r.error().message << "\nwant prefix: " << c.message;
  }
}

}  // namespace
}  // namespace twinstar
