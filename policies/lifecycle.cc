#include "policies/lifecycle.h"

#include <algorithm>
#include <set>

#include "core/dsse.h"
#include "core/file_util.h"
#include "core/intoto.h"
#include "core/oms_signature.h"
#include "core/sha256.h"
#include "policies/revocation_screen.h"
#include "registry/adapter_spec.h"
#include "registry/provenance.h"
#include "registry/vocabulary.h"

namespace graft::policies {
namespace fs = std::filesystem;
using registry::AttestationRecord;
using registry::ObjectRecord;

namespace {

constexpr std::string_view kRollbackPrefix = "rollback";

// The gate history under a policy (docs/policies.md, "Looks and candidates"): facts.look = 1 +
// this adapter's earlier decisions under it, facts.candidates = the distinct adapters with a
// decision under it, this one included. Candidates are counted from gate decisions; once training
// runs are announced in the log, this is the one place to count the announced runs instead.
Status CountGateHistory(registry::Registry& reg, const ObjectRecord& adapter,
                        const std::string& policy_digest, RequirementFacts& facts) {
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::Edge> edges, reg.EdgesTo(policy_digest));
  std::set<std::string> under_policy;
  for (const registry::Edge& e : edges) {
    if (e.relation == registry::kPolicyRelation) under_policy.insert(e.src);
  }
  GRAFT_ASSIGN_OR_RETURN(std::vector<ObjectRecord> adapters,
                         reg.List({.kind = registry::kAdapterKind, .with_info = false}));
  facts.look = 1;
  facts.candidates = 1;
  for (const ObjectRecord& other : adapters) {
    GRAFT_ASSIGN_OR_RETURN(std::vector<AttestationRecord> decisions,
                           reg.Attestations(other.digest, registry::kDecisionAttestation));
    const auto earlier = std::count_if(decisions.begin(), decisions.end(), [&](const auto& d) {
      return under_policy.contains(d.digest);
    });
    if (other.digest == adapter.digest) {
      facts.look += earlier;
    } else if (earlier > 0) {
      ++facts.candidates;
    }
  }
  return Status::Ok();
}

// "support-bot" from the adapter's first label "support-bot@3".
Result<std::string> AdapterName(const ObjectRecord& adapter) {
  if (adapter.labels.empty()) {
    return Conflict("adapter sha256:" + adapter.digest + " has no name to hang a channel on");
  }
  const std::string& label = adapter.labels.front();
  return label.substr(0, label.rfind('@'));
}

// production -> production; everything else is a staging channel.
std::string StageForChannel(const std::string& channel) {
  return channel == "production" ? "production" : "staging";
}

// Sets the stage a channel gives an adapter, never lowering production to staging (an adapter
// in production that is also put on a staging channel stays in production).
Status RaiseStage(registry::Registry& registry, const std::string& digest,
                  const std::string& channel, const std::string& reason) {
  GRAFT_ASSIGN_OR_RETURN(ObjectRecord record, registry.Get(digest));
  const std::string stage = StageForChannel(channel);
  if (record.stage == stage || (record.stage == "production" && stage == "staging")) {
    return Status::Ok();
  }
  return registry.SetStage(digest, stage, reason);
}

Result<DsseEnvelope> SignStatement(const ObjectRecord& adapter, std::string_view predicate_type,
                                   Json predicate, const PrivateKey& key) {
  InTotoStatement statement;
  statement.subjects.push_back({adapter.labels.empty() ? adapter.digest : adapter.labels.front(),
                                {{"sha256", adapter.digest}}});
  statement.predicate_type = std::string(predicate_type);
  statement.predicate = std::move(predicate);
  GRAFT_ASSIGN_OR_RETURN(std::string payload, statement.ToPayload());
  return DsseSign(kInTotoPayloadType, std::move(payload), {&key});
}

// The statement of a stored attestation, verified against `trusted` keys and checked to be about
// `adapter` with `predicate_type`. Returns the verifying key ids too.
struct VerifiedStatement {
  InTotoStatement statement;
  std::vector<std::string> key_ids;
};
Result<VerifiedStatement> VerifyStored(registry::Registry& registry, const AttestationRecord& a,
                                       const std::vector<PublicKey>& trusted,
                                       const ObjectRecord& adapter,
                                       std::string_view predicate_type) {
  const std::string what = a.kind + " sha256:" + a.digest;
  GRAFT_ASSIGN_OR_RETURN(DsseEnvelope envelope, registry.LoadAttestation(a.digest));
  Result<std::vector<std::string>> keys = DsseVerify(envelope, trusted);
  if (!keys.ok()) return VerificationFailed(what + ": " + keys.status().message());
  GRAFT_ASSIGN_OR_RETURN(InTotoStatement statement, InTotoStatement::Parse(envelope.payload, what));
  if (statement.predicate_type != predicate_type || statement.subjects.size() != 1 ||
      statement.subjects[0].digest["sha256"] != adapter.digest) {
    return VerificationFailed(what + ": not a " + std::string(predicate_type) +
                              " statement about sha256:" + adapter.digest);
  }
  return VerifiedStatement{std::move(statement), *std::move(keys)};
}

// Marks a decision failed (exit 10) when any criterion failed.
void FailOnAnyFailure(Decision& decision) {
  for (const CriterionResult& c : decision.criteria) {
    if (c.status == CriterionStatus::kFail) {
      decision.verdict = Verdict::kFail;
      decision.exit_code = kExitGateFailed;
    }
  }
}

// Runs `body` (returning Result<T>) as one registry transaction: its changes commit together
// when it succeeds, none when it fails.
template <typename T, typename Body>
Result<T> Atomically(registry::Registry& registry, const Body& body) {
  T value{};
  GRAFT_RETURN_IF_ERROR(registry.Atomically([&]() -> Status {
    GRAFT_ASSIGN_OR_RETURN(value, body());
    return Status::Ok();
  }));
  return value;
}

CriterionResult GateCriterion(bool pass, std::string reason) {
  CriterionResult r;
  r.name = kGateDecisionCriterion;
  r.status = pass ? CriterionStatus::kPass : CriterionStatus::kFail;
  r.reason = std::move(reason);
  return r;
}

}  // namespace

