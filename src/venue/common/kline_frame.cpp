#include "venue/common/kline_frame.hpp"

namespace twinstar::venue {

std::string_view to_string(FrameKind kind) noexcept {
  switch (kind) {
    case FrameKind::kline: return "kline";
    case FrameKind::subscribe_ack: return "subscribe_ack";
    case FrameKind::unsubscribe_ack: return "unsubscribe_ack";
    case FrameKind::login_ack: return "login_ack";
    case FrameKind::request_error: return "request_error";
    case FrameKind::pong: return "pong";
    case FrameKind::server_shutdown: return "server_shutdown";
    case FrameKind::notice: return "notice";
  }
  return "?";
}

}  // namespace twinstar::venue
