#include "policies/exit_criteria.h"

#include "policies/decision.h"

namespace graft::policies {

std::vector<std::string> EvaluateExit(const ExitCriteria& exit, const ExitFacts& facts) {
  std::vector<std::string> reasons;
  for (const MonitorExit& monitor : exit.monitors) {
    for (const MonitorObservation& seen : facts.observations) {
      if (seen.suite != monitor.monitor || seen.metric != monitor.metric) continue;
      const std::string what =
          monitor.monitor + "/" + monitor.metric + " = " + FormatNumber(seen.value);
      if (monitor.floor && seen.value < *monitor.floor) {
        reasons.push_back(what + " is below the floor " + FormatNumber(*monitor.floor));
      } else if (monitor.ceiling && seen.value > *monitor.ceiling) {
        reasons.push_back(what + " is above the ceiling " + FormatNumber(*monitor.ceiling));
      }
    }
  }
  if (exit.max_age_days && facts.age_days &&
      *facts.age_days > static_cast<double>(*exit.max_age_days)) {
    reasons.push_back("age " + FormatNumber(*facts.age_days) + " days exceeds max_age_days " +
                      std::to_string(*exit.max_age_days));
  }
  for (RevocationKind kind : exit.on_revoked) {
    if (facts.revoked.Is(kind)) {
      reasons.push_back("its " + std::string(RevocationKindName(kind)) + " was revoked");
    }
  }
  return reasons;
}

}  // namespace graft::policies
