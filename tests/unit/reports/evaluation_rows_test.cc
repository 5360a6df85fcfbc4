// Flattening evaluations into rows and matching them with decision criteria.
#include "reports/evaluation_rows.h"

#include <gtest/gtest.h>

#include "tests/unit/reports/report_fixtures.h"

namespace graft::reports {
namespace {

TEST(EvaluationRows, OrderAndCriteria) {
  const AdapterReportData report = testing::SampleAdapter();
  const std::vector<EvaluationRow> rows = EvaluationRows(report.evaluations[0], report.decisions);
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0].comparison->metric, "acc");
  EXPECT_EQ(rows[1].comparison->metric, "bits_per_byte");
  EXPECT_EQ(rows[2].comparison->slice, "billing");
  EXPECT_EQ(rows[3].comparison->slice, "faq");
  EXPECT_EQ(rows[4].suite->suite.name, "general");
  EXPECT_EQ(rows[2].criterion, nullptr);  // the policy has no criterion for that slice
  ASSERT_NE(rows[3].criterion, nullptr);
  EXPECT_EQ(rows[3].criterion->name, "regression general/bits_per_byte[faq]");
}

TEST(EvaluationRows, IntervalsAndThresholdsOnTheDeltaAxis) {
  const AdapterReportData report = testing::SampleAdapter();
  const std::vector<EvaluationRow> rows = EvaluationRows(report.evaluations[0], report.decisions);
  // The criterion's Holm-adjusted interval wins over the comparison's.
  EXPECT_EQ(rows[0].interval().low, 0.05);
  EXPECT_EQ(rows[0].confidence(), 0.9875);
  EXPECT_EQ(rows[0].delta_threshold(), 0.05);
  // Lower is better: an improvement threshold of -0.0242 is +0.0242 on the delta axis.
  EXPECT_EQ(rows[3].delta_threshold(), 0.0242);
  EXPECT_EQ(rows[2].interval().low, -0.012);
  EXPECT_EQ(rows[2].confidence(), 0.95);
  EXPECT_FALSE(rows[2].delta_threshold().has_value());
}

TEST(EvaluationRows, LatestDecisionOnTheEvaluationWins) {
  AdapterReportData report = testing::SampleAdapter();
  DecisionRecord later = report.decisions[0];
  later.decision.criteria[0].status = policies::CriterionStatus::kFail;
  report.decisions.push_back(later);
  DecisionRecord other = report.decisions[0];
  other.evaluation_id = "sha256:other";
  other.decision.criteria[0].status = policies::CriterionStatus::kInconclusive;
  report.decisions.push_back(other);
  const std::vector<EvaluationRow> rows = EvaluationRows(report.evaluations[0], report.decisions);
  EXPECT_EQ(rows[0].criterion->status, policies::CriterionStatus::kFail);
  EXPECT_TRUE(EvaluationRows(report.evaluations[1], {}).front().criterion == nullptr);
}

}  // namespace
}  // namespace graft::reports
