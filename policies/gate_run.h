// GateRun: `graft gate` as one library call: the adapter and policy resolved once, the suites the
// policy names, its bootstrap, the revocation screen, the evaluation, the stored decision.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/keys.h"
#include "core/status.h"
#include "evaluator/stats/types.h"
#include "policies/decision_engine.h"
#include "policies/lifecycle.h"
#include "policies/policy.h"
#include "registry/registry.h"

namespace graft::policies {

// What an evaluation gives the gate: the comparisons of each suite (in the order asked for) and
// the digest of the evaluation attestation ("" where none was stored: a rank other than 0).
struct GateEvaluation {
  std::vector<SuiteComparisons> suites;
  std::string attestation_digest;
};

// Evaluates the resolved adapter on registered suites with the gate's bootstrap. graft-model
// supplies it (the evaluator needs libtorch); the gate itself stays torch-free.
using GateEvaluator = std::function<Result<GateEvaluation>(
    const registry::ObjectRecord& adapter, const std::vector<std::string>& suites,
    const stats::BootstrapOptions& bootstrap)>;

// What a gate run did.
struct GateOutcome {
  registry::ObjectRecord adapter;
  std::optional<registry::ObjectRecord> base;  // the adapter's base, when it names one
  // Describe() of the revoked dependencies that stopped the evaluation ("not revoked" fails).
  std::vector<std::string> not_evaluated;
  std::optional<GateDecision> decision;  // the decision stored (none when not deciding)
};

class GateRun {
 public:
  // Resolves the references (the policy first, then the adapter) and parses the policy: the only
  // resolution on the gate path, so a channel that moves meanwhile cannot change what is
  // evaluated, decided about or reported.
  static Result<GateRun> Resolve(registry::Registry& registry, const std::string& adapter_ref,
                                 const std::string& policy_ref);
  GateRun(registry::Registry& registry, registry::ObjectRecord adapter,
          registry::ObjectRecord policy_record, Policy policy);

  // The suites the policy's promotion criteria name, in first-mention order.
  std::vector<std::string> Suites() const;

  // The gate's bootstrap: `options` with the policy's confidence and, from `promotion.bootstrap`
  // or else derived, resamples (10000) and a seed from the digests of adapter, base, suites and
  // policy, so that it cannot be shopped for (docs/statistics.md).
  Result<stats::BootstrapOptions> Bootstrap(stats::BootstrapOptions options) const;

  // Screens the adapter's revocations, evaluates it on Suites() unless a revoked dependency
  // stops that (or the policy names no suite), and when `decide` (rank 0) takes, signs with
  // `evaluator_key` and stores the decision (Lifecycle::Gate).
  Result<GateOutcome> Run(const stats::BootstrapOptions& options, const GateEvaluator& evaluate,
                          const PrivateKey& evaluator_key, bool decide = true);

  const registry::ObjectRecord& adapter() const { return adapter_; }
  const registry::ObjectRecord& policy_record() const { return policy_record_; }

 private:
  registry::Registry& registry_;
  registry::ObjectRecord adapter_;
  registry::ObjectRecord policy_record_;
  Policy policy_;
};

}  // namespace graft::policies