Lifecycle::Lifecycle(registry::Registry& registry) : registry_(registry) {}

Result<ObjectRecord> Lifecycle::RegisterPolicy(const fs::path& file, const std::string& name) {
  GRAFT_ASSIGN_OR_RETURN(std::string bytes, ReadFile(file, 1 << 20));
  GRAFT_ASSIGN_OR_RETURN(Policy policy, ParsePolicy(bytes, file.string()));
  // The registry names a file by the SHA-256 of its bytes: register the canonical bytes, so the
  // object digest is the policy digest.
  TempDir temp("graft-policy");
  fs::path canonical = temp.path() / file.filename();
  GRAFT_RETURN_IF_ERROR(WriteFileAtomic(canonical, CanonicalPolicyBytes(bytes)));
  Json info = {{"policy", policy.name}, {"source", file.filename().string()}};
  if (policy.base) info["base"] = *policy.base;
  return registry_.RegisterFile(registry::kPolicyKind, canonical, name.empty() ? policy.name : name,
                                info);
}

Result<Policy> Lifecycle::LoadPolicy(const std::string& ref) {
  GRAFT_ASSIGN_OR_RETURN(ObjectRecord record, registry_.Resolve(registry::kPolicyKind, ref));
  return LoadPolicy(record);
}

Result<Policy> Lifecycle::LoadPolicy(const ObjectRecord& record) {
  GRAFT_ASSIGN_OR_RETURN(std::string bytes, registry_.ReadBlob(record.digest));
  return ParsePolicy(bytes, "policy sha256:" + record.digest);
}

Result<bool> Lifecycle::PreDeclared(const ObjectRecord& adapter, const ObjectRecord& policy) {
  // Before the run's announcement the provenance names, else before the adapter's registration;
  // never when the named announcement does not verify.
  GRAFT_ASSIGN_OR_RETURN(AnnouncementCheck announced, RunAnnouncements(registry_).For(adapter));
  if (!announced.problem.empty()) return false;
  const uint64_t start = announced.verified() ? announced.announcement->seq : adapter.created_seq;
  if (policy.created_seq >= start) return false;
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::Edge> edges, registry_.EdgesFrom(adapter.digest));
  return std::any_of(edges.begin(), edges.end(), [&](const registry::Edge& e) {
    return e.relation == registry::kPolicyRelation && e.dst == policy.digest;
  });
}

