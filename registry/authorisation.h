// Authorisation: which key roles may make each registry change, and the actor's signature that an
// event body carries (docs/registry.md, "Signed changes").
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/keys.h"
#include "core/status.h"
#include "registry/vocabulary.h"

namespace graft::registry {

// The DSSE payload type of an event signature.
inline constexpr std::string_view kEventPayloadType = "application/vnd.graft.event.v1+json";

// Whether `role` is one a key can be trusted for (kKeyRoles, registry/vocabulary.h).
bool IsKeyRole(std::string_view role);

// The roles whose keys may sign an event with `action` and `details` in a registry with an admin
// key; empty: any actor (events that change no table, and attestations, which carry their own
// signature: AttestationRole).
std::vector<std::string_view> RolesFor(std::string_view action, const Json& details);

// The role that must have signed an attestation of `kind` ("" any trusted key).
std::string_view AttestationRole(std::string_view kind);

// Adds "signature": {"keyid", "sig": base64} to an event's JSON: the key's signature over
// DSSE PAE(kEventPayloadType, canonical JSON of the event without "signature").
Status SignEvent(Json& event, const PrivateKey& key);

// The key id an event's "signature" names (nullopt: the event is unsigned); an error when the
// field is malformed.
Result<std::optional<std::string>> EventSigner(const Json& event);

// Whether the event's signature verifies with `key`.
bool VerifyEventSignature(const Json& event, const PublicKey& key);

}  // namespace graft::registry
