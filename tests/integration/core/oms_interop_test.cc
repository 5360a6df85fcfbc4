// Verifies the OpenSSF model_signing v1.0.1 vector in tests/data/interop, through the library and
// the CLI, and checks that any change to the signed files is caught.
#include <gtest/gtest.h>

#include "core/file_util.h"
#include "core/oms_signature.h"
#include "tests/support/cli_runner.h"

namespace graft {
namespace {

namespace fs = std::filesystem;
using testing::CliResult;
using testing::InteropDir;
using testing::RunGraft;

class OmsInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::path vector = InteropDir() / "oms-v1.0.1-elliptic-key";
    ASSERT_TRUE(fs::is_directory(vector)) << vector;
    model_ = temp_.path() / "oms-v1.0.1-elliptic-key";
    fs::copy(vector, model_, fs::copy_options::recursive);
    for (const auto& entry : fs::directory_iterator(model_)) {
      fs::permissions(entry.path(), fs::perms::owner_write, fs::perm_options::add);
    }
    fs::permissions(model_, fs::perms::owner_all, fs::perm_options::add);
    sig_ = model_ / "model.sig";
    auto key = PublicKey::LoadPem(pub_path_);
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    key_.emplace(std::move(key).value());
  }

  Result<OmsVerification> Verify() { return OmsVerify(model_, sig_, {*key_}, {"ignore-me"}); }

  void Expect12(const std::string& needle) {
    auto r = RunGraft({"verify", model_.string(), "--signature", sig_.string(), "--public-key",
                       pub_path_.string(), "--ignore-path", "ignore-me"});
    EXPECT_EQ(r.exit_code, 12) << r.out << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  }

  TempDir temp_;
  fs::path model_, sig_;
  fs::path pub_path_ = InteropDir() / "oms-signing-key-pub.pem";
  std::optional<PublicKey> key_;
};

TEST_F(OmsInterop, AcceptsTheVectorWithIgnoreMeIgnored) {
  auto verified = Verify();
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->manifest.RootDigestHex(),
            "92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4");
  EXPECT_EQ(verified->key_id, "c1e49d63327f85c7e2971aefd30b5a0d1c6b9b5e1a892e7f5fba995adace816d");
  ASSERT_EQ(verified->manifest.entries.size(), 2u);
  EXPECT_EQ(verified->manifest.entries[0].path, "signme-1");
  EXPECT_TRUE(verified->ignore_paths.empty());  // v1.0.1 did not record ignore_paths

  // ignore-me was left out when signing; without the ignore path it is an extra file.
  auto strict = OmsVerify(model_, sig_, {*key_});
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.status().kind(), ErrorKind::kVerification);
  EXPECT_NE(strict.status().message().find("extra: ignore-me"), std::string::npos);
}

TEST_F(OmsInterop, RejectsEverySingleByteChangeOfSignme1) {
  auto original = ReadFile(model_ / "signme-1");
  ASSERT_TRUE(original.ok());
  for (size_t i = 0; i < original->size(); ++i) {
    std::string changed = *original;
    changed[i] ^= 0x01;
    ASSERT_TRUE(WriteFileAtomic(model_ / "signme-1", changed).ok());
    auto verified = Verify();
    ASSERT_FALSE(verified.ok()) << "byte " << i;
    EXPECT_EQ(verified.status().kind(), ErrorKind::kVerification);
    EXPECT_NE(verified.status().message().find("changed: signme-1"), std::string::npos);
  }
  ASSERT_TRUE(WriteFileAtomic(model_ / "signme-1", *original).ok());
  EXPECT_TRUE(Verify().ok());
}

TEST_F(OmsInterop, RejectsAddedAndRemovedFiles) {
  ASSERT_TRUE(WriteFileAtomic(model_ / "added", "new").ok());
  auto added = Verify();
  ASSERT_FALSE(added.ok());
  EXPECT_NE(added.status().message().find("extra: added"), std::string::npos);
  fs::remove(model_ / "added");
  fs::remove(model_ / "signme-2");
  auto removed = Verify();
  ASSERT_FALSE(removed.ok());
  EXPECT_NE(removed.status().message().find("missing: signme-2"), std::string::npos);
}

TEST_F(OmsInterop, RejectsATamperedSignatureAndTheWrongKey) {
  auto text = ReadFile(sig_);
  ASSERT_TRUE(text.ok());
  auto bundle = OmsBundle::Parse(*text, "model.sig");
  ASSERT_TRUE(bundle.ok()) << bundle.status().ToString();
  ASSERT_TRUE(bundle->embedded_key.has_value());
  EXPECT_EQ(bundle->embedded_key->key_id(), key_->key_id());
  bundle->envelope.signatures[0].sig[10] ^= 1;
  ASSERT_TRUE(WriteFileAtomic(sig_, bundle->ToJson().dump()).ok());
  auto tampered = Verify();
  ASSERT_FALSE(tampered.ok());
  EXPECT_EQ(tampered.status().kind(), ErrorKind::kVerification);

  ASSERT_TRUE(WriteFileAtomic(sig_, *text).ok());
  auto other = PrivateKey::Generate(KeyAlgorithm::kEcdsaP384);
  ASSERT_TRUE(other.ok());
  auto wrong = OmsVerify(model_, sig_, {other->public_key()}, {"ignore-me"});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().kind(), ErrorKind::kVerification);
}

