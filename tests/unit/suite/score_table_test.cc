#include "evaluator/suite/score_table.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

namespace graft::suite {
namespace {

SuiteTask RollingTask() {
  SuiteTask task;
  task.name = "text";
  task.type = TaskType::kLoglikelihoodRolling;
  task.metrics = {"bits_per_byte", "perplexity", "nll"};
  task.items = {SuiteItem{.id = "a", .slice = "linux", .text = "abcd"},
                SuiteItem{.id = "b", .slice = "", .text = "xy"}};
  return task;
}

ItemScore Rolling(double nll, int64_t tokens, int64_t bytes) {
  ItemScore score;
  score.nll = nll;
  score.tokens = tokens;
  score.bytes = bytes;
  return score;
}

TEST(ScoreTable, RatioMetricsCarryNumeratorsAndDenominators) {
  auto table = BuildPairedScores(RollingTask(), {Rolling(4.0, 4, 4), Rolling(2.0, 2, 2)},
                                 {Rolling(3.0, 4, 4), Rolling(2.5, 2, 2)});
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_EQ(table->item_ids, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(table->slices, (std::vector<std::string>{"linux", ""}));
  ASSERT_EQ(table->metrics.size(), 3u);
  const stats::MetricScores& bpb = table->metrics[0];
  EXPECT_EQ(bpb.info.name, "bits_per_byte");
  EXPECT_NEAR(bpb.base[0], 4.0 / std::numbers::ln2, 1e-12);
  EXPECT_NEAR(bpb.adapter[1], 2.5 / std::numbers::ln2, 1e-12);
  EXPECT_EQ(bpb.denominator, (std::vector<double>{4, 2}));
  const stats::MetricScores& perplexity = table->metrics[1];
  EXPECT_EQ(perplexity.base, (std::vector<double>{4.0, 2.0}));
  EXPECT_EQ(perplexity.denominator, (std::vector<double>{4, 2}));
}

TEST(ScoreTable, MeanMetricsAndNoSlices) {
  SuiteTask task;
  task.name = "mc";
  task.type = TaskType::kMultipleChoice;
  task.metrics = {"acc", "acc_norm"};
  task.items = {SuiteItem{.id = "1"}, SuiteItem{.id = "2"}};
  ItemScore right, wrong;
  right.correct = 1;
  right.correct_norm = 0;
  auto table = BuildPairedScores(task, {wrong, wrong}, {right, wrong});
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  EXPECT_TRUE(table->slices.empty());
  EXPECT_EQ(table->metrics[0].adapter, (std::vector<double>{1, 0}));
  EXPECT_EQ(table->metrics[1].adapter, (std::vector<double>{0, 0}));
  EXPECT_TRUE(table->metrics[0].denominator.empty());
}

TEST(ScoreTable, RefusesMismatchedScores) {
  auto short_base =
      BuildPairedScores(RollingTask(), {Rolling(1, 1, 1)}, {Rolling(1, 1, 1), Rolling(1, 1, 1)});
  ASSERT_FALSE(short_base.ok());
  EXPECT_NE(short_base.status().message().find("2 items but 1 base"), std::string::npos);
  auto different_text = BuildPairedScores(RollingTask(), {Rolling(1, 4, 4), Rolling(1, 2, 2)},
                                          {Rolling(1, 4, 4), Rolling(1, 3, 2)});
  ASSERT_FALSE(different_text.ok());
  EXPECT_NE(different_text.status().message().find("item b"), std::string::npos);
}

TEST(ScoreTable, CanarySeesAnyChangeAndNoChange) {
  std::vector<ItemScore> base = {Rolling(4.0, 4, 4), Rolling(2.0, 2, 2)};
  EXPECT_FALSE(AdapterChangedAnything(base, base));
  auto adapter = base;
  adapter[1].nll = std::nextafter(2.0, 3.0);
  EXPECT_TRUE(AdapterChangedAnything(base, adapter));
}

TEST(ItemScore, JsonRoundTripsEveryKind) {
  ItemScore score = Rolling(1.25, 3, 5);
  score.choice_loglikelihoods = {-1.5, -0.25};
  score.correct = 1;
  score.completion = "yes";
  score.exact = 1;
  auto back = ItemScore::FromJson(score.ToJson(), "scores");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back->IdenticalTo(score));
  auto bad = ItemScore::FromJson(Json{{"nll", "x"}, {"tokens", 1}, {"bytes", 1}}, "scores.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("scores.json"), std::string::npos);
}

}  // namespace
}  // namespace graft::suite
