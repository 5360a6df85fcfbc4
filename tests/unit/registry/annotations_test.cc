#include "registry/annotations.h"

#include <gtest/gtest.h>

#include "registry/projection.h"
#include "registry/schema.h"

namespace graft::registry {
namespace {

bool Mentions(const Status& status, const std::string& part) {
  return status.message().find(part) != std::string::npos;
}

TEST(Annotations, TagKeysFollowMlflowCharactersAndLimits) {
  for (const char* good : {"team", "owner.email", "data/source", "a b", "x-y_z", "0"}) {
    EXPECT_TRUE(ValidateTagKey(good).ok()) << good;
  }
  EXPECT_TRUE(ValidateTagKey(std::string(kMaxTagKeyLength, 'k')).ok());
  const std::pair<std::string, std::string> bad[] = {
      {"", "empty tag key"},
      {std::string(kMaxTagKeyLength + 1, 'k'), "longer than 250 bytes"},
      {"a@b", "contains '@'"},
      {"a=b", "contains '='"},
      {"new\nline", "contains '\\n'"},
      {"esc\x1b[31m", "contains '\\x1b'"},
      {" lead", "starts or ends with a space"},
      {"trail ", "starts or ends with a space"},
      {"caf\xc3\xa9", "contains '"},
  };
  for (const auto& [key, why] : bad) {
    Status status = ValidateTagKey(key);
    EXPECT_EQ(status.kind(), ErrorKind::kInvalidInput) << key;
    EXPECT_TRUE(Mentions(status, why)) << status.message();
  }
}

TEST(Annotations, ValuesAreBoundedSingleLineUtf8) {
  EXPECT_TRUE(ValidateTagValue("k", "").ok());
  EXPECT_TRUE(ValidateTagValue("k", "caf\xc3\xa9 \xe2\x9c\x93 = ok, fine").ok());
  EXPECT_TRUE(ValidateTagValue("k", std::string(kMaxTagValueLength, 'v')).ok());
  const std::pair<std::string, std::string> bad[] = {
      {std::string(kMaxTagValueLength + 1, 'v'), "longer than 5000 bytes"},
      {"two\nlines", "control character (at byte 3)"},
      {"tab\there", "control character"},
      {"del\x7f", "control character"},
      {"c1 \xc2\x9b", "control character"},  // U+009B, a terminal's CSI
      {"\xff", "not valid UTF-8 (at byte 0)"},
      {"over\xc0\xaf", "not valid UTF-8"},            // overlong '/'
      {"surrogate \xed\xa0\x80", "not valid UTF-8"},  // U+D800
      {"cut \xe2\x9c", "not valid UTF-8"},
      {"evil \xe2\x80\xae", "bidirectional-override"},  // U+202E
      {"isolate \xe2\x81\xa6", "bidirectional-override"},
  };
  for (const auto& [value, why] : bad) {
    Status status = ValidateTagValue("k", value);
    EXPECT_EQ(status.kind(), ErrorKind::kInvalidInput) << value;
    EXPECT_TRUE(Mentions(status, why)) << status.message();
    EXPECT_TRUE(Mentions(status, "tag \"k\"")) << status.message();
  }
}

TEST(Annotations, DescriptionsMayHaveLinesAndTabsButNoOtherControls) {
  EXPECT_TRUE(ValidateDescription("").ok());
  EXPECT_TRUE(ValidateDescription("Support bot.\n\n\tTrained on tickets.").ok());
  EXPECT_TRUE(ValidateDescription(std::string(kMaxDescriptionLength, 'd')).ok());
  EXPECT_TRUE(Mentions(ValidateDescription(std::string(kMaxDescriptionLength + 1, 'd')),
                       "longer than 20000 bytes"));
  EXPECT_TRUE(Mentions(ValidateDescription("carriage\rreturn"), "only line feeds and tabs"));
  EXPECT_TRUE(Mentions(ValidateDescription("\x1b[2J"), "control character"));
  EXPECT_TRUE(Mentions(ValidateDescription("bad \xfe"), "not valid UTF-8"));
}

TEST(Annotations, AssignmentsAndFiltersSplitAtTheFirstEquals) {
  auto assignment = ParseTagAssignment("url=https://x/?a=b").value();
  EXPECT_EQ(assignment.first, "url");
  EXPECT_EQ(assignment.second, "https://x/?a=b");
  EXPECT_EQ(ParseTagAssignment("empty=").value().second, "");
  EXPECT_TRUE(Mentions(ParseTagAssignment("novalue").status(), "is not KEY=VALUE"));
  EXPECT_TRUE(Mentions(ParseTagAssignment("=v").status(), "empty tag key"));
  TagFilter exists = TagFilter::Parse("team").value();
  EXPECT_EQ(exists.key, "team");
  EXPECT_FALSE(exists.value.has_value());
  TagFilter equals = TagFilter::Parse("team=nlp").value();
  EXPECT_EQ(equals.value, "nlp");
  EXPECT_FALSE(TagFilter::Parse("bad!key").ok());
  EXPECT_FALSE(TagFilter::Parse("k=\x01").ok());
  Annotations annotations;
  annotations.tags = {{"b", "2"}, {"a", "1"}};
  EXPECT_EQ(annotations.ToJson().dump(), R"({"tags":{"a":"1","b":"2"}})");
  annotations.description = "d";
  EXPECT_EQ(annotations.ToJson().dump(), R"({"description":"d","tags":{"a":"1","b":"2"}})");
}

// The replay applies adapter.tag / adapter.describe events with the command's rules, so a
// forged or hand-made event that breaks them cannot be replayed (audit verify names it).
class AnnotationReplay : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(MigrateSchema(db_).ok());
    ASSERT_TRUE(
        Apply("adapter.register", {{"digest", kAdapter}, {"info", Json::object()}, {"attested", 0}})
            .ok());
    ASSERT_TRUE(
        Apply("base.register", {{"digest", kBase}, {"info", Json::object()}, {"attested", 0}})
            .ok());
  }
  Status Apply(const std::string& action, const Json& details) {
    Event event;
    event.seq = seq_++;
    event.json = {{"action", action}, {"details", details}, {"seq", event.seq}};
    return Projection(db_).Apply(event);
  }
  std::vector<std::string> Rows(const std::string& sql) {
    Statement s = db_.Prepare(sql).value();
    std::vector<std::string> out;
    while (s.Step().value()) out.push_back(s.Text(0) + "|" + s.Text(1));
    return out;
  }

