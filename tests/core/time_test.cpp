#include "core/time.hpp"

#include <gtest/gtest.h>

namespace twinstar {
namespace {

using namespace std::chrono;

TEST(Time, parses_the_layouts_found_in_real_data) {
  EXPECT_EQ(to_epoch_ms(*parse_iso8601("2021-04-04 00:00:00")), 1'617'494'400'000);  // naive = UTC
  EXPECT_EQ(to_epoch_ms(*parse_iso8601("2025-04-01T00:00:00+00:00")), 1'743'465'600'000);
  // Binance futures files in Asia/Jerusalem local time: both sides of a DST change map to consecutive hours.
  const auto before = *parse_iso8601("2023-03-24T01:00:00+02:00");
  const auto after = *parse_iso8601("2023-03-24T03:00:00+03:00");
  EXPECT_EQ(after - before, hours(1));
  EXPECT_EQ(format_iso8601(*parse_iso8601("2024-01-02T03:04:05.678Z")), "2024-01-02T03:04:05.678Z");
  EXPECT_EQ(format_iso8601(*parse_iso8601("2024-01-02")), "2024-01-02T00:00:00.000Z");
  EXPECT_EQ(format_utc_date(*parse_iso8601("2024-02-29T23:59:59-01:00")), "2024-03-01");
}

TEST(Time, rejects_bad_times_with_the_reason) {
  for (const char* bad : {"", "2024", "2024-13-01", "2024-02-30", "2024-01-01X", "2024-01-01T25:00", "2024-01-01T00:00+99:00",
                          "2024-01-01T00:00:00.", "2024-01-01T00:00:00Zjunk"}) {
    auto r = parse_iso8601(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find(bad), std::string::npos) << r.error().message;
  }
}

TEST(Time, parses_and_formats_durations) {
  EXPECT_EQ(*parse_duration("5s"), seconds(5));
  EXPECT_EQ(*parse_duration("1500ms"), milliseconds(1500));
  EXPECT_EQ(*parse_duration("1d"), hours(24));
  EXPECT_EQ(format_duration(seconds(10)), "10s");
  EXPECT_EQ(format_duration(milliseconds(200)), "200ms");
  EXPECT_EQ(format_duration(minutes(1)), "1m");
  EXPECT_FALSE(parse_duration("5"));
  EXPECT_FALSE(parse_duration("0s"));
  EXPECT_FALSE(parse_duration("-1s"));
  EXPECT_FALSE(parse_duration("5 parsecs"));
}

}  // namespace
}  // namespace twinstar
