// Lifecycle: policies, gate decisions, approvals, promotion, rollback and retirement on a registry.
#pragma once

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/keys.h"
#include "core/status.h"
#include "policies/decision.h"
#include "policies/decision_engine.h"
#include "policies/exit_criteria.h"
#include "policies/policy.h"
#include "policies/run_announcements.h"
#include "registry/registry.h"

namespace graft::policies {

inline constexpr std::string_view kDecisionPredicateType =
    "https://graft.dev/attestation/decision/v1";
inline constexpr std::string_view kApprovalPredicateType =
    "https://graft.dev/attestation/approval/v1";

// The outcome of `promote`: the promotion decision (requirements re-checked now) and, when it
// passed, where the channel points and what it pointed at before.
struct PromoteOutcome {
  Decision decision;
  std::string adapter;        // digest
  std::string gate_decision;  // digest of the stored passing gate decision it relied on ("" none)
  std::string channel;        // "<name>@<channel>"
  std::string previous;       // digest the channel pointed at before ("" if new)
  bool promoted = false;
};

// A gate decision as `Gate` stored it: the decision and the digest of its signed attestation.
struct GateDecision {
  Decision decision;
  std::string digest;
};

// A channel re-pointed by `rollback` (or by `retire`).
struct RollbackOutcome {
  std::string channel;
  std::string from;  // digest
  std::string to;    // digest
};

// The lifecycle operations of docs/policies.md ("Lifecycle"), each recorded in the registry log.
class Lifecycle {
 public:
  explicit Lifecycle(registry::Registry& registry);

  // Parses the file (nothing is written when it is invalid) and registers its canonical bytes as
  // kind "policy" named `name` (default: its `policy:` key); the digest is PolicyDigest().
  Result<registry::ObjectRecord> RegisterPolicy(const std::filesystem::path& file,
                                                const std::string& name = "");
  // Resolves and parses a registered policy.
  Result<Policy> LoadPolicy(const std::string& ref);
  // Parses a resolved policy from its stored bytes.
  Result<Policy> LoadPolicy(const registry::ObjectRecord& record);

  // Whether `policy` counts for `adapter` (see docs/policies.md, "Pre-declaration"): the
  // provenance names it and it entered the log before the run's announcement (RunAnnouncements),
  // or, for a run not announced, before the adapter's registration.
  Result<bool> PreDeclared(const registry::ObjectRecord& adapter,
                           const registry::ObjectRecord& policy);

  // What the registry knows (and re-verifies now) about the adapter, for `policy`.
  Result<RequirementFacts> Facts(const registry::ObjectRecord& adapter,
                                 const registry::ObjectRecord& policy);

  // The gate without evaluation: facts from the registry, Decide(kGate), then the decision signed
  // by `evaluator_key` (role evaluator) and stored as a "decision" attestation of the adapter.
  // A post-hoc policy is logged as event "policy.post-hoc". `evaluation_digests` are the
  // evaluation attestations the comparisons came from (recorded in the predicate and as edges).
  // Takes the records as the caller resolved them, so that a channel that moves meanwhile
  // cannot change what is decided about.
  Result<GateDecision> Gate(const registry::ObjectRecord& adapter,
                            const registry::ObjectRecord& policy,
                            std::span<const SuiteComparisons> evaluations,
                            const PrivateKey& evaluator_key,
                            const std::vector<std::string>& evaluation_digests = {});

  // Signs and stores an approval of the adapter with `approver_key` (role approver).
  Result<registry::AttestationRecord> Approve(const std::string& adapter_ref,
                                              const PrivateKey& approver_key,
                                              const std::string& comment);

  // Moves "<name>@<channel>" to the adapter when its latest gate decision passed under a
  // pre-declared policy and the requirements (approvals, revocations, signatures) hold now.
  // Broken signatures or digests are errors (kVerification); unmet criteria are a decision.
  // One registry transaction: the checks, the channel, the stage and the event (or the
  // "adapter.promote-blocked" event) commit together; on an error nothing is written.
  Result<PromoteOutcome> Promote(const std::string& adapter_ref, const std::string& channel);

  // Re-points "<name>@<channel>" at the version it served before the current one (one
  // transaction: channel and stage).
  Result<RollbackOutcome> Rollback(const std::string& name, const std::string& channel,
                                   const std::string& reason);

  // Stage `retired`; every channel serving the adapter is rolled back (one transaction).
  Result<std::vector<RollbackOutcome>> Retire(const std::string& adapter_ref,
                                              const std::string& reason);

  // The adapter's governing policy: the one its provenance names (a "policy" lineage edge), else
  // the policy of its latest (re-verified) gate decision. Promotion needs a passing decision
  // under it; exit criteria come from it. NotFound when the adapter has no gate decision.
  Result<std::pair<Policy, registry::ObjectRecord>> GoverningPolicy(
      const registry::ObjectRecord& adapter);

  // Applies the policy's exit criteria (the policy of the adapter's latest gate decision): when
  // any is met the adapter is retired with the reasons joined. Returns the reasons (empty: stays).
  Result<std::vector<std::string>> ApplyExit(const std::string& adapter_ref,
                                             const ExitFacts& facts);

  // For `adapter show`: {"stage", "channels": [...], "decisions": [{digest, seq, policy, verdict,
  // key_ids}], "approvals": [{digest, seq, key_ids}]}.
  Result<Json> Describe(const registry::ObjectRecord& adapter);

 private:
  struct StoredDecision {
    std::string digest;
    Json predicate;
  };
  // The latest decision attestation of the adapter (under `policy_digest` when not empty: the
  // others are informational), re-verified against trusted evaluator keys.
  Result<std::optional<StoredDecision>> LatestDecision(const registry::ObjectRecord& adapter,
                                                       const std::string& policy_digest = "");
  // The digest of the policy the adapter's provenance names ("" none).
  Result<std::string> ProvenancePolicy(const registry::ObjectRecord& adapter);
  // Promote, Rollback and Retire inside the transaction their public versions open.
  Result<PromoteOutcome> PromoteNow(const std::string& adapter_ref, const std::string& channel);
  Result<RollbackOutcome> RollbackNow(const std::string& name, const std::string& channel,
                                      const std::string& reason);
  Result<std::vector<RollbackOutcome>> RetireNow(const std::string& adapter_ref,
                                                 const std::string& reason);

  registry::Registry& registry_;
};

}  // namespace graft::policies
