// End to end through the CLI: suite registration, paired evaluation, base-score cache, canary.
#include <gtest/gtest.h>

#include <fstream>

#include "core/file_util.h"
#include "core/sha256.h"
#include "models/causal_lm.h"
#include "models/peft_io.h"
#include "tests/support/cli_runner.h"

namespace graft::testing {
namespace {
namespace fs = std::filesystem;

class EvalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = {{"GRAFT_REGISTRY", (root_.path() / "reg").string()}};
    Expect({"base", "init", "--arch", "gpt2", "--preset", "tiny", "--out", Path("base"), "--seed",
            "3"});
    Expect({"init"});
    Expect({"key", "generate", "--algorithm", "ed25519", "--out", Path("evaluator.pem")});
    Expect({"key", "trust", Path("evaluator.pem.pub"), "--role", "evaluator", "--name", "ev"});
    Expect({"base", "register", Path("base"), "--name", "tiny"});
    std::string data;
    for (int i = 0; i < 12; ++i) {
      data += "{\"id\": \"t" + std::to_string(i) + "\", \"slice\": \"" + (i % 2 ? "odd" : "even") +
              "\", \"text\": \"item " + std::to_string(i) + ": the quick brown fox\"}\n";
    }
    ASSERT_TRUE(WriteFileAtomic(root_.path() / "text.jsonl", data).ok());
    ASSERT_TRUE(WriteFileAtomic(root_.path() / "suite.yaml",
                                "suite: general\ntasks:\n  - name: text\n"
                                "    type: loglikelihood_rolling\n"
                                "    data: {path: text.jsonl, sha256: \"" +
                                    Sha256Hex(data) + "\"}\n    metrics: [bits_per_byte]\n")
                    .ok());
    Expect({"suite", "register", Path("suite.yaml")});
  }

  std::string Path(const std::string& name) const { return (root_.path() / name).string(); }

  CliResult Run(const std::vector<std::string>& args) { return RunGraft(args, env_); }
  void Expect(const std::vector<std::string>& args) {
    CliResult r = Run(args);
    ASSERT_EQ(r.exit_code, 0) << args[0] << " " << (args.size() > 1 ? args[1] : "") << "\n"
                              << r.out << r.err;
  }

  // A LoRA adapter on c_attn of the base in directory `base_dir`, registered as `base_name`; B
  // is random unless `applied` is false (then zero, as LoRA initialises it, so the adapter
  // changes nothing).
  void MakeAdapter(const std::string& name, uint64_t seed, bool applied,
                   const std::string& base_dir = "base", const std::string& base_name = "tiny") {
    auto model = models::CausalLM::Load(root_.path() / base_dir);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    formats::LoraConfig config;
    config.r = 2;
    config.lora_alpha = 4;
    config.base_model_name_or_path = base_name;
    ASSERT_TRUE((*model)->adapters().Add("a", config, seed).ok());
    if (applied) {
      torch::NoGradGuard no_grad;
      auto params = (*model)->adapters().Parameters("a");
      ASSERT_TRUE(params.ok());
      torch::manual_seed(seed);
      for (auto& [key, tensor] : *params) {
        if (key.find("lora_B") != std::string::npos) tensor.uniform_(-0.5, 0.5);
      }
    }
    ASSERT_TRUE(models::SavePeftAdapter(**model, "a", root_.path() / name).ok());
    Expect({"adapter", "register", Path(name), "--name", name, "--unattested"});
  }

  CliResult Eval(const std::string& adapter, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"eval",        adapter, "--suite",
                                     "general",     "--key", Path("evaluator.pem"),
                                     "--resamples", "500"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Run(args);
  }

  TempDir root_{"graft-eval-e2e"};
  std::map<std::string, std::string> env_;
};

