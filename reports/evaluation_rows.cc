#include "reports/evaluation_rows.h"

namespace graft::reports {
namespace {

// Slices carry their own slice name; the metric name is the parent's.
const policies::CriterionResult* FindCriterion(const policies::Decision* decision,
                                               const std::string& suite, const std::string& metric,
                                               const std::string& slice) {
  if (decision == nullptr) return nullptr;
  for (const policies::CriterionResult& c : decision->criteria) {
    if (c.kind != policies::CriterionKind::kRequirement && c.suite == suite && c.metric == metric &&
        c.slice == slice) {
      return &c;
    }
  }
  return nullptr;
}

}  // namespace

stats::Interval EvaluationRow::interval() const {
  return criterion && criterion->interval ? *criterion->interval : comparison->interval;
}

double EvaluationRow::confidence() const {
  return criterion && criterion->confidence ? *criterion->confidence : comparison->confidence;
}

std::optional<double> EvaluationRow::delta_threshold() const {
  if (!criterion || !criterion->threshold) return std::nullopt;
  return comparison->higher_is_better ? *criterion->threshold : -*criterion->threshold;
}

std::vector<EvaluationRow> EvaluationRows(const EvaluationRecord& evaluation,
                                          std::span<const DecisionRecord> decisions) {
  const policies::Decision* decision = nullptr;
  for (const DecisionRecord& record : decisions) {
    if (record.evaluation_id == evaluation.id) decision = &record.decision;  // the latest wins
  }
  std::vector<EvaluationRow> rows;
  for (const SuiteResults& suite : evaluation.suites) {
    for (const stats::MetricComparison& metric : suite.metrics) {
      rows.push_back(
          {&suite, &metric, FindCriterion(decision, suite.suite.name, metric.metric, "")});
      for (const stats::MetricComparison& slice : metric.slices) {
        rows.push_back({&suite, &slice,
                        FindCriterion(decision, suite.suite.name, metric.metric, slice.slice)});
      }
    }
  }
  return rows;
}

}  // namespace graft::reports
