#include "core/decimal.hpp"

#include <random>

#include <gtest/gtest.h>

namespace twinstar {
namespace {

// The compile-time proof that meaningless mixes do not compile.
template <class A, class B>
concept Addable = requires(A a, B b) { a + b; };
template <class A, class B>
concept Comparable = requires(A a, B b) { a < b; };
static_assert(Addable<Money, Money>);
static_assert(!Addable<Money, Quantity>, "money + quantity must not compile");
static_assert(!Addable<Quantity, Money>);
static_assert(!Addable<Price, Money>);
static_assert(!Addable<Price, Quantity>);
static_assert(!Addable<Money, double>, "no implicit double");
static_assert(!Addable<Money, int>, "no implicit int");
static_assert(!Comparable<Money, Quantity>);
static_assert(std::is_same_v<decltype(std::declval<Price>() * std::declval<Quantity>()), Money>);

TEST(Decimal, parses_exchange_strings_exactly) {
  auto p = Price::parse("57953.86000000");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->raw(), 5'795'386'000'000LL);
  EXPECT_EQ(p->to_string(), "57953.86");
  EXPECT_EQ(p->to_string(8), "57953.86000000");
  EXPECT_EQ(Quantity::parse("0.00000001")->raw(), 1);
  EXPECT_EQ(Money::parse("-12.5")->to_string(), "-12.5");
  EXPECT_EQ(Money::parse("+3")->to_string(2), "3.00");
  EXPECT_EQ(Money::parse(".5")->raw(), 50'000'000);
  EXPECT_EQ(Money::parse("7.")->raw(), 700'000'000);
  EXPECT_EQ(Money::parse("1.1234567800000")->raw(), 112'345'678);  // trailing zeros beyond 8 places are exact
}

TEST(Decimal, rejects_malformed_and_inexact_text) {
  for (const char* bad : {"", "-", ".", "1..2", "1e5", "abc", "1,5", " 1", "1 ", "0x10", "--1"}) {
    auto r = Money::parse(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::parse_error);
    EXPECT_NE(r.error().message.find("invalid decimal"), std::string::npos);
  }
  auto inexact = Price::parse("1.123456789");
  ASSERT_FALSE(inexact);
  EXPECT_NE(inexact.error().message.find("more than 8 decimal places"), std::string::npos);
  EXPECT_FALSE(Money::parse("92233720368.54775808"));  // one unit past INT64_MAX
  EXPECT_TRUE(Money::parse("92233720368.54775807"));
  EXPECT_TRUE(Money::parse("-92233720368.54775808"));
}

TEST(Decimal, parse_rounded_rounds_half_even_and_directed) {
  EXPECT_EQ(Money::parse_rounded("0.000000005")->raw(), 0);
  EXPECT_EQ(Money::parse_rounded("0.000000015")->raw(), 2);
  EXPECT_EQ(Money::parse_rounded("0.0000000150001")->raw(), 2);
  EXPECT_EQ(Money::parse_rounded("0.0000000051")->raw(), 1);
  EXPECT_EQ(Money::parse_rounded("-0.000000015")->raw(), -2);
  EXPECT_EQ(Money::parse_rounded("1.000000001", Rounding::up)->raw(), 100'000'001);
  EXPECT_EQ(Money::parse_rounded("-1.000000001", Rounding::down)->raw(), -100'000'001);
  EXPECT_EQ(Money::parse_rounded("-1.000000001", Rounding::toward_zero)->raw(), -100'000'000);
}

TEST(Decimal, round_trips_random_values_through_text) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 100'000; ++i) {
    const auto raw = static_cast<std::int64_t>(rng());
    const auto m = Money::from_raw(raw);
    for (int places : {0, 2, 8}) {
      auto back = Money::parse(m.to_string(places));
      ASSERT_TRUE(back) << m.to_string(places);
      ASSERT_EQ(back->raw(), raw);
    }
  }
}

TEST(Decimal, arithmetic_is_exact_and_checked) {
  const Money a = *Money::parse("0.1");
  Money sum;
  for (int i = 0; i < 10; ++i) sum += a;
  EXPECT_EQ(sum, Money::from_units(1));  // no floating drift
  EXPECT_THROW(Money::max() + Money::from_raw(1), std::overflow_error);
  EXPECT_THROW(-Money::from_raw(std::numeric_limits<std::int64_t>::min()), std::overflow_error);
  auto checked = Money::max().checked_add(Money::from_raw(1));
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().code, ErrorCode::overflow);
  EXPECT_EQ(Money::from_units(10).divided_by(3).to_string(), "3.33333333");
}

TEST(Decimal, price_times_quantity_is_money) {
  const Price p = *Price::parse("57953.86");
  const Quantity q = *Quantity::parse("0.015");
  EXPECT_EQ((p * q).to_string(), "869.3079");
  // Rounding of sub-unit products: 0.00000001 * 0.5 = 0.000000005 -> half-even 0.
  EXPECT_EQ((Price::from_raw(1) * *Quantity::parse("0.5")).raw(), 0);
  EXPECT_EQ((Price::from_raw(3) * *Quantity::parse("0.5")).raw(), 2);
  // Large notional through the 128-bit intermediate.
  EXPECT_EQ((*Price::parse("100000") * *Quantity::parse("100000")).to_string(), "10000000000");
  EXPECT_THROW(*Price::parse("1000000") * *Quantity::parse("1000000"), std::overflow_error);
}

TEST(Decimal, quantity_for_never_exceeds_the_amount) {
  const Price p = *Price::parse("3");
  auto q = quantity_for(Money::from_units(10), p);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->to_string(), "3.33333333");
  EXPECT_LE(p * *q, Money::from_units(10));
  EXPECT_FALSE(quantity_for(Money::from_units(1), Price::zero()));
}

TEST(Decimal, ratio_caps_round_down) {
  const Ratio r = *Ratio::parse("0.8");
  EXPECT_EQ(apply_ratio(Money::from_units(10'000), r).to_string(), "8000");
  EXPECT_EQ(apply_ratio(Money::from_raw(3), *Ratio::parse("0.5")).raw(), 1);
  EXPECT_EQ(ratio_of(Money::from_units(1), Money::from_units(4))->to_string(), "0.25");
  EXPECT_FALSE(ratio_of(Money::from_units(1), Money::zero()));
}

TEST(Decimal, formats_with_fmt) {
  EXPECT_EQ(fmt::format("{}", *Money::parse("-0.00000001")), "-0.00000001");
  EXPECT_EQ(fmt::format("{:>8}", *Money::parse("1.5")), "     1.5");
}

}  // namespace
}  // namespace twinstar
