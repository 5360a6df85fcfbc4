// Checkpoint: a signed tree head in the C2SP signed-note form (origin, size, root; Ed25519).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/keys.h"
#include "core/sha256.h"
#include "core/status.h"

namespace graft::registry {

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Digest root{};

  // The signed note body: "<origin>\n<size>\n<base64 root>\n" (C2SP tlog-checkpoint).
  std::string Body() const;

  // The full note: body, a blank line, and "— <key_name> <base64(key hash ‖ signature)>\n".
  // `key` must be Ed25519 (C2SP signature type 0x01).
  Result<std::string> Sign(std::string_view key_name, const PrivateKey& key) const;

  // Parses a note and verifies that one of its signature lines is by (key_name, key). Errors
  // name the problem: malformed note, unknown signer, bad signature.
  static Result<Checkpoint> ParseAndVerify(std::string_view note, std::string_view key_name,
                                           const PublicKey& key);
};

// The C2SP key hash: the first 4 bytes of SHA-256(key_name ‖ "\n" ‖ 0x01 ‖ raw Ed25519 key).
Result<std::string> NoteKeyHash(std::string_view key_name, const PublicKey& key);

}  // namespace graft::registry
