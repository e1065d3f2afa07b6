#pragma once
// Fixed-point decimals: Price, Quantity, Money and Ratio are int64 counts of 1e-8 units.
// Each is a distinct type, so money and quantity cannot be added by mistake; the only
// mixed operations are the ones with a meaning (price * quantity = money, ...).

#include <compare>
#include <cstdint>
#include <limits>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "core/error.hpp"

namespace twinstar {

inline constexpr int kDecimalPlaces = 8;
inline constexpr std::int64_t kDecimalScale = 100'000'000;

enum class Rounding {
  half_even,   // banker's rounding: no drift over many operations
  toward_zero,
  down,        // toward negative infinity: never buy more than you can pay for
  up,
};

namespace detail {

// Parses a decimal string ("-57953.86000000", "1e-3" is rejected) into units of 1e-8.
// With exact=true, digits beyond the 8th decimal must be zero.
Result<std::int64_t> parse_scaled(std::string_view text, bool exact, Rounding rounding);
std::string format_scaled(std::int64_t raw, int min_decimals);
// round(a * b / d) with a 128-bit intermediate; error on overflow of the result.
Result<std::int64_t> mul_div(std::int64_t a, std::int64_t b, std::int64_t d, Rounding rounding);
[[noreturn]] void throw_overflow(const char* what);

}  // namespace detail

template <class Tag>
class Decimal {
 public:
  using Raw = std::int64_t;

  constexpr Decimal() noexcept = default;

  static constexpr Decimal from_raw(Raw raw) noexcept { return Decimal(raw); }
  // Whole units: Money::from_units(10'000) is 10,000.00000000.
  static constexpr Decimal from_units(std::int64_t units) {
    Raw r = 0;
    if (__builtin_mul_overflow(units, kDecimalScale, &r)) detail::throw_overflow("from_units");
    return Decimal(r);
  }
  // Exact parse of an exchange decimal string; more than 8 non-zero decimals is an error.
  static Result<Decimal> parse(std::string_view text) {
    auto raw = detail::parse_scaled(text, true, Rounding::half_even);
    if (!raw) return std::unexpected(raw.error());
    return Decimal(*raw);
  }
  // Parse that rounds digits beyond the 8th decimal (for venue-computed values such as turnover).
  static Result<Decimal> parse_rounded(std::string_view text, Rounding rounding = Rounding::half_even) {
    auto raw = detail::parse_scaled(text, false, rounding);
    if (!raw) return std::unexpected(raw.error());
    return Decimal(*raw);
  }
  // For indicators and display only; money never round-trips through double.
  static Result<Decimal> from_double(double value) {
    const double scaled = value * static_cast<double>(kDecimalScale);
    if (!(scaled > -9.2e18 && scaled < 9.2e18)) {
      return make_error(ErrorCode::overflow, "{} does not fit a fixed-point decimal", value);
    }
    return Decimal(static_cast<Raw>(scaled < 0 ? scaled - 0.5 : scaled + 0.5));
  }

  constexpr Raw raw() const noexcept { return raw_; }
  double to_double() const noexcept { return static_cast<double>(raw_) / static_cast<double>(kDecimalScale); }
  // "57953.86"; with min_decimals=8 "57953.86000000" as exchanges print it.
  std::string to_string(int min_decimals = 0) const { return detail::format_scaled(raw_, min_decimals); }

  constexpr bool is_zero() const noexcept { return raw_ == 0; }
  constexpr bool is_negative() const noexcept { return raw_ < 0; }
  constexpr bool is_positive() const noexcept { return raw_ > 0; }

  static constexpr Decimal zero() noexcept { return Decimal(0); }
  static constexpr Decimal max() noexcept { return Decimal(std::numeric_limits<Raw>::max()); }

