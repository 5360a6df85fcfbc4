// The registry's words, spelled once: object kinds, key roles, lineage relations, attestation
// kinds and event actions (docs/registry.md). Every layer above the registry spells them here.
#pragma once

#include <string_view>

namespace graft::registry {

// Object kinds (objects.kind; the first part of a "<kind>.register" event).
inline constexpr char kBaseKind[] = "base";
inline constexpr char kDatasetKind[] = "dataset";
inline constexpr char kAdapterKind[] = "adapter";
inline constexpr char kSuiteKind[] = "suite";
inline constexpr char kPolicyKind[] = "policy";
inline constexpr char kRunKind[] = "run";
inline constexpr char kConfigKind[] = "config";
// Evaluation per-item scores and cached base scores (evaluator/adapter_evaluator.h).
inline constexpr char kScoresKind[] = "scores";
inline constexpr std::string_view kObjectKinds[] = {kBaseKind,   kDatasetKind, kAdapterKind,
                                                    kSuiteKind,  kPolicyKind,  kRunKind,
                                                    kConfigKind, kScoresKind};
constexpr bool IsObjectKind(std::string_view kind) {
  for (std::string_view k : kObjectKinds) {
    if (k == kind) return true;
  }
  return false;
}

// What an object event does: "<kind>.register", "<kind>.label", "<kind>.revoke".
inline constexpr char kRegisterVerb[] = "register";
inline constexpr char kLabelVerb[] = "label";
inline constexpr char kRevokeVerb[] = "revoke";

// Key roles (keys.role): what a trusted key may sign (docs/registry.md, "Keys and roles").
inline constexpr char kTrainerRole[] = "trainer";
inline constexpr char kEvaluatorRole[] = "evaluator";
inline constexpr char kApproverRole[] = "approver";
inline constexpr char kReleaseRole[] = "release";
inline constexpr char kAdminRole[] = "admin";
inline constexpr char kCuratorRole[] = "curator";
inline constexpr char kRegistryRole[] = "registry";
inline constexpr std::string_view kKeyRoles[] = {kTrainerRole, kEvaluatorRole, kApproverRole,
                                                 kReleaseRole, kAdminRole,     kCuratorRole,
                                                 kRegistryRole};

// Lineage relations (edges.relation: src --relation--> dst). A revoked dependency reached
// through a parent adapter is named "parent/<relation>" (Registry::Revocations), the object
// itself "self".
inline constexpr char kSignedByRelation[] = "signed_by";  // dst is a key id
inline constexpr char kBaseRelation[] = "base";
inline constexpr char kDatasetRelation[] = "dataset";
inline constexpr char kParentRelation[] = "parent";
inline constexpr char kPolicyRelation[] = "policy";
inline constexpr char kEvaluationRelation[] = "evaluation";
inline constexpr char kSelfRevocation[] = "self";

// Attestation kinds (attestations.kind).
inline constexpr char kModelSignatureAttestation[] = "model-signature";
inline constexpr char kProvenanceAttestation[] = "provenance";
inline constexpr char kEvaluationAttestation[] = "evaluation";
inline constexpr char kApprovalAttestation[] = "approval";
inline constexpr char kDecisionAttestation[] = "decision";
inline constexpr char kAnnouncementAttestation[] = "announcement";

// Event actions other than the object ones above.
inline constexpr char kRegistryInitEvent[] = "registry.init";
inline constexpr char kKeyTrustEvent[] = "key.trust";
inline constexpr char kKeyRevokeEvent[] = "key.revoke";
inline constexpr char kAttestationAddEvent[] = "attestation.add";
inline constexpr char kStageSetEvent[] = "stage.set";
inline constexpr char kChannelSetEvent[] = "channel.set";
inline constexpr char kEdgeAddEvent[] = "edge.add";
inline constexpr char kAdapterTagEvent[] = "adapter.tag";
inline constexpr char kAdapterDescribeEvent[] = "adapter.describe";
inline constexpr char kAdapterPromoteEvent[] = "adapter.promote";
inline constexpr char kAdapterPromoteBlockedEvent[] = "adapter.promote-blocked";
inline constexpr char kPolicyPostHocEvent[] = "policy.post-hoc";
inline constexpr char kRunAnnounceEvent[] = "run.announce";
// The actions the projection applies besides the object events.
inline constexpr std::string_view kFixedActions[] = {
    kRegistryInitEvent, kKeyTrustEvent, kKeyRevokeEvent,  kAttestationAddEvent, kStageSetEvent,
    kChannelSetEvent,   kEdgeAddEvent,  kAdapterTagEvent, kAdapterDescribeEvent};

}  // namespace graft::registry
