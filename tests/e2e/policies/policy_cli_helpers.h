// Helpers for the lifecycle CLI tests: substring checks and a gate decision stored as `graft gate`
// stores it, without evaluating a model.
#pragma once

#include <string>

#include "core/status.h"
#include "policies/decision.h"

namespace graft::testing {

bool Has(const std::string& text, const std::string& part);

// What `graft gate` does after evaluating: one comparison of metric "acc" on suite "kpi" whose
// every bootstrap replicate is `delta`, decided under `policy` and stored, signed with the
// evaluator key in `evaluator_key_file`.
Result<policies::Decision> StoreGateDecision(const std::string& registry_dir,
                                             const std::string& adapter, const std::string& policy,
                                             const std::string& evaluator_key_file, double delta);

}  // namespace graft::testing
