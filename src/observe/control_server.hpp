#pragma once
// The engine's control and status endpoint: HTTP on 127.0.0.1 only, for `twinstar status`,
// `twinstar bot ...`, a Prometheus scraper and the dashboard. Read-only routes (GET) are open to
// local users; routes that change the engine (POST) need the bearer token written to
// STATE_DIR/control.token with mode 0600, so only the engine's user can steer it.
// STATE_DIR/control.json tells clients where the engine listens.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "core/error.hpp"
#include "net/http_types.hpp"

namespace twinstar::observe {

struct ControlOptions {
  std::filesystem::path state_dir;  // control.json and control.token go here
  std::uint16_t port = 0;           // 0: a free port, published in control.json
  std::string engine_name = "twinstar";
};

// Handlers run on the server's io thread, one request at a time: keep them short (post work to
// the owning thread and wait with a deadline). They must not throw.
using ControlHandler = std::function<net::HttpResponse(const net::HttpRequest&)>;

class ControlServer {
 public:
  explicit ControlServer(ControlOptions options);
  ~ControlServer();  // stops
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Register before start(). Paths match exactly; a path may have a GET and a POST handler.
  void get(std::string path, ControlHandler handler);
  void post(std::string path, ControlHandler handler);

  // Creates the token (0600), binds 127.0.0.1, writes control.json atomically.
  // Errors: io_error (state dir, token file, bind); unavailable when control.json names a live
  // engine process other than this one (two engines on one data directory).
  Status start();
  // Stops serving and removes control.json. Idempotent. Thread: not a handler.
  void stop();
  std::uint16_t port() const noexcept;
  const std::string& token() const noexcept { return token_; }

  struct Impl;

 private:
  ControlOptions options_;
  std::string token_;
  std::unique_ptr<Impl> impl_;
};

// Where a running engine listens, read from STATE_DIR/control.json (+ the token, if readable).
struct ControlEndpoint {
  std::uint16_t port = 0;
  std::int64_t pid = 0;
  std::string engine_name;
  std::string token;  // empty when the token file is not readable by this user
};
// Errors: not_found (no engine has published an endpoint there, or its process is gone),
// parse_error (a damaged control.json, naming the file).
Result<ControlEndpoint> find_control_endpoint(const std::filesystem::path& state_dir);

// A JSON error body in the engine's shape: {"ok":false,"error":"..."}.
net::HttpResponse control_error(int status, std::string_view message);
net::HttpResponse control_ok(std::string json_body);

}  // namespace twinstar::observe
