// Holm-Bonferroni step-down over a family of hypotheses.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace graft::stats {

// One step of Holm's procedure, in step-down order (smallest p-value first).
struct HolmStep {
  size_t index = 0;       // position of the hypothesis in the input
  double level = 0;       // alpha / (m - rank): the level this hypothesis is tested at
  double adjusted_p = 0;  // max over earlier ranks of min(1, (m - rank) * p)
  bool rejected = false;  // adjusted_p <= alpha (every earlier hypothesis was rejected too)
};

// Holm (1979) for m = p_values.size() hypotheses at family-wise level alpha. Ties keep input
// order. Returns the steps in step-down order.
std::vector<HolmStep> HolmBonferroni(std::span<const double> p_values, double alpha);

}  // namespace graft::stats
