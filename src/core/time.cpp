#include "core/time.hpp"

#include <charconv>

namespace twinstar {

namespace {

bool read_int(std::string_view& s, std::size_t digits, int& out) {
  if (s.size() < digits) return false;
  int v = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    const char c = s[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  s.remove_prefix(digits);
  return true;
}

bool eat(std::string_view& s, char c) {
  if (s.empty() || s.front() != c) return false;
  s.remove_prefix(1);
  return true;
}

}  // namespace

std::string format_iso8601(Timestamp t) {
  const auto ms = std::chrono::floor<std::chrono::milliseconds>(t);
  const auto day = std::chrono::floor<std::chrono::days>(ms);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss hms{ms - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), hms.hours().count(),
                     hms.minutes().count(), hms.seconds().count(), hms.subseconds().count());
}

std::string format_utc_date(Timestamp t) {
  const std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(t)};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                     static_cast<unsigned>(ymd.day()));
}

Result<Timestamp> parse_iso8601(std::string_view text) {
  std::string_view s = text;
  auto fail = [&](std::string_view why) {
    return make_error(ErrorCode::parse_error, "invalid time \"{}\": {}", text, why);
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!read_int(s, 4, y) || !eat(s, '-') || !read_int(s, 2, mo) || !eat(s, '-') || !read_int(s, 2, d)) {
    return fail("expected YYYY-MM-DD");
  }
  const std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(mo)),
                                        std::chrono::day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return fail("no such date");
  std::int64_t nanos = 0;
  if (!s.empty()) {
    if (!eat(s, 'T') && !eat(s, ' ')) return fail("expected 'T' or ' ' after the date");
    if (!read_int(s, 2, h) || !eat(s, ':') || !read_int(s, 2, mi)) return fail("expected hh:mm");
    if (eat(s, ':') && !read_int(s, 2, sec)) return fail("expected seconds");
    if (h > 23 || mi > 59 || sec > 60) return fail("time of day out of range");
    if (eat(s, '.')) {
      std::int64_t scale = 100'000'000;
      std::size_t n = 0;
      while (!s.empty() && s.front() >= '0' && s.front() <= '9') {
        nanos += (s.front() - '0') * scale;
        scale /= 10;
        s.remove_prefix(1);
        if (++n > 9) return fail("more than 9 fractional digits");
      }
      if (n == 0) return fail("expected digits after '.'");
    }
  }
  std::chrono::minutes offset{0};
  if (!s.empty()) {
    if (eat(s, 'Z') || eat(s, 'z')) {
    } else if (s.front() == '+' || s.front() == '-') {
      const bool neg = s.front() == '-';
      s.remove_prefix(1);
      int oh = 0, om = 0;
      if (!read_int(s, 2, oh)) return fail("expected offset hh:mm");
      eat(s, ':');
      if (!s.empty() && !read_int(s, 2, om)) return fail("expected offset minutes");
      if (oh > 18 || om > 59) return fail("offset out of range");
      offset = std::chrono::hours(oh) + std::chrono::minutes(om);
      if (neg) offset = -offset;
    }
    if (!s.empty()) return fail("unexpected trailing text");
  }
  const auto local = std::chrono::sys_days(ymd) + std::chrono::hours(h) + std::chrono::minutes(mi) +
                     std::chrono::seconds(sec) + std::chrono::nanoseconds(nanos);
  return Timestamp(local - offset);
}

Result<Duration> parse_duration(std::string_view text) {
  std::int64_t value = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr == begin) {
    return make_error(ErrorCode::parse_error, "invalid duration \"{}\": expected a number and a unit such as 5s", text);
  }
  const std::string_view unit(ptr, static_cast<std::size_t>(end - ptr));
  using namespace std::chrono;
  Duration d;
  if (unit == "ns") d = nanoseconds(value);
  else if (unit == "us") d = microseconds(value);
  else if (unit == "ms") d = milliseconds(value);
  else if (unit == "s") d = seconds(value);
  else if (unit == "m" || unit == "min") d = minutes(value);
  else if (unit == "h") d = hours(value);
  else if (unit == "d") d = days(value);
  else {
    return make_error(ErrorCode::parse_error, "invalid duration \"{}\": unit must be one of ns, us, ms, s, m, h, d", text);
  }
  if (value <= 0) return make_error(ErrorCode::parse_error, "invalid duration \"{}\": must be positive", text);
  return d;
}

std::string format_duration(Duration d) {
  using namespace std::chrono;
  const auto ns = d.count();
  if (ns % duration_cast<nanoseconds>(days(1)).count() == 0) return fmt::format("{}d", ns / 86'400'000'000'000LL);
  if (ns % 3'600'000'000'000LL == 0) return fmt::format("{}h", ns / 3'600'000'000'000LL);
  if (ns % 60'000'000'000LL == 0) return fmt::format("{}m", ns / 60'000'000'000LL);
  if (ns % 1'000'000'000LL == 0) return fmt::format("{}s", ns / 1'000'000'000LL);
  if (ns % 1'000'000LL == 0) return fmt::format("{}ms", ns / 1'000'000LL);
  if (ns % 1'000LL == 0) return fmt::format("{}us", ns / 1'000LL);
  return fmt::format("{}ns", ns);
}

}  // namespace twinstar
