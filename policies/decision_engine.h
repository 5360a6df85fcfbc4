// Decide: applies a policy's promotion criteria to paired comparisons and requirement facts.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "evaluator/stats/types.h"
#include "policies/decision.h"
#include "policies/policy.h"

namespace graft::policies {

// The paired comparisons of one suite (CompareMetric results, with distributions and slices).
struct SuiteComparisons {
  std::string suite;
  std::vector<stats::MetricComparison> metrics;
};

// What the registry knows about the adapter, established (verified) by the caller.
struct RequirementFacts {
  bool signature_verified = false;             // model.sig verified against a trusted key
  std::string signer_key_id;                   // that key: the trainer's key
  std::vector<std::string> signer_roles;       // the roles that key holds in the registry
  std::vector<std::string> approver_key_ids;   // keys with a verified approval of this adapter
  std::vector<std::string> evaluator_key_ids;  // keys that signed its gate decisions (this one too)
  std::optional<int64_t> adapter_rank;
  std::optional<int64_t> adapter_size_bytes;
  std::string base_digest;           // "sha256:<hex>" of the base the adapter was trained on
  bool policy_pre_declared = false;  // the policy entered the log before the run was announced
                                     // (not announced: before the adapter was registered)
  // The run's announcement event, named in the adapter's signed provenance and verified
  // (RunAnnouncements::For); nullopt: none.
  std::optional<uint64_t> announcement_seq;
  std::string announcement_problem;  // the provenance names one that does not verify (why)
  uint64_t policy_seq = 0;           // the policy's registration event
  uint64_t adapter_seq = 0;          // the adapter's registration event
  Revocations revoked;
  int64_t look = 1;        // gate attempts on this adapter under the policy, this one included
  int64_t candidates = 1;  // distinct adapters gated under the policy, this one included
};

// Applies `policy` (see docs/policies.md):
// - statistical criteria (KPIs, regressions, expanded per slice) are PASS / FAIL / INCONCLUSIVE
//   from one-sided tests of "improvement <= threshold" (TestImprovement: exact McNemar, Tango
//   score, paired t, delta-method t; ties count against the adapter) under Holm's step-down at
//   family level alpha/2, split over `max_candidates` and spent over `max_looks` (gate mode); a
//   criterion short of the policy's minimum evidence is INCONCLUSIVE with the shortfall;
// - in gate mode, `max_looks` and `max_candidates` are requirements on facts.look and
//   facts.candidates (a look beyond max_looks is a FAIL);
// - requirements (pre-declared policy, base, revocations, signed_by, approvals with separation of
//   duties, max_rank, max_size_bytes) are PASS / FAIL; in kGate mode missing approvals are
//   PENDING instead of FAIL, since approvals come after the gate;
// - verdict: any FAIL -> fail (exit 10); else any INCONCLUSIVE -> fail (exit 10) or, with
//   `inconclusive: hold`, inconclusive (exit 11); else pass (exit 0).
// Missing evidence for a criterion is a FAIL naming what is missing, never a silent pass.
Decision Decide(const Policy& policy, std::span<const SuiteComparisons> comparisons,
                const RequirementFacts& facts, DecisionMode mode);

}  // namespace graft::policies
