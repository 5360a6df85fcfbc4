// `graft eval --lm-eval DIR`: lm-evaluation-harness results and samples files for the
// adapter and its base, whose numbers are the evaluation's own.
#include <gtest/gtest.h>

#include "core/file_util.h"
#include "core/json.h"
#include "core/sha256.h"
#include "tests/support/cli_runner.h"
#include "tests/support/tiny_registry.h"

namespace graft::testing {
namespace {
namespace fs = std::filesystem;

// The one file in `dir` whose name starts with `prefix`.
fs::path OnlyFile(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> found;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename().string().starts_with(prefix)) found.push_back(entry.path());
  }
  EXPECT_EQ(found.size(), 1u) << dir << " " << prefix;
  return found.empty() ? fs::path() : found[0];
}

TEST(LmEvalCli, WritesResultsAndSamplesForAdapterAndBase) {
  TempDir root("graft-lm-eval");
  auto path = [&](const std::string& name) { return (root.path() / name).string(); };
  const std::map<std::string, std::string> env = {{"GRAFT_REGISTRY", path("reg")}};
  InitTinyRegistry(root.path(), env);
  auto expect = [&](const std::vector<std::string>& args) {
    CliResult r = RunGraft(args, env);
    EXPECT_EQ(r.exit_code, 0) << args[0] << "\n" << r.out << r.err;
    return r;
  };
  std::string data;
  for (int i = 0; i < 8; ++i) {
    data += "{\"id\": \"t" + std::to_string(i) + "\", \"text\": \"the cat sat on the mat " +
            std::to_string(i % 3) + ".\"}\n";
  }
  ASSERT_TRUE(WriteFileAtomic(root.path() / "data.jsonl", data).ok());
  ASSERT_TRUE(
      WriteFileAtomic(root.path() / "kpi.yaml",
                      "suite: kpi\ntasks:\n  - name: text\n    type: loglikelihood_rolling\n"
                      "    data: {path: data.jsonl, sha256: \"" +
                          Sha256Hex(data) + "\"}\n    metrics: [bits_per_byte]\n")
          .ok());
  ASSERT_TRUE(WriteFileAtomic(root.path() / "train.yaml",
                              "lora: {r: 2, lora_alpha: 4, target_modules: [c_attn]}\n"
                              "optimizer: {lr: 1.0e-2}\nbatch_size: 4\nmax_seq_len: 32\n"
                              "max_steps: 4\nthreads: 1\n")
                  .ok());
  expect({"suite", "register", path("kpi.yaml")});
  expect({"train", "--base", path("base"), "--data", path("data.jsonl"), "--config",
          path("train.yaml"), "--out", path("bot"), "--key", path("trainer.pem")});
  expect({"adapter", "register", path("bot"), "--name", "bot", "--base", "tiny"});

  CliResult missing_out = RunGraft(
      {"eval", "bot@1", "--suite", "kpi", "--key", path("evaluator.pem"), "--lm-eval"}, env);
  EXPECT_EQ(missing_out.exit_code, 2) << missing_out.err;
  EXPECT_NE(missing_out.err.find("--lm-eval"), std::string::npos) << missing_out.err;

  expect({"eval", "bot@1", "--suite", "kpi", "--key", path("evaluator.pem"), "--resamples", "200",
          "--lm-eval", path("lm"), "--json-out", path("eval.json")});
  const Json signed_results = Json::parse(ReadFile(root.path() / "eval.json").value());
  const Json& comparison =
      signed_results["predicate"]["graft"]["suites"][0]["tasks"][0]["metrics"][0];
  ASSERT_TRUE(fs::is_directory(root.path() / "lm" / "bot@1")) << signed_results.dump();
  const Json adapter =
      Json::parse(ReadFile(OnlyFile(root.path() / "lm" / "bot@1", "results_")).value());
  EXPECT_EQ(adapter["results"]["kpi.text"]["bits_per_byte,none"], comparison["adapter"])
      << comparison.dump();
  EXPECT_EQ(adapter["results"]["kpi.text"]["bits_per_byte_stderr,none"], "N/A");
  EXPECT_EQ(adapter["n-samples"]["kpi.text"]["effective"], 8);
  EXPECT_EQ(adapter["model_name"], "bot@1");

  fs::path base_dir;
  for (const auto& entry : fs::directory_iterator(root.path() / "lm")) {
    if (entry.path().filename().string().starts_with("base-")) base_dir = entry.path();
  }
  ASSERT_FALSE(base_dir.empty());
  const Json base = Json::parse(ReadFile(OnlyFile(base_dir, "results_")).value());
  EXPECT_EQ(base["results"]["kpi.text"]["bits_per_byte,none"], comparison["base"]);
  const std::string samples = ReadFile(OnlyFile(base_dir, "samples_kpi.text_")).value();
  EXPECT_EQ(std::count(samples.begin(), samples.end(), '\n'), 8);
  EXPECT_EQ(Json::parse(samples.substr(0, samples.find('\n')))["doc"]["id"], "t0");
}

}  // namespace
}  // namespace graft::testing
