// `graft key generate`, `graft sign` and `graft verify` through the built CLI.
#include <gtest/gtest.h>

#include "core/file_util.h"
#include "core/json.h"
#include "tests/support/cli_runner.h"

namespace graft::testing {
namespace {

namespace fs = std::filesystem;

class SignVerify : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    model_ = temp_.path() / "adapter";
    fs::create_directories(model_ / "sub");
    ASSERT_TRUE(WriteFileAtomic(model_ / "adapter_config.json", "{\"r\": 8}").ok());
    ASSERT_TRUE(WriteFileAtomic(model_ / "sub" / "weights.bin", std::string(4096, 'w')).ok());
    key_ = temp_.path() / "key.pem";
  }

  TempDir temp_;
  fs::path model_;
  fs::path key_;
};

TEST_P(SignVerify, GenerateSignVerifyAndDetectChanges) {
  auto gen = RunGraft({"key", "generate", "--algorithm", GetParam(), "--out", key_.string()});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  ASSERT_EQ(gen.out.size(), 65u) << gen.out;  // 64 hex digits and a newline
  EXPECT_EQ(fs::status(key_).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  std::string pub = key_.string() + ".pub";
  ASSERT_TRUE(fs::exists(pub));

  auto sign = RunGraft({"sign", model_.string(), "--key", key_.string()});
  ASSERT_EQ(sign.exit_code, 0) << sign.err;
  ASSERT_TRUE(fs::exists(model_ / "model.sig"));
  EXPECT_NE(sign.out.find(gen.out.substr(0, 64)), std::string::npos) << sign.out;

  auto verify = RunGraft({"verify", model_.string(), "--public-key", pub, "--json"});
  ASSERT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  auto json = ParseJson(verify.out, "verify output");
  ASSERT_TRUE(json.ok()) << verify.out;
  EXPECT_EQ((*json)["verified"], true);
  EXPECT_EQ((*json)["files"], 2);
  EXPECT_EQ((*json)["key_id"], gen.out.substr(0, 64));

  ASSERT_TRUE(WriteFileAtomic(model_ / "adapter_config.json", "{\"r\": 16}").ok());
  ASSERT_TRUE(WriteFileAtomic(model_ / "new.txt", "n").ok());
  fs::remove(model_ / "sub" / "weights.bin");
  auto failed = RunGraft({"verify", model_.string(), "--public-key", pub});
  EXPECT_EQ(failed.exit_code, 12) << failed.err;
  for (const char* needle :
       {"changed: adapter_config.json", "missing: sub/weights.bin", "extra: new.txt"}) {
    EXPECT_NE(failed.err.find(needle), std::string::npos) << failed.err;
  }
  auto failed_json = RunGraft({"verify", model_.string(), "--public-key", pub, "--json"});
  EXPECT_EQ(failed_json.exit_code, 12);
  auto fj = ParseJson(failed_json.out, "verify output");
  ASSERT_TRUE(fj.ok()) << failed_json.out;
  EXPECT_EQ((*fj)["verified"], false);
}

INSTANTIATE_TEST_SUITE_P(All, SignVerify, ::testing::Values("ed25519", "ecdsa-p256", "ecdsa-p384"),
                         [](const auto& info) {
                           std::string name = info.param;
                           name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
                           return name;
                         });

TEST(SignVerifyCli, SignatureElsewhereAndIgnorePaths) {
  TempDir temp;
  fs::path model = temp.path() / "m";
  fs::create_directories(model / "logs");
  ASSERT_TRUE(WriteFileAtomic(model / "w", "w").ok());
  ASSERT_TRUE(WriteFileAtomic(model / "logs" / "a", "a").ok());
  fs::path key = temp.path() / "k";
  ASSERT_EQ(RunGraft({"key", "generate", "--out", key.string()}).exit_code, 0);
  fs::path sig = temp.path() / "m.sig";
  auto sign = RunGraft({"sign", model.string(), "--key", key.string(), "--signature", sig.string(),
                        "--ignore-path", "logs", "--json"});
  ASSERT_EQ(sign.exit_code, 0) << sign.err;
  auto json = ParseJson(sign.out, "sign output");
  ASSERT_TRUE(json.ok()) << sign.out;
  EXPECT_EQ((*json)["files"], 1);
  EXPECT_FALSE(fs::exists(model / "model.sig"));
  ASSERT_TRUE(WriteFileAtomic(model / "logs" / "b", "b").ok());  // ignored, as signed
  auto verify = RunGraft({"verify", model.string(), "--signature", sig.string(), "--public-key",
                          key.string() + ".pub"});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
}

TEST(SignVerifyCli, BadOptionsExitTwo) {
  TempDir temp;
  fs::path key = temp.path() / "k";
  std::vector<std::vector<std::string>> cases = {
      {"key", "generate"},                                               // no --out
      {"key", "generate", "--out", key.string(), "--algorithm", "rsa"},  // bad algorithm
      {"key", "generate", "--out", key.string(), "--bogus"},             // unknown option
      {"sign", temp.path().string()},                                    // no --key
      {"sign", "--key", key.string()},                                   // no DIR
      {"verify", temp.path().string()},                                  // no --public-key
      {"sign", (temp.path() / "missing").string(), "--key", (temp.path() / "nokey").string()},
  };
  for (const auto& args : cases) {
    auto r = RunGraft(args);
    EXPECT_EQ(r.exit_code, 2) << ::testing::PrintToString(args) << "\n" << r.err;
    EXPECT_NE(r.err.find("graft"), std::string::npos) << r.err;
  }
  ASSERT_EQ(RunGraft({"key", "generate", "--out", key.string()}).exit_code, 0);
  auto again = RunGraft({"key", "generate", "--out", key.string()});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("--force"), std::string::npos) << again.err;
  // A private key readable by others is refused.
  fs::permissions(key, fs::perms(0644));
  auto loose = RunGraft({"sign", temp.path().string(), "--key", key.string()});
  EXPECT_EQ(loose.exit_code, 2);
  EXPECT_NE(loose.err.find("chmod 600"), std::string::npos) << loose.err;
  // Garbage PEM as a public key.
  ASSERT_TRUE(WriteFileAtomic(temp.path() / "junk.pub", "junk").ok());
  auto junk = RunGraft(
      {"verify", temp.path().string(), "--public-key", (temp.path() / "junk.pub").string()});
  EXPECT_EQ(junk.exit_code, 2);
  EXPECT_NE(junk.err.find("junk.pub"), std::string::npos) << junk.err;
}

TEST(SignVerifyCli, HelpListsTheKeyGroupAndCommands) {
  auto top = RunGraft({"--help"});
  EXPECT_NE(top.out.find("sign"), std::string::npos);
  EXPECT_NE(top.out.find("verify"), std::string::npos);
  auto key = RunGraft({"key", "--help"});
  EXPECT_EQ(key.exit_code, 0);
  EXPECT_NE(key.out.find("generate"), std::string::npos) << key.out;
  EXPECT_NE(key.out.find("Signing keys"), std::string::npos) << key.out;
}

}  // namespace
}  // namespace graft::testing
