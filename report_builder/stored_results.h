// Readers for results stored in signed attestations: the JSON of ComparisonToJson and
// Decision::ToJson back into the structs the reports render.
#pragma once

#include <string_view>

#include "core/json.h"
#include "core/status.h"
#include "evaluator/stats/types.h"
#include "policies/decision.h"

namespace graft::report_builder {

// Inverse of ComparisonToJson (evaluator/stats/json.h), per-slice results included. The bootstrap
// distribution is not stored, so it stays empty. `source` names the attestation in errors.
Result<stats::MetricComparison> ComparisonFromJson(const Json& json, std::string_view source);

// Inverse of Decision::ToJson (policies/decision.h).
Result<policies::Decision> DecisionFromJson(const Json& json, std::string_view source);

}  // namespace graft::report_builder
