// Paired comparison of base and adapter: bootstrap over items, McNemar, MDE, per-slice results.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "evaluator/stats/types.h"

namespace graft::stats {

// Compares base and adapter on one metric. Items are resampled with replacement jointly for both
// models (one index draw serves both), `options.resamples` times from `options.seed`; the same
// seed draws the same indices for every metric and slice of the same size. `slices` is empty or
// one name per item; each non-empty name gets a sub-result. Invalid input (mismatched lengths,
// non-finite values, non-0/1 values for a binary metric, denominators <= 0, no items) is an error.
Result<MetricComparison> CompareMetric(const MetricScores& scores,
                                       std::span<const std::string> slices,
                                       const BootstrapOptions& options);

// CompareMetric for every metric of `scores`; also checks item ids are present and unique and
// metric names unique.
Result<std::vector<MetricComparison>> ComparePaired(const ItemScores& scores,
                                                    const BootstrapOptions& options);

}  // namespace graft::stats
