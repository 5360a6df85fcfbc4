#include "evaluator/stats/distribution.h"

#include <algorithm>
#include <cmath>

namespace graft::stats {

BootstrapDistribution::BootstrapDistribution(std::vector<double> deltas)
    : sorted_(std::move(deltas)) {
  std::sort(sorted_.begin(), sorted_.end());
}

Interval BootstrapDistribution::DeltaInterval(double confidence) const {
  if (sorted_.empty()) return {};
  const size_t b = sorted_.size();
  // The small epsilon keeps B * alpha / 2 = 250 from rounding down to 249.
  const double tail = std::floor(static_cast<double>(b) * (1.0 - confidence) / 2.0 + 1e-9);
  const size_t k = std::min(static_cast<size_t>(std::max(tail, 0.0)), (b - 1) / 2);
  return {sorted_[k], sorted_[b - 1 - k]};
}

Interval BootstrapDistribution::ImprovementInterval(double confidence,
                                                    bool higher_is_better) const {
  const Interval delta = DeltaInterval(confidence);
  if (higher_is_better) return delta;
  return {-delta.high, -delta.low};
}

double BootstrapDistribution::FractionImprovementBelow(double threshold, bool higher_is_better,
                                                       bool inclusive) const {
  if (sorted_.empty()) return 1.0;
  size_t count;
  if (higher_is_better) {
    // improvement = delta; count delta < t (or <= t).
    auto end = inclusive ? std::upper_bound(sorted_.begin(), sorted_.end(), threshold)
                         : std::lower_bound(sorted_.begin(), sorted_.end(), threshold);
    count = static_cast<size_t>(end - sorted_.begin());
  } else {
    // improvement = -delta < t  <=>  delta > -t (or >= -t).
    auto begin = inclusive ? std::lower_bound(sorted_.begin(), sorted_.end(), -threshold)
                           : std::upper_bound(sorted_.begin(), sorted_.end(), -threshold);
    count = static_cast<size_t>(sorted_.end() - begin);
  }
  return static_cast<double>(count) / static_cast<double>(sorted_.size());
}

double BootstrapDistribution::Median() const {
  if (sorted_.empty()) return 0;
  const size_t b = sorted_.size();
  return b % 2 == 1 ? sorted_[b / 2] : 0.5 * (sorted_[b / 2 - 1] + sorted_[b / 2]);
}

double BootstrapDistribution::StandardDeviation() const {
  if (sorted_.size() < 2) return 0;
  double mean = 0;
  for (double x : sorted_) mean += x;
  mean /= static_cast<double>(sorted_.size());
  double squares = 0;
  for (double x : sorted_) squares += (x - mean) * (x - mean);
  return std::sqrt(squares / static_cast<double>(sorted_.size() - 1));
}

}  // namespace graft::stats
