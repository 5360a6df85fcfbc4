#include "registry/authorisation.h"

#include <algorithm>

#include "core/dsse.h"
#include "core/encoding.h"
#include "registry/vocabulary.h"

namespace graft::registry {

bool IsKeyRole(std::string_view role) {
  return std::find(std::begin(kKeyRoles), std::end(kKeyRoles), role) != std::end(kKeyRoles);
}

std::vector<std::string_view> RolesFor(std::string_view action, const Json& details) {
  if (action == kKeyTrustEvent || action == kKeyRevokeEvent) return {kAdminRole};
  if (action == kChannelSetEvent || action == kStageSetEvent) return {kReleaseRole};
  if (action == kEdgeAddEvent) return {kCuratorRole};
  if (action == kRunAnnounceEvent) return {kTrainerRole};
  // Tags and descriptions are metadata (no decision reads them): whoever curates, trains or
  // releases adapters may annotate them.
  if (action == kAdapterTagEvent || action == kAdapterDescribeEvent) {
    return {kCuratorRole, kTrainerRole, kReleaseRole};
  }
  const size_t dot = action.find('.');
  if (dot == std::string_view::npos) return {};
  const std::string_view kind = action.substr(0, dot);
  const std::string_view verb = action.substr(dot + 1);
  if (verb != kRegisterVerb && verb != kLabelVerb && verb != kRevokeVerb) return {};
  if (kind == kAdapterKind) {
    if (verb == kRevokeVerb) return {kCuratorRole, kReleaseRole};
    // An attested adapter's authority is its model.sig and provenance (trainer-signed
    // attestations the audit re-verifies); an unattested one, or a new name, needs a signer.
    const bool attested = details.is_object() && details.value("attested", 0) == 1;
    if (verb == kRegisterVerb && attested) return {};
    return {kTrainerRole, kCuratorRole};
  }
  if (kind == kScoresKind) return {kEvaluatorRole};
  if (kind == kRunKind || kind == kConfigKind) return {kTrainerRole, kCuratorRole};
  return {kCuratorRole};
}

std::string_view AttestationRole(std::string_view kind) {
  if (kind == kDecisionAttestation || kind == kEvaluationAttestation) return kEvaluatorRole;
  if (kind == kApprovalAttestation) return kApproverRole;
  if (kind == kModelSignatureAttestation || kind == kProvenanceAttestation ||
      kind == kAnnouncementAttestation) {
    return kTrainerRole;
  }
  return "";
}

namespace {

Result<std::string> SignedBytes(const Json& event) {
  Json unsigned_event = event;
  unsigned_event.erase("signature");
  GRAFT_ASSIGN_OR_RETURN(std::string body, CanonicalJson(unsigned_event));
  return DssePae(kEventPayloadType, body);
}

}  // namespace

Status SignEvent(Json& event, const PrivateKey& key) {
  GRAFT_ASSIGN_OR_RETURN(std::string message, SignedBytes(event));
  GRAFT_ASSIGN_OR_RETURN(std::string sig, key.Sign(message));
  event["signature"] = {{"keyid", key.key_id()}, {"sig", Base64Encode(sig)}};
  return Status::Ok();
}

Result<std::optional<std::string>> EventSigner(const Json& event) {
  auto it = event.find("signature");
  if (it == event.end()) return std::optional<std::string>();
  if (!it->is_object() || !it->contains("keyid") || !(*it)["keyid"].is_string() ||
      !it->contains("sig") || !(*it)["sig"].is_string()) {
    return InvalidInput("event signature must be {\"keyid\": string, \"sig\": base64}");
  }
  return std::optional<std::string>((*it)["keyid"].get<std::string>());
}

bool VerifyEventSignature(const Json& event, const PublicKey& key) {
  auto it = event.find("signature");
  if (it == event.end() || !it->is_object() || !(*it)["sig"].is_string()) return false;
  Result<std::string> sig = Base64Decode((*it)["sig"].get<std::string>());
  Result<std::string> message = SignedBytes(event);
  return sig.ok() && message.ok() && key.Verify(*message, *sig);
}

}  // namespace graft::registry
