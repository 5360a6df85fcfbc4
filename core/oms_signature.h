// OpenSSF Model Signing v1.0 signatures (model.sig): Sigstore bundle v0.3 + DSSE + in-toto.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/dsse.h"
#include "core/json.h"
#include "core/keys.h"
#include "core/manifest.h"
#include "core/status.h"

namespace graft {

inline constexpr std::string_view kOmsPredicateType = "https://model_signing/signature/v1.0";
inline constexpr std::string_view kSigstoreBundleMediaType =
    "application/vnd.dev.sigstore.bundle.v0.3+json";

// The parts of a Sigstore bundle v0.3 that model.sig uses: the key it names and its envelope.
struct OmsBundle {
  DsseEnvelope envelope;
  std::string key_hint;                   // publicKey.hint: hex SHA-256 of the PEM public key
  std::optional<PublicKey> embedded_key;  // publicKey.rawBytes (PEM or DER) with keyDetails

  // {"mediaType", "verificationMaterial": {"publicKey": {...}, "tlogEntries": []},
  //  "dsseEnvelope"}
  Json ToJson() const;
  // Validates the media type, the verification material and the envelope; refuses
  // certificate-based bundles (graft verifies against public keys only).
  static Result<OmsBundle> Parse(std::string_view text, std::string_view source);
};

// publicKey.hint as the OpenSSF tool computes it: hex SHA-256 of the PEM public key text.
std::string OmsKeyHint(const PublicKey& key);

struct OmsSignOptions {
  std::vector<std::string> ignore_paths;  // the signature file itself is always ignored
  bool allow_symlinks = false;
  std::string subject_name;  // defaults to the directory's name
  // Writes publicKey.rawBytes + keyDetails instead of publicKey.hint (what OMS v1.0 wrote).
  bool embed_public_key = false;
};

// Hashes `dir` and writes the signature to `signature_path` (usually DIR/model.sig).
Result<Manifest> OmsSign(const std::filesystem::path& dir,
                         const std::filesystem::path& signature_path, const PrivateKey& key,
                         const OmsSignOptions& options = {});

// The resource name of a single-file signature: the signed model is one file, hashed as is, and
// the signature's only resource is named "." (the subject digest is SHA-256 of its digest).
inline constexpr std::string_view kOmsSingleFileResource = ".";

// What a model.sig envelope signs: the subject's root digest and the per-file resources.
struct OmsSignedContent {
  Digest subject{};
  Manifest manifest;  // in the order the signature lists the resources
  std::vector<std::string> ignore_paths;
  bool allow_symlinks = false;
};

// Reads the envelope's in-toto statement (it does not verify the signature: see OmsVerify) and
// checks that the resources hash to the subject digest.
Result<OmsSignedContent> ParseOmsEnvelope(const DsseEnvelope& envelope, std::string_view source);

struct OmsVerification {
  Manifest manifest;                      // as recomputed from the directory
  std::string key_id;                     // the key that verified
  std::vector<std::string> ignore_paths;  // as the signature declared them
};

// Verifies the bundle's DSSE signature with one of `trusted_keys` (when the bundle names its key
// by publicKey.hint or publicKey.rawBytes, only a trusted key that matches it is tried), then
// recomputes the manifest of `dir` (a regular file for a single-file signature, whose one
// resource is "."; ignore paths do not apply to it), honouring the signature's ignore_paths plus
// `extra_ignore_paths`, and fails with kVerification naming every changed, missing or extra file.
Result<OmsVerification> OmsVerify(const std::filesystem::path& dir,
                                  const std::filesystem::path& signature_path,
                                  const std::vector<PublicKey>& trusted_keys,
                                  const std::vector<std::string>& extra_ignore_paths = {});

}  // namespace graft
