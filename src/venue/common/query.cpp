#include "venue/common/query.hpp"

namespace twinstar::venue::detail {

void append_percent_encoded(std::string& out, std::string_view text) {
  constexpr char kHex[] = "0123456789ABCDEF";
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '_' || c == '.' || c == '~';
    if (unreserved) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
}

QueryBuilder& QueryBuilder::add(std::string_view key, std::string_view value) {
  if (!out_.empty()) out_ += '&';
  append_percent_encoded(out_, key);
  out_ += '=';
  append_percent_encoded(out_, value);
  return *this;
}

QueryBuilder& QueryBuilder::add(std::string_view key, std::int64_t value) {
  return add(key, std::string_view(std::to_string(value)));
}

}  // namespace twinstar::venue::detail
