#pragma once
// A WebSocket client for ws:// and wss:// (Boost.Beast inside ws_client.cpp only): connect with
// a timeout, text frames, control pings (answered pongs are automatic), close, and reads that
// give up after a timeout or when another thread wakes them.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "net/url.hpp"

namespace twinstar::net {

struct WsClientOptions {
  std::chrono::milliseconds connect_timeout{10000};  // TCP + TLS + upgrade
  std::chrono::milliseconds write_timeout{10000};
  bool verify_tls = true;
  std::size_t max_message_bytes = 16u << 20;
};

// Thread: one owner thread calls everything except wake(), which any thread may call.
class WsClient {
 public:
  // `url` is "wss://stream.bybit.com/v5/public/linear" or "ws://127.0.0.1:PORT/v5/public/linear".
  // Errors: invalid_argument (bad URL), timeout, io_error naming the step (resolve, connect,
  // TLS handshake, upgrade refused).
  static Result<std::unique_ptr<WsClient>> connect(std::string_view url, WsClientOptions options = {});
  ~WsClient();  // drops the connection without a close handshake if still open
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // Errors: io_error when closed or the write fails, timeout when it stalls past write_timeout.
  Status send(std::string_view text);
  // A WebSocket control ping (for venues whose heartbeat is the protocol ping).
  Status ping();
  // The next message. A read interrupted by timeout or wake() resumes on the next call, so no
  // message is lost. Errors: timeout (nothing within `timeout`), cancelled (wake() was called),
  // io_error (the connection ended; close_code() tells how).
  Result<std::string> read(std::chrono::milliseconds timeout);
  // Makes a read() in progress (or the next one) return cancelled. Thread: any.
  void wake();
  // Sends a close frame and waits (bounded) for the server's answer.
  void close(std::uint16_t code = 1000);
  bool is_open() const noexcept;
  int close_code() const noexcept;  // the server's close code; -1 when the link dropped without one
  const Url& url() const noexcept;

 private:
  WsClient();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace twinstar::net
