// Student's t distribution (CDF and quantile, real degrees of freedom) and binomial tails.
#pragma once

#include <cstdint>

#include "core/status.h"

namespace graft::stats {

// Regularized incomplete beta I_x(a, b) for a, b > 0 and x in [0, 1] (continued fraction, modified
// Lentz; Press et al., Numerical Recipes, 3rd ed., section 6.4). Accurate to about 1e-14.
double IncompleteBeta(double a, double b, double x);

// P(T <= t) for T ~ Student t with `df` > 0 degrees of freedom (df need not be an integer):
// 1 - I_{df/(df+t^2)}(df/2, 1/2) / 2 for t >= 0, by symmetry for t < 0. Infinite t gives 0 or 1.
double StudentTCdf(double t, double df);

// The p-quantile of Student t with `df` > 0 degrees of freedom, p in (0, 1), by bisection on
// StudentTCdf to 1e-12 relative accuracy. StudentTQuantile(0.975, 10) = 2.228138851986274.
Result<double> StudentTQuantile(double p, double df);

// P(X >= k) for X ~ Binomial(n, p), 0 <= p <= 1: summed in log space from the largest term, so it
// stays accurate for large n. k <= 0 gives 1, k > n gives 0.
double BinomialUpperTail(int64_t k, int64_t n, double p);

}  // namespace graft::stats
