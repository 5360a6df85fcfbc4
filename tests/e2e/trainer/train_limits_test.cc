// `graft train` checks max_seq_len against the base's context before it starts, and a refused or
// failed run leaves no OUT.partial that would block the corrected rerun.
#include <gtest/gtest.h>

#include "core/file_util.h"
#include "core/json.h"
#include "tests/support/cli_runner.h"

namespace graft::testing {
namespace {
namespace fs = std::filesystem;

TEST(TrainLimits, MaxSeqLenAboveTheBaseContextIsRefusedBeforeStartingAndTheRerunWorks) {
  TempDir temp("graft-train-limits");
  auto path = [&](const std::string& name) { return (temp.path() / name).string(); };
  ASSERT_EQ(RunGraft({"base", "init", "--arch", "gpt2", "--preset", "tiny", "--out", path("base")})
                .exit_code,
            0);
  const Json config = ParseJson(ReadFile(path("base/config.json")).value(), "config").value();
  const int64_t context = config["n_positions"].get<int64_t>();
  ASSERT_EQ(RunGraft({"key", "generate", "--out", path("key.pem")}).exit_code, 0);
  std::string corpus;
  for (int i = 0; i < 8; ++i)
    corpus += "{\"text\": \"the cat sat on the mat " + std::to_string(i) + ".\"}\n";
  ASSERT_TRUE(WriteFileAtomic(path("train.jsonl"), corpus).ok());
  auto write_config = [&](int64_t max_seq_len) {
    ASSERT_TRUE(WriteFileAtomic(path("train.yaml"),
                                "lora: {r: 2, lora_alpha: 4, target_modules: [c_attn]}\n"
                                "batch_size: 2\nmax_steps: 2\nthreads: 1\nmax_seq_len: " +
                                    std::to_string(max_seq_len) + "\n")
                    .ok());
  };
  const std::vector<std::string> args = {
      "train",        "--base",           path("base"), "--data",    path("train.jsonl"),
      "--config",     path("train.yaml"), "--out",      path("out"), "--key",
      path("key.pem")};
  write_config(context + 1);
  CliResult refused = RunGraft(args);
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_NE(refused.err.find("max_seq_len " + std::to_string(context + 1) +
                             " is longer than the base's context (" + std::to_string(context)),
            std::string::npos)
      << refused.err;
  EXPECT_FALSE(fs::exists(path("out.partial")));
  EXPECT_FALSE(fs::exists(path("out")));
  write_config(context);
  CliResult rerun = RunGraft(args);
  EXPECT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_TRUE(fs::exists(path("out/adapter_model.safetensors")));
  EXPECT_FALSE(fs::exists(path("out.partial")));
}

}  // namespace
}  // namespace graft::testing
