#include "evaluator/stats/power.h"

#include <cmath>
#include <limits>

#include "evaluator/stats/normal.h"
#include "evaluator/stats/student_t.h"

namespace graft::stats {

Result<double> MinimumDetectableEffect(double standard_error, double degrees_of_freedom,
                                       double confidence, double power) {
  if (!(std::isfinite(standard_error) && standard_error >= 0)) {
    return InvalidInput("minimum detectable effect needs a finite standard error >= 0");
  }
  if (!(confidence > 0 && confidence < 1) || !(power > 0 && power < 1)) {
    return InvalidInput("minimum detectable effect needs confidence and power in (0, 1)");
  }
  if (!(degrees_of_freedom >= 1)) return std::numeric_limits<double>::infinity();
  const double upper = 1 - (1 - confidence) / 2;
  if (std::isinf(degrees_of_freedom)) {
    GRAFT_ASSIGN_OR_RETURN(double z_alpha, NormalQuantile(upper));
    GRAFT_ASSIGN_OR_RETURN(double z_power, NormalQuantile(power));
    return (z_alpha + z_power) * standard_error;
  }
  GRAFT_ASSIGN_OR_RETURN(double t_alpha, StudentTQuantile(upper, degrees_of_freedom));
  GRAFT_ASSIGN_OR_RETURN(double t_power, StudentTQuantile(power, degrees_of_freedom));
  return (t_alpha + t_power) * standard_error;
}

}  // namespace graft::stats
