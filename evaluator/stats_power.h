// Minimum detectable effect of a paired comparison at a confidence level and power.
#pragma once

#include "core/status.h"

namespace graft {

// MDE = (z_{1 - alpha/2} + z_{power}) * standard_error, alpha = 1 - confidence: the smallest true
// delta a two-sided test at `confidence` detects with probability `power` (normal
// approximation). For a paired mean, standard_error = sd(d) / sqrt(n) over per-item differences.
// Two-sided because graft's intervals are two-sided. Needs confidence and power in (0, 1) and a
// finite standard_error >= 0.
Result<double> MinimumDetectableEffect(double standard_error, double confidence,
                                       double power = 0.8);

}  // namespace graft