TEST_F(EvalTest, EvaluatesCachesTheBaseAndSignsTheResult) {
  MakeAdapter("one", 1, true);
  MakeAdapter("two", 2, true);
  CliResult first = Eval("one@1", {"--json-out", Path("one.json")});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_NE(first.out.find("bits_per_byte"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("[odd]"), std::string::npos) << first.out;
  EXPECT_EQ(first.out.find("from cache"), std::string::npos) << first.out;

  auto json_text = ReadFile(root_.path() / "one.json");
  ASSERT_TRUE(json_text.ok());
  Json result = Json::parse(*json_text);
  const Json& metric = result["predicate"]["graft"]["suites"][0]["tasks"][0]["metrics"][0];
  EXPECT_EQ(metric["metric"], "bits_per_byte");
  EXPECT_EQ(metric["n"], 12);
  EXPECT_NE(metric["delta"].get<double>(), 0.0);
  EXPECT_EQ(result["predicate"]["result"], "PASSED");

  // Another adapter on the same base and suite reuses the base scores...
  CliResult second = Eval("two@1");
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_NE(second.out.find("[base scores from cache]"), std::string::npos) << second.out;
  // ... but not when asked not to, nor with different settings.
  CliResult fresh = Eval("two@1", {"--no-cache"});
  ASSERT_EQ(fresh.exit_code, 0) << fresh.err;
  EXPECT_EQ(fresh.out.find("from cache"), std::string::npos);
  CliResult other_settings = Eval("two@1", {"--batch-size", "3"});
  ASSERT_EQ(other_settings.exit_code, 0) << other_settings.err;
  EXPECT_EQ(other_settings.out.find("from cache"), std::string::npos);

  // The evaluation is an attestation on the adapter.
  CliResult show = Run({"adapter", "show", "one@1"});
  EXPECT_NE(show.out.find("evaluation"), std::string::npos) << show.out;
}

// The "suites" part of the predicate in a `--json` result, with the per-run cache flag dropped.
Json SuiteResults(const Json& result) {
  Json suites = result["predicate"]["graft"]["suites"];
  for (Json& suite : suites) suite.erase("base_from_cache");
  return suites;
}

TEST_F(EvalTest, SeveralAdaptersOnOneBaseLoadAndScoreTheBaseOnce) {
  MakeAdapter("one", 1, true);
  MakeAdapter("two", 2, true);
  MakeAdapter("three", 3, true);
  for (const char* cache : {"--no-cache", "--batch-size=4"}) {  // fresh, then through the cache
    SCOPED_TRACE(cache);
    const std::string multi_json = Path(std::string("multi") + cache + ".json");
    CliResult multi = Eval("one@1", {"two@1", "three@1", cache, "--json-out", multi_json});
    ASSERT_EQ(multi.exit_code, 0) << multi.out << multi.err;
    EXPECT_NE(multi.out.find("3 adapters on base sha256:"), std::string::npos) << multi.out;
    EXPECT_NE(multi.out.find("base loaded 1 time(s); base scores computed for 1 task(s), "
                             "reused for 2"),
              std::string::npos)
        << multi.out;
    auto text = ReadFile(multi_json);
    ASSERT_TRUE(text.ok());
    Json results = Json::parse(*text);
    ASSERT_EQ(results["evaluations"].size(), 3u);
    EXPECT_TRUE(results["base"].contains("sha256"));

    // Each entry equals what a run of that adapter alone gives (and is stored and signed).
    const char* names[] = {"one@1", "two@1", "three@1"};
    for (size_t i = 0; i < 3; ++i) {
      const Json& entry = results["evaluations"][i];
      EXPECT_EQ(entry["subject"]["name"], names[i]);
      const std::string alone_json = Path(std::string("alone-") + names[i] + cache + ".json");
      CliResult alone = Eval(names[i], {cache, "--json-out", alone_json});
      ASSERT_EQ(alone.exit_code, 0) << alone.out << alone.err;
      Json single = Json::parse(*ReadFile(alone_json));
      EXPECT_EQ(SuiteResults(entry), SuiteResults(single)) << names[i];
      CliResult show = Run({"adapter", "show", names[i]});
      EXPECT_NE(show.out.find(entry["attestation"].get<std::string>().substr(0, 12)),
                std::string::npos)
          << show.out;
    }
  }
}

TEST_F(EvalTest, SeveralAdaptersMustShareABase) {
  MakeAdapter("one", 1, true);
  Expect({"base", "init", "--arch", "gpt2", "--preset", "tiny", "--out", Path("other-base"),
          "--seed", "4"});
  Expect({"base", "register", Path("other-base"), "--name", "other"});
  MakeAdapter("elsewhere", 5, true, "other-base", "other");
  CliResult mixed = Eval("one@1", {"elsewhere@1", "--json-out", Path("mixed.json")});
  EXPECT_EQ(mixed.exit_code, 2) << mixed.out << mixed.err;
  EXPECT_NE(mixed.err.find("different bases"), std::string::npos) << mixed.err;
  EXPECT_EQ(mixed.out.find("evaluation sha256:"), std::string::npos) << mixed.out;
  EXPECT_FALSE(fs::exists(root_.path() / "mixed.json"));
  CliResult twice = Eval("one@1", {"one@1"});
  EXPECT_EQ(twice.exit_code, 2) << twice.err;
  EXPECT_NE(twice.err.find("named twice"), std::string::npos) << twice.err;
}

TEST_F(EvalTest, CanaryFailsAnAdapterThatChangesNothing) {
  MakeAdapter("noop", 1, false);
  CliResult r = Eval("noop@1");
  EXPECT_EQ(r.exit_code, 12) << r.out << r.err;
  EXPECT_NE(r.err.find("canary"), std::string::npos) << r.err;
}

TEST_F(EvalTest, RefusesAnUntrustedKeyAndUnknownSuites) {
  MakeAdapter("one", 1, true);
  Expect({"key", "generate", "--algorithm", "ed25519", "--out", Path("stranger.pem")});
  CliResult stranger = Run(
      {"eval", "one@1", "--suite", "general", "--key", Path("stranger.pem"), "--resamples", "200"});
  EXPECT_EQ(stranger.exit_code, 12) << stranger.err;
  EXPECT_NE(stranger.err.find("not signed by a trusted evaluator key"), std::string::npos)
      << stranger.err;
  CliResult unknown = Run({"eval", "one@1", "--suite", "nope", "--key", Path("evaluator.pem")});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.err;
  CliResult bad_option = Eval("one@1", {"--confidence", "1.5"});
  EXPECT_EQ(bad_option.exit_code, 2) << bad_option.err;
}

TEST_F(EvalTest, SuiteWhoseDataChangedIsRefused) {
  ASSERT_TRUE(WriteFileAtomic(root_.path() / "text.jsonl", "{\"text\": \"changed\"}\n").ok());
  CliResult r = Run({"suite", "register", Path("suite.yaml"), "--name", "again"});
  EXPECT_EQ(r.exit_code, 12) << r.err;
  EXPECT_NE(r.err.find("the data changed"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace graft::testing
