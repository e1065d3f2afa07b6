#include "net/url.hpp"

#include <charconv>

namespace twinstar::net {

std::string Url::origin() const { return fmt::format("{}://{}:{}", scheme, host, port); }

Result<Url> parse_url(std::string_view text) {
  Url u;
  const auto sep = text.find("://");
  if (sep == std::string_view::npos) return make_error(ErrorCode::invalid_argument, "URL '{}': missing scheme://", text);
  u.scheme = std::string(text.substr(0, sep));
  std::uint16_t default_port = 0;
  if (u.scheme == "http" || u.scheme == "ws") {
    default_port = 80;
  } else if (u.scheme == "https" || u.scheme == "wss") {
    default_port = 443;
  } else {
    return make_error(ErrorCode::invalid_argument, "URL '{}': scheme must be http, https, ws or wss", text);
  }
  auto rest = text.substr(sep + 3);
  const auto slash = rest.find_first_of("/?");
  auto authority = rest.substr(0, slash);
  u.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (!u.target.empty() && u.target[0] == '?') u.target = "/" + u.target;
  const auto colon = authority.rfind(':');
  if (colon != std::string_view::npos) {
    const auto p = authority.substr(colon + 1);
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
    if (ec != std::errc() || end != p.data() + p.size() || value == 0 || value > 65535) {
      return make_error(ErrorCode::invalid_argument, "URL '{}': bad port '{}'", text, p);
    }
    u.port = static_cast<std::uint16_t>(value);
    authority = authority.substr(0, colon);
  } else {
    u.port = default_port;
  }
  if (authority.empty()) return make_error(ErrorCode::invalid_argument, "URL '{}': missing host", text);
  u.host = std::string(authority);
  return u;
}

}  // namespace twinstar::net
