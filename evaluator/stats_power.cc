#include "evaluator/stats_power.h"

#include <cmath>

#include "evaluator/stats_normal.h"

namespace graft {

Result<double> MinimumDetectableEffect(double standard_error, double confidence, double power) {
  if (!(std::isfinite(standard_error) && standard_error >= 0)) {
    return InvalidInput("minimum detectable effect needs a finite standard error >= 0");
  }
  if (!(confidence > 0 && confidence < 1) || !(power > 0 && power < 1)) {
    return InvalidInput("minimum detectable effect needs confidence and power in (0, 1)");
  }
  GRAFT_ASSIGN_OR_RETURN(double z_alpha, NormalQuantile(1 - (1 - confidence) / 2));
  GRAFT_ASSIGN_OR_RETURN(double z_power, NormalQuantile(power));
  return (z_alpha + z_power) * standard_error;
}

}  // namespace graft
