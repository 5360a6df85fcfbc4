// Signing keys (Ed25519, ECDSA P-256, ECDSA P-384): generate, PEM load/save, sign, verify, key ids.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace graft {

enum class KeyAlgorithm { kEd25519, kEcdsaP256, kEcdsaP384 };

// "ed25519", "ecdsa-p256", "ecdsa-p384".
std::string_view KeyAlgorithmName(KeyAlgorithm algorithm);
Result<KeyAlgorithm> ParseKeyAlgorithm(std::string_view name);
// Sigstore keyDetails: "PKIX_ED25519", "PKIX_ECDSA_P256_SHA_256", "PKIX_ECDSA_P384_SHA_384".
std::string_view SigstoreKeyDetails(KeyAlgorithm algorithm);

// Owns an EVP_PKEY (RAII).
struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* key) const;
};
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;

class PublicKey {
 public:
  static Result<PublicKey> FromPem(std::string_view pem, std::string_view source = "public key");
  // DER SubjectPublicKeyInfo (as key ids hash it); trailing bytes are refused.
  static Result<PublicKey> FromDer(std::string_view der, std::string_view source = "public key");
  static Result<PublicKey> LoadPem(const std::filesystem::path& path);

  KeyAlgorithm algorithm() const { return algorithm_; }
  // Hex SHA-256 of the DER SubjectPublicKeyInfo.
  const std::string& key_id() const { return key_id_; }
  const std::string& der() const { return der_; }
  std::string ToPem() const;

  // Verifies a signature over `message`: raw 64-byte Ed25519, or DER ECDSA with SHA-256 (P-256)
  // or SHA-384 (P-384), as OMS and Sigstore use them.
  bool Verify(std::string_view message, std::string_view signature) const;

 private:
  PublicKey(EvpPkeyPtr key, KeyAlgorithm algorithm, std::string der);
  std::shared_ptr<EVP_PKEY> key_;
  KeyAlgorithm algorithm_;
  std::string der_;
  std::string key_id_;
};

class PrivateKey {
 public:
  static Result<PrivateKey> Generate(KeyAlgorithm algorithm);
  static Result<PrivateKey> FromPem(std::string_view pem, std::string_view source = "private key");
  // Refuses files readable by group or others (like ssh does).
  static Result<PrivateKey> LoadPem(const std::filesystem::path& path);

  KeyAlgorithm algorithm() const { return algorithm_; }
  const PublicKey& public_key() const { return public_key_; }
  const std::string& key_id() const { return public_key_.key_id(); }
  std::string ToPem() const;  // PKCS#8, unencrypted

  // Writes `path` (mode 0600) and `path.pub`, atomically.
  Status Save(const std::filesystem::path& path) const;

  Result<std::string> Sign(std::string_view message) const;

 private:
  PrivateKey(EvpPkeyPtr key, KeyAlgorithm algorithm, PublicKey public_key);
  std::shared_ptr<EVP_PKEY> key_;
  KeyAlgorithm algorithm_;
  PublicKey public_key_;
};

}  // namespace graft
