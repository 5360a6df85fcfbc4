#include "core/oms_signature.h"

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/file_util.h"
#include "core/intoto.h"
#include "tests/unit/core/tree_helpers.h"

namespace graft {
namespace {

namespace fs = std::filesystem;
using testing::PutFile;

class OmsSignature : public ::testing::TestWithParam<KeyAlgorithm> {
 protected:
  void SetUp() override {
    model_ = dir_.path() / "my-model";
    PutFile(model_, "config.json", "{}");
    PutFile(model_, "weights/model.safetensors", std::string(1000, '\1'));
    PutFile(model_, "provenance.intoto.jsonl", "{}");
    auto key = PrivateKey::Generate(GetParam());
    ASSERT_TRUE(key.ok());
    key_.emplace(std::move(key).value());
    sig_ = model_ / "model.sig";
  }

  Result<OmsVerification> Verify(const std::vector<std::string>& extra = {}) {
    return OmsVerify(model_, sig_, {key_->public_key()}, extra);
  }

  OmsBundle ReadBundle() {
    auto text = ReadFile(sig_);
    EXPECT_TRUE(text.ok());
    auto bundle = OmsBundle::Parse(*text, "model.sig");
    EXPECT_TRUE(bundle.ok()) << bundle.status().ToString();
    return *bundle;
  }

  TempDir dir_;
  fs::path model_;
  fs::path sig_;
  std::optional<PrivateKey> key_;
};

TEST_P(OmsSignature, SignThenVerify) {
  OmsSignOptions options;
  options.ignore_paths = {"provenance.intoto.jsonl"};
  auto signed_manifest = OmsSign(model_, sig_, *key_, options);
  ASSERT_TRUE(signed_manifest.ok()) << signed_manifest.status().ToString();
  EXPECT_EQ(signed_manifest->entries.size(), 2u);
  auto verified = Verify();
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->key_id, key_->key_id());
  EXPECT_EQ(verified->manifest.RootDigestHex(), signed_manifest->RootDigestHex());
  EXPECT_EQ(verified->ignore_paths,
            (std::vector<std::string>{"provenance.intoto.jsonl", "model.sig"}));
  // The provenance file may change: it is outside the signed identity.
  PutFile(model_, "provenance.intoto.jsonl", "{\"more\":1}");
  EXPECT_TRUE(Verify().ok());
}

TEST_P(OmsSignature, WritesTheOmsBundleLayout) {
  ASSERT_TRUE(OmsSign(model_, sig_, *key_).ok());
  auto text = ReadFile(sig_);
  ASSERT_TRUE(text.ok());
  auto json = ParseJson(*text, "model.sig");
  ASSERT_TRUE(json.ok());
  EXPECT_EQ((*json)["mediaType"], kSigstoreBundleMediaType);
  EXPECT_EQ((*json)["verificationMaterial"]["publicKey"]["hint"],
            Sha256Hex(key_->public_key().ToPem()));
  EXPECT_EQ((*json)["verificationMaterial"]["tlogEntries"], Json::array());
  OmsBundle bundle = ReadBundle();
  EXPECT_EQ(bundle.envelope.payload_type, kInTotoPayloadType);
  auto statement = InTotoStatement::Parse(bundle.envelope.payload, "payload");
  ASSERT_TRUE(statement.ok());
  EXPECT_EQ(statement->predicate_type, kOmsPredicateType);
  ASSERT_EQ(statement->subjects.size(), 1u);
  EXPECT_EQ(statement->subjects[0].name, "my-model");
  const Json& p = statement->predicate;
  EXPECT_EQ(p["serialization"]["method"], "files");
  EXPECT_EQ(p["serialization"]["hash_type"], "sha256");
  EXPECT_EQ(p["serialization"]["allow_symlinks"], false);
  EXPECT_EQ(p["serialization"]["ignore_paths"], Json::array({"model.sig"}));
  ASSERT_EQ(p["resources"].size(), 3u);
  EXPECT_EQ(p["resources"][0],
            Json({{"algorithm", "sha256"}, {"digest", Sha256Hex("{}")}, {"name", "config.json"}}));
  EXPECT_EQ(p["resources"][2]["name"], "weights/model.safetensors");
}

TEST_P(OmsSignature, EmbeddedPublicKeyVerifiesToo) {
  OmsSignOptions options;
  options.embed_public_key = true;
  ASSERT_TRUE(OmsSign(model_, sig_, *key_, options).ok());
  OmsBundle bundle = ReadBundle();
  ASSERT_TRUE(bundle.embedded_key.has_value());
  EXPECT_EQ(bundle.embedded_key->key_id(), key_->key_id());
  EXPECT_TRUE(bundle.key_hint.empty());
  auto json = bundle.ToJson();
  EXPECT_EQ(json["verificationMaterial"]["publicKey"]["keyDetails"],
            SigstoreKeyDetails(GetParam()));
  EXPECT_EQ(*Base64Decode(json["verificationMaterial"]["publicKey"]["rawBytes"].get<std::string>()),
            key_->public_key().ToPem());
  EXPECT_TRUE(Verify().ok());
}

TEST_P(OmsSignature, NamesEveryChangedMissingAndExtraFile) {
  ASSERT_TRUE(OmsSign(model_, sig_, *key_).ok());
  PutFile(model_, "config.json", "{ }");
  fs::remove(model_ / "provenance.intoto.jsonl");
  PutFile(model_, "extra.bin", "x");
  auto verified = Verify();
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.status().kind(), ErrorKind::kVerification);
  const std::string m = verified.status().message();
  EXPECT_NE(m.find("changed: config.json"), std::string::npos) << m;
  EXPECT_NE(m.find("missing: provenance.intoto.jsonl"), std::string::npos) << m;
  EXPECT_NE(m.find("extra: extra.bin"), std::string::npos) << m;
  // Extra ignore paths leave files out of the directory's side only: the signed ones must match.
  auto ignoring_extra = Verify({"extra.bin"});
  ASSERT_FALSE(ignoring_extra.ok());
  EXPECT_EQ(ignoring_extra.status().message().find("extra.bin"), std::string::npos);
  EXPECT_NE(ignoring_extra.status().message().find("changed: config.json"), std::string::npos);
}

