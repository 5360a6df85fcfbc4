// BootstrapDistribution: the sorted resampled deltas of one comparison, queryable at any level.
#pragma once

#include <cstddef>
#include <vector>

namespace graft::stats {

// A closed interval [low, high].
struct Interval {
  double low = 0;
  double high = 0;
};

// The bootstrap distribution of delta = adapter - base, kept sorted so that intervals at any
// confidence (for example Holm-adjusted levels) and one-sided p-values come from the same
// resamples. Quantiles are order statistics without interpolation (see docs/statistics.md), so
// "interval lower bound >= t" and "at most k resamples below t" are the same statement.
class BootstrapDistribution {
 public:
  BootstrapDistribution() = default;
  // Takes the resampled deltas in any order.
  explicit BootstrapDistribution(std::vector<double> deltas);

  bool empty() const { return sorted_.empty(); }
  size_t size() const { return sorted_.size(); }
  const std::vector<double>& sorted() const { return sorted_; }

  // Two-sided percentile interval of the delta at `confidence` in (0, 1): with B resamples and
  // k = floor(B * (1 - confidence) / 2), [sorted[k], sorted[B - 1 - k]]. Empty: [0, 0].
  Interval DeltaInterval(double confidence) const;
  // The same interval for improvement = delta (higher is better) or -delta (lower is better).
  Interval ImprovementInterval(double confidence, bool higher_is_better) const;

  // Fraction of resamples whose improvement is below `threshold` (or at or below it when
  // `inclusive`): the one-sided bootstrap p-value of H0 "improvement <= threshold" (strict or not
  // matching the criterion's PASS rule). Empty: 1.
  double FractionImprovementBelow(double threshold, bool higher_is_better, bool inclusive) const;

  // The sample median and standard deviation of the resampled deltas (0 when empty).
  double Median() const;
  double StandardDeviation() const;

 private:
  std::vector<double> sorted_;
};

}  // namespace graft::stats
