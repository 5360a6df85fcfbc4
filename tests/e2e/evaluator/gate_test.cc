// The CI gate end to end through the CLI: a trained, signed adapter under a pre-declared policy
// passes (exit 0), fails an unreachable KPI (exit 10, named in the JUnit XML), is inconclusive on
// a too-small suite under `inconclusive: hold` (exit 11), and a post-hoc policy fails.
#include <gtest/gtest.h>

#include <cstdlib>

#include "core/file_util.h"
#include "core/json.h"
#include "core/sha256.h"
#include "tests/support/cli_runner.h"
#include "tests/support/tiny_registry.h"

namespace graft::testing {
namespace {
namespace fs = std::filesystem;

std::string Lines(const std::string& text, int n, int offset = 0) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    out += "{\"id\": \"" + std::to_string(i) + "\", \"slice\": \"" + (i % 2 ? "a" : "b") +
           "\", \"text\": \"" + text + " " + std::to_string((i + offset) % 5) + ".\"}\n";
  }
  return out;
}

class GateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = {{"GRAFT_REGISTRY", Path("reg")}};
    InitTinyRegistry(root_.path(), env_);
    Write("site_train.jsonl", Lines("the cat sat on the mat", 24));
    Write("site_valid.jsonl", Lines("the cat sat on the mat", 4, 1));
    Suite("site", "site.jsonl", Lines("the cat sat on the mat", 16, 2));
    Suite("general", "general.jsonl", Lines("a dog ran in the park", 16, 3));
    // Two items, one like the training data and one not: the adapter helps one far more than
    // the other, so with two items the interval of the improvement spans the KPI threshold.
    Suite("tiny", "tiny.jsonl",
          "{\"text\": \"the cat sat on the mat 1.\"}\n{\"text\": \"Zebras quiz xylophones!\"}\n");
  }

  std::string Path(const std::string& name) const { return (root_.path() / name).string(); }
  void Write(const std::string& name, const std::string& text) {
    ASSERT_TRUE(WriteFileAtomic(root_.path() / name, text).ok());
  }
  void Suite(const std::string& name, const std::string& data_file, const std::string& data) {
    Write(data_file, data);
    Write(name + ".yaml", "suite: " + name +
                              "\ntasks:\n  - name: text\n"
                              "    type: loglikelihood_rolling\n    data: {path: " +
                              data_file + ", sha256: \"" + Sha256Hex(data) +
                              "\"}\n    metrics: [bits_per_byte]\n");
    Expect({"suite", "register", Path(name + ".yaml")});
  }
  CliResult Run(const std::vector<std::string>& args) { return RunGraft(args, env_); }
  void Expect(const std::vector<std::string>& args) {
    CliResult r = Run(args);
    ASSERT_EQ(r.exit_code, 0) << args[0] << "\n" << r.out << r.err;
  }
  std::string RegisterPolicy(const std::string& name, const std::string& promotion) {
    Write(name + ".yaml", "policy: " + name + "\npromotion:\n" + promotion);
    CliResult r = Run({"policy", "register", Path(name + ".yaml"), "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Json::parse(r.out)["digest"].get<std::string>();
  }
  // Each adapter gets its own seed: identical training would give one adapter (one digest).
  void TrainAndRegister(const std::string& name, const std::string& policy_digest, int seed) {
    Write("train.yaml",
          "lora: {r: 4, lora_alpha: 8, target_modules: [c_attn]}\noptimizer: {lr: 3.0e-2}\n"
          "batch_size: 4\nmax_seq_len: 32\nmax_steps: 30\nthreads: 1\nseed: " +
              std::to_string(seed) + "\n");
    Expect({"train", "--base", Path("base"), "--data", Path("site_train.jsonl"), "--valid",
            Path("site_valid.jsonl"), "--config", Path("train.yaml"), "--out", Path(name), "--key",
            Path("trainer.pem"), "--policy", policy_digest});
    Expect({"adapter", "register", Path(name), "--name", name, "--base", "tiny"});
  }
  CliResult Gate(const std::string& adapter, const std::string& policy) {
    return Run({"gate", adapter, "--policy", policy, "--key", Path("evaluator.pem"), "--junit",
                Path(policy + ".xml"), "--markdown", Path(policy + ".md"), "--json-out",
                Path(policy + ".json")});
  }
  bool JunitValidates(const std::string& file) {
    std::string command = "xmllint --noout --schema '" +
                          (SourceDir() / "tests/data/junit.xsd").string() + "' '" + file +
                          "' >/dev/null 2>&1";
    return std::system(command.c_str()) == 0;
  }

  TempDir root_{"graft-gate-e2e"};
  std::map<std::string, std::string> env_;
};

TEST_F(GateTest, PassFailInconclusiveAndPostHoc) {
  const std::string regression =
      "  regressions: [{suite: general, metric: bits_per_byte, margin: 0.5, relative: true}]\n";
  // Its exit criterion cannot hold for a tiny model (general text at <= 0.5 bits per byte), so
  // `monitor` retires what it governs.
  std::string good = RegisterPolicy(
      "good", "  kpis: [{suite: site, metric: bits_per_byte, min_delta: 0.0}]\n" + regression +
                  "exit:\n  - {monitor: general, metric: bits_per_byte, ceiling: 0.5}\n");
  std::string strict = RegisterPolicy(
      "strict", "  kpis: [{suite: site, metric: bits_per_byte, min_delta: 5.0}]\n" + regression);
  std::string hold =
      RegisterPolicy("hold",
                     "  kpis: [{suite: tiny, metric: bits_per_byte, min_delta: 0.2}]\n"
                     "  inconclusive: hold\n");
  TrainAndRegister("site-bot", good, 1);

  CliResult pass = Gate("site-bot@1", "good");
  EXPECT_EQ(pass.exit_code, 0) << pass.out << pass.err;
  EXPECT_NE(pass.out.find("PASS"), std::string::npos) << pass.out;
  EXPECT_TRUE(JunitValidates(Path("good.xml")));
  auto markdown = ReadFile(Path("good.md"));
  ASSERT_TRUE(markdown.ok());
  EXPECT_NE(markdown->find("| kpi site/bits\\_per\\_byte"), std::string::npos) << *markdown;
  EXPECT_NE(markdown->find("| delta-method t |"), std::string::npos) << *markdown;
  EXPECT_NE(markdown->find("Look 1; 1 candidate gated under the policy"), std::string::npos)
      << *markdown;
  // No seed shopping: the gate's bootstrap comes from the policy or the digests.
  CliResult seeded = Run(
      {"gate", "site-bot@1", "--policy", "good", "--key", Path("evaluator.pem"), "--seed", "3"});
  EXPECT_EQ(seeded.exit_code, 2) << seeded.out << seeded.err;
  EXPECT_NE(seeded.err.find("--seed is for graft eval only"), std::string::npos) << seeded.err;
  Expect({"approve", "site-bot@1", "--key", Path("approver.pem")});
  Expect({"promote", "site-bot@1", "--channel", "production"});
  CliResult shown = Run({"adapter", "show", "site-bot@1"});
  EXPECT_NE(shown.out.find("site-bot@production"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("pass"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("approvals:  1"), std::string::npos) << shown.out;
  CliResult monitor = Run({"monitor", "--channel", "site-bot@production", "--key",
                           Path("evaluator.pem"), "--resamples", "200"});
  EXPECT_EQ(monitor.exit_code, 0) << monitor.out << monitor.err;
  EXPECT_NE(monitor.out.find("observed general/bits_per_byte"), std::string::npos) << monitor.out;
  EXPECT_NE(monitor.out.find("retired"), std::string::npos) << monitor.out;
  CliResult listed = Run({"adapter", "list", "--stage", "retired"});
  EXPECT_NE(listed.out.find("site-bot@1"), std::string::npos) << listed.out;

  // The policies `strict` and `hold` were registered before training but the adapter's
  // provenance names `good` only: for it they are not pre-declared.
  CliResult post_hoc = Gate("site-bot@1", "strict");
  EXPECT_EQ(post_hoc.exit_code, 10) << post_hoc.out << post_hoc.err;
  EXPECT_NE(post_hoc.out.find("post-hoc policy"), std::string::npos) << post_hoc.out;

  TrainAndRegister("strict-bot", strict, 2);
  CliResult fail = Gate("strict-bot@1", "strict");
  EXPECT_EQ(fail.exit_code, 10) << fail.out << fail.err;
  EXPECT_TRUE(JunitValidates(Path("strict.xml")));
  auto junit = ReadFile(Path("strict.xml"));
  ASSERT_TRUE(junit.ok());
  EXPECT_NE(junit->find("<failure"), std::string::npos) << *junit;
  EXPECT_NE(junit->find("bits_per_byte"), std::string::npos) << *junit;

  TrainAndRegister("hold-bot", hold, 3);
  CliResult inconclusive = Gate("hold-bot@1", "hold");
  EXPECT_EQ(inconclusive.exit_code, 11) << inconclusive.out << inconclusive.err;

  // The adapter that failed its gate cannot be promoted.
  CliResult blocked = Run({"promote", "strict-bot@1", "--channel", "production"});
  EXPECT_NE(blocked.exit_code, 0) << blocked.out;
}

TEST_F(GateTest, ARevokedTrainingDatasetFailsTheGateWithoutEvaluating) {
  Expect({"dataset", "register", Path("site_train.jsonl"), "--name", "site-train"});
  std::string good =
      RegisterPolicy("good", "  kpis: [{suite: site, metric: bits_per_byte, min_delta: 0.0}]\n");
  TrainAndRegister("site-bot", good, 4);
  Expect({"dataset", "revoke", "site-train@1", "--reason", "licence withdrawn"});

  // A CI gate gets a FAIL with its reports, not an error: exit 10, naming the revocation.
  CliResult gate = Gate("site-bot@1", "good");
  EXPECT_EQ(gate.exit_code, 10) << gate.out << gate.err;
  EXPECT_NE(gate.out.find("revoked: dataset"), std::string::npos) << gate.out;
  EXPECT_NE(gate.err.find("not evaluating site-bot@1: its dataset sha256:"), std::string::npos)
      << gate.err;
  EXPECT_NE(gate.err.find("licence withdrawn"), std::string::npos) << gate.err;
  EXPECT_TRUE(JunitValidates(Path("good.xml")));
  auto junit = ReadFile(Path("good.xml"));
  ASSERT_TRUE(junit.ok());
  EXPECT_NE(junit->find("<failure"), std::string::npos) << *junit;
  // The decision is stored (and signed) like any other; no evaluation was run for it.
  CliResult log = Run({"log", "show", "--json"});
  ASSERT_EQ(log.exit_code, 0) << log.err;
  std::map<std::string, int> attestations;
  for (const Json& event : Json::parse(log.out)) {
    if (event["action"] == "attestation.add") ++attestations[event["details"]["kind"]];
  }
  EXPECT_EQ(attestations["decision"], 1) << log.out;
  EXPECT_EQ(attestations["evaluation"], 0) << log.out;
}

}  // namespace
}  // namespace graft::testing