Result<RequirementFacts> Lifecycle::Facts(const ObjectRecord& adapter, const ObjectRecord& policy) {
  RequirementFacts facts;
  const Json info = adapter.Info();
  if (info.contains("r") && info["r"].is_number_integer()) {
    facts.adapter_rank = info["r"].get<int64_t>();
  }
  const std::string base = info.value("base", "");
  facts.base_digest = "sha256:" + base;

  // Re-verify every file digest and the root digest by copying from the blob store (a revoked
  // adapter too: its revocations are facts for the decision, not a reason to stop reading).
  TempDir temp("graft-verify");
  const fs::path dir = temp.path() / "adapter";
  GRAFT_RETURN_IF_ERROR(registry_.WriteVerifiedFiles(adapter, dir));
  const std::set<std::string> attestation_files = {std::string(kSignatureFile),
                                                   std::string(kProvenanceFile)};
  int64_t size = 0;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    if (attestation_files.contains(fs::relative(entry.path(), dir).generic_string())) continue;
    size += static_cast<int64_t>(entry.file_size());
  }
  facts.adapter_size_bytes = size;

  // The signing key, whether or not it is still trusted (a revoked one is reported as such).
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::KeyRecord> keys, registry_.Keys());
  std::vector<PublicKey> trainer_keys;
  for (const registry::KeyRecord& k : keys) {
    if (k.role != registry::kTrainerRole) continue;
    GRAFT_ASSIGN_OR_RETURN(PublicKey key, PublicKey::FromPem(k.pem, "key " + k.key_id));
    trainer_keys.push_back(std::move(key));
  }
  const fs::path sig = dir / kSignatureFile;
  const fs::path provenance_path = dir / kProvenanceFile;
  if (fs::exists(sig) && fs::exists(provenance_path)) {
    Result<OmsVerification> oms = OmsVerify(dir, sig, trainer_keys, {std::string(kProvenanceFile)});
    GRAFT_ASSIGN_OR_RETURN(std::string text, ReadFile(provenance_path, 64 << 20));
    GRAFT_ASSIGN_OR_RETURN(registry::Provenance provenance,
                           registry::Provenance::Parse(text, provenance_path.string()));
    const bool provenance_ok = DsseVerify(provenance.envelope, trainer_keys).ok() &&
                               provenance.subject_digest == adapter.digest;
    if (oms.ok()) {
      facts.signer_key_id = oms->key_id;
      facts.signature_verified = oms->manifest.RootDigestHex() == adapter.digest && provenance_ok;
    }
  }
  for (const registry::KeyRecord& k : keys) {
    if (k.key_id != facts.signer_key_id) continue;
    if (k.revoked_seq) {
      facts.revoked.key = true;
    } else {
      facts.signer_roles.push_back(k.role);
    }
  }

  // Approvals that verify now against trusted approver keys.
  GRAFT_ASSIGN_OR_RETURN(std::vector<PublicKey> approvers,
                         registry_.TrustedKeys(registry::kApproverRole));
  GRAFT_ASSIGN_OR_RETURN(std::vector<AttestationRecord> approvals,
                         registry_.Attestations(adapter.digest, registry::kApprovalAttestation));
  for (const AttestationRecord& a : approvals) {
    Result<VerifiedStatement> verified =
        VerifyStored(registry_, a, approvers, adapter, kApprovalPredicateType);
    if (!verified.ok()) continue;  // revoked approver: the approval no longer counts
    for (const std::string& key : verified->key_ids) facts.approver_key_ids.push_back(key);
  }

  // Keys that signed gate decisions about it (the evaluator duty, for separate_duties).
  GRAFT_ASSIGN_OR_RETURN(std::vector<AttestationRecord> decisions,
                         registry_.Attestations(adapter.digest, registry::kDecisionAttestation));
  for (const AttestationRecord& d : decisions) {
    facts.evaluator_key_ids.insert(facts.evaluator_key_ids.end(), d.key_ids.begin(),
                                   d.key_ids.end());
  }

  // Revoked dependencies: the signing key, the base, any training dataset, and those of its
  // parent adapters ("parent/dataset").
  GRAFT_ASSIGN_OR_RETURN(RevocationScreen revocations, RevocationScreen::Of(registry_, adapter));
  facts.revoked.key = facts.revoked.key || revocations.requirement.key;
  facts.revoked.dataset = revocations.requirement.dataset;
  facts.revoked.base = revocations.requirement.base;
  GRAFT_ASSIGN_OR_RETURN(AnnouncementCheck announced, RunAnnouncements(registry_).For(adapter));
  if (announced.verified()) facts.announcement_seq = announced.announcement->seq;
  if (!announced.problem.empty()) {
    facts.announcement_problem =
        "the announcement the adapter's signed provenance names" +
        (announced.named_seq ? " (event " + std::to_string(*announced.named_seq) + ")"
                             : std::string()) +
        " does not verify: " + announced.problem;
  }
  facts.policy_seq = policy.created_seq;
  facts.adapter_seq = adapter.created_seq;
  GRAFT_ASSIGN_OR_RETURN(facts.policy_pre_declared, PreDeclared(adapter, policy));
  return facts;
}