TEST_P(OmsSignature, RejectsTheWrongKey) {
  ASSERT_TRUE(OmsSign(model_, sig_, *key_).ok());
  auto other = PrivateKey::Generate(GetParam());
  ASSERT_TRUE(other.ok());
  auto verified = OmsVerify(model_, sig_, {other->public_key()});
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.status().kind(), ErrorKind::kVerification);
  EXPECT_NE(verified.status().message().find("not trusted"), std::string::npos);
  // With the hint removed, the wrong key is tried and its signature check fails.
  OmsBundle bundle = ReadBundle();
  bundle.key_hint.clear();
  ASSERT_TRUE(WriteFileAtomic(sig_, bundle.ToJson().dump()).ok());
  auto unhinted = OmsVerify(model_, sig_, {other->public_key()});
  ASSERT_FALSE(unhinted.ok());
  EXPECT_EQ(unhinted.status().kind(), ErrorKind::kVerification);
  EXPECT_TRUE(Verify().ok());
}

INSTANTIATE_TEST_SUITE_P(All, OmsSignature,
                         ::testing::Values(KeyAlgorithm::kEd25519, KeyAlgorithm::kEcdsaP256,
                                           KeyAlgorithm::kEcdsaP384),
                         [](const auto& info) {
                           std::string name(KeyAlgorithmName(info.param));
                           name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
                           return name;
                         });

