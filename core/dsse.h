// DSSE (Dead Simple Signing Envelope): PAE, signing, t-of-n verification and envelope JSON.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/keys.h"
#include "core/status.h"

namespace graft {

inline constexpr std::string_view kInTotoPayloadType = "application/vnd.in-toto+json";

// PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body.
std::string DssePae(std::string_view payload_type, std::string_view payload);

struct DsseSignature {
  std::string keyid;  // may be empty (OMS writes null)
  std::string sig;    // raw signature bytes
};

struct DsseEnvelope {
  std::string payload_type;
  std::string payload;  // raw bytes (base64 only in JSON)
  std::vector<DsseSignature> signatures;

  // {"payload": b64, "payloadType": ..., "signatures": [{"keyid": ..., "sig": b64}]}
  Json ToJson() const;
  static Result<DsseEnvelope> FromJson(const Json& json, std::string_view source);
  static Result<DsseEnvelope> Parse(std::string_view text, std::string_view source);
  // Canonical JSON text of ToJson(): what is stored and hashed. Empty if a hand-built
  // envelope holds invalid UTF-8 in payload_type or a keyid.
  std::string Serialize() const;
};

// Signs PAE(payload_type, payload) with each key (adds one signature per key).
Result<DsseEnvelope> DsseSign(std::string_view payload_type, std::string payload,
                              const std::vector<const PrivateKey*>& keys);

// Verifies that at least `threshold` distinct trusted keys signed the envelope. A signature
// whose keyid names a trusted key is checked against that key; one without a keyid is tried
// against every trusted key. Returns the key ids of the keys that verified.
Result<std::vector<std::string>> DsseVerify(const DsseEnvelope& envelope,
                                            const std::vector<PublicKey>& trusted,
                                            size_t threshold = 1);

}  // namespace graft
