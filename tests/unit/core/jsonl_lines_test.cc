#include "core/jsonl_lines.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "core/json.h"

namespace graft {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

// Every line as (number, text).
std::vector<std::pair<size_t, std::string>> Lines(std::string_view text) {
  JsonlLines lines(text, "data.jsonl");
  std::vector<std::pair<size_t, std::string>> out;
  while (auto line = lines.Next()) out.emplace_back(line->number, std::string(line->text));
  return out;
}

TEST(JsonlLines, NumbersLinesFromOne) {
  EXPECT_THAT(Lines("{\"a\":1}\n{\"a\":2}\n"),
              ElementsAre(Pair(1, "{\"a\":1}"), Pair(2, "{\"a\":2}")));
}

TEST(JsonlLines, EmptyTextHasNoLines) { EXPECT_THAT(Lines(""), ElementsAre()); }

TEST(JsonlLines, LastLineWithoutNewlineIsALine) {
  EXPECT_THAT(Lines("{}\n[]"), ElementsAre(Pair(1, "{}"), Pair(2, "[]")));
}

TEST(JsonlLines, TrailingNewlineAddsNoEmptyLine) {
  EXPECT_THAT(Lines("{}\n"), ElementsAre(Pair(1, "{}")));
  EXPECT_THAT(Lines("{}\n\n"), ElementsAre(Pair(1, "{}"), Pair(2, "")));
}

TEST(JsonlLines, CrlfReadsLikeLf) {
  EXPECT_EQ(Lines("{}\r\n[]\r\n"), Lines("{}\n[]\n"));
  EXPECT_THAT(Lines("{}\r"), ElementsAre(Pair(1, "{}")));
}

TEST(JsonlLines, OnlyOneCarriageReturnBeforeTheNewlineIsDropped) {
  EXPECT_THAT(Lines("a\rb\r\r\n"), ElementsAre(Pair(1, "a\rb\r")));
}

TEST(JsonlLines, BlankLinesKeepTheirNumberAndAreMarkedBlank) {
  JsonlLines lines("{}\n\n \t\r\n{}\n", "data.jsonl");
  std::vector<bool> blank;
  std::vector<size_t> numbers;
  while (auto line = lines.Next()) {
    blank.push_back(line->blank());
    numbers.push_back(line->number);
  }
  EXPECT_THAT(blank, ElementsAre(false, true, true, false));
  EXPECT_THAT(numbers, ElementsAre(1, 2, 3, 4));
}

TEST(JsonlLines, OtherWhitespaceIsNotBlank) {
  EXPECT_FALSE((JsonlLine{1, "\v"}.blank()));
  EXPECT_FALSE((JsonlLine{1, " x "}.blank()));
}

TEST(JsonlLines, InvalidUtf8AndNulBytesPassThroughForTheParserToJudge) {
  const std::string text = std::string("{\"text\": \"\xff\xfe\"}\n{\"a\":\"b\"}\0\n", 26);
  JsonlLines lines(text, "data.jsonl");
  auto first = lines.Next();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->text, "{\"text\": \"\xff\xfe\"}");
  auto parsed = ParseJson(first->text, lines.Where(*first));
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr("data.jsonl:1"));
  auto second = lines.Next();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->text, std::string_view("{\"a\":\"b\"}\0", 10));
  EXPECT_FALSE(lines.Next().has_value());
}

TEST(JsonlLines, VeryLongLinesAreReturnedWhole) {
  const std::string long_text(16 << 20, 'x');
  const std::string text = "{}\n" + long_text + "\n{}";
  JsonlLines lines(text, "big.jsonl");
  ASSERT_TRUE(lines.Next().has_value());
  auto line = lines.Next();
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->number, 2u);
  EXPECT_EQ(line->text.size(), long_text.size());
  EXPECT_EQ(lines.Next()->number, 3u);
}

TEST(JsonlLines, WhereNamesSourceAndLine) {
  JsonlLines lines("{}\n\n{}", "suites/kpi.jsonl");
  lines.Next();
  lines.Next();
  auto third = lines.Next();
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(lines.Where(*third), "suites/kpi.jsonl:3");
}

}  // namespace
}  // namespace graft
