#include "core/json_writer.hpp"

#include <gtest/gtest.h>

namespace twinstar {
namespace {

TEST(JsonWriter, writes_nested_documents_with_exact_decimals) {
  JsonWriter w;
  w.begin_object()
      .field("retCode", 0)
      .field("retMsg", "OK")
      .key("result")
      .begin_object()
      .field("price", *Price::parse("57953.86"))
      .key("list")
      .begin_array()
      .value("a")
      .value(true)
      .null()
      .begin_object()
      .end_object()
      .end_array()
      .end_object()
      .field("ratio", 0.5)
      .end_object();
  EXPECT_EQ(w.str(), R"({"retCode":0,"retMsg":"OK","result":{"price":"57953.86","list":["a",true,null,{}]},"ratio":0.5})");
}

TEST(JsonWriter, escapes_strings) {
  JsonWriter w;
  w.value(std::string_view("a\"b\\c\nd\x01"));
  EXPECT_EQ(w.str(), "\"a\\\"b\\\\c\\nd\\u0001\"");
}

}  // namespace
}  // namespace twinstar
