// McNemar's exact test on the discordant pairs of a paired 0/1 metric.
#pragma once

#include <cstdint>

namespace graft::stats {

struct McNemarResult {
  int64_t b = 0;         // items the base got right and the adapter got wrong
  int64_t c = 0;         // items the base got wrong and the adapter got right
  double p_value = 1.0;  // exact two-sided
};

// Exact two-sided McNemar test (no mid-p): p = min(1, 2 * P(X <= min(b, c))), X ~ Bin(b + c, 1/2);
// b + c = 0 gives p = 1. Computed in log space, so it stays exact-to-rounding for large counts.
McNemarResult McNemarExact(int64_t b, int64_t c);

}  // namespace graft::stats
