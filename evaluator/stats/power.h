// Minimum detectable effect of a studentized paired comparison at a confidence level and power.
#pragma once

#include "core/status.h"

namespace graft::stats {

// MDE = (t_{df, 1 - alpha/2} + t_{df, power}) * standard_error, alpha = 1 - confidence: the
// smallest true improvement that the one-sided test at alpha/2 (the gate's) detects with
// probability `power`, with Student t quantiles at `degrees_of_freedom` so that it stays honest at
// small n (an infinite df gives the normal quantiles; df < 1 gives +infinity: nothing is
// detectable). Needs confidence and power in (0, 1) and a finite standard_error >= 0.
Result<double> MinimumDetectableEffect(double standard_error, double degrees_of_freedom,
                                       double confidence, double power = 0.8);

}  // namespace graft::stats