Result<GateDecision> Lifecycle::Gate(const ObjectRecord& adapter, const ObjectRecord& policy_record,
                                     std::span<const SuiteComparisons> evaluations,
                                     const PrivateKey& evaluator_key,
                                     const std::vector<std::string>& evaluation_digests) {
  GRAFT_ASSIGN_OR_RETURN(Policy policy, LoadPolicy(policy_record));
  GRAFT_ASSIGN_OR_RETURN(RequirementFacts facts, Facts(adapter, policy_record));
  GRAFT_RETURN_IF_ERROR(CountGateHistory(registry_, adapter, policy_record.digest, facts));
  facts.evaluator_key_ids.push_back(evaluator_key.key_id());  // this decision's
  Decision decision = Decide(policy, evaluations, facts, DecisionMode::kGate);
  if (!facts.policy_pre_declared) {
    GRAFT_RETURN_IF_ERROR(
        registry_
            .AppendEvent(registry::kPolicyPostHocEvent, {{"adapter", adapter.digest},
                                                         {"adapter_seq", adapter.created_seq},
                                                         {"policy", policy_record.digest},
                                                         {"policy_seq", policy_record.created_seq}})
            .status());
  }
  Json evaluations_json = Json::array();
  for (const std::string& e : evaluation_digests) evaluations_json.push_back("sha256:" + e);
  Json predicate = {{"decision", decision.ToJson()},
                    {"adapter", "sha256:" + adapter.digest},
                    {"base", facts.base_digest},
                    {"policy", "sha256:" + policy_record.digest},
                    {"evaluations", evaluations_json}};
  GRAFT_ASSIGN_OR_RETURN(DsseEnvelope envelope, SignStatement(adapter, kDecisionPredicateType,
                                                              std::move(predicate), evaluator_key));
  const std::string digest = Sha256Hex(envelope.Serialize());
  std::vector<registry::Edge> edges = {{digest, "policy", policy_record.digest}};
  for (const std::string& e : evaluation_digests) edges.push_back({digest, "evaluation", e});
  GRAFT_RETURN_IF_ERROR(registry_
                            .AddAttestation(registry::kDecisionAttestation, envelope,
                                            adapter.digest, registry::kEvaluatorRole, edges)
                            .status());
  return GateDecision{std::move(decision), digest};
}

Result<AttestationRecord> Lifecycle::Approve(const std::string& adapter_ref,
                                             const PrivateKey& approver_key,
                                             const std::string& comment) {
  GRAFT_ASSIGN_OR_RETURN(ObjectRecord adapter,
                         registry_.Resolve(registry::kAdapterKind, adapter_ref));
  if (adapter.revoked_seq) {
    return Conflict("adapter sha256:" + adapter.digest + " was revoked; it cannot be approved");
  }
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::KeyRecord> keys, registry_.Keys());
  bool trusted = false;
  for (const registry::KeyRecord& k : keys) {
    if (k.key_id != approver_key.key_id() || k.role != registry::kApproverRole) continue;
    if (k.revoked_seq) {
      return VerificationFailed("approver key " + k.key_id + " was revoked at event " +
                                std::to_string(*k.revoked_seq) + " (" + k.revoke_reason + ")");
    }
    trusted = true;
  }
  if (!trusted) {
    return VerificationFailed("key " + approver_key.key_id() +
                              " is not a trusted approver key (graft key trust --role approver)");
  }
  GRAFT_ASSIGN_OR_RETURN(uint64_t log_size, registry_.LogSize());
  Json predicate = {{"adapter", "sha256:" + adapter.digest},
                    {"approver", approver_key.key_id()},
                    {"comment", comment},
                    {"log_size", log_size}};
  GRAFT_ASSIGN_OR_RETURN(DsseEnvelope envelope, SignStatement(adapter, kApprovalPredicateType,
                                                              std::move(predicate), approver_key));
  return registry_.AddAttestation(registry::kApprovalAttestation, envelope, adapter.digest,
                                  registry::kApproverRole);
}

