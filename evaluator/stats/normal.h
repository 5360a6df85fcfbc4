// Standard normal CDF and its inverse (Acklam's algorithm refined by one Halley step).
#pragma once

#include "core/status.h"

namespace graft::stats {

// Phi(x) = P(Z <= x) for Z ~ N(0, 1), via std::erfc (accurate in both tails).
double NormalCdf(double x);

// Phi^-1(p) for p in (0, 1): Peter Acklam's rational approximation (relative error 1.15e-9)
// followed by one Halley step on NormalCdf, which brings it to about machine precision.
// NormalQuantile(0.975) = 1.959963984540054. Out-of-range p is an error.
Result<double> NormalQuantile(double p);

}  // namespace graft::stats
