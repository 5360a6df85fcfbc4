// EvaluateExit: which of a policy's exit criteria an adapter in a channel now meets, and why.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "policies/policy.h"

namespace graft::policies {

// The latest value of a monitored metric for the adapter.
struct MonitorObservation {
  std::string suite;
  std::string metric;
  double value = 0;
};

struct ExitFacts {
  std::vector<MonitorObservation> observations;
  std::optional<double> age_days;  // since the adapter was registered (log time)
  Revocations revoked;
};

// The reasons to retire the adapter, one per exit criterion met, in policy order; empty means it
// stays. A monitor without an observation, or an unknown age, is no reason to retire: monitoring
// data that is missing is reported by `graft monitor`, not acted on.
std::vector<std::string> EvaluateExit(const ExitCriteria& exit, const ExitFacts& facts);

}  // namespace graft::policies
