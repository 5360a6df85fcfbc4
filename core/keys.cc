#include "core/keys.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/file_util.h"
#include "core/sha256.h"

namespace graft {
namespace fs = std::filesystem;

void EvpPkeyDeleter::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }

namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

// PEM inputs larger than this are not keys.
constexpr size_t kMaxPemBytes = 64 * 1024;

// The most recent OpenSSL error, and clears the queue.
std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buffer[256];
  ERR_error_string_n(code, buffer, sizeof(buffer));
  return buffer;
}

BioPtr MemoryBio(std::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return size > 0 ? std::string(data, static_cast<size_t>(size)) : std::string();
}

// Which of graft's algorithms `key` is, or an error naming what it is instead.
Result<KeyAlgorithm> AlgorithmOf(EVP_PKEY* key, std::string_view source) {
  int id = EVP_PKEY_get_base_id(key);
  if (id == EVP_PKEY_ED25519) return KeyAlgorithm::kEd25519;
  if (id == EVP_PKEY_EC) {
    char group[64] = {};
    size_t length = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &length) != 1) {
      return InvalidInput(std::string(source) + ": EC key without a named curve");
    }
    std::string_view name(group, length);
    if (name == "prime256v1" || name == "P-256") return KeyAlgorithm::kEcdsaP256;
    if (name == "secp384r1" || name == "P-384") return KeyAlgorithm::kEcdsaP384;
    return InvalidInput(std::string(source) + ": unsupported EC curve " + std::string(name) +
                        " (use P-256 or P-384)");
  }
  const char* type = EVP_PKEY_get0_type_name(key);
  return InvalidInput(std::string(source) + ": unsupported key type " + (type ? type : "unknown") +
                      " (use Ed25519, ECDSA P-256 or P-384)");
}

// The digest ECDSA uses with this key (none for Ed25519, which hashes internally).
const EVP_MD* DigestFor(KeyAlgorithm algorithm) {
  switch (algorithm) {
    case KeyAlgorithm::kEcdsaP256:
      return EVP_sha256();
    case KeyAlgorithm::kEcdsaP384:
      return EVP_sha384();
    case KeyAlgorithm::kEd25519:
      return nullptr;
  }
  return nullptr;
}

Result<std::string> SpkiDer(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int length = i2d_PUBKEY(key, &der);
  if (length <= 0) return InternalError("cannot encode a public key: " + OpenSslError());
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  return out;
}

}  // namespace

std::string_view KeyAlgorithmName(KeyAlgorithm algorithm) {
  switch (algorithm) {
    case KeyAlgorithm::kEd25519:
      return "ed25519";
    case KeyAlgorithm::kEcdsaP256:
      return "ecdsa-p256";
    case KeyAlgorithm::kEcdsaP384:
      return "ecdsa-p384";
  }
  return "unknown";
}

Result<KeyAlgorithm> ParseKeyAlgorithm(std::string_view name) {
  for (KeyAlgorithm a :
       {KeyAlgorithm::kEd25519, KeyAlgorithm::kEcdsaP256, KeyAlgorithm::kEcdsaP384}) {
    if (name == KeyAlgorithmName(a)) return a;
  }
  return InvalidInput("unknown key algorithm \"" + std::string(name) +
                      "\" (use ed25519, ecdsa-p256 or ecdsa-p384)");
}

std::string_view SigstoreKeyDetails(KeyAlgorithm algorithm) {
  switch (algorithm) {
    case KeyAlgorithm::kEd25519:
      return "PKIX_ED25519";
    case KeyAlgorithm::kEcdsaP256:
      return "PKIX_ECDSA_P256_SHA_256";
    case KeyAlgorithm::kEcdsaP384:
      return "PKIX_ECDSA_P384_SHA_384";
  }
  return "";
}

// ---- PublicKey ----

PublicKey::PublicKey(EvpPkeyPtr key, KeyAlgorithm algorithm, std::string der)
    : key_(std::move(key)), algorithm_(algorithm), der_(std::move(der)) {
  key_id_ = Sha256Hex(der_);
}

Result<PublicKey> PublicKey::FromPem(std::string_view pem, std::string_view source) {
  if (pem.size() > kMaxPemBytes) return InvalidInput(std::string(source) + ": PEM too large");
  BioPtr bio = MemoryBio(pem);
  if (!bio) return InternalError("cannot allocate a BIO");
  EvpPkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    return InvalidInput(std::string(source) +
                        ": not a PEM public key (SubjectPublicKeyInfo): " + OpenSslError());
  }
  GRAFT_ASSIGN_OR_RETURN(KeyAlgorithm algorithm, AlgorithmOf(key.get(), source));
  GRAFT_ASSIGN_OR_RETURN(std::string der, SpkiDer(key.get()));
  return PublicKey(std::move(key), algorithm, std::move(der));
}

