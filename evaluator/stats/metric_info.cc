#include "evaluator/stats/metric_info.h"

#include <array>

namespace graft::stats {

std::string_view MetricKindName(MetricKind kind) {
  switch (kind) {
    case MetricKind::kMean:
      return "mean";
    case MetricKind::kRatioOfSums:
      return "ratio_of_sums";
    case MetricKind::kExpRatioOfSums:
      return "exp_ratio_of_sums";
  }
  return "unknown";
}

Result<MetricInfo> LookupMetric(std::string_view name) {
  static const std::array<MetricInfo, 6> kMetrics = {{
      {"acc", MetricKind::kMean, true, true},
      {"acc_norm", MetricKind::kMean, true, true},
      {"exact_match", MetricKind::kMean, true, true},
      {"bits_per_byte", MetricKind::kRatioOfSums, false, false},
      {"perplexity", MetricKind::kExpRatioOfSums, false, false},
      {"nll", MetricKind::kRatioOfSums, false, false},
  }};
  for (const MetricInfo& info : kMetrics) {
    if (info.name == name) return info;
  }
  return InvalidInput("unknown metric \"" + std::string(name) +
                      "\" (known: acc, acc_norm, exact_match, bits_per_byte, perplexity, nll)");
}

}  // namespace graft::stats
