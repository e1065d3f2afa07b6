#pragma once
// A flat view of one incoming JSON object (a WS op frame or a REST body): top-level scalars
// as text, and arrays of scalars. Parsed with simdjson; nested objects are kept as "object".

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace twinstar::venue::sim {

enum class JsonKind { string, number, boolean, null, array, object };

struct JsonField {
  std::string key;
  JsonKind kind = JsonKind::null;
  std::string text;                  // string: unescaped; number: as written; boolean: "true"/"false"
  std::vector<std::string> items;    // array: each scalar item as text (strings unescaped)
  std::vector<JsonKind> item_kinds;
};

struct FlatJson {
  std::vector<JsonField> fields;
  const JsonField* find(std::string_view key) const noexcept;
  // A string field's text; nullopt when missing or not a string.
  std::optional<std::string_view> string(std::string_view key) const noexcept;
};

// Errors: parse_error when the text is not one JSON object.
Result<FlatJson> parse_flat_json(std::string_view text);

}  // namespace twinstar::venue::sim
