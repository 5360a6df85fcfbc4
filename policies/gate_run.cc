#include "policies/gate_run.h"

#include <set>
#include <utility>

#include "core/sha256.h"
#include "policies/revocation_screen.h"
#include "registry/vocabulary.h"

namespace graft::policies {

Result<GateRun> GateRun::Resolve(registry::Registry& registry, const std::string& adapter_ref,
                                 const std::string& policy_ref) {
  GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord policy_record,
                         registry.Resolve(registry::kPolicyKind, policy_ref));
  GRAFT_ASSIGN_OR_RETURN(Policy policy, Lifecycle(registry).LoadPolicy(policy_record));
  GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord adapter,
                         registry.Resolve(registry::kAdapterKind, adapter_ref));
  return GateRun(registry, std::move(adapter), std::move(policy_record), std::move(policy));
}

GateRun::GateRun(registry::Registry& registry, registry::ObjectRecord adapter,
                 registry::ObjectRecord policy_record, Policy policy)
    : registry_(registry),
      adapter_(std::move(adapter)),
      policy_record_(std::move(policy_record)),
      policy_(std::move(policy)) {}

std::vector<std::string> GateRun::Suites() const {
  std::vector<std::string> suites;
  std::set<std::string> seen;
  auto add = [&](const std::string& suite) {
    if (seen.insert(suite).second) suites.push_back(suite);
  };
  for (const auto& kpi : policy_.promotion.kpis) add(kpi.suite);
  for (const auto& regression : policy_.promotion.regressions) add(regression.suite);
  return suites;
}

Result<stats::BootstrapOptions> GateRun::Bootstrap(stats::BootstrapOptions options) const {
  options.confidence = policy_.promotion.confidence;
  options.resamples = policy_.promotion.bootstrap_resamples.value_or(10000);
  if (policy_.promotion.bootstrap_seed) {
    options.seed = *policy_.promotion.bootstrap_seed;
    return options;
  }
  std::string material = "graft gate seed\nadapter " + adapter_.digest + "\nbase " +
                         adapter_.Info().value("base", "") + "\npolicy " + policy_.digest;
  for (const std::string& suite : Suites()) {
    GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord record,
                           registry_.Resolve(registry::kSuiteKind, suite));
    material += "\nsuite " + record.digest;
  }
  options.seed = std::stoull(Sha256Hex(material).substr(0, 16), nullptr, 16);
  return options;
}

Result<GateOutcome> GateRun::Run(const stats::BootstrapOptions& options,
                                 const GateEvaluator& evaluate, const PrivateKey& evaluator_key,
                                 bool decide) {
  GateOutcome outcome;
  outcome.adapter = adapter_;
  const std::vector<std::string> suites = Suites();
  GRAFT_ASSIGN_OR_RETURN(stats::BootstrapOptions bootstrap, Bootstrap(options));
  // The evaluator refuses to export an adapter with a revoked dependency: the gate decides
  // without evaluating, and fails on "not revoked".
  GRAFT_ASSIGN_OR_RETURN(RevocationScreen revocations, RevocationScreen::Of(registry_, adapter_));
  outcome.not_evaluated = revocations.requirement_reasons;
  GateEvaluation evaluation;
  if (!suites.empty() && outcome.not_evaluated.empty()) {
    GRAFT_ASSIGN_OR_RETURN(evaluation, evaluate(adapter_, suites, bootstrap));
  }
  if (!decide) return outcome;
  std::vector<std::string> evaluation_digests;
  if (!evaluation.attestation_digest.empty()) {
    evaluation_digests.push_back(evaluation.attestation_digest);
  }
  GRAFT_ASSIGN_OR_RETURN(outcome.decision,
                         Lifecycle(registry_).Gate(adapter_, policy_record_, evaluation.suites,
                                                   evaluator_key, evaluation_digests));
  const Json info = adapter_.Info();
  if (info.contains("base")) {
    GRAFT_ASSIGN_OR_RETURN(outcome.base, registry_.Get(info["base"].get<std::string>()));
  }
  return outcome;
}

}  // namespace graft::policies
