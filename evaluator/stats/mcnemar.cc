#include "evaluator/stats/mcnemar.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace graft::stats {

McNemarResult McNemarExact(int64_t b, int64_t c) {
  McNemarResult result{b, c, 1.0};
  const int64_t n = b + c;
  if (n <= 0) return result;
  const int64_t k_max = std::min(b, c);
  const auto nd = static_cast<double>(n);
  const double log_norm = std::lgamma(nd + 1) - nd * std::numbers::ln2;
  // log P(X = k) for k = 0..k_max; the largest term is at k_max (k_max <= n / 2).
  auto log_pmf = [&](int64_t k) {
    const auto kd = static_cast<double>(k);
    return log_norm - std::lgamma(kd + 1) - std::lgamma(nd - kd + 1);
  };
  const double log_max = log_pmf(k_max);
  double scaled_sum = 0;
  for (int64_t k = k_max; k >= 0; --k) {
    const double term = std::exp(log_pmf(k) - log_max);
    scaled_sum += term;
    if (term < 1e-18 * scaled_sum) break;  // the remaining terms only shrink
  }
  const double log_tail = log_max + std::log(scaled_sum);
  result.p_value = std::min(1.0, 2.0 * std::exp(log_tail));
  return result;
}

}  // namespace graft::stats
