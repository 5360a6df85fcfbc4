#include "registry/authorisation.h"

#include <algorithm>

#include "core/dsse.h"
#include "core/encoding.h"

namespace graft::registry {

bool IsKeyRole(std::string_view role) {
  return std::find(std::begin(kKeyRoles), std::end(kKeyRoles), role) != std::end(kKeyRoles);
}

std::vector<std::string_view> RolesFor(std::string_view action, const Json& details) {
  if (action == "key.trust" || action == "key.revoke") return {"admin"};
  if (action == "channel.set" || action == "stage.set") return {"release"};
  if (action == "edge.add") return {"curator"};
  if (action == "run.announce") return {"trainer"};
  // Tags and descriptions are metadata (no decision reads them): whoever curates, trains or
  // releases adapters may annotate them.
  if (action == "adapter.tag" || action == "adapter.describe") {
    return {"curator", "trainer", "release"};
  }
  const size_t dot = action.find('.');
  if (dot == std::string_view::npos) return {};
  const std::string_view kind = action.substr(0, dot);
  const std::string_view verb = action.substr(dot + 1);
  if (verb != "register" && verb != "label" && verb != "revoke") return {};
  if (kind == "adapter") {
    if (verb == "revoke") return {"curator", "release"};
    // An attested adapter's authority is its model.sig and provenance (trainer-signed
    // attestations the audit re-verifies); an unattested one, or a new name, needs a signer.
    const bool attested = details.is_object() && details.value("attested", 0) == 1;
    if (verb == "register" && attested) return {};
    return {"trainer", "curator"};
  }
  if (kind == "scores") return {"evaluator"};
  if (kind == "run" || kind == "config") return {"trainer", "curator"};
  return {"curator"};
}

std::string_view AttestationRole(std::string_view kind) {
  if (kind == "decision" || kind == "evaluation") return "evaluator";
  if (kind == "approval") return "approver";
  if (kind == "model-signature" || kind == "provenance" || kind == "announcement") {
    return "trainer";
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
