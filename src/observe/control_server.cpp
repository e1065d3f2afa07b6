#include "observe/control_server.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <map>
#include <sstream>

#include <openssl/rand.h>
#include <simdjson.h>

#include "core/json_writer.hpp"
#include "net/crypto.hpp"
#include "net/server.hpp"

namespace twinstar::observe {

namespace {

bool process_alive(std::int64_t pid) {
  if (pid <= 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

std::string random_token() {
  unsigned char bytes[24];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return {};
  return net::to_hex(bytes, sizeof bytes);
}

// Writes `text` to `path` through a temporary file and a rename, with `mode`.
Status write_atomically(const std::filesystem::path& path, std::string_view text, mode_t mode) {
  const auto tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return make_error(ErrorCode::io_error, "cannot write {}: {}", tmp, std::strerror(errno));
  ::fchmod(fd, mode);  // the umask may have narrowed it; never widened beyond `mode`
  const auto* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      return make_error(ErrorCode::io_error, "cannot write {}: {}", tmp, std::strerror(err));
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return make_error(ErrorCode::io_error, "cannot rename {} to {}: {}", tmp, path.string(), std::strerror(errno));
  }
  return {};
}

}  // namespace

net::HttpResponse control_error(int status, std::string_view message) {
  JsonWriter w;
  w.begin_object();
  w.key("ok").value(false);
  w.key("error").value(message);
  w.end_object();
  net::HttpResponse r;
  r.status = status;
  r.body = std::move(w).take();
  return r;
}

net::HttpResponse control_ok(std::string json_body) {
  net::HttpResponse r;
  r.body = std::move(json_body);
  return r;
}

struct ControlServer::Impl final : net::ServerHandler {
  std::map<std::string, ControlHandler, std::less<>> get_routes;
  std::map<std::string, ControlHandler, std::less<>> post_routes;
  const std::string* token = nullptr;
  std::unique_ptr<net::Server> server;
  bool published = false;

  net::HttpResponse on_http(const net::HttpRequest& request) override {
    if (request.method == "GET") {
      if (auto it = get_routes.find(request.path); it != get_routes.end()) return it->second(request);
    } else if (request.method == "POST") {
      if (auto it = post_routes.find(request.path); it != post_routes.end()) {
        const std::string expected = "Bearer " + *token;
        if (!net::constant_time_equal(request.header("Authorization"), expected)) {
          return control_error(401, "this call changes the engine: send the token from control.token as 'Authorization: Bearer <token>'");
        }
        return it->second(request);
      }
    }
    if (get_routes.contains(request.path) || post_routes.contains(request.path)) {
      return control_error(405, fmt::format("{} is not allowed on {}", request.method, request.path));
    }
    return control_error(404, fmt::format("no such endpoint: {}", request.path));
  }
  std::optional<net::HttpResponse> on_ws_upgrade(const net::HttpRequest&) override {
    return control_error(404, "the control endpoint has no WebSocket");
  }
  void on_ws_open(const std::shared_ptr<net::WsSession>&) override {}
  void on_ws_message(const std::shared_ptr<net::WsSession>&, std::string_view) override {}
  void on_ws_close(const std::shared_ptr<net::WsSession>&, std::string_view) override {}
};

ControlServer::ControlServer(ControlOptions options) : options_(std::move(options)), impl_(std::make_unique<Impl>()) {
  impl_->token = &token_;
}

ControlServer::~ControlServer() { stop(); }

void ControlServer::get(std::string path, ControlHandler handler) { impl_->get_routes[std::move(path)] = std::move(handler); }
void ControlServer::post(std::string path, ControlHandler handler) { impl_->post_routes[std::move(path)] = std::move(handler); }

Status ControlServer::start() {
  std::error_code ec;
  std::filesystem::create_directories(options_.state_dir, ec);
  if (ec) return make_error(ErrorCode::io_error, "cannot create {}: {}", options_.state_dir.string(), ec.message());
  if (auto existing = find_control_endpoint(options_.state_dir); existing && existing->pid != ::getpid()) {
    return make_error(ErrorCode::unavailable, "another engine (pid {}, {}) already runs on {} (port {}); stop it first, or give "
                      "each engine on one data directory its own `instance` (config) / --instance",
                      existing->pid, existing->engine_name, options_.state_dir.string(), existing->port);
  }
  token_ = random_token();
  if (token_.empty()) return make_error(ErrorCode::internal, "cannot draw a random control token");
  if (auto ok = write_atomically(options_.state_dir / "control.token", token_ + "\n", 0600); !ok) return ok;

  net::ServerOptions server_options;
  server_options.address = "127.0.0.1";
  server_options.port = options_.port;
  impl_->server = std::make_unique<net::Server>(server_options, *impl_);
  if (auto ok = impl_->server->start(); !ok) return ok;

  JsonWriter w;
  w.begin_object();
  w.key("port").value(static_cast<std::int64_t>(impl_->server->port()));
  w.key("pid").value(static_cast<std::int64_t>(::getpid()));
  w.key("engine").value(options_.engine_name);
  w.end_object();
  if (auto ok = write_atomically(options_.state_dir / "control.json", std::move(w).take() + "\n", 0644); !ok) {
    impl_->server->stop();
    return ok;
  }
  impl_->published = true;
  return {};
}

void ControlServer::stop() {
  if (impl_->server) impl_->server->stop();
  if (impl_->published) {
    std::error_code ec;
    std::filesystem::remove(options_.state_dir / "control.json", ec);
    std::filesystem::remove(options_.state_dir / "control.token", ec);
    impl_->published = false;
  }
}

std::uint16_t ControlServer::port() const noexcept { return impl_->server ? impl_->server->port() : 0; }

Result<ControlEndpoint> find_control_endpoint(const std::filesystem::path& state_dir) {
  const auto file = state_dir / "control.json";
  std::ifstream in(file);
  if (!in) return make_error(ErrorCode::not_found, "no engine is running on {} ({} does not exist)", state_dir.string(), file.string());
  std::stringstream text;
  text << in.rdbuf();
  ControlEndpoint e;
  simdjson::padded_string json(text.str());
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::int64_t port = 0;
  if (parser.parse(json).get(doc) || doc["port"].get(port) || doc["pid"].get(e.pid) || port <= 0 || port > 65535) {
    return make_error(ErrorCode::parse_error, "{}: not a control file (expected port and pid)", file.string());
  }
  e.port = static_cast<std::uint16_t>(port);
  std::string_view name;
  if (!doc["engine"].get(name)) e.engine_name = std::string(name);
  if (!process_alive(e.pid)) {
    return make_error(ErrorCode::not_found, "no engine is running on {} (pid {} in {} has exited)", state_dir.string(), e.pid,
                      file.string());
  }
  std::ifstream token(state_dir / "control.token");
  if (token) std::getline(token, e.token);
  return e;
}

}  // namespace twinstar::observe
