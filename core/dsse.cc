#include "core/dsse.h"

#include <set>

#include "core/encoding.h"

namespace graft {

std::string DssePae(std::string_view payload_type, std::string_view payload) {
  std::string out = "DSSEv1 ";
  out += std::to_string(payload_type.size());
  out += ' ';
  out += payload_type;
  out += ' ';
  out += std::to_string(payload.size());
  out += ' ';
  out += payload;
  return out;
}

Json DsseEnvelope::ToJson() const {
  Json sigs = Json::array();
  for (const DsseSignature& s : signatures) {
    sigs.push_back({{"keyid", s.keyid}, {"sig", Base64Encode(s.sig)}});
  }
  return {{"payload", Base64Encode(payload)}, {"payloadType", payload_type}, {"signatures", sigs}};
}

namespace {

// A base64 field decoded, with an error naming where it was.
Result<std::string> DecodeField(const Json& object, std::string_view field,
                                const std::string& where) {
  GRAFT_ASSIGN_OR_RETURN(std::string text, JsonString(object, field, where));
  auto decoded = Base64Decode(text);
  if (!decoded.ok()) {
    return InvalidInput(where + ": field \"" + std::string(field) +
                        "\" is not base64: " + decoded.status().message());
  }
  return std::move(decoded).value();
}

}  // namespace

Result<DsseEnvelope> DsseEnvelope::FromJson(const Json& json, std::string_view source) {
  const std::string where = std::string(source) + ": DSSE envelope";
  if (!json.is_object()) return InvalidInput(where + ": expected a JSON object");
  DsseEnvelope envelope;
  GRAFT_ASSIGN_OR_RETURN(envelope.payload_type, JsonString(json, "payloadType", where));
  if (envelope.payload_type.empty()) return InvalidInput(where + ": empty payloadType");
  GRAFT_ASSIGN_OR_RETURN(envelope.payload, DecodeField(json, "payload", where));
  GRAFT_ASSIGN_OR_RETURN(const Json* sigs, JsonField(json, "signatures", where));
  if (!sigs->is_array()) return InvalidInput(where + ": \"signatures\" must be an array");
  if (sigs->empty()) return InvalidInput(where + ": \"signatures\" is empty");
  for (size_t i = 0; i < sigs->size(); ++i) {
    const Json& entry = (*sigs)[i];
    const std::string at = where + ": signatures[" + std::to_string(i) + "]";
    if (!entry.is_object()) return InvalidInput(at + ": expected a JSON object");
    DsseSignature signature;
    GRAFT_ASSIGN_OR_RETURN(signature.sig, DecodeField(entry, "sig", at));
    if (signature.sig.empty()) return InvalidInput(at + ": empty signature");
    auto keyid = entry.find("keyid");
    if (keyid != entry.end() && !keyid->is_null()) {
      if (!keyid->is_string()) return InvalidInput(at + ": \"keyid\" must be a string or null");
      signature.keyid = keyid->get<std::string>();
    }
    envelope.signatures.push_back(std::move(signature));
  }
  return envelope;
}

Result<DsseEnvelope> DsseEnvelope::Parse(std::string_view text, std::string_view source) {
  GRAFT_ASSIGN_OR_RETURN(Json json, ParseJson(text, source));
  return FromJson(json, source);
}

std::string DsseEnvelope::Serialize() const {
  // Every string is base64, a key id (hex), or a payload type from valid JSON or checked by
  // DsseSign, so this only fails for envelopes assembled by hand with invalid UTF-8.
  auto text = CanonicalJson(ToJson());
  return text.ok() ? *text : std::string();
}

Result<DsseEnvelope> DsseSign(std::string_view payload_type, std::string payload,
                              const std::vector<const PrivateKey*>& keys) {
  if (keys.empty()) return InvalidInput("DSSE signing needs at least one key");
  // The envelope's JSON must be writable: the payload type is its only free-form text.
  GRAFT_RETURN_IF_ERROR(CanonicalJson(Json(std::string(payload_type))).status());
  DsseEnvelope envelope;
  envelope.payload_type = std::string(payload_type);
  envelope.payload = std::move(payload);
  const std::string pae = DssePae(envelope.payload_type, envelope.payload);
  for (const PrivateKey* key : keys) {
    GRAFT_ASSIGN_OR_RETURN(std::string sig, key->Sign(pae));
    envelope.signatures.push_back({key->key_id(), std::move(sig)});
  }
  return envelope;
}

Result<std::vector<std::string>> DsseVerify(const DsseEnvelope& envelope,
                                            const std::vector<PublicKey>& trusted,
                                            size_t threshold) {
  if (threshold == 0) return InvalidInput("DSSE threshold must be at least 1");
  const std::string pae = DssePae(envelope.payload_type, envelope.payload);
  std::set<std::string> verified;
  for (const DsseSignature& signature : envelope.signatures) {
    for (const PublicKey& key : trusted) {
      if (!signature.keyid.empty() && signature.keyid != key.key_id()) continue;
      if (verified.count(key.key_id())) continue;
      if (key.Verify(pae, signature.sig)) {
        verified.insert(key.key_id());
        break;
      }
    }
  }
  if (verified.size() < threshold) {
    return VerificationFailed("DSSE envelope: " + std::to_string(verified.size()) +
                              " distinct trusted key(s) verified, " + std::to_string(threshold) +
                              " required (" + std::to_string(envelope.signatures.size()) +
                              " signature(s), " + std::to_string(trusted.size()) +
                              " trusted key(s))");
  }
  return std::vector<std::string>(verified.begin(), verified.end());
}

}  // namespace graft