Result<PublicKey> PublicKey::FromDer(std::string_view der, std::string_view source) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  if (der.size() > kMaxPemBytes) return InvalidInput(std::string(source) + ": DER too large");
  EvpPkeyPtr key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!key || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    ERR_clear_error();
    return InvalidInput(std::string(source) + ": not a DER SubjectPublicKeyInfo");
  }
  GRAFT_ASSIGN_OR_RETURN(KeyAlgorithm algorithm, AlgorithmOf(key.get(), source));
  GRAFT_ASSIGN_OR_RETURN(std::string canonical, SpkiDer(key.get()));
  return PublicKey(std::move(key), algorithm, std::move(canonical));
}

Result<PublicKey> PublicKey::LoadPem(const fs::path& path) {
  GRAFT_ASSIGN_OR_RETURN(std::string text, ReadFile(path, kMaxPemBytes));
  return FromPem(text, path.string());
}

std::string PublicKey::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) return "";
  return BioContents(bio.get());
}

bool PublicKey::Verify(std::string_view message, std::string_view signature) const {
  if (signature.empty() || signature.size() > 1024) return false;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return false;
  bool ok =
      EVP_DigestVerifyInit(ctx.get(), nullptr, DigestFor(algorithm_), nullptr, key_.get()) == 1 &&
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) == 1;
  ERR_clear_error();
  return ok;
}

// ---- PrivateKey ----

PrivateKey::PrivateKey(EvpPkeyPtr key, KeyAlgorithm algorithm, PublicKey public_key)
    : key_(std::move(key)), algorithm_(algorithm), public_key_(std::move(public_key)) {}

namespace {

// The public half of a private key, as its own EVP_PKEY (so it never carries the secret).
Result<PublicKey> PublicHalf(EVP_PKEY* key, std::string_view source) {
  GRAFT_ASSIGN_OR_RETURN(std::string der, SpkiDer(key));
  return PublicKey::FromDer(der, source);
}

}  // namespace

Result<PrivateKey> PrivateKey::Generate(KeyAlgorithm algorithm) {
  EVP_PKEY* raw = nullptr;
  switch (algorithm) {
    case KeyAlgorithm::kEd25519:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
    case KeyAlgorithm::kEcdsaP256:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case KeyAlgorithm::kEcdsaP384:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
      break;
  }
  EvpPkeyPtr key(raw);
  if (!key) return InternalError("key generation failed: " + OpenSslError());
  GRAFT_ASSIGN_OR_RETURN(PublicKey pub, PublicHalf(key.get(), "generated key"));
  return PrivateKey(std::move(key), algorithm, std::move(pub));
}

Result<PrivateKey> PrivateKey::FromPem(std::string_view pem, std::string_view source) {
  if (pem.size() > kMaxPemBytes) return InvalidInput(std::string(source) + ": PEM too large");
  BioPtr bio = MemoryBio(pem);
  if (!bio) return InternalError("cannot allocate a BIO");
  // A null passphrase callback that fails: encrypted keys are refused, never prompted for.
  auto no_passphrase = [](char*, int, int, void*) -> int { return -1; };
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key) {
    return InvalidInput(std::string(source) +
                        ": not an unencrypted PEM private key: " + OpenSslError());
  }
  GRAFT_ASSIGN_OR_RETURN(KeyAlgorithm algorithm, AlgorithmOf(key.get(), source));
  GRAFT_ASSIGN_OR_RETURN(PublicKey pub, PublicHalf(key.get(), source));
  return PrivateKey(std::move(key), algorithm, std::move(pub));
}

Result<PrivateKey> PrivateKey::LoadPem(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return NotFound("no such key file: " + path.string());
    return IoError("cannot stat " + path.string() + ": " + std::strerror(errno));
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return InvalidInput("private key " + path.string() +
                        " is accessible by group or others (mode " + mode + "); run: chmod 600 " +
                        path.string());
  }
  GRAFT_ASSIGN_OR_RETURN(std::string text, ReadFile(path, kMaxPemBytes));
  return FromPem(text, path.string());
}

std::string PrivateKey::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PKCS8PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr,
                                            nullptr) != 1) {
    return "";
  }
  return BioContents(bio.get());
}

Status PrivateKey::Save(const fs::path& path) const {
  std::string pem = ToPem();
  if (pem.empty()) return InternalError("cannot encode the private key: " + OpenSslError());
  GRAFT_RETURN_IF_ERROR(WriteFileAtomic(path, pem, fs::perms::owner_read | fs::perms::owner_write));
  fs::path pub = path;
  pub += ".pub";
  return WriteFileAtomic(pub, public_key_.ToPem());
}

Result<std::string> PrivateKey::Sign(std::string_view message) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return InternalError("cannot allocate a digest context");
  if (EVP_DigestSignInit(ctx.get(), nullptr, DigestFor(algorithm_), nullptr, key_.get()) != 1) {
    return InternalError("cannot start signing: " + OpenSslError());
  }
  const auto* data = reinterpret_cast<const unsigned char*>(message.data());
  size_t length = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &length, data, message.size()) != 1) {
    return InternalError("cannot size the signature: " + OpenSslError());
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, data,
                     message.size()) != 1) {
    return InternalError("signing failed: " + OpenSslError());
  }
  signature.resize(length);
  return signature;
}

}  // namespace graft
