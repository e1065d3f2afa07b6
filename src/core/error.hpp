#pragma once
// Error values for expected failures (bad input, rate limited, rejected, ...).

#include <expected>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace twinstar {

enum class ErrorCode {
  invalid_argument,  // a caller passed a value outside the rules
  parse_error,       // outside text (config, CSV, frame, decimal) could not be read
  config_error,      // the configuration breaks a rule
  overflow,          // fixed-point arithmetic left the representable range
  rate_limited,      // a limiter refused or a venue answered "too many requests"
  timeout,           // a deadline passed
  cancelled,         // the caller cancelled the operation
  insufficient_capital,
  limit_exceeded,    // a guard (cap, daily loss, drawdown) refused
  not_found,
  conflict,          // state changed underneath (e.g. reservation already settled)
  io_error,          // file, database or socket failure
  unavailable,       // resource busy or locked by someone else
  internal,
};

std::string_view to_string(ErrorCode code) noexcept;

struct Error {
  ErrorCode code = ErrorCode::internal;
  std::string message;

  friend bool operator==(const Error&, const Error&) = default;
};

template <class T>
using Result = std::expected<T, Error>;

using Status = std::expected<void, Error>;

// make_error(ErrorCode::parse_error, "bad value {}", v) -> std::unexpected<Error>
template <class... Args>
std::unexpected<Error> make_error(ErrorCode code, fmt::format_string<Args...> format, Args&&... args) {
  return std::unexpected<Error>(Error{code, fmt::format(format, std::forward<Args>(args)...)});
}

inline std::unexpected<Error> make_error(Error error) { return std::unexpected<Error>(std::move(error)); }

}  // namespace twinstar

template <>
struct fmt::formatter<twinstar::Error> : fmt::formatter<std::string_view> {
  auto format(const twinstar::Error& e, format_context& ctx) const {
    return fmt::format_to(ctx.out(), "{}", e.message);
  }
};