// Re-signs a statement edited by `edit`, so only the content checks can catch it.
class OmsTampering : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = dir_.path() / "m";
    PutFile(model_, "a", "1");
    PutFile(model_, "b", "2");
    sig_ = model_ / "model.sig";
    ASSERT_TRUE(OmsSign(model_, sig_, key_).ok());
  }

  void Resign(const std::function<void(Json&)>& edit) {
    auto bundle = OmsBundle::Parse(*ReadFile(sig_), "model.sig");
    ASSERT_TRUE(bundle.ok());
    Json statement = *ParseJson(bundle->envelope.payload, "payload");
    edit(statement);
    auto envelope = DsseSign(kInTotoPayloadType, statement.dump(), {&key_});
    ASSERT_TRUE(envelope.ok());
    bundle->envelope = *envelope;
    ASSERT_TRUE(WriteFileAtomic(sig_, bundle->ToJson().dump()).ok());
  }

  Status Verify() { return OmsVerify(model_, sig_, {key_.public_key()}).status(); }

  TempDir dir_;
  fs::path model_, sig_;
  PrivateKey key_ = *PrivateKey::Generate(KeyAlgorithm::kEcdsaP256);
};

TEST_F(OmsTampering, SubjectDigestMustMatchTheResources) {
  Resign([](Json& s) { s["subject"][0]["digest"]["sha256"] = std::string(64, '0'); });
  Status status = Verify();
  EXPECT_EQ(status.kind(), ErrorKind::kVerification);
  EXPECT_NE(status.message().find("subject digest"), std::string::npos) << status.message();
}

TEST_F(OmsTampering, ResourceOrderMustGiveTheSubjectDigest) {
  // Reordered resources with a subject recomputed over the new order: the signature is
  // self-consistent, but the directory's root digest differs.
  Resign([](Json& s) {
    Json& r = s["predicate"]["resources"];
    std::swap(r[0], r[1]);
    Sha256 h;
    for (const Json& e : r)
      h.Update(std::span<const uint8_t>(*ParseDigestHex(e["digest"].get<std::string>())));
    s["subject"][0]["digest"]["sha256"] = DigestHex(h.Finish());
  });
  Status status = Verify();
  EXPECT_EQ(status.kind(), ErrorKind::kVerification);
  EXPECT_NE(status.message().find("root digest"), std::string::npos) << status.message();
}

TEST_F(OmsTampering, RejectsMalformedPredicates) {
  std::vector<std::pair<std::string, std::function<void(Json&)>>> cases = {
      {"predicateType", [](Json& s) { s["predicateType"] = "https://example.com/other"; }},
      {"two subjects", [](Json& s) { s["subject"].push_back(s["subject"][0]); }},
      {"method", [](Json& s) { s["predicate"]["serialization"]["method"] = "shards"; }},
      {"hash_type", [](Json& s) { s["predicate"]["serialization"]["hash_type"] = "blake3"; }},
      {"allow_symlinks", [](Json& s) { s["predicate"]["serialization"]["allow_symlinks"] = "no"; }},
      {"ignore_paths", [](Json& s) { s["predicate"]["serialization"]["ignore_paths"] = {"../x"}; }},
      {"resources", [](Json& s) { s["predicate"]["resources"] = Json::object(); }},
      {"traversal", [](Json& s) { s["predicate"]["resources"][0]["name"] = "../a"; }},
      {"absolute", [](Json& s) { s["predicate"]["resources"][0]["name"] = "/etc/passwd"; }},
      {"digest", [](Json& s) { s["predicate"]["resources"][0]["digest"] = "abc"; }},
      {"algorithm", [](Json& s) { s["predicate"]["resources"][0]["algorithm"] = "md5"; }},
      {"duplicate",
       [](Json& s) { s["predicate"]["resources"][1] = s["predicate"]["resources"][0]; }},
  };
  for (const auto& [name, edit] : cases) {
    SetUp();
    Resign(edit);
    Status status = Verify();
    ASSERT_FALSE(status.ok()) << name;
    EXPECT_EQ(status.kind(), ErrorKind::kInvalidInput) << name << ": " << status.ToString();
    EXPECT_NE(status.message().find("model.sig"), std::string::npos) << status.message();
  }
}

