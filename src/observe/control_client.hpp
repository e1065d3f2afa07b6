#pragma once
// The client side of the control endpoint: one blocking HTTP/1.1 call to the engine on
// 127.0.0.1, for `twinstar status` and `twinstar bot ...` (Boost.Beast inside the .cpp only).

#include <chrono>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "observe/control_server.hpp"

namespace twinstar::observe {

struct ControlReply {
  int status = 0;
  std::string body;
};

// POST calls carry the endpoint's token. Errors: io_error (nothing listens, the connection
// broke), timeout (no complete answer within `timeout`).
Result<ControlReply> control_call(const ControlEndpoint& endpoint, std::string_view method, std::string_view path,
                                  std::string_view body = {}, std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace twinstar::observe
