#include "trainer/provenance.h"

#include <gtest/gtest.h>

#include <regex>

#include "core/dsse.h"
#include "core/file_util.h"
#include "core/intoto.h"
#include "core/manifest.h"
#include "core/oms_signature.h"
#include "tests/unit/trainer/toy_helpers.h"

namespace graft::trainer {
namespace {

TrainingProvenance Example() {
  TrainingProvenance p;
  p.config = {{"seed", 5}};
  p.config_sha256 = std::string(64, 'c');
  p.policy = std::string(64, 'p');
  p.seed = 5;
  p.threads = 2;
  p.graft_version = "0.1.0";
  p.libtorch_version = "1.13.1";
  p.blas = "OpenBLAS";
  p.dependencies = {{"base", "", std::string(64, 'b')},
                    {"dataset:train", "train.jsonl", std::string(64, 't')},
                    {"policy", "", std::string(64, 'p')}};
  p.invocation_id = TrainingProvenance::NewInvocationId();
  p.started_on = "2026-11-28T13:00:00Z";
  p.finished_on = "2026-11-28T13:01:00Z";
  p.byproducts = {{"train_loss", 1.5}, {"steps", 10}};
  return p;
}

TEST(Provenance, StatementHasTheSlsaFieldsTheRegistryReads) {
  const Json s = Example().Statement("my-adapter", std::string(64, 'a'));
  EXPECT_EQ(s["_type"], "https://in-toto.io/Statement/v1");
  EXPECT_EQ(s["predicateType"], "https://slsa.dev/provenance/v1");
  EXPECT_EQ(s["subject"][0]["name"], "my-adapter");
  EXPECT_EQ(s["subject"][0]["digest"]["sha256"], std::string(64, 'a'));
  const Json& build = s["predicate"]["buildDefinition"];
  EXPECT_EQ(build["buildType"], "https://graft.dev/train/v1");
  EXPECT_EQ(build["externalParameters"]["config"]["seed"], 5);
  EXPECT_EQ(build["externalParameters"]["config_sha256"], std::string(64, 'c'));
  EXPECT_EQ(build["externalParameters"]["policy"], std::string(64, 'p'));
  EXPECT_EQ(build["externalParameters"]["full"], false);
  EXPECT_EQ(build["internalParameters"]["threads"], 2);
  EXPECT_EQ(build["internalParameters"]["libtorch_version"], "1.13.1");
  EXPECT_EQ(build["resolvedDependencies"][1]["name"], "dataset:train");
  EXPECT_EQ(build["resolvedDependencies"][1]["uri"], "train.jsonl");
  EXPECT_FALSE(build["resolvedDependencies"][0].contains("uri"));
  const Json& run = s["predicate"]["runDetails"];
  EXPECT_EQ(run["builder"]["id"], "graft/0.1.0");
  EXPECT_EQ(run["metadata"]["startedOn"], "2026-11-28T13:00:00Z");
  EXPECT_EQ(run["byproducts"][0]["name"], "train_loss");
  EXPECT_EQ(run["byproducts"][0]["annotations"]["value"], 1.5);
  EXPECT_TRUE(InTotoStatement::FromJson(s, "statement").ok());
}

TEST(Provenance, IdsAndTimesAreWellFormed) {
  const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  const std::string id = TrainingProvenance::NewInvocationId();
  EXPECT_TRUE(std::regex_match(id, uuid)) << id;
  EXPECT_NE(id, TrainingProvenance::NewInvocationId());
  const std::string now = TrainingProvenance::Now();
  EXPECT_TRUE(std::regex_match(now, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"))) << now;
}

TEST(Provenance, SignDirectoryWritesAVerifyingSignatureAndEnvelope) {
  TempDir dir("graft-prov");
  testing::WriteText(dir.path() / "adapter_config.json", "{}\n");
  testing::WriteText(dir.path() / "adapter_model.safetensors", "weights");
  auto key = PrivateKey::Generate(KeyAlgorithm::kEcdsaP256);
  ASSERT_TRUE(key.ok());
  auto digest = Example().SignDirectory(dir.path(), "adapter-x", *key);
  ASSERT_TRUE(digest.ok()) << digest.status().ToString();

  ManifestOptions ignore;
  ignore.ignore_paths = {kSignatureFile, kProvenanceFile};
  auto manifest = BuildManifest(dir.path(), ignore);
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ(*digest, manifest->RootDigestHex());
  EXPECT_EQ(manifest->entries.size(), 2u);

  auto oms = OmsVerify(dir.path(), dir.path() / kSignatureFile, {key->public_key()});
  ASSERT_TRUE(oms.ok()) << oms.status().ToString();
  EXPECT_EQ(oms->manifest.RootDigestHex(), *digest);

  const std::string text = testing::ReadText(dir.path() / kProvenanceFile);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.find('\n'), text.size() - 1);  // one line
  auto envelope = DsseEnvelope::Parse(text, kProvenanceFile);
  ASSERT_TRUE(envelope.ok()) << envelope.status().ToString();
  EXPECT_EQ(envelope->payload_type, kInTotoPayloadType);
  auto verified = DsseVerify(*envelope, {key->public_key()});
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->at(0), key->key_id());
  auto statement = InTotoStatement::Parse(envelope->payload, "payload");
  ASSERT_TRUE(statement.ok());
  EXPECT_EQ(statement->subjects[0].name, "adapter-x");
  EXPECT_EQ(statement->subjects[0].digest.at("sha256"), *digest);

  auto other = PrivateKey::Generate(KeyAlgorithm::kEd25519);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(DsseVerify(*envelope, {other->public_key()}).ok());
  // Editing a signed file breaks the OMS signature.
  testing::WriteText(dir.path() / "adapter_model.safetensors", "weightz");
  EXPECT_EQ(OmsVerify(dir.path(), dir.path() / kSignatureFile, {key->public_key()}).status().kind(),
            ErrorKind::kVerification);
}

}  // namespace
}  // namespace graft::trainer
