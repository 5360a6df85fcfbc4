#include "core/keys.h"

#include <gtest/gtest.h>

#include "core/file_util.h"

namespace graft {
namespace {

namespace fs = std::filesystem;

// Fixed keys made with `openssl genpkey`; their ids come from
// `openssl pkey -pubin -in KEY.pub -outform DER | sha256sum`.
constexpr std::string_view kEd25519Private =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIAdzUnEgLxf2wj0G7Lof2CaKZBEmRT3apJbrF4zpDMuh\n"
    "-----END PRIVATE KEY-----\n";
constexpr std::string_view kEd25519Public =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAaoNNx4d1L70zex8dzDptNpgyt8Mh4ouNrOvQUzSBE8Q=\n"
    "-----END PUBLIC KEY-----\n";
constexpr std::string_view kEd25519KeyId =
    "97328a96a8c89c6ab8c0581daa5c945b0d12ad669cba8d25fd8a76772a29f35c";
constexpr std::string_view kP256Private =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgVWfnztd5XLItXDh2\n"
    "z4mUoB7RH7CCzTB8WdyL/RkufimhRANCAATfw4eYHTdS6cmlPEt9PD06DhBKM3+M\n"
    "yH+qxLwKWn3LajBG+V20zmoki1zEf79c+LLKJ3Bb70Lw7wEH3yF19Rbk\n"
    "-----END PRIVATE KEY-----\n";
constexpr std::string_view kP256KeyId =
    "9bb1b333f1a33964f262e1ecd04367031ddb429c0544df65ca4fcc8330b77299";

class KeysPerAlgorithm : public ::testing::TestWithParam<KeyAlgorithm> {};

TEST_P(KeysPerAlgorithm, SignVerifyRoundTrip) {
  auto key = PrivateKey::Generate(GetParam());
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->algorithm(), GetParam());
  EXPECT_EQ(key->public_key().algorithm(), GetParam());
  auto sig = key->Sign("message");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(key->public_key().Verify("message", *sig));
  EXPECT_FALSE(key->public_key().Verify("messagf", *sig));
  std::string tampered = *sig;
  tampered[tampered.size() / 2] ^= 1;
  EXPECT_FALSE(key->public_key().Verify("message", tampered));
  EXPECT_FALSE(key->public_key().Verify("message", ""));

  auto other = PrivateKey::Generate(GetParam());
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->key_id(), key->key_id());
  EXPECT_FALSE(other->public_key().Verify("message", *sig));
}

TEST_P(KeysPerAlgorithm, PemRoundTripKeepsTheKeyId) {
  auto key = PrivateKey::Generate(GetParam());
  ASSERT_TRUE(key.ok());
  std::string pem = key->ToPem();
  EXPECT_TRUE(pem.starts_with("-----BEGIN PRIVATE KEY-----\n")) << pem;
  auto reloaded = PrivateKey::FromPem(pem);
  ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
  EXPECT_EQ(reloaded->key_id(), key->key_id());
  std::string pub_pem = key->public_key().ToPem();
  EXPECT_TRUE(pub_pem.starts_with("-----BEGIN PUBLIC KEY-----\n")) << pub_pem;
  auto pub = PublicKey::FromPem(pub_pem);
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(pub->key_id(), key->key_id());
  auto from_der = PublicKey::FromDer(pub->der());
  ASSERT_TRUE(from_der.ok());
  EXPECT_EQ(from_der->key_id(), key->key_id());
  auto sig = reloaded->Sign("x");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(pub->Verify("x", *sig));
}

INSTANTIATE_TEST_SUITE_P(All, KeysPerAlgorithm,
                         ::testing::Values(KeyAlgorithm::kEd25519, KeyAlgorithm::kEcdsaP256,
                                           KeyAlgorithm::kEcdsaP384),
                         [](const auto& info) {
                           std::string name(KeyAlgorithmName(info.param));
                           name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
                           return name;
                         });

TEST(Keys, KeyIdIsSha256OfDerSubjectPublicKeyInfo) {
  auto ed = PrivateKey::FromPem(kEd25519Private);
  ASSERT_TRUE(ed.ok()) << ed.status().ToString();
  EXPECT_EQ(ed->algorithm(), KeyAlgorithm::kEd25519);
  EXPECT_EQ(ed->key_id(), kEd25519KeyId);
  EXPECT_EQ(ed->public_key().ToPem(), kEd25519Public);
  auto ed_pub = PublicKey::FromPem(kEd25519Public);
  ASSERT_TRUE(ed_pub.ok());
  EXPECT_EQ(ed_pub->key_id(), kEd25519KeyId);
  EXPECT_EQ(ed_pub->der().size(), 44u);

  auto p256 = PrivateKey::FromPem(kP256Private);
  ASSERT_TRUE(p256.ok());
  EXPECT_EQ(p256->algorithm(), KeyAlgorithm::kEcdsaP256);
  EXPECT_EQ(p256->key_id(), kP256KeyId);
}

TEST(Keys, Ed25519SignaturesAreRawAndDeterministic) {
  auto key = PrivateKey::FromPem(kEd25519Private);
  ASSERT_TRUE(key.ok());
  auto a = key->Sign("hello");
  auto b = key->Sign("hello");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->size(), 64u);
  EXPECT_EQ(*a, *b);
}

TEST(Keys, EcdsaSignaturesAreDer) {
  auto key = PrivateKey::FromPem(kP256Private);
  ASSERT_TRUE(key.ok());
  auto sig = key->Sign("hello");
  ASSERT_TRUE(sig.ok());
  ASSERT_GE(sig->size(), 8u);
  EXPECT_EQ(static_cast<uint8_t>((*sig)[0]), 0x30);  // DER SEQUENCE
  EXPECT_EQ(static_cast<size_t>(static_cast<uint8_t>((*sig)[1])) + 2, sig->size());
}