  static constexpr char kAdapter[] = "aa";
  static constexpr char kBase[] = "bb";
  Database db_ = Database::Open({}, Database::Mode::kMemory).value();
  uint64_t seq_ = 0;
};

TEST_F(AnnotationReplay, TagsAndDescriptionsFollowTheLog) {
  ASSERT_TRUE(Apply("adapter.tag", {{"digest", kAdapter},
                                    {"set", {{"team", "nlp"}, {"tier", "gold"}}},
                                    {"remove", Json::array()}})
                  .ok());
  ASSERT_TRUE(Apply("adapter.tag",
                    {{"digest", kAdapter}, {"set", {{"team", "search"}}}, {"remove", {"tier"}}})
                  .ok());
  EXPECT_EQ(Rows("SELECT key, value || '@' || seq FROM adapter_tags"),
            std::vector<std::string>{"team|search@3"});
  ASSERT_TRUE(Apply("adapter.describe", {{"digest", kAdapter}, {"description", "first"}}).ok());
  ASSERT_TRUE(Apply("adapter.describe", {{"digest", kAdapter}, {"description", "second"}}).ok());
  EXPECT_EQ(Rows("SELECT description, seq FROM adapter_descriptions"),
            std::vector<std::string>{"second|5"});
  ASSERT_TRUE(Apply("adapter.describe", {{"digest", kAdapter}, {"description", ""}}).ok());
  EXPECT_TRUE(Rows("SELECT description, seq FROM adapter_descriptions").empty());
  EXPECT_TRUE(Projection::Changes("adapter.tag"));
  EXPECT_TRUE(Projection::Changes("adapter.describe"));
}

TEST_F(AnnotationReplay, EventsBreakingTheRulesAreNotReplayed) {
  const std::pair<Json, std::string> bad_tags[] = {
      {{{"digest", "cc"}, {"set", {{"k", "v"}}}}, "sha256:cc is not a registered adapter"},
      {{{"digest", kBase}, {"set", {{"k", "v"}}}}, "sha256:bb is not a registered adapter"},
      {{{"digest", kAdapter}, {"set", {{"bad key!", "v"}}}}, "contains '!'"},
      {{{"digest", kAdapter}, {"set", {{"k", "a\nb"}}}}, "control character"},
      {{{"digest", kAdapter}, {"set", {{"k", 5}}}}, "is not a string"},
      {{{"digest", kAdapter}, {"remove", {"absent"}}}, "which the adapter does not have"},
      {{{"digest", kAdapter}, {"set", Json::object()}, {"remove", Json::array()}},
       "sets and removes no tag"},
      {{{"digest", kAdapter}, {"set", "k=v"}}, "must be an object"},
  };
  for (const auto& [details, why] : bad_tags) {
    Status status = Apply("adapter.tag", details);
    EXPECT_FALSE(status.ok()) << details.dump();
    EXPECT_TRUE(Mentions(status, why)) << status.message();
    EXPECT_TRUE(Mentions(status, "adapter.tag")) << status.message();
  }
  Json many = Json::object();
  for (size_t i = 0; i <= kMaxTagsPerAdapter; ++i) many["k" + std::to_string(i)] = "v";
  EXPECT_TRUE(Mentions(Apply("adapter.tag", {{"digest", kAdapter}, {"set", many}}),
                       "at most 100 are allowed"));
  EXPECT_TRUE(Mentions(Apply("adapter.describe", {{"digest", kAdapter}, {"description", ""}}),
                       "clears a description the adapter does not have"));
  EXPECT_TRUE(Mentions(Apply("adapter.describe", {{"digest", kAdapter}, {"description", "\x1b"}}),
                       "control character"));
}

}  // namespace
}  // namespace graft::registry
