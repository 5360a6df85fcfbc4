#include "reports/number_format.h"

namespace graft::reports {

std::string FormatValue(double value) { return policies::FormatNumber(value); }

std::string FormatSigned(double value) {
  if (value > 0) return "+" + policies::FormatNumber(value);
  if (value == 0) return "0";  // and -0
  return policies::FormatNumber(value);
}

std::string FormatInterval(const stats::Interval& interval) {
  return "[" + FormatSigned(interval.low) + ", " + FormatSigned(interval.high) + "]";
}

std::string FormatIntervalAt(const stats::Interval& interval, double confidence) {
  return FormatInterval(interval) + " at " + FormatPercent(confidence);
}

std::string FormatCriterionInterval(const policies::CriterionResult& c) {
  if (!c.interval) return "";
  return c.confidence ? FormatIntervalAt(*c.interval, *c.confidence) : FormatInterval(*c.interval);
}

std::string FormatPercent(double fraction) { return policies::FormatNumber(fraction * 100) + "%"; }

std::string FormatOptional(const std::optional<double>& value) {
  return value ? FormatValue(*value) : std::string();
}

}  // namespace graft::reports
