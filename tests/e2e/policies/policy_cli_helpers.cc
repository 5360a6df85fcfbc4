#include "tests/e2e/policies/policy_cli_helpers.h"

#include <vector>

#include "core/keys.h"
#include "policies/lifecycle.h"

namespace graft::testing {

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

Result<policies::Decision> StoreGateDecision(const std::string& registry_dir,
                                             const std::string& adapter, const std::string& policy,
                                             const std::string& evaluator_key_file, double delta) {
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, registry::Registry::Open(registry_dir));
  GRAFT_ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::LoadPem(evaluator_key_file));
  stats::MetricComparison m;
  m.metric = "acc";
  m.n = 100;
  m.delta = delta;
  m.standard_error = 0.01;  // a decisive paired t: the verdict follows the sign of delta - 0
  m.degrees_of_freedom = 99;
  m.distribution = stats::BootstrapDistribution(std::vector<double>(1000, delta));
  std::vector<policies::SuiteComparisons> evaluations = {{"kpi", {m}}};
  GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord adapter_record, reg.Resolve("adapter", adapter));
  GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord policy_record, reg.Resolve("policy", policy));
  GRAFT_ASSIGN_OR_RETURN(
      policies::GateDecision decision,
      policies::Lifecycle(reg).Gate(adapter_record, policy_record, evaluations, key));
  return decision.decision;
}

}  // namespace graft::testing
