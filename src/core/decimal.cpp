#include "core/decimal.hpp"

#include <cstdlib>

namespace twinstar::detail {

namespace {

__extension__ using i128 = __int128;  // GCC/Clang extension, for exact 64x64 products

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

// Rounds q + remainder/divisor (|remainder| < |divisor|, all signs of a true quotient).
i128 round_quotient(i128 q, i128 rem, i128 divisor, bool negative, Rounding rounding) {
  if (rem == 0) return q;
  const i128 abs_rem = rem < 0 ? -rem : rem;
  const i128 abs_div = divisor < 0 ? -divisor : divisor;
  bool away = false;  // move one unit away from zero
  switch (rounding) {
    case Rounding::toward_zero: away = false; break;
    case Rounding::down: away = negative; break;
    case Rounding::up: away = !negative; break;
    case Rounding::half_even: {
      const i128 twice = abs_rem * 2;
      away = twice > abs_div || (twice == abs_div && (q % 2 != 0));
      break;
    }
  }
  return away ? (negative ? q - 1 : q + 1) : q;
}

}  // namespace

void throw_overflow(const char* what) {
  throw std::overflow_error(std::string("fixed-point overflow in ") + what);
}

Result<std::int64_t> parse_scaled(std::string_view text, bool exact, Rounding rounding) {
  const std::string_view original = text;
  auto fail = [&](std::string_view why) {
    return make_error(ErrorCode::parse_error, "invalid decimal \"{}\": {}", original, why);
  };
  if (text.empty()) return fail("empty");
  bool negative = false;
  if (text.front() == '-' || text.front() == '+') {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty()) return fail("no digits");
  i128 value = 0;
  int decimals = 0;
  bool seen_dot = false;
  bool any_digit = false;
  i128 extra_num = 0;  // digits past the 8th decimal, as a fraction extra_num / extra_den
  i128 extra_den = 1;
  for (char c : text) {
    if (c == '.') {
      if (seen_dot) return fail("two decimal points");
      seen_dot = true;
      continue;
    }
    if (c < '0' || c > '9') return fail("unexpected character");
    any_digit = true;
    const int digit = c - '0';
    if (seen_dot && decimals >= kDecimalPlaces) {
      if (exact && digit != 0) return fail("more than 8 decimal places");
      if (extra_den < static_cast<i128>(1'000'000'000'000'000'000LL)) {
        extra_num = extra_num * 10 + digit;
        extra_den *= 10;
      } else if (digit != 0 && extra_num == 0) {
        extra_num = 1;  // far-away non-zero digit: only matters for directed rounding
      }
      continue;
    }
    value = value * 10 + digit;
    if (seen_dot) ++decimals;
    if (value > static_cast<i128>(kMax) * 10) return fail("out of range");
  }
  if (!any_digit) return fail("no digits");
  for (; decimals < kDecimalPlaces; ++decimals) value *= 10;
  if (negative) value = -value;
  value = round_quotient(value, negative ? -extra_num : extra_num, extra_den, negative, rounding);
  if (value > kMax || value < kMin) return fail("out of range");
  return static_cast<std::int64_t>(value);
}

std::string format_scaled(std::int64_t raw, int min_decimals) {
  const bool negative = raw < 0;
  // Work in unsigned to print INT64_MIN correctly.
  const unsigned long long mag = negative ? 0ULL - static_cast<unsigned long long>(raw) : static_cast<unsigned long long>(raw);
  const unsigned long long whole = mag / kDecimalScale;
  unsigned long long frac = mag % kDecimalScale;
  int places = kDecimalPlaces;
  while (places > min_decimals && frac % 10 == 0 && places > 0) {
    frac /= 10;
    --places;
  }
  std::string out = negative ? "-" : "";
  out += std::to_string(whole);
  if (places > 0) out += fmt::format(".{:0{}}", frac, places);
  return out;
}

Result<std::int64_t> mul_div(std::int64_t a, std::int64_t b, std::int64_t d, Rounding rounding) {
  if (d == 0) return make_error(ErrorCode::invalid_argument, "division by zero");
  const i128 product = static_cast<i128>(a) * b;
  const i128 q = product / d;
  const i128 rem = product % d;
  const bool negative = (product < 0) != (d < 0) && product != 0;
  const i128 r = round_quotient(q, rem, d, negative, rounding);
  if (r > kMax || r < kMin) return make_error(ErrorCode::overflow, "fixed-point result out of range");
  return static_cast<std::int64_t>(r);
}

}  // namespace twinstar::detail

namespace twinstar {

Money notional(Price price, Quantity quantity, Rounding rounding) {
  auto r = detail::mul_div(price.raw(), quantity.raw(), kDecimalScale, rounding);
  if (!r) detail::throw_overflow("price * quantity");
  return Money::from_raw(*r);
}

Result<Quantity> quantity_for(Money amount, Price price, Rounding rounding) {
  if (!price.is_positive()) {
    return make_error(ErrorCode::invalid_argument, "price must be positive, got {}", price.to_string());
  }
  auto r = detail::mul_div(amount.raw(), kDecimalScale, price.raw(), rounding);
  if (!r) return std::unexpected(r.error());
  return Quantity::from_raw(*r);
}

Money apply_ratio(Money amount, Ratio ratio, Rounding rounding) {
  auto r = detail::mul_div(amount.raw(), ratio.raw(), kDecimalScale, rounding);
  if (!r) detail::throw_overflow("money * ratio");
  return Money::from_raw(*r);
}

Result<Ratio> ratio_of(Money a, Money b) {
  if (b.is_zero()) return make_error(ErrorCode::invalid_argument, "ratio with a zero denominator");
  auto r = detail::mul_div(a.raw(), kDecimalScale, b.raw(), Rounding::half_even);
  if (!r) return std::unexpected(r.error());
  return Ratio::from_raw(*r);
}

}  // namespace twinstar
