// libFuzzer target: the C2SP checkpoint note parser (registry/checkpoint) from hostile bytes.
// The first byte picks the mode: odd, the rest is a whole note checked against a fixed key;
// even, the rest is a note body that the target signs, so the verified path is reached too.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/encoding.h"
#include "core/keys.h"
#include "registry/checkpoint.h"

namespace {

// A fixed Ed25519 key, so every input replays the same way.
constexpr std::string_view kKeyPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIEoSuGERUcDTY/8LxAea/dndM6a9OYqVMLgtF1eQBnuq\n"
    "-----END PRIVATE KEY-----\n";
constexpr std::string_view kKeyName = "graft.local/fuzz";

const graft::PrivateKey& Key() {
  static const graft::PrivateKey key = [] {
    auto parsed = graft::PrivateKey::FromPem(kKeyPem, "fuzz key");
    if (!parsed.ok()) std::abort();
    return std::move(parsed).value();
  }();
  return key;
}

// "— <name> <base64(key hash ‖ signature)>\n" over `body`, as Checkpoint::Sign writes it.
std::string SignatureLine(std::string_view body) {
  auto hash = graft::registry::NoteKeyHash(kKeyName, Key().public_key());
  auto signature = Key().Sign(body);
  if (!hash.ok() || !signature.ok()) std::abort();
  return "\xE2\x80\x94 " + std::string(kKeyName) + " " + graft::Base64Encode(*hash + *signature) +
         "\n";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const bool sign_body = (data[0] & 1) == 0;
  std::string note =
      sign_body ? std::string(input) + "\n" + SignatureLine(input) : std::string(input);
  auto checkpoint = graft::registry::Checkpoint::ParseAndVerify(note, kKeyName, Key().public_key());
  if (sign_body && !checkpoint.ok() &&
      checkpoint.status().kind() == graft::ErrorKind::kVerification &&
      input.find("\n\n") == std::string_view::npos && input.ends_with("\n")) {
    std::abort();  // a well-formed body signed by the key must verify
  }
  if (!checkpoint.ok()) return 0;
  // What verified must sign and verify again with the same origin, size and root.
  auto resigned = checkpoint->Sign(kKeyName, Key());
  if (!resigned.ok()) std::abort();
  auto again = graft::registry::Checkpoint::ParseAndVerify(*resigned, kKeyName, Key().public_key());
  if (!again.ok() || again->origin != checkpoint->origin || again->size != checkpoint->size ||
      again->root != checkpoint->root) {
    std::abort();
  }
  return 0;
}
