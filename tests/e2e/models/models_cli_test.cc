#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/file_util.h"
#include "core/json.h"
#include "models/causal_lm.h"
#include "models/peft_io.h"
#include "tests/support/cli_runner.h"

namespace graft::testing {
namespace {

std::string Slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Writes a random (non-trivial) adapter for the base in `base_dir` into `out`.
void WriteAdapter(const std::filesystem::path& base_dir, const std::vector<std::string>& targets,
                  const std::filesystem::path& out) {
  auto model = models::CausalLM::Load(base_dir);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  formats::LoraConfig config;
  config.r = 4;
  config.lora_alpha = 64;
  config.target_modules = formats::TargetModules::Names(targets);
  config.init_lora_weights = formats::LoraInit::kRandom;
  config.base_model_name_or_path = base_dir.filename().string();
  ASSERT_TRUE((*model)->adapters().Add("a", config, 11).ok());
  ASSERT_TRUE(models::SavePeftAdapter(**model, "a", out).ok());
}

TEST(ModelsCli, BaseInitIsDeterministicPerSeed) {
  TempDir tmp;
  for (const char* out : {"a", "b", "c"}) {
    CliResult r = RunGraft({"base", "init", "--arch", "gpt2", "--preset", "tiny", "--out",
                            (tmp.path() / out).string(), "--seed", out[0] == 'c' ? "2" : "1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("35744 parameters"), std::string::npos) << r.out;
  }
  for (const char* file : {"config.json", "model.safetensors", "tokenizer.json"}) {
    EXPECT_EQ(Slurp(tmp.path() / "a" / file), Slurp(tmp.path() / "b" / file)) << file;
  }
  EXPECT_NE(Slurp(tmp.path() / "a/model.safetensors"), Slurp(tmp.path() / "c/model.safetensors"));
  auto config = ParseJson(Slurp(tmp.path() / "a/config.json"), "config.json");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ((*config)["architectures"], Json::array({"GPT2LMHeadModel"}));

  CliResult again =
      RunGraft({"base", "init", "--arch", "gpt2", "--out", (tmp.path() / "a").string()});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("not an empty directory"), std::string::npos) << again.err;
  CliResult bad =
      RunGraft({"base", "init", "--arch", "bert", "--out", (tmp.path() / "d").string()});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("unknown architecture 'bert'"), std::string::npos) << bad.err;
}

TEST(ModelsCli, GenerateWithAndWithoutAnAdapter) {
  TempDir tmp;
  const auto base = tmp.path() / "tiny-llama";
  ASSERT_EQ(RunGraft({"base", "init", "--arch", "llama", "--out", base.string(), "--seed", "4"})
                .exit_code,
            0);
  std::vector<std::string> args = {"generate", "--base",           base.string(), "--prompt",
                                   "Hello",    "--max-new-tokens", "6",           "--json"};
  CliResult plain = RunGraft(args);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  auto json = ParseJson(plain.out, "stdout");
  ASSERT_TRUE(json.ok()) << plain.out;
  EXPECT_EQ((*json)["prompt"], "Hello");
  EXPECT_EQ((*json)["prompt_tokens"], 5);
  EXPECT_LE((*json)["new_tokens"].size(), 6u);
  EXPECT_EQ(RunGraft(args).out, plain.out);  // greedy: deterministic

  const auto adapter = tmp.path() / "adapter";
  WriteAdapter(base, {"q_proj", "v_proj", "down_proj"}, adapter);
  args.insert(args.end(), {"--adapter", adapter.string()});
  CliResult adapted = RunGraft(args);
  ASSERT_EQ(adapted.exit_code, 0) << adapted.err;
  EXPECT_NE(adapted.out, plain.out);

  std::vector<std::string> sample = args;
  sample.insert(sample.end(),
                {"--temperature", "1.0", "--top-k", "20", "--seed", "9", "--threads", "1"});
  CliResult s1 = RunGraft(sample);
  ASSERT_EQ(s1.exit_code, 0) << s1.err;
  EXPECT_EQ(RunGraft(sample).out, s1.out);

  CliResult text =
      RunGraft({"generate", "--base", base.string(), "--prompt", "Hi", "--max-new-tokens", "3"});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(text.out.back(), '\n');
}

TEST(ModelsCli, GenerateRefusesAnAdapterMadeForAnotherBase) {
  TempDir tmp;
  const auto gpt2 = tmp.path() / "tiny-gpt2";
  const auto llama = tmp.path() / "tiny-llama";
  ASSERT_EQ(RunGraft({"base", "init", "--arch", "gpt2", "--out", gpt2.string()}).exit_code, 0);
  ASSERT_EQ(RunGraft({"base", "init", "--arch", "llama", "--out", llama.string()}).exit_code, 0);
  const auto adapter = tmp.path() / "adapter";
  WriteAdapter(gpt2, {"c_attn"}, adapter);
  CliResult r = RunGraft(
      {"generate", "--base", llama.string(), "--adapter", adapter.string(), "--prompt", "x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("probably made for 'tiny-gpt2'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace graft::testing
