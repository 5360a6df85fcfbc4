// ComparisonToJson: a MetricComparison as JSON for evaluation attestations and reports.
#pragma once

#include "core/json.h"
#include "evaluator/stats_types.h"

namespace graft {

// Every field of `comparison` with fixed key names, per-slice results nested under "slices".
// The bootstrap distribution itself is left out (B numbers); "resamples" and "seed" with the
// stored per-item scores reproduce it exactly.
Json ComparisonToJson(const MetricComparison& comparison);

}  // namespace graft
