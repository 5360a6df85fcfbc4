// EvaluationRow: an evaluation flattened to one row per suite/metric/slice, with its criterion.
#pragma once

#include <span>
#include <vector>

#include "reports/report_model.h"

namespace graft::reports {

struct EvaluationRow {
  const SuiteResults* suite = nullptr;
  const stats::MetricComparison* comparison = nullptr;  // the metric, or one of its slices
  // The criterion that judged this suite/metric/slice in the latest decision on the evaluation,
  // or null when no decision covers it.
  const policies::CriterionResult* criterion = nullptr;

  // What a chart draws: the criterion's interval (at its Holm-adjusted confidence) when there is
  // one, else the comparison's.
  stats::Interval interval() const;
  double confidence() const;
  // The criterion's threshold on the delta axis (adapter - base): the improvement threshold,
  // negated for lower-is-better metrics. Absent without a statistical criterion.
  std::optional<double> delta_threshold() const;
};

// Rows of `evaluation` in suite, metric, then slice order (the overall row before its slices).
// Pointers point into `evaluation` and `decisions`, which must outlive the rows.
std::vector<EvaluationRow> EvaluationRows(const EvaluationRecord& evaluation,
                                          std::span<const DecisionRecord> decisions);

}  // namespace graft::reports