TEST(OmsBundle, RejectsMalformedBundles) {
  const std::string env =
      R"("dsseEnvelope":{"payload":"e30=","payloadType":"t","signatures":[{"sig":"AA=="}]})";
  const std::string vm = R"("verificationMaterial":{"publicKey":{"hint":"ab"}})";
  const std::string media = R"("mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json")";
  ASSERT_TRUE(OmsBundle::Parse("{" + media + "," + vm + "," + env + "}", "ok").ok());
  std::vector<std::string> cases = {
      "[]",
      "{" + vm + "," + env + "}",
      R"({"mediaType":"application/vnd.dev.sigstore.bundle.v0.1+json",)" + vm + "," + env + "}",
      "{" + media + "," + env + "}",
      "{" + media + R"(,"verificationMaterial":[],)" + env + "}",
      "{" + media + R"(,"verificationMaterial":{"certificate":{"rawBytes":"AA=="}},)" + env + "}",
      "{" + media + R"(,"verificationMaterial":{"publicKey":{"hint":5}},)" + env + "}",
      "{" + media + R"(,"verificationMaterial":{"publicKey":{"rawBytes":"!"}},)" + env + "}",
      "{" + media + R"(,"verificationMaterial":{"publicKey":{"rawBytes":"AAAA"}},)" + env + "}",
      "{" + media + "," + vm + "}",
      "{" + media + "," + vm + R"(,"dsseEnvelope":{}})",
  };
  for (const std::string& text : cases) {
    auto bundle = OmsBundle::Parse(text, "sig.json");
    ASSERT_FALSE(bundle.ok()) << text;
    EXPECT_EQ(bundle.status().kind(), ErrorKind::kInvalidInput) << text;
    EXPECT_NE(bundle.status().message().find("sig.json"), std::string::npos)
        << bundle.status().message();
  }
}

TEST(OmsBundle, KeyDetailsMustMatchTheEmbeddedKey) {
  auto key = PrivateKey::Generate(KeyAlgorithm::kEcdsaP256);
  ASSERT_TRUE(key.ok());
  OmsBundle bundle;
  bundle.envelope = *DsseSign(kInTotoPayloadType, "{}", {&*key});
  bundle.embedded_key = key->public_key();
  Json json = bundle.ToJson();
  ASSERT_TRUE(OmsBundle::Parse(json.dump(), "b").ok());
  json["verificationMaterial"]["publicKey"]["keyDetails"] = "PKIX_ECDSA_P384_SHA_384";
  EXPECT_FALSE(OmsBundle::Parse(json.dump(), "b").ok());
  // Sigstore's own form: DER rather than PEM in rawBytes.
  json["verificationMaterial"]["publicKey"]["keyDetails"] = "PKIX_ECDSA_P256_SHA_256";
  json["verificationMaterial"]["publicKey"]["rawBytes"] = Base64Encode(key->public_key().der());
  auto der = OmsBundle::Parse(json.dump(), "b");
  ASSERT_TRUE(der.ok()) << der.status().ToString();
  EXPECT_EQ(der->embedded_key->key_id(), key->key_id());
}

TEST(OmsSign, RefusesAnEmptyDirectory) {
  TempDir dir;
  PutFile(dir.path(), "only", "x");
  auto key = PrivateKey::Generate(KeyAlgorithm::kEd25519);
  OmsSignOptions options;
  options.ignore_paths = {"only"};
  auto result = OmsSign(dir.path(), dir.path() / "model.sig", *key, options);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_FALSE(fs::exists(dir.path() / "model.sig"));
}

TEST(OmsSign, SignatureOutsideTheDirectoryIsNotListedAsIgnored) {
  TempDir dir;
  PutFile(dir.path(), "m/f", "x");
  auto key = PrivateKey::Generate(KeyAlgorithm::kEd25519);
  fs::path sig = dir.path() / "m.sig";
  ASSERT_TRUE(OmsSign(dir.path() / "m", sig, *key).ok());
  auto verified = OmsVerify(dir.path() / "m", sig, {key->public_key()});
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_TRUE(verified->ignore_paths.empty());
}

}  // namespace
}  // namespace graft
