#include "evaluator/stats/holm.h"

#include <algorithm>
#include <numeric>

namespace graft::stats {

std::vector<HolmStep> HolmBonferroni(std::span<const double> p_values, double alpha) {
  const size_t m = p_values.size();
  std::vector<size_t> order(m);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t x, size_t y) { return p_values[x] < p_values[y]; });
  std::vector<HolmStep> steps;
  steps.reserve(m);
  double running_max = 0;
  for (size_t rank = 0; rank < m; ++rank) {
    const double factor = static_cast<double>(m - rank);
    running_max = std::max(running_max, std::min(1.0, factor * p_values[order[rank]]));
    steps.push_back({order[rank], alpha / factor, running_max, running_max <= alpha});
  }
  return steps;
}

}  // namespace graft::stats
