#include "core/json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace graft {
namespace {

using ::testing::HasSubstr;

std::string Nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(CanonicalJson, SortsKeysAndDropsWhitespace) {
  auto parsed =
      ParseJson(R"( { "b" : [1, 2, {"z": null, "a": true}], "a" : "x", "B": 1.5 } )", "t.json");
  ASSERT_TRUE(parsed.ok());
  auto text = CanonicalJson(*parsed);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, R"({"B":1.5,"a":"x","b":[1,2,{"a":true,"z":null}]})");
}

TEST(CanonicalJson, SortsKeysByUtf8Bytes) {
  Json value = {{"\xc3\xa9", 1}, {"z", 2}, {"\xe2\x82\xac", 3}, {"Z", 4}};
  EXPECT_EQ(*CanonicalJson(value), "{\"Z\":4,\"z\":2,\"\xc3\xa9\":1,\"\xe2\x82\xac\":3}");
}

TEST(CanonicalJson, EscapesOnlyWhatJsonRequires) {
  Json value = std::string("q\"b\\n\n\x01 \xc3\xa9/");
  EXPECT_EQ(*CanonicalJson(value), "\"q\\\"b\\\\n\\n\\u0001 \xc3\xa9/\"");
}

TEST(CanonicalJson, NumbersInShortestRoundTripForm) {
  EXPECT_EQ(*CanonicalJson(Json(0.1)), "0.1");
  EXPECT_EQ(*CanonicalJson(Json(1e300)), "1e+300");
  EXPECT_EQ(*CanonicalJson(Json(-7)), "-7");
  EXPECT_EQ(*CanonicalJson(Json(uint64_t{18446744073709551615u})), "18446744073709551615");
}

TEST(CanonicalJson, RefusesInvalidUtf8) {
  auto text = CanonicalJson(Json{{"k", std::string("\xff\xfe")}});
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_FALSE(CanonicalJson(Json{{std::string("\xc3"), 1}}).ok());  // in a key, truncated
}

TEST(CanonicalJson, RefusesNonFiniteNumbers) {
  EXPECT_FALSE(CanonicalJson(Json(std::numeric_limits<double>::quiet_NaN())).ok());
  EXPECT_FALSE(CanonicalJson(Json{{"a", {1, std::numeric_limits<double>::infinity()}}}).ok());
}

TEST(ParseJson, ParsesValidJson) {
  auto value = ParseJson(R"({"a": [1, "two", null], "b": {"c": false}})", "t.json");
  ASSERT_TRUE(value.ok());
  EXPECT_EQ((*value)["a"][1], "two");
  EXPECT_EQ((*value)["b"]["c"], false);
}

TEST(ParseJson, RejectsDuplicateKeysAtAnyDepth) {
  auto top = ParseJson(R"({"a": 1, "b": 2, "a": 3})", "cfg.json");
  ASSERT_FALSE(top.ok());
  EXPECT_EQ(top.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_THAT(top.status().message(), HasSubstr("cfg.json"));
  EXPECT_THAT(top.status().message(), HasSubstr("duplicate key \"a\""));
  EXPECT_FALSE(ParseJson(R"({"x": [{"k": 1, "k": 1}]})", "t.json").ok());
  // The same key in sibling or nested objects is fine.
  EXPECT_TRUE(ParseJson(R"({"k": {"k": 1}, "j": [{"k": 1}, {"k": 2}]})", "t.json").ok());
}

TEST(ParseJson, RejectsMalformedInput) {
  for (std::string_view text :
       {"", "{", "{\"a\":1} x", "{'a':1}", "[1,]", "{\"a\":1,}", "\"\xff\"", "// c\n1", "NaN"}) {
    auto value = ParseJson(text, "bad.json");
    ASSERT_FALSE(value.ok()) << text;
    EXPECT_THAT(value.status().message(), HasSubstr("bad.json"));
  }
}

std::string NestedObjects(int depth) {
  std::string text;
  for (int i = 0; i < depth; ++i) text += "{\"a\":";
  return text + "1" + std::string(depth, '}');
}

TEST(ParseJson, LimitsNestingDepthOfArraysAndObjectsAlike) {
  EXPECT_TRUE(ParseJson(Nested(512), "t.json").ok());
  EXPECT_TRUE(ParseJson(NestedObjects(512), "t.json").ok());
  for (const std::string& text : {Nested(513), NestedObjects(513)}) {
    auto deep = ParseJson(text, "t.json");
    ASSERT_FALSE(deep.ok());
    EXPECT_THAT(deep.status().message(), HasSubstr("nesting deeper than 512"));
  }
  EXPECT_FALSE(ParseJson(Nested(100000), "t.json").ok());
}

TEST(JsonField, NamesSourceAndField) {
  Json object = {{"name", "x"}, {"n", 3}};
  EXPECT_EQ(*JsonString(object, "name", "c.json"), "x");
  auto missing = JsonString(object, "other", "c.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("c.json"));
  EXPECT_THAT(missing.status().message(), HasSubstr("\"other\""));
  auto wrong = JsonString(object, "n", "c.json");
  ASSERT_FALSE(wrong.ok());
  EXPECT_THAT(wrong.status().message(), HasSubstr("\"n\" must be a string"));
  EXPECT_FALSE(JsonField(Json::array(), "n", "c.json").ok());
  EXPECT_EQ(**JsonField(object, "n", "c.json"), 3);
}

}  // namespace
}  // namespace graft
