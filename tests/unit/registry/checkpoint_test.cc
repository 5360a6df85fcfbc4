#include "registry/checkpoint.h"

#include <gtest/gtest.h>

#include "core/encoding.h"

namespace graft::registry {
namespace {

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = std::make_unique<PrivateKey>(*PrivateKey::Generate(KeyAlgorithm::kEd25519));
    checkpoint_.origin = "graft.local/registry/test";
    checkpoint_.size = 42;
    checkpoint_.root = Sha256::Of(std::string_view("root"));
  }
  std::unique_ptr<PrivateKey> key_;
  Checkpoint checkpoint_;
};

TEST_F(CheckpointTest, SignedNoteHasTheC2spShapeAndVerifies) {
  std::string note = *checkpoint_.Sign("graft.local/registry/test", *key_);
  std::string body =
      "graft.local/registry/test\n42\n" +
      Base64Encode(std::string(reinterpret_cast<const char*>(checkpoint_.root.data()), 32)) + "\n";
  ASSERT_TRUE(note.starts_with(body + "\n\xE2\x80\x94 graft.local/registry/test "));
  ASSERT_TRUE(note.ends_with("\n"));
  // base64(4-byte key hash ‖ 64-byte signature) = 92 characters.
  std::string sig_line = note.substr(body.size() + 1);
  std::string b64 = sig_line.substr(sig_line.rfind(' ') + 1);
  b64.pop_back();
  EXPECT_EQ(Base64Decode(b64)->size(), 68u);
  EXPECT_EQ(Base64Decode(b64)->substr(0, 4),
            *NoteKeyHash("graft.local/registry/test", key_->public_key()));

  Result<Checkpoint> parsed =
      Checkpoint::ParseAndVerify(note, "graft.local/registry/test", key_->public_key());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->size, 42u);
  EXPECT_EQ(parsed->root, checkpoint_.root);
  EXPECT_EQ(parsed->origin, "graft.local/registry/test");
}

TEST_F(CheckpointTest, TamperedSizeOrRootFailsVerification) {
  std::string note = *checkpoint_.Sign("graft.local/registry/test", *key_);
  std::string bigger = note;
  bigger.replace(bigger.find("\n42\n"), 4, "\n43\n");
  Result<Checkpoint> result =
      Checkpoint::ParseAndVerify(bigger, "graft.local/registry/test", key_->public_key());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().kind(), ErrorKind::kVerification);
  EXPECT_NE(result.status().message().find("does not verify"), std::string::npos);
}

TEST_F(CheckpointTest, OtherKeyOrNameIsRefused) {
  std::string note = *checkpoint_.Sign("graft.local/registry/test", *key_);
  PrivateKey other = PrivateKey::Generate(KeyAlgorithm::kEd25519).value();
  Result<Checkpoint> by_other =
      Checkpoint::ParseAndVerify(note, "graft.local/registry/test", other.public_key());
  ASSERT_FALSE(by_other.ok());
  EXPECT_NE(by_other.status().message().find("no signature by key"), std::string::npos);
  EXPECT_FALSE(Checkpoint::ParseAndVerify(note, "another", key_->public_key()).ok());
}

TEST_F(CheckpointTest, MalformedNotesAreInvalidInput) {
  for (std::string note : {std::string("no blank line"), std::string("o\nx\nAAAA\n\n"),
                           std::string("o\n042\nAAAA\n\n"), std::string("o\n1\n!!\n\n")}) {
    Result<Checkpoint> r = Checkpoint::ParseAndVerify(note, "o", key_->public_key());
    ASSERT_FALSE(r.ok()) << note;
    EXPECT_EQ(r.status().kind(), ErrorKind::kInvalidInput) << note;
  }
}

TEST_F(CheckpointTest, EcdsaKeysCannotSignCheckpoints) {
  PrivateKey ecdsa = PrivateKey::Generate(KeyAlgorithm::kEcdsaP256).value();
  EXPECT_FALSE(checkpoint_.Sign("o", ecdsa).ok());
}

}  // namespace
}  // namespace graft::registry
