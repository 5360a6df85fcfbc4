// ComparisonToJson: a MetricComparison as JSON for evaluation attestations and reports.
#pragma once

#include "core/json.h"
#include "evaluator/stats/types.h"

namespace graft::stats {

// `value`, or null when it is infinite or NaN (canonical JSON has no infinities): an unbounded
// interval end or an undetectable effect.
Json FiniteOrNull(double value);

// Every field of `comparison` with fixed key names, per-slice results nested under "slices".
// Non-finite numbers are null. The bootstrap distribution itself is left out (B numbers);
// "resamples" and "seed" with the stored per-item scores reproduce it exactly.
Json ComparisonToJson(const MetricComparison& comparison);

}  // namespace graft::stats
