#include "evaluator/suite/suite.h"

#include <gtest/gtest.h>

#include <fstream>

#include "core/file_util.h"
#include "core/sha256.h"

namespace graft::suite {
namespace {

constexpr std::string_view kRollingData =
    "{\"id\": \"a\", \"slice\": \"linux\", \"text\": \"hello\"}\n"
    "\n"
    "{\"text\": \"world\"}\n";

std::string SuiteYaml(std::string_view data_sha) {
  return "suite: demo\n"
         "tasks:\n"
         "  - name: site-text\n"
         "    type: loglikelihood_rolling\n"
         "    data: {path: site.jsonl, sha256: \"" +
         std::string(data_sha) +
         "\"}\n"
         "    metrics: [bits_per_byte, perplexity]\n"
         "    max_length: 128\n"
         "    stride: 64\n";
}

std::string ParseError(std::string_view yaml) {
  auto suite = ParseSuite(yaml, "s.yaml");
  return suite.ok() ? "" : suite.status().message();
}

TEST(Suite, ParsesTasksAndDigest) {
  std::string yaml = SuiteYaml(Sha256Hex(kRollingData));
  auto suite = ParseSuite(yaml, "s.yaml");
  ASSERT_TRUE(suite.ok()) << suite.status().ToString();
  EXPECT_EQ(suite->name, "demo");
  EXPECT_EQ(suite->digest, Sha256Hex(yaml));
  ASSERT_EQ(suite->tasks.size(), 1u);
  const SuiteTask& task = suite->tasks[0];
  EXPECT_EQ(task.type, TaskType::kLoglikelihoodRolling);
  EXPECT_EQ(task.metrics, (std::vector<std::string>{"bits_per_byte", "perplexity"}));
  EXPECT_EQ(task.max_length, 128);
  EXPECT_EQ(task.stride, 64);
  EXPECT_EQ(task.data_sha256, Sha256Hex(kRollingData));
}

TEST(Suite, RejectsBadDefinitionsNamingTheField) {
  std::string sha = Sha256Hex("x");
  std::string data = "    data: {path: d.jsonl, sha256: \"" + sha + "\"}\n";
  struct Case {
    std::string yaml;
    std::string expected;
  } cases[] = {
      {"suite: [", "not valid YAML"},
      {"suite: x\n", "s.yaml:1:1: missing key \"tasks\""},
      {"suite: x\ntasks: []\n", "s.yaml:2:8: tasks: expected a non-empty list"},
      {"suite: x\nsweet: 1\ntasks: []\n", "unknown key \"sweet\""},
      {"suite: x\ntasks:\n  - name: t\n    type: rolling\n" + data + "    metrics: [nll]\n",
       "tasks[0].type: unknown task type \"rolling\""},
      {"suite: x\ntasks:\n  - name: t\n    type: multiple_choice\n" + data +
           "    metrics: [bits_per_byte]\n",
       "does not apply to multiple_choice"},
      {"suite: x\ntasks:\n  - name: t\n    type: multiple_choice\n" + data +
           "    metrics: [acc, acc]\n",
       "listed twice"},
      {"suite: x\ntasks:\n  - name: t\n    type: multiple_choice\n"
       "    data: {path: ../d.jsonl, sha256: \"" +
           sha + "\"}\n    metrics: [acc]\n",
       "escapes its directory"},
      {"suite: x\ntasks:\n  - name: t\n    type: multiple_choice\n"
       "    data: {path: d.jsonl, sha256: \"abc\"}\n    metrics: [acc]\n",
       "tasks[0].data.sha256"},
      {"suite: x\ntasks:\n  - name: t\n    type: multiple_choice\n" + data +
           "    metrics: [acc]\n    until: [\"\\n\"]\n",
       "only for generate_until"},
      {"suite: x\ntasks:\n  - name: t\n    type: loglikelihood_rolling\n" + data +
           "    metrics: [nll]\n    max_length: -3\n",
       "s.yaml:7:17: tasks[0].max_length: must be in [2, 1048576], got -3"},
      {"suite: x\ntasks:\n  - name: t\n    type: generate_until\n" + data +
           "    metrics: [exact_match]\n  - name: t\n    type: generate_until\n" + data +
           "    metrics: [exact_match]\n",
       "defined twice"},
  };
  for (const auto& c : cases) {
    std::string error = ParseError(c.yaml);
    EXPECT_NE(error.find(c.expected), std::string::npos) << c.yaml << "\n=> " << error;
    EXPECT_NE(error.find("s.yaml"), std::string::npos) << error;
  }
}

// Regressions: the suite reader used to name no line and to take the first of two equal keys.
TEST(Suite, ErrorsNameLineAndColumnAndDuplicateKeysAreRefused) {
  std::string data = "    data: {path: d.jsonl, sha256: \"" + Sha256Hex("x") + "\"}\n";
  std::string task = "  - name: t\n    type: loglikelihood_rolling\n" + data;
  EXPECT_EQ(ParseError("suite: x\nsuite: y\ntasks:\n" + task + "    metrics: [nll]\n"),
            "s.yaml:2:1: duplicate key \"suite\"");
  EXPECT_EQ(ParseError("suite: x\ntasks:\n" + task + "    metrics: [nll]\n    metrics: [acc]\n"),
            "s.yaml:7:5: tasks[0]: duplicate key \"metrics\"");
  EXPECT_EQ(
      ParseError("suite: x\ntasks:\n  - name: t\n    type: multiple_choice\n"
                 "    data: {path: d.jsonl, sha256: \"" +
                 Sha256Hex("x") + "\", sha256: \"" + Sha256Hex("y") + "\"}\n    metrics: [acc]\n"),
      "s.yaml:5:103: tasks[0].data: duplicate key \"sha256\"");
  EXPECT_EQ(ParseError("suite: x\ntasks:\n" + task + "    metrics: [nll]\n    stride: many\n"),
            "s.yaml:7:13: tasks[0].stride: expected an integer, got \"many\"");
  EXPECT_EQ(ParseError("suite: x\ntasks:\n" + task + "    metrics: [nll]\n" + task +
                       "    metrics: [nll]\n"),
            "s.yaml:7:11: tasks[1].name: task \"t\" defined twice");
  EXPECT_EQ(ParseError("suite: x\ntasks:\n  - type: multiple_choice\n"),
            "s.yaml:3:5: tasks[0]: missing key \"name\"");
}

SuiteTask TaskOf(TaskType type) {
  SuiteTask task;
  task.name = "t";
  task.type = type;
  return task;
}

TEST(Suite, ParsesItemsOfEveryType) {
  auto rolling = ParseTaskItems(TaskOf(TaskType::kLoglikelihoodRolling), kRollingData, "d.jsonl");
  ASSERT_TRUE(rolling.ok()) << rolling.status().ToString();
  ASSERT_EQ(rolling->size(), 2u);
  EXPECT_EQ((*rolling)[0].id, "a");
  EXPECT_EQ((*rolling)[0].slice, "linux");
  EXPECT_EQ((*rolling)[1].id, "t:3");  // default ids name the line
  EXPECT_EQ((*rolling)[1].text, "world");

  auto choice =
      ParseTaskItems(TaskOf(TaskType::kMultipleChoice),
                     R"({"context": "2+2=", "choices": [" 3", " 4"], "label": 1})", "mc.jsonl");
  ASSERT_TRUE(choice.ok()) << choice.status().ToString();
  EXPECT_EQ((*choice)[0].label, 1);
  EXPECT_EQ((*choice)[0].choices[1], " 4");

  auto generate = ParseTaskItems(TaskOf(TaskType::kGenerateUntil),
                                 R"({"prompt": "Q", "target": "A", "slice": "s"})", "g.jsonl");
  ASSERT_TRUE(generate.ok()) << generate.status().ToString();
  EXPECT_EQ((*generate)[0].target, "A");
}

TEST(Suite, RejectsBadItemsWithFileLineAndField) {
  struct Case {
    TaskType type;
    std::string jsonl;
    std::string expected;
  } cases[] = {
      {TaskType::kLoglikelihoodRolling, "{\"text\": \"a\"}\n{\"txt\": \"b\"}\n",
       "d.jsonl:2: missing field \"text\""},
      {TaskType::kLoglikelihoodRolling, "{\"text\": 5}\n",
       "d.jsonl:1: field \"text\" must be a string"},
      {TaskType::kLoglikelihoodRolling, "[1]\n", "d.jsonl:1: expected a JSON object"},
      {TaskType::kLoglikelihoodRolling, "{\"text\": \"a\"\n", "d.jsonl:1: not valid JSON"},
      {TaskType::kLoglikelihoodRolling, "{\"text\": \"a\", \"text\": \"b\"}\n", "duplicate key"},
      {TaskType::kLoglikelihoodRolling,
       "{\"id\": \"x\", \"text\": \"a\"}\n{\"id\": \"x\", \"text\": \"b\"}\n",
       "d.jsonl:2: field \"id\": duplicate item id"},
      {TaskType::kLoglikelihoodRolling, "{\"text\": \"a\", \"slice\": 3}\n",
       "field \"slice\" must be a string"},
      {TaskType::kMultipleChoice, "{\"context\": \"c\", \"choices\": [\"a\"], \"label\": 0}\n",
       "at least two"},
      {TaskType::kMultipleChoice,
       "{\"context\": \"c\", \"choices\": [\"a\", \"b\"], \"label\": 2}\n",
       "field \"label\" is out of range"},
      {TaskType::kMultipleChoice,
       "{\"context\": \"c\", \"choices\": [\"a\", \"b\"], \"label\": \"0\"}\n",
       "field \"label\" must be an integer"},
      {TaskType::kGenerateUntil, "{\"prompt\": \"p\"}\n", "missing field \"target\""},
      {TaskType::kGenerateUntil, "\n\n", "no items"},
  };
  for (const auto& c : cases) {
    auto items = ParseTaskItems(TaskOf(c.type), c.jsonl, "d.jsonl");
    ASSERT_FALSE(items.ok()) << c.jsonl;
    EXPECT_NE(items.status().message().find(c.expected), std::string::npos)
        << c.jsonl << "\n=> " << items.status().message();
  }
}

TEST(Suite, CrlfBlankLinesAndAMissingFinalNewlineKeepLineNumbers) {
  auto items = ParseTaskItems(TaskOf(TaskType::kLoglikelihoodRolling),
                              "{\"text\": \"a\"}\r\n\r\n \t\n{\"text\": \"b\"}", "d.jsonl");
  ASSERT_TRUE(items.ok()) << items.status().ToString();
  ASSERT_EQ(items->size(), 2u);
  EXPECT_EQ((*items)[0].id, "t:1");
  EXPECT_EQ((*items)[1].id, "t:4");
  EXPECT_EQ((*items)[1].text, "b");
  auto bad = ParseTaskItems(TaskOf(TaskType::kLoglikelihoodRolling),
                            "{\"text\": \"a\"}\r\n\r\n{\"text\": \"\xff\"}", "d.jsonl");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("d.jsonl:3: not valid JSON"), std::string::npos)
      << bad.status().message();
}

TEST(Suite, LoadsDataRelativeToTheSuiteAndRefusesChangedData) {
  TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.path() / "site.jsonl", kRollingData).ok());
  ASSERT_TRUE(WriteFileAtomic(dir.path() / "suite.yaml", SuiteYaml(Sha256Hex(kRollingData))).ok());
  auto suite = LoadSuite(dir.path() / "suite.yaml");
  ASSERT_TRUE(suite.ok()) << suite.status().ToString();
  EXPECT_EQ(suite->tasks[0].items.size(), 2u);

  ASSERT_TRUE(WriteFileAtomic(dir.path() / "site.jsonl", std::string(kRollingData) + " ").ok());
  auto changed = LoadSuite(dir.path() / "suite.yaml");
  ASSERT_FALSE(changed.ok());
  EXPECT_EQ(changed.status().kind(), ErrorKind::kVerification);
  EXPECT_NE(changed.status().message().find("the data changed"), std::string::npos);
}

}  // namespace
}  // namespace graft::suite
