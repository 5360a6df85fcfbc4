#include "reports/number_format.h"

#include "policies/decision.h"

namespace graft {

std::string FormatValue(double value) { return FormatNumber(value); }

std::string FormatSigned(double value) {
  if (value > 0) return "+" + FormatNumber(value);
  if (value == 0) return "0";  // and -0
  return FormatNumber(value);
}

std::string FormatInterval(const Interval& interval) {
  return "[" + FormatSigned(interval.low) + ", " + FormatSigned(interval.high) + "]";
}

std::string FormatPercent(double fraction) { return FormatNumber(fraction * 100) + "%"; }

std::string FormatOptional(const std::optional<double>& value) {
  return value ? FormatValue(*value) : std::string();
}

}  // namespace graft
