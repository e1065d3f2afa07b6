#include "venue/sim/json_in.hpp"

#include <simdjson.h>

namespace twinstar::venue::sim {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Reads one scalar; returns false on a parse error.
bool read_scalar(simdjson::ondemand::value v, JsonKind& kind, std::string& text) {
  simdjson::ondemand::json_type t;
  if (v.type().get(t)) return false;
  switch (t) {
    case simdjson::ondemand::json_type::string: {
      std::string_view s;
      if (v.get_string().get(s)) return false;
      kind = JsonKind::string;
      text.assign(s);
      return true;
    }
    case simdjson::ondemand::json_type::number: {
      kind = JsonKind::number;
      text.assign(trim(v.raw_json_token()));
      return true;
    }
    case simdjson::ondemand::json_type::boolean: {
      bool b = false;
      if (v.get_bool().get(b)) return false;
      kind = JsonKind::boolean;
      text = b ? "true" : "false";
      return true;
    }
    case simdjson::ondemand::json_type::null: {
      bool is_null = false;
      if (v.is_null().get(is_null) || !is_null) return false;
      kind = JsonKind::null;
      return true;
    }
    case simdjson::ondemand::json_type::object: {
      simdjson::ondemand::object o;
      std::string_view raw;
      if (v.get_object().get(o) || o.raw_json().get(raw)) return false;
      // Skipping over it checks only its brackets: a DOM parse validates everything inside.
      thread_local simdjson::dom::parser dom;
      simdjson::dom::element ignored;
      if (dom.parse(raw.data(), raw.size(), true).get(ignored)) return false;
      kind = JsonKind::object;
      text.assign(raw);
      return true;
    }
    case simdjson::ondemand::json_type::array:
      return false;  // handled by the caller
  }
  return false;
}

}  // namespace

const JsonField* FlatJson::find(std::string_view key) const noexcept {
  for (const auto& f : fields) {
    if (f.key == key) return &f;
  }
  return nullptr;
}

std::optional<std::string_view> FlatJson::string(std::string_view key) const noexcept {
  const JsonField* f = find(key);
  if (!f || f->kind != JsonKind::string) return std::nullopt;
  return std::string_view(f->text);
}

Result<FlatJson> parse_flat_json(std::string_view text) {
  // Thread: one parser per thread (simdjson parsers are not shareable).
  thread_local simdjson::ondemand::parser parser;
  // Trailing content after the object is an error (simdjson's on-demand API stops at the object).
  std::string_view t = trim(text);
  while (!t.empty() && (t.front() == ' ' || t.front() == '\n' || t.front() == '\r' || t.front() == '\t')) t.remove_prefix(1);
  if (t.empty() || t.front() != '{' || t.back() != '}') return make_error(ErrorCode::parse_error, "not a JSON object");
  simdjson::padded_string padded(text);
  simdjson::ondemand::document doc;
  auto fail = [] { return make_error(ErrorCode::parse_error, "not a JSON object"); };
  if (parser.iterate(padded).get(doc)) return fail();
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj)) return fail();
  FlatJson out;
  for (auto field : obj) {
    JsonField f;
    std::string_view key;
    if (field.unescaped_key().get(key)) return fail();
    f.key.assign(key);
    simdjson::ondemand::value v;
    if (field.value().get(v)) return fail();
    simdjson::ondemand::json_type t;
    if (v.type().get(t)) return fail();
    if (t == simdjson::ondemand::json_type::array) {
      simdjson::ondemand::array arr;
      if (v.get_array().get(arr)) return fail();
      f.kind = JsonKind::array;
      for (auto item : arr) {
        simdjson::ondemand::value iv;
        if (item.get(iv)) return fail();
        simdjson::ondemand::json_type it;
        if (iv.type().get(it)) return fail();
        JsonKind k = JsonKind::null;
        std::string s;
        if (it == simdjson::ondemand::json_type::array) {
          simdjson::ondemand::array a;
          std::string_view raw;
          if (iv.get_array().get(a) || a.raw_json().get(raw)) return fail();
          k = JsonKind::array;
          s.assign(raw);
        } else if (!read_scalar(iv, k, s)) {
          return fail();
        }
        f.items.push_back(std::move(s));
        f.item_kinds.push_back(k);
      }
    } else if (!read_scalar(v, f.kind, f.text)) {
      return fail();
    }
    out.fields.push_back(std::move(f));
  }
  return out;
}

}  // namespace twinstar::venue::sim