Result<std::optional<Lifecycle::StoredDecision>> Lifecycle::LatestDecision(
    const ObjectRecord& adapter, const std::string& policy_digest) {
  GRAFT_ASSIGN_OR_RETURN(std::vector<AttestationRecord> decisions,
                         registry_.Attestations(adapter.digest, registry::kDecisionAttestation));
  GRAFT_ASSIGN_OR_RETURN(std::vector<PublicKey> evaluators,
                         registry_.TrustedKeys(registry::kEvaluatorRole));
  for (auto it = decisions.rbegin(); it != decisions.rend(); ++it) {
    if (!policy_digest.empty()) {
      // The decision's policy is a lineage edge of the attestation (recorded by Gate).
      GRAFT_ASSIGN_OR_RETURN(std::vector<registry::Edge> edges, registry_.EdgesFrom(it->digest));
      if (std::none_of(edges.begin(), edges.end(), [&](const registry::Edge& e) {
            return e.relation == registry::kPolicyRelation && e.dst == policy_digest;
          })) {
        continue;
      }
    }
    GRAFT_ASSIGN_OR_RETURN(
        VerifiedStatement verified,
        VerifyStored(registry_, *it, evaluators, adapter, kDecisionPredicateType));
    if (!policy_digest.empty() &&
        verified.statement.predicate.value("policy", "") != "sha256:" + policy_digest) {
      return VerificationFailed("decision sha256:" + it->digest +
                                ": its lineage edge and its signed predicate name different "
                                "policies");
    }
    return std::optional<StoredDecision>(
        StoredDecision{it->digest, std::move(verified.statement.predicate)});
  }
  return std::optional<StoredDecision>();
}

Result<std::string> Lifecycle::ProvenancePolicy(const ObjectRecord& adapter) {
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::Edge> edges, registry_.EdgesFrom(adapter.digest));
  for (const registry::Edge& e : edges) {
    if (e.relation == registry::kPolicyRelation) return e.dst;
  }
  return std::string();
}

Result<PromoteOutcome> Lifecycle::Promote(const std::string& adapter_ref,
                                          const std::string& channel) {
  // The check, the channel move, the stage and the events commit together or not at all, and
  // nothing checked (revocations, approvals, keys) can change before they do.
  return Atomically<PromoteOutcome>(registry_, [&] { return PromoteNow(adapter_ref, channel); });
}

