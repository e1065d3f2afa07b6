#include "core/error.hpp"

namespace twinstar {

std::string_view to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::invalid_argument: return "invalid_argument";
    case ErrorCode::parse_error: return "parse_error";
    case ErrorCode::config_error: return "config_error";
    case ErrorCode::overflow: return "overflow";
    case ErrorCode::rate_limited: return "rate_limited";
    case ErrorCode::timeout: return "timeout";
    case ErrorCode::cancelled: return "cancelled";
    case ErrorCode::insufficient_capital: return "insufficient_capital";
    case ErrorCode::limit_exceeded: return "limit_exceeded";
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::conflict: return "conflict";
    case ErrorCode::io_error: return "io_error";
    case ErrorCode::unavailable: return "unavailable";
    case ErrorCode::internal: return "internal";
  }
  return "unknown";
}

}  // namespace twinstar
