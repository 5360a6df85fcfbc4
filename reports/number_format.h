// Number formatting shared by the text and HTML reports, so every format prints numbers alike.
#pragma once

#include <optional>
#include <string>

#include "evaluator/stats/distribution.h"
#include "policies/decision.h"

namespace graft::reports {

// printf "%.6g" (as decision reasons print them): "0.05", "1.23457e-07", "nan", "inf".
std::string FormatValue(double value);
// A difference with its sign: "+0.05", "-0.02", "0".
std::string FormatSigned(double value);
// "[-0.01, +0.03]", bounds signed like differences.
std::string FormatInterval(const stats::Interval& interval);
// "[-0.01, +0.03] at 95%".
std::string FormatIntervalAt(const stats::Interval& interval, double confidence);
// A criterion's interval with its confidence when it has both; "" without an interval.
std::string FormatCriterionInterval(const policies::CriterionResult& criterion);
// A confidence as a percentage: 0.95 -> "95%", 0.9875 -> "98.75%".
std::string FormatPercent(double fraction);
// The value, or an empty string when absent.
std::string FormatOptional(const std::optional<double>& value);

}  // namespace graft::reports