Result<PromoteOutcome> Lifecycle::PromoteNow(const std::string& adapter_ref,
                                             const std::string& channel) {
  GRAFT_ASSIGN_OR_RETURN(ObjectRecord adapter,
                         registry_.Resolve(registry::kAdapterKind, adapter_ref));
  if (adapter.revoked_seq) {
    return Conflict("adapter sha256:" + adapter.digest + " was revoked (" + adapter.revoke_reason +
                    "); it cannot be promoted");
  }
  const std::string stage = adapter.stage.value_or("candidate");
  if (stage == "retired" || stage == "rejected" || stage == "revoked") {
    return Conflict("adapter sha256:" + adapter.digest + " is " + stage +
                    "; it cannot be promoted");
  }
  GRAFT_ASSIGN_OR_RETURN(std::string name, AdapterName(adapter));
  PromoteOutcome outcome;
  outcome.channel = name + "@" + channel;
  outcome.adapter = adapter.digest;
  outcome.decision.mode = DecisionMode::kPromote;

  // Only a decision under the governing policy counts; later gates under other policies
  // (post-hoc ones, say) are informational.
  GRAFT_ASSIGN_OR_RETURN(std::string governing, ProvenancePolicy(adapter));
  GRAFT_ASSIGN_OR_RETURN(std::optional<StoredDecision> stored, LatestDecision(adapter, governing));
  if (!stored) {
    outcome.decision.criteria.push_back(GateCriterion(
        false, governing.empty() ? "no stored gate decision"
                                 : "no stored gate decision under its governing policy sha256:" +
                                       governing + " (the one its provenance names)"));
  } else {
    outcome.gate_decision = stored->digest;
    const Json& gate = stored->predicate["decision"];
    const std::string policy_digest = stored->predicate.value("policy", "");
    GRAFT_ASSIGN_OR_RETURN(ObjectRecord policy_record,
                           registry_.Resolve(registry::kPolicyKind, policy_digest));
    GRAFT_ASSIGN_OR_RETURN(Policy policy, LoadPolicy(policy_record));
    // The statistical criteria were decided by the gate (signed, stored); the requirements are
    // decided again now, with approvals and revocations as they stand.
    Policy requirements = policy;
    requirements.promotion.kpis.clear();
    requirements.promotion.regressions.clear();
    GRAFT_ASSIGN_OR_RETURN(RequirementFacts facts, Facts(adapter, policy_record));
    outcome.decision = Decide(requirements, {}, facts, DecisionMode::kPromote);
    const bool passed = gate.value("verdict", "") == VerdictName(Verdict::kPass) &&
                        gate.value("mode", "") == DecisionModeName(DecisionMode::kGate);
    outcome.decision.criteria.insert(
        outcome.decision.criteria.begin(),
        GateCriterion(passed, "gate decision sha256:" + stored->digest + " under policy " +
                                  policy.name + ": " + gate.value("verdict", "?")));
  }
  FailOnAnyFailure(outcome.decision);
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::ChannelEntry> history,
                         registry_.ChannelHistory(outcome.channel));
  if (!history.empty()) outcome.previous = history.back().digest;
  Json details = {{"adapter", adapter.digest},
                  {"channel", outcome.channel},
                  {"previous", outcome.previous},
                  {"gate_decision", outcome.gate_decision},
                  {"decision", outcome.decision.ToJson()}};
  if (outcome.decision.verdict != Verdict::kPass) {
    GRAFT_RETURN_IF_ERROR(
        registry_.AppendEvent(registry::kAdapterPromoteBlockedEvent, details).status());
    return outcome;
  }
  if (outcome.previous == adapter.digest) {
    return Conflict(outcome.channel + " already serves sha256:" + adapter.digest);
  }
  GRAFT_RETURN_IF_ERROR(registry_.SetChannel(
      outcome.channel, adapter.digest,
      "promote: decision sha256:" + outcome.gate_decision +
          (outcome.previous.empty() ? "" : "; previous sha256:" + outcome.previous)));
  GRAFT_RETURN_IF_ERROR(
      RaiseStage(registry_, adapter.digest, channel, "promoted to " + outcome.channel));
  GRAFT_RETURN_IF_ERROR(registry_.AppendEvent(registry::kAdapterPromoteEvent, details).status());
  outcome.promoted = true;
  return outcome;
}

Result<RollbackOutcome> Lifecycle::Rollback(const std::string& name, const std::string& channel,
                                            const std::string& reason) {
  return Atomically<RollbackOutcome>(registry_, [&] { return RollbackNow(name, channel, reason); });
}

Result<RollbackOutcome> Lifecycle::RollbackNow(const std::string& name, const std::string& channel,
                                               const std::string& reason) {
  RollbackOutcome outcome;
  outcome.channel = name + "@" + channel;
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::ChannelEntry> history,
                         registry_.ChannelHistory(outcome.channel));
  // Replay the history as a stack: a promotion pushes, a rollback pops.
  std::vector<std::string> stack;
  for (const registry::ChannelEntry& entry : history) {
    if (entry.reason.starts_with(kRollbackPrefix)) {
      if (!stack.empty()) stack.pop_back();
    } else {
      stack.push_back(entry.digest);
    }
  }
  if (stack.size() < 2) {
    return Conflict(outcome.channel + " has no previous version to roll back to");
  }
  outcome.from = stack.back();
  outcome.to = stack[stack.size() - 2];
  GRAFT_RETURN_IF_ERROR(registry_.SetChannel(
      outcome.channel, outcome.to,
      std::string(kRollbackPrefix) + ": from sha256:" + outcome.from + "; " + reason));
  GRAFT_RETURN_IF_ERROR(
      RaiseStage(registry_, outcome.to, channel, "rolled back to in " + outcome.channel));
  return outcome;
}

Result<std::vector<RollbackOutcome>> Lifecycle::Retire(const std::string& adapter_ref,
                                                       const std::string& reason) {
  if (reason.empty()) return InvalidInput("retiring an adapter needs a reason");
  return Atomically<std::vector<RollbackOutcome>>(registry_,
                                                  [&] { return RetireNow(adapter_ref, reason); });
}

