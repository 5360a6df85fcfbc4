// RenderLmEval: an evaluation outcome in lm-evaluation-harness's results and samples shape.
#include "evaluator/lm_eval_output.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

namespace graft::evaluator {
namespace {

stats::MetricComparison Comparison(std::string metric, stats::MetricKind kind, bool higher,
                                   double base, double adapter, size_t n) {
  stats::MetricComparison c;
  c.metric = std::move(metric);
  c.kind = kind;
  c.higher_is_better = higher;
  c.base = base;
  c.adapter = adapter;
  c.n = n;
  return c;
}

// Suite "kpi": a multiple-choice task (4 items, adapter right on 3) and a rolling-text task.
EvaluationOutcome Outcome() {
  EvaluationOutcome o;
  o.adapter_digest = std::string(64, 'a');
  o.adapter_label = "site-bot@1";
  o.base_digest = std::string(64, 'b');
  o.attestation_digest = std::string(64, 'e');
  TaskOutcome mc;
  mc.name = "topic";
  mc.type = suite::TaskType::kMultipleChoice;
  mc.item_ids = {"q1", "q2", "q3", "q4"};
  mc.slices = {"x", "", "x", ""};
  for (int correct : {1, 1, 0, 1}) {
    suite::ItemScore s;
    s.correct = correct;
    s.correct_norm = 1 - correct;
    s.choice_loglikelihoods = {-1.5, -0.25};
    mc.adapter.push_back(s);
    s.correct = 0;
    mc.base.push_back(s);
  }
  mc.comparisons = {Comparison("acc", stats::MetricKind::kMean, true, 0.0, 0.75, 4),
                    Comparison("acc_norm", stats::MetricKind::kMean, true, 1.0, 0.25, 4)};
  TaskOutcome text;
  text.name = "text";
  text.type = suite::TaskType::kLoglikelihoodRolling;
  text.item_ids = {"t1"};
  suite::ItemScore t;
  t.nll = 6.0;
  t.tokens = 3;
  t.bytes = 12;
  text.adapter = {t};
  t.nll = 9.0;
  text.base = {t};
  text.comparisons = {
      Comparison("bits_per_byte", stats::MetricKind::kRatioOfSums, false, 1.08, 0.72, 1)};
  o.suites.push_back({"kpi", std::string(64, 'c'), false, "", {mc, text}});
  return o;
}

TEST(LmEvalOutput, ResultsHaveLmEvalsShape) {
  EvaluationSettings settings;
  LmEvalOutput out = RenderLmEval(Outcome(), LmEvalSide::kAdapter, settings, 1700000000.5);
  EXPECT_EQ(out.model_name, "site-bot@1");
  const Json& r = out.results;
  const Json& topic = r["results"]["kpi.topic"];
  EXPECT_EQ(topic["alias"], "kpi.topic");
  EXPECT_DOUBLE_EQ(topic["acc,none"].get<double>(), 0.75);
  // lm-eval's mean_stderr: sample standard deviation / sqrt(n) = sqrt(0.25) / 2.
  EXPECT_DOUBLE_EQ(topic["acc_stderr,none"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(topic["acc_norm,none"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(r["results"]["kpi.text"]["bits_per_byte,none"].get<double>(), 0.72);
  EXPECT_EQ(r["results"]["kpi.text"]["bits_per_byte_stderr,none"], "N/A");
  EXPECT_EQ(r["versions"]["kpi.topic"], 1.0);
  EXPECT_EQ(r["n-shot"]["kpi.text"], 0);
  EXPECT_EQ(r["n-samples"]["kpi.topic"], Json({{"original", 4}, {"effective", 4}}));
  EXPECT_EQ(r["higher_is_better"]["kpi.text"], Json({{"bits_per_byte", false}}));
  EXPECT_EQ(r["configs"]["kpi.topic"]["output_type"], "multiple_choice");
  EXPECT_EQ(r["configs"]["kpi.topic"]["metric_list"][0],
            Json({{"metric", "acc"}, {"aggregation", "mean"}, {"higher_is_better", true}}));
  EXPECT_EQ(r["configs"]["kpi.text"]["metric_list"][0]["aggregation"], "bits_per_byte");
  EXPECT_EQ(r["config"]["model_args"],
            "base=sha256:" + std::string(64, 'b') + ",adapter=sha256:" + std::string(64, 'a'));
  EXPECT_EQ(r["date"], 1700000000.5);
  EXPECT_EQ(r["model_name_sanitized"], "site-bot@1");
}

TEST(LmEvalOutput, SamplesAreOneJsonLinePerItem) {
  EvaluationSettings settings;
  LmEvalOutput out = RenderLmEval(Outcome(), LmEvalSide::kAdapter, settings, 0);
  ASSERT_EQ(out.samples.size(), 2u);
  std::istringstream lines(out.samples.at("kpi.topic"));
  std::string line;
  std::vector<Json> rows;
  while (std::getline(lines, line)) rows.push_back(Json::parse(line));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0]["doc_id"], 0);
  EXPECT_EQ(rows[0]["doc"], Json({{"id", "q1"}, {"slice", "x"}}));
  EXPECT_EQ(rows[1]["doc"], Json({{"id", "q2"}}));
  EXPECT_EQ(rows[2]["acc"], 0.0);
  EXPECT_EQ(rows[3]["acc"], 1.0);
  EXPECT_EQ(rows[3]["filtered_resps"], Json::parse("[[-1.5, false], [-0.25, false]]"));
  // Ratio metrics: lm-eval's [loglikelihood, weight] pair (nats, bytes).
  EXPECT_EQ(Json::parse(out.samples.at("kpi.text"))["bits_per_byte"], Json::parse("[-6.0, 12.0]"));
}

TEST(LmEvalOutput, TheBaseSideHasTheBaseValues) {
  EvaluationSettings settings;
  LmEvalOutput out = RenderLmEval(Outcome(), LmEvalSide::kBase, settings, 0);
  EXPECT_EQ(out.model_name, "base-bbbbbbbbbbbb");
  EXPECT_DOUBLE_EQ(out.results["results"]["kpi.topic"]["acc,none"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(out.results["results"]["kpi.topic"]["acc_stderr,none"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(out.results["results"]["kpi.text"]["bits_per_byte,none"].get<double>(), 1.08);
  EXPECT_EQ(out.results["config"]["model_args"], "base=sha256:" + std::string(64, 'b'));
  EXPECT_EQ(Json::parse(out.samples.at("kpi.text"))["bits_per_byte"], Json::parse("[-9.0, 12.0]"));
}

TEST(LmEvalOutput, SanitizesModelNamesAsLmEvalDoes) {
  EXPECT_EQ(LmEvalSanitize("org/model:v1"), "org__model__v1");
  EXPECT_EQ(LmEvalSanitize("a<>b"), "a__b");
  EXPECT_EQ(LmEvalSanitize("site-bot@1"), "site-bot@1");
}

}  // namespace
}  // namespace graft::evaluator
