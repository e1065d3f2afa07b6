#pragma once
// Query strings for venue REST requests, built in the order given and percent-encoded, so the
// string a signer signs is the string sent.

#include <cstdint>
#include <string>
#include <string_view>

namespace twinstar::venue::detail {

// Appends `text` percent-encoded: RFC 3986 unreserved characters stay, every other byte
// becomes %XX (uppercase hex).
void append_percent_encoded(std::string& out, std::string_view text);

class QueryBuilder {
 public:
  explicit QueryBuilder(std::string& out) : out_(out) {}
  QueryBuilder& add(std::string_view key, std::string_view value);
  QueryBuilder& add(std::string_view key, std::int64_t value);
  QueryBuilder& add(std::string_view key, int value) { return add(key, static_cast<std::int64_t>(value)); }

 private:
  std::string& out_;
};

}  // namespace twinstar::venue::detail
