#include "core/intoto.h"

#include <gtest/gtest.h>

namespace graft {
namespace {

const std::string kDigest(64, 'a');

InTotoStatement Sample() {
  InTotoStatement s;
  s.subjects.push_back({"adapter", {{"sha256", kDigest}}});
  s.predicate_type = "https://example.com/p/v1";
  s.predicate = {{"b", 1}, {"a", {1, 2}}};
  return s;
}

TEST(InToto, RoundTripsThroughJson) {
  InTotoStatement s = Sample();
  Json json = s.ToJson();
  EXPECT_EQ(json["_type"], kInTotoStatementType);
  EXPECT_EQ(json["subject"][0]["digest"]["sha256"], kDigest);
  auto parsed = InTotoStatement::FromJson(json, "s");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->subjects.size(), 1u);
  EXPECT_EQ(parsed->subjects[0].name, "adapter");
  EXPECT_EQ(parsed->subjects[0].digest.at("sha256"), kDigest);
  EXPECT_EQ(parsed->predicate_type, s.predicate_type);
  EXPECT_EQ(parsed->predicate, s.predicate);
}

TEST(InToto, PayloadUsesSpecFieldOrderAndTwoSpaceIndent) {
  auto payload = Sample().ToPayload();
  ASSERT_TRUE(payload.ok());
  EXPECT_EQ(*payload,
            "{\n"
            "  \"_type\": \"https://in-toto.io/Statement/v1\",\n"
            "  \"subject\": [\n"
            "    {\n"
            "      \"name\": \"adapter\",\n"
            "      \"digest\": {\n"
            "        \"sha256\": \"" +
                kDigest +
                "\"\n"
                "      }\n"
                "    }\n"
                "  ],\n"
                "  \"predicateType\": \"https://example.com/p/v1\",\n"
                "  \"predicate\": {\n"
                "    \"a\": [\n"
                "      1,\n"
                "      2\n"
                "    ],\n"
                "    \"b\": 1\n"
                "  }\n"
                "}");
  auto reparsed = InTotoStatement::Parse(*payload, "payload");
  ASSERT_TRUE(reparsed.ok());
  EXPECT_EQ(reparsed->predicate, Sample().predicate);
}

TEST(InToto, PayloadRefusesInvalidUtf8) {
  InTotoStatement s = Sample();
  s.subjects[0].name = "\xff";
  EXPECT_FALSE(s.ToPayload().ok());
}

TEST(InToto, RejectsInvalidStatements) {
  auto with = [](const std::function<void(Json&)>& edit) {
    Json json = Sample().ToJson();
    edit(json);
    return InTotoStatement::FromJson(json, "stmt.json");
  };
  std::vector<std::pair<std::string, std::function<void(Json&)>>> cases = {
      {"wrong _type", [](Json& j) { j["_type"] = "https://in-toto.io/Statement/v0.1"; }},
      {"missing _type", [](Json& j) { j.erase("_type"); }},
      {"subject not array", [](Json& j) { j["subject"] = "x"; }},
      {"empty subject", [](Json& j) { j["subject"] = Json::array(); }},
      {"subject not object", [](Json& j) { j["subject"][0] = 1; }},
      {"name not string", [](Json& j) { j["subject"][0]["name"] = 1; }},
      {"no digest", [](Json& j) { j["subject"][0].erase("digest"); }},
      {"empty digest", [](Json& j) { j["subject"][0]["digest"] = Json::object(); }},
      {"digest not string", [](Json& j) { j["subject"][0]["digest"]["sha256"] = 5; }},
      {"uppercase hex",
       [](Json& j) { j["subject"][0]["digest"]["sha256"] = std::string(64, 'A'); }},
      {"short sha256", [](Json& j) { j["subject"][0]["digest"]["sha256"] = "abcd"; }},
      {"predicateType missing", [](Json& j) { j.erase("predicateType"); }},
      {"predicateType empty", [](Json& j) { j["predicateType"] = ""; }},
      {"predicate missing", [](Json& j) { j.erase("predicate"); }},
      {"predicate not object", [](Json& j) { j["predicate"] = Json::array(); }},
  };
  for (const auto& [name, edit] : cases) {
    auto parsed = with(edit);
    ASSERT_FALSE(parsed.ok()) << name;
    EXPECT_EQ(parsed.status().kind(), ErrorKind::kInvalidInput) << name;
    EXPECT_NE(parsed.status().message().find("stmt.json"), std::string::npos) << name;
  }
  EXPECT_FALSE(InTotoStatement::Parse("[", "x").ok());
  EXPECT_FALSE(InTotoStatement::Parse("[]", "x").ok());
}

}  // namespace
}  // namespace graft
