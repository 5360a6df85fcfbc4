// MetricInfo: how each evaluation metric is aggregated, which direction is better, and if it is
// 0/1.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace graft::stats {

// How per-item values aggregate into the metric.
enum class MetricKind {
  kMean,            // mean of per-item values (acc, acc_norm, exact_match)
  kRatioOfSums,     // sum of numerators / sum of denominators (bits_per_byte = bits / bytes)
  kExpRatioOfSums,  // exp(sum of numerators / sum of denominators) (perplexity = exp(nll / tokens))
};

std::string_view MetricKindName(MetricKind kind);

struct MetricInfo {
  std::string name;
  MetricKind kind = MetricKind::kMean;
  bool higher_is_better = true;
  bool binary = false;  // per-item values are 0 or 1 (McNemar applies)
};

// The metrics graft's evaluator produces: acc, acc_norm, exact_match, bits_per_byte, perplexity
// and nll (mean negative log-likelihood per token, in nats: sum of nll / sum of tokens).
Result<MetricInfo> LookupMetric(std::string_view name);

}  // namespace graft::stats