  Result<Decimal> checked_add(Decimal o) const {
    Raw r = 0;
    if (__builtin_add_overflow(raw_, o.raw_, &r)) return overflow_error("+", o);
    return Decimal(r);
  }
  Result<Decimal> checked_sub(Decimal o) const {
    Raw r = 0;
    if (__builtin_sub_overflow(raw_, o.raw_, &r)) return overflow_error("-", o);
    return Decimal(r);
  }

  // Operators throw std::overflow_error: overflow here is a bug, not an expected failure.
  friend constexpr Decimal operator+(Decimal a, Decimal b) {
    Raw r = 0;
    if (__builtin_add_overflow(a.raw_, b.raw_, &r)) detail::throw_overflow("+");
    return Decimal(r);
  }
  friend constexpr Decimal operator-(Decimal a, Decimal b) {
    Raw r = 0;
    if (__builtin_sub_overflow(a.raw_, b.raw_, &r)) detail::throw_overflow("-");
    return Decimal(r);
  }
  friend constexpr Decimal operator-(Decimal a) {
    if (a.raw_ == std::numeric_limits<Raw>::min()) detail::throw_overflow("negate");
    return Decimal(-a.raw_);
  }
  friend constexpr Decimal operator*(Decimal a, std::int64_t k) {
    Raw r = 0;
    if (__builtin_mul_overflow(a.raw_, k, &r)) detail::throw_overflow("*");
    return Decimal(r);
  }
  friend constexpr Decimal operator*(std::int64_t k, Decimal a) { return a * k; }
  constexpr Decimal& operator+=(Decimal o) { return *this = *this + o; }
  constexpr Decimal& operator-=(Decimal o) { return *this = *this - o; }
  // Division by an integer count (e.g. an average), rounded half-even.
  Decimal divided_by(std::int64_t k, Rounding rounding = Rounding::half_even) const {
    auto r = detail::mul_div(raw_, 1, k, rounding);
    if (!r) detail::throw_overflow("/");
    return Decimal(*r);
  }

  friend constexpr auto operator<=>(Decimal, Decimal) = default;
  friend std::ostream& operator<<(std::ostream& os, Decimal d) { return os << d.to_string(); }
  friend constexpr bool operator==(Decimal, Decimal) = default;

 private:
  constexpr explicit Decimal(Raw raw) noexcept : raw_(raw) {}
  std::unexpected<Error> overflow_error(const char* op, Decimal o) const {
    return make_error(ErrorCode::overflow, "{} {} {} overflows", to_string(), op, o.to_string());
  }

  Raw raw_ = 0;
};

struct PriceTag {};
struct QuantityTag {};
struct MoneyTag {};
struct RatioTag {};

using Price = Decimal<PriceTag>;        // quote currency per one unit of base
using Quantity = Decimal<QuantityTag>;  // base units (or contracts)
using Money = Decimal<MoneyTag>;        // quote currency: balances, notional, PnL, fees
using Ratio = Decimal<RatioTag>;        // a dimensionless factor: 0.8 = 80 %

// Notional value of a quantity at a price.
Money notional(Price price, Quantity quantity, Rounding rounding = Rounding::half_even);
inline Money operator*(Price p, Quantity q) { return notional(p, q); }
inline Money operator*(Quantity q, Price p) { return notional(p, q); }
// Quantity that `amount` buys at `price` (rounded down by default: never more than affordable).
Result<Quantity> quantity_for(Money amount, Price price, Rounding rounding = Rounding::down);
// amount * ratio, rounded down by default (a cap never rounds up).
Money apply_ratio(Money amount, Ratio ratio, Rounding rounding = Rounding::down);
// a / b as a ratio (e.g. allocated / equity); error when b is zero.
Result<Ratio> ratio_of(Money a, Money b);

}  // namespace twinstar

template <class Tag>
struct fmt::formatter<twinstar::Decimal<Tag>> : fmt::formatter<std::string_view> {
  auto format(const twinstar::Decimal<Tag>& d, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(d.to_string(), ctx);
  }
};
