// `graft train` writes a README.md model card covered by model.sig, sets base_model_name_or_path
// from --base-name-or-path, and takes --policy as a registered name (recording its digest).
#include <gtest/gtest.h>

#include "core/encoding.h"
#include "core/file_util.h"
#include "core/json.h"
#include "core/sha256.h"
#include "tests/support/cli_runner.h"

namespace graft::testing {
namespace {
namespace fs = std::filesystem;

class TrainModelCard : public ::testing::Test {
 protected:
  void SetUp() override {
    Expect({"init"});
    Expect({"base", "init", "--arch", "gpt2", "--preset", "tiny", "--out", Path("base")});
    Expect({"key", "generate", "--out", Path("key.pem")});
    data_ = "{\"text\": \"the cat sat on the mat.\"}\n{\"text\": \"a dog ran.\"}\n";
    ASSERT_TRUE(WriteFileAtomic(root_.path() / "train.jsonl", data_).ok());
    ASSERT_TRUE(WriteFileAtomic(root_.path() / "train.yaml",
                                "lora: {r: 2, lora_alpha: 4, target_modules: [c_attn]}\n"
                                "batch_size: 2\nmax_seq_len: 16\nmax_steps: 2\nthreads: 1\n")
                    .ok());
    ASSERT_TRUE(WriteFileAtomic(root_.path() / "p.yaml",
                                "policy: site\npromotion:\n  kpis: [{suite: s, metric: "
                                "bits_per_byte, min_delta: 0.0}]\n")
                    .ok());
    CliResult policy = Run({"policy", "register", Path("p.yaml"), "--json"});
    ASSERT_EQ(policy.exit_code, 0) << policy.err;
    policy_digest_ = Json::parse(policy.out)["digest"].get<std::string>();
    if (policy_digest_.starts_with("sha256:")) policy_digest_ = policy_digest_.substr(7);
  }
  std::string Path(const std::string& name) const { return (root_.path() / name).string(); }
  CliResult Run(const std::vector<std::string>& args) { return RunGraft(args, env_); }
  void Expect(const std::vector<std::string>& args) {
    CliResult r = Run(args);
    ASSERT_EQ(r.exit_code, 0) << args[0] << "\n" << r.out << r.err;
  }
  std::vector<std::string> Train(const std::string& out) const {
    return {"train",        "--base",           Path("base"), "--data",  Path("train.jsonl"),
            "--config",     Path("train.yaml"), "--out",      Path(out), "--key",
            Path("key.pem")};
  }

  TempDir root_{"graft-model-card"};
  std::map<std::string, std::string> env_ = {{"GRAFT_REGISTRY", Path("reg")}};
  std::string data_, policy_digest_;
};

TEST_F(TrainModelCard, CardNamesInputsAndIsSigned) {
  std::vector<std::string> args = Train("bot");
  args.insert(args.end(), {"--policy", "site", "--base-name-or-path", "openai-community/gpt2",
                           "--license", "apache-2.0"});
  Expect(args);
  auto card = ReadFile(root_.path() / "bot" / "README.md");
  ASSERT_TRUE(card.ok());
  EXPECT_EQ(card->rfind("---\nlicense: \"apache-2.0\"\nlibrary_name: peft\n"
                        "base_model: \"openai-community/gpt2\"\n",
                        0),
            0u)
      << *card;
  EXPECT_NE(card->find("| dataset:train | `train.jsonl` | `" + Sha256Hex(data_) + "` |"),
            std::string::npos)
      << *card;
  EXPECT_NE(card->find("- policy: `sha256:" + policy_digest_ + "`"), std::string::npos) << *card;
  EXPECT_NE(card->find("| base |"), std::string::npos) << *card;

  auto config = ReadFile(root_.path() / "bot" / "adapter_config.json");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(Json::parse(*config)["base_model_name_or_path"], "openai-community/gpt2");
  auto provenance = ReadFile(root_.path() / "bot" / "provenance.intoto.jsonl");
  ASSERT_TRUE(provenance.ok());
  auto payload = Base64Decode(Json::parse(*provenance)["payload"].get<std::string>());
  ASSERT_TRUE(payload.ok());
  EXPECT_NE(payload->find("\"policy\":\"" + policy_digest_ + "\""), std::string::npos)
      << policy_digest_ << "\n"
      << *payload;
  // The card is covered by model.sig: changing it fails verification.
  Expect({"verify", Path("bot"), "--public-key", Path("key.pem.pub"), "--ignore-path",
          "provenance.intoto.jsonl"});
  ASSERT_TRUE(WriteFileAtomic(root_.path() / "bot" / "README.md", *card + "edited\n").ok());
  CliResult tampered = Run({"verify", Path("bot"), "--public-key", Path("key.pem.pub"),
                            "--ignore-path", "provenance.intoto.jsonl"});
  EXPECT_EQ(tampered.exit_code, 12) << tampered.out << tampered.err;
  EXPECT_NE(tampered.err.find("changed: README.md"), std::string::npos) << tampered.err;
}

TEST_F(TrainModelCard, PolicyNameNeedsARegistryAndAKnownName) {
  std::vector<std::string> unknown = Train("a");
  unknown.insert(unknown.end(), {"--policy", "no-such-policy"});
  CliResult r = Run(unknown);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("no-such-policy"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(root_.path() / "a.partial"));

  std::vector<std::string> no_registry = Train("b");
  no_registry.insert(no_registry.end(),
                     {"--policy", "site", "--registry", Path("missing-registry")});
  r = Run(no_registry);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("no registry at"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace graft::testing
