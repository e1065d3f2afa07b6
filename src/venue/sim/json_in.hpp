#pragma once
// A flat view of one incoming JSON object (a WS op frame or a REST body): top-level scalars
// as text, and arrays of scalars. Parsed with simdjson; a nested object (a field or an array
// item) is validated and kept as its raw JSON text, kind "object", for parse_flat_json again.

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
  std::string text;                  // string: unescaped; number: as written; boolean: "true"/"false"; object: raw JSON
  std::vector<std::string> items;    // array: each item as text (strings unescaped, objects raw JSON)
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
