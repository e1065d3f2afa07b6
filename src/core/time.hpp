#pragma once
// Time points and conversions. All engine time is UTC; nothing here reads a clock.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace twinstar {

using Duration = std::chrono::nanoseconds;
using Timestamp = std::chrono::sys_time<std::chrono::nanoseconds>;      // UTC
using TimestampMs = std::chrono::sys_time<std::chrono::milliseconds>;   // UTC, as exchanges send it

constexpr TimestampMs from_epoch_ms(std::int64_t ms) noexcept { return TimestampMs(std::chrono::milliseconds(ms)); }
constexpr std::int64_t to_epoch_ms(TimestampMs t) noexcept { return t.time_since_epoch().count(); }
constexpr std::int64_t to_epoch_ms(Timestamp t) noexcept {
  return std::chrono::floor<std::chrono::milliseconds>(t).time_since_epoch().count();
}
constexpr TimestampMs floor_ms(Timestamp t) noexcept { return std::chrono::floor<std::chrono::milliseconds>(t); }

// "2024-01-02T03:04:05.678Z"
std::string format_iso8601(Timestamp t);
inline std::string format_iso8601(TimestampMs t) { return format_iso8601(Timestamp(t)); }
// UTC calendar day "2024-01-02"
std::string format_utc_date(Timestamp t);
// Accepts "2024-01-02", "2024-01-02 03:04:05", "2024-01-02T03:04:05[.fff][Z|+hh:mm|-hh:mm]".
// Text without an offset is UTC.
Result<Timestamp> parse_iso8601(std::string_view text);
// "1500ms", "2s", "5m", "1h", "1d", "250us": positive durations for config and CLI.
Result<Duration> parse_duration(std::string_view text);
std::string format_duration(Duration d);

}  // namespace twinstar