Result<std::vector<RollbackOutcome>> Lifecycle::RetireNow(const std::string& adapter_ref,
                                                          const std::string& reason) {
  GRAFT_ASSIGN_OR_RETURN(ObjectRecord adapter,
                         registry_.Resolve(registry::kAdapterKind, adapter_ref));
  GRAFT_RETURN_IF_ERROR(registry_.SetStage(adapter.digest, "retired", reason));
  GRAFT_ASSIGN_OR_RETURN(std::vector<std::string> channels,
                         registry_.ChannelsServing(adapter.digest));
  std::vector<RollbackOutcome> rolled;
  for (const std::string& channel : channels) {
    const size_t at = channel.rfind('@');
    Result<RollbackOutcome> outcome =
        RollbackNow(channel.substr(0, at), channel.substr(at + 1),
                    "retired sha256:" + adapter.digest + ": " + reason);
    // A channel with no earlier version keeps pointing at the retired adapter (its stage says
    // so); anything else that stops the rollback is an error.
    if (!outcome.ok() && outcome.status().kind() == ErrorKind::kConflict) continue;
    if (!outcome.ok()) return outcome.status();
    rolled.push_back(std::move(*outcome));
  }
  return rolled;
}

Result<std::vector<std::string>> Lifecycle::ApplyExit(const std::string& adapter_ref,
                                                      const ExitFacts& facts) {
  GRAFT_ASSIGN_OR_RETURN(ObjectRecord adapter,
                         registry_.Resolve(registry::kAdapterKind, adapter_ref));
  GRAFT_ASSIGN_OR_RETURN(auto governing, GoverningPolicy(adapter));
  std::vector<std::string> reasons = EvaluateExit(governing.first.exit, facts);
  if (reasons.empty()) return reasons;
  std::string joined;
  for (const std::string& r : reasons) joined += (joined.empty() ? "" : "; ") + r;
  GRAFT_RETURN_IF_ERROR(Retire(adapter.digest, "exit criteria: " + joined).status());
  return reasons;
}

Result<std::pair<Policy, ObjectRecord>> Lifecycle::GoverningPolicy(const ObjectRecord& adapter) {
  GRAFT_ASSIGN_OR_RETURN(std::optional<StoredDecision> stored, LatestDecision(adapter));
  if (!stored) {
    return NotFound("adapter sha256:" + adapter.digest +
                    " has no gate decision, hence no policy to apply exit criteria from");
  }
  GRAFT_ASSIGN_OR_RETURN(std::string ref, ProvenancePolicy(adapter));
  if (ref.empty()) ref = stored->predicate.value("policy", "");
  GRAFT_ASSIGN_OR_RETURN(ObjectRecord record, registry_.Resolve(registry::kPolicyKind, ref));
  GRAFT_ASSIGN_OR_RETURN(Policy policy, LoadPolicy(record));
  return std::pair<Policy, ObjectRecord>{std::move(policy), std::move(record)};
}

Result<Json> Lifecycle::Describe(const ObjectRecord& adapter) {
  GRAFT_ASSIGN_OR_RETURN(std::vector<std::string> channels,
                         registry_.ChannelsServing(adapter.digest));
  Json decisions = Json::array();
  GRAFT_ASSIGN_OR_RETURN(std::vector<AttestationRecord> records,
                         registry_.Attestations(adapter.digest, registry::kDecisionAttestation));
  for (const AttestationRecord& a : records) {
    GRAFT_ASSIGN_OR_RETURN(DsseEnvelope envelope, registry_.LoadAttestation(a.digest));
    GRAFT_ASSIGN_OR_RETURN(InTotoStatement statement,
                           InTotoStatement::Parse(envelope.payload, "decision sha256:" + a.digest));
    const Json& d = statement.predicate["decision"];
    decisions.push_back({{"digest", "sha256:" + a.digest},
                         {"seq", a.seq},
                         {"policy", d.value("policy", "") + " " + d.value("policy_digest", "")},
                         {"verdict", d.value("verdict", "")},
                         {"key_ids", a.key_ids}});
  }
  Json approvals = Json::array();
  GRAFT_ASSIGN_OR_RETURN(records,
                         registry_.Attestations(adapter.digest, registry::kApprovalAttestation));
  for (const AttestationRecord& a : records) {
    approvals.push_back({{"digest", "sha256:" + a.digest}, {"seq", a.seq}, {"key_ids", a.key_ids}});
  }
  return Json{{"stage", adapter.stage.value_or("candidate")},
              {"channels", channels},
              {"decisions", decisions},
              {"approvals", approvals}};
}

}  // namespace graft::policies
