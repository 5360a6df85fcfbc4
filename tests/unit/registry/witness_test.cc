#include "registry/witness.h"

#include <gtest/gtest.h>

#include "core/encoding.h"
#include "registry/checkpoint.h"

namespace graft::registry {
namespace {

class WitnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_key_ = std::make_unique<PrivateKey>(*PrivateKey::Generate(KeyAlgorithm::kEd25519));
    witness_ = std::make_unique<PrivateKey>(*PrivateKey::Generate(KeyAlgorithm::kEd25519));
    Checkpoint checkpoint{"graft.local/registry/test", 7, Sha256::Of(std::string_view("root"))};
    note_ = *checkpoint.Sign("graft.local/registry/test", *log_key_);
  }
  std::unique_ptr<PrivateKey> log_key_, witness_;
  std::string note_;
};

TEST_F(WitnessTest, CosignatureHasTheC2spShapeAndVerifies) {
  Result<std::string> cosigned = Cosign(note_, *witness_, 1700000000);
  ASSERT_TRUE(cosigned.ok()) << cosigned.status().ToString();
  ASSERT_TRUE(cosigned->starts_with(note_));
  const std::string line = cosigned->substr(note_.size());
  const std::string name = WitnessName(witness_->public_key());
  ASSERT_TRUE(line.starts_with("\xE2\x80\x94 " + name + " ")) << line;
  // base64(4-byte key id ‖ 8-byte timestamp ‖ 64-byte signature).
  std::string b64 = line.substr(line.rfind(' ') + 1);
  b64.pop_back();
  std::string blob = *Base64Decode(b64);
  ASSERT_EQ(blob.size(), 76u);
  EXPECT_EQ(blob.substr(4, 8), std::string("\0\0\0\0\x65\x53\xf1\x00", 8));
  // The signed message: "cosignature/v1\ntime <t>\n" + the checkpoint body.
  std::string body = note_.substr(0, note_.find("\n\n") + 1);
  EXPECT_TRUE(
      witness_->public_key().Verify("cosignature/v1\ntime 1700000000\n" + body, blob.substr(12)));
  Result<uint64_t> time = VerifyCosignature(*cosigned, witness_->public_key());
  ASSERT_TRUE(time.ok()) << time.status().ToString();
  EXPECT_EQ(*time, 1700000000u);
  // The log's own signature still verifies beside it.
  EXPECT_TRUE(
      Checkpoint::ParseAndVerify(*cosigned, "graft.local/registry/test", log_key_->public_key())
          .ok());
}

TEST_F(WitnessTest, AnotherKeyOrAnEditedCheckpointFails) {
  std::string cosigned = *Cosign(note_, *witness_, 1700000000);
  EXPECT_EQ(VerifyCosignature(note_, witness_->public_key()).status().kind(),
            ErrorKind::kVerification);
  PrivateKey other = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  EXPECT_FALSE(VerifyCosignature(cosigned, other.public_key()).ok());
  std::string edited = cosigned;
  edited.replace(edited.find("\n7\n"), 3, "\n8\n");
  Result<uint64_t> bad = VerifyCosignature(edited, witness_->public_key());
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().message().find("does not verify") != std::string::npos);
  PrivateKey ecdsa = *PrivateKey::Generate(KeyAlgorithm::kEcdsaP256);
  EXPECT_EQ(Cosign(note_, ecdsa, 1).status().kind(), ErrorKind::kInvalidInput);
}

TEST_F(WitnessTest, StateFileNameIsSafe) {
  EXPECT_EQ(WitnessStateFile("/w", "graft.local/registry/ab12").string(),
            "/w/graft.local_registry_ab12.checkpoint");
  EXPECT_EQ(WitnessStateFile("/w", "../x").filename().string(), ".._x.checkpoint");
}

}  // namespace
}  // namespace graft::registry