TEST_F(OmsInterop, CliExitsZeroOnTheVectorAndTwelveOnChanges) {
  auto ok = RunGraft({"verify", model_.string(), "--signature", sig_.string(), "--public-key",
                      pub_path_.string(), "--ignore-path", "ignore-me"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4"),
            std::string::npos)
      << ok.out;

  ASSERT_TRUE(WriteFileAtomic(model_ / "signme-1", "signme-X\n").ok());
  Expect12("changed: signme-1");
  fs::remove(model_ / "signme-1");
  Expect12("missing: signme-1");
  ASSERT_TRUE(WriteFileAtomic(model_ / "signme-1", "signme-1\n").ok());
  ASSERT_TRUE(WriteFileAtomic(model_ / "more", "x").ok());
  Expect12("extra: more");
}

// The v1.0.0 single-file vector: the signed model is the file signme-1, its one resource ".".
class OmsInteropSingleFile : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::path vector = InteropDir() / "oms-v1.0.0-single-file";
    ASSERT_TRUE(fs::is_directory(vector)) << vector;
    file_ = temp_.path() / "signme-1";
    sig_ = temp_.path() / "model.sig";
    fs::copy_file(vector / "signme-1", file_);
    fs::copy_file(vector / "model.sig", sig_);
    fs::permissions(file_, fs::perms::owner_write, fs::perm_options::add);
    auto key = PublicKey::LoadPem(pub_path_);
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    key_.emplace(std::move(key).value());
  }
  CliResult Cli(const fs::path& model) {
    return RunGraft({"verify", model.string(), "--signature", sig_.string(), "--public-key",
                     pub_path_.string()});
  }

  TempDir temp_;
  fs::path file_, sig_;
  fs::path pub_path_ = InteropDir() / "oms-signing-key-pub.pem";
  std::optional<PublicKey> key_;
};

TEST_F(OmsInteropSingleFile, AcceptsTheFileAndRejectsEveryChange) {
  auto verified = OmsVerify(file_, sig_, {*key_});
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  ASSERT_EQ(verified->manifest.entries.size(), 1u);
  EXPECT_EQ(verified->manifest.entries[0].path, ".");
  EXPECT_EQ(DigestHex(verified->manifest.entries[0].digest),
            "bc9a717db6064a32cbe9eae6fc40651dd6d36ef1757183f590eff2b1765d7ebc");
  EXPECT_EQ(verified->manifest.RootDigestHex(),
            "afa48c8674afe334b8a7dea34f7b46ab256e9255edf8da2132792341b667a45b");

  auto original = ReadFile(file_);
  ASSERT_TRUE(original.ok());
  for (size_t i = 0; i < original->size(); ++i) {
    std::string changed = *original;
    changed[i] ^= 0x01;
    ASSERT_TRUE(WriteFileAtomic(file_, changed).ok());
    auto rejected = OmsVerify(file_, sig_, {*key_});
    ASSERT_FALSE(rejected.ok()) << "byte " << i;
    EXPECT_EQ(rejected.status().kind(), ErrorKind::kVerification);
    EXPECT_NE(rejected.status().message().find("changed: ."), std::string::npos)
        << rejected.status().message();
  }
  ASSERT_TRUE(WriteFileAtomic(file_, *original + "x").ok());
  EXPECT_FALSE(OmsVerify(file_, sig_, {*key_}).ok());
}

TEST_F(OmsInteropSingleFile, AFolderIsNotTheSignedFile) {
  // The single-file signature does not verify a folder holding the file, and a folder
  // signature does not verify a file.
  auto as_dir = OmsVerify(temp_.path(), sig_, {*key_});
  ASSERT_FALSE(as_dir.ok());
  EXPECT_EQ(as_dir.status().kind(), ErrorKind::kVerification);
  EXPECT_NE(as_dir.status().message().find("single file"), std::string::npos);
  fs::path folder_sig = InteropDir() / "oms-v1.0.1-elliptic-key" / "model.sig";
  auto as_file = OmsVerify(file_, folder_sig, {*key_});
  ASSERT_FALSE(as_file.ok());
  EXPECT_EQ(as_file.status().kind(), ErrorKind::kVerification);
}

TEST_F(OmsInteropSingleFile, CliVerifiesTheFileAndExitsTwelveOnATamperedCopy) {
  CliResult ok = Cli(file_);
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("afa48c8674afe334b8a7dea34f7b46ab256e9255edf8da2132792341b667a45b"),
            std::string::npos)
      << ok.out;

  fs::path tampered = temp_.path() / "tampered";
  ASSERT_TRUE(WriteFileAtomic(tampered, "signme-2\n").ok());
  CliResult bad = Cli(tampered);
  EXPECT_EQ(bad.exit_code, 12) << bad.out << bad.err;
  EXPECT_NE(bad.err.find("changed: ."), std::string::npos) << bad.err;

  // A file without --signature is a usage error, not a guess at FILE/model.sig.
  CliResult missing = RunGraft({"verify", file_.string(), "--public-key", pub_path_.string()});
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  EXPECT_NE(missing.err.find("--signature"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace graft
