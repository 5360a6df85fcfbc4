// TestImprovement: the one-sided test of "improvement <= threshold" behind every gate criterion.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "evaluator/stats/types.h"

namespace graft::stats {

// How much data a criterion needs before it may PASS or FAIL; below it the criterion is
// INCONCLUSIVE and the reason names the shortfall.
struct EvidenceRule {
  int64_t min_items = 10;
  int64_t min_discordant = 10;  // 0/1 metrics: items where base and adapter differ
  double min_effective_n = 10;  // ratio metrics: (sum w)^2 / sum w^2 of the denominators
};

enum class ThresholdTestKind {
  kExactMcNemar,  // 0/1 metric, threshold 0: exact conditional binomial on discordant pairs
  kTangoScore,    // 0/1 metric, threshold != 0: Tango's score test for paired proportions
  kPairedT,       // mean metric: paired t on per-item differences
  kDeltaMethodT,  // ratio metric: t with a delta-method standard error, Satterthwaite df
};
std::string_view ThresholdTestName(ThresholdTestKind kind);

struct ThresholdTest {
  ThresholdTestKind kind = ThresholdTestKind::kPairedT;
  // One-sided p-value of H0 "improvement <= threshold": ties count against the adapter, so an
  // improvement exactly at the threshold is never significant.
  double p_value = 1;
  std::string shortfall;  // non-empty: the evidence rule is not met (a reason)
};

// Improvement is delta when higher is better, -delta otherwise; `threshold` is on that scale.
ThresholdTest TestImprovement(const MetricComparison& m, double threshold,
                              const EvidenceRule& rule);

// The two-sided interval of the improvement at `confidence`, by the same method as the test
// (Tango's score interval for 0/1 metrics, t with the comparison's standard error otherwise).
// Unbounded when there is no standard error or `confidence` is not below 1.
Interval ImprovementIntervalAt(const MetricComparison& m, double confidence);

}  // namespace graft::stats
