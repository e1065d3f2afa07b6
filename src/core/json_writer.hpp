#pragma once
// A small streaming JSON writer for reports, CLI --json output and exchange payloads.
// Decimals are written as strings (exact), the way exchanges send them.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/decimal.hpp"

namespace twinstar {

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  // Inside an object: the next value's key.
  JsonWriter& key(std::string_view k);

  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
  JsonWriter& value(bool b);
  JsonWriter& value(std::int64_t i);
  JsonWriter& value(int i) { return value(static_cast<std::int64_t>(i)); }
  JsonWriter& value(std::uint64_t u);
  JsonWriter& value(double d);  // non-finite values become null
  JsonWriter& null();
  // Exact decimal as a JSON string: "57953.86".
  template <class Tag>
  JsonWriter& value(Decimal<Tag> d) {
    return value(std::string_view(d.to_string()));
  }
  // Pre-serialised JSON inserted as one value.
  JsonWriter& raw(std::string_view json);

  template <class T>
  JsonWriter& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }

  const std::string& str() const noexcept { return out_; }
  std::string take() { return std::move(out_); }
  void clear() {
    out_.clear();
    first_.clear();
  }

 private:
  void before_value();

  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

// Appends `s` to `out` as a quoted, escaped JSON string.
void append_json_string(std::string& out, std::string_view s);

}  // namespace twinstar