TEST(Keys, AlgorithmNamesRoundTrip) {
  for (KeyAlgorithm a :
       {KeyAlgorithm::kEd25519, KeyAlgorithm::kEcdsaP256, KeyAlgorithm::kEcdsaP384}) {
    auto parsed = ParseKeyAlgorithm(KeyAlgorithmName(a));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, a);
  }
  EXPECT_EQ(SigstoreKeyDetails(KeyAlgorithm::kEcdsaP384), "PKIX_ECDSA_P384_SHA_384");
  auto bad = ParseKeyAlgorithm("rsa");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().kind(), ErrorKind::kInvalidInput);
}

TEST(Keys, RejectsPemGarbage) {
  for (std::string_view garbage :
       {std::string_view(""), std::string_view("not a key"),
        std::string_view("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
        std::string_view("-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n")}) {
    auto pub = PublicKey::FromPem(garbage, "k.pem");
    ASSERT_FALSE(pub.ok()) << garbage;
    EXPECT_EQ(pub.status().kind(), ErrorKind::kInvalidInput);
    EXPECT_NE(pub.status().message().find("k.pem"), std::string::npos);
    EXPECT_FALSE(PrivateKey::FromPem(garbage).ok()) << garbage;
  }
  // A public key is not a private key and vice versa.
  EXPECT_FALSE(PrivateKey::FromPem(kEd25519Public).ok());
  EXPECT_FALSE(PublicKey::FromDer("\x30\x03\x02\x01\x01").ok());
  auto der = PublicKey::FromPem(kEd25519Public)->der();
  EXPECT_FALSE(PublicKey::FromDer(der + "x").ok());  // trailing bytes
}

TEST(Keys, RejectsUnsupportedAlgorithms) {
  constexpr std::string_view kEd448 =
      "-----BEGIN PUBLIC KEY-----\n"
      "MEMwBQYDK2VxAzoA4GzLK2llnQDVe9ulc8sKXpdloPAT6Qyc784LuFxnkmknsz6t\n"
      "3DcM/6KMw7/BiygPZQJ0tU1N5PcA\n"
      "-----END PUBLIC KEY-----\n";
  constexpr std::string_view kSecp256k1 =
      "-----BEGIN PUBLIC KEY-----\n"
      "MFYwEAYHKoZIzj0CAQYFK4EEAAoDQgAEd2oWgEi1W6KYQYYbCfCINC5rO+ofl3cL\n"
      "k2jhecq5zvtluQZ1jI4gkyghZb6fkocJf1ifj61OIuWYGtiHVuaf4g==\n"
      "-----END PUBLIC KEY-----\n";
  auto ed448 = PublicKey::FromPem(kEd448);
  ASSERT_FALSE(ed448.ok());
  EXPECT_NE(ed448.status().message().find("unsupported key type ED448"), std::string::npos)
      << ed448.status().message();
  auto k1 = PublicKey::FromPem(kSecp256k1);
  ASSERT_FALSE(k1.ok());
  EXPECT_NE(k1.status().message().find("unsupported EC curve secp256k1"), std::string::npos)
      << k1.status().message();
}

TEST(Keys, SaveWritesPrivateKey0600AndPublicKey) {
  TempDir dir;
  auto key = PrivateKey::Generate(KeyAlgorithm::kEcdsaP256);
  ASSERT_TRUE(key.ok());
  fs::path path = dir.path() / "signing.pem";
  ASSERT_TRUE(key->Save(path).ok());
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  auto loaded = PrivateKey::LoadPem(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->key_id(), key->key_id());
  auto pub = PublicKey::LoadPem(dir.path() / "signing.pem.pub");
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(pub->key_id(), key->key_id());
}

TEST(Keys, LoadPemRefusesGroupOrWorldReadablePrivateKeys) {
  TempDir dir;
  fs::path path = dir.path() / "key.pem";
  ASSERT_TRUE(WriteFileAtomic(path, kEd25519Private, fs::perms(0640)).ok());
  auto loaded = PrivateKey::LoadPem(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(loaded.status().message().find("0640"), std::string::npos);
  fs::permissions(path, fs::perms(0604));
  EXPECT_FALSE(PrivateKey::LoadPem(path).ok());
  fs::permissions(path, fs::perms(0600));
  EXPECT_TRUE(PrivateKey::LoadPem(path).ok());
  EXPECT_EQ(PrivateKey::LoadPem(dir.path() / "missing.pem").status().kind(), ErrorKind::kNotFound);
}

TEST(Keys, LoadsThePemOfTheOmsInteropKeyDespiteItsTextPreamble) {
  // The shared key file starts with certtool's description; PEM parsing skips it.
  constexpr std::string_view kPem =
      "Public Key Information:\n\tPublic Key Algorithm: EC/ECDSA\n\n"
      "-----BEGIN PUBLIC KEY-----\n"
      "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEsu6rZGBTjxtvRWPMixT+3HyndV0J0Ybt\n"
      "aHZUcO4DEK+OJHO/4e32bb/fbJKSpRgcBsIpKLcVijUomyFOERbd7u+BTPSUjGZD\n"
      "Qq6J7lTvp/EAXQGOKxW9RP0MGX3qAkvi\n"
      "-----END PUBLIC KEY-----\n";
  auto key = PublicKey::FromPem(kPem);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->algorithm(), KeyAlgorithm::kEcdsaP384);
  EXPECT_EQ(key->key_id(), "c1e49d63327f85c7e2971aefd30b5a0d1c6b9b5e1a892e7f5fba995adace816d");
}

}  // namespace
}  // namespace graft
