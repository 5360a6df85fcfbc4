// `graft train` with a registry announces its run before it starts: the provenance names the
// announcement (event and RFC 6962 inclusion proof under a signed checkpoint), and the gate's
// pre-declared check uses the announcement named there (docs/policies.md, "Announced runs").
#include <gtest/gtest.h>

#include "core/dsse.h"
#include "core/file_util.h"
#include "core/json.h"
#include "core/sha256.h"
#include "registry/merkle_tree.h"
#include "registry/registry.h"
#include "tests/e2e/policies/policy_cli_helpers.h"
#include "tests/support/cli_runner.h"
#include "tests/support/tiny_registry.h"

namespace graft::testing {
namespace {
namespace fs = std::filesystem;

std::string Lines(const std::string& text, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += "{\"text\": \"" + text + " " + std::to_string(i) + ".\"}\n";
  return out;
}

class TrainAnnounceCli : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = {{"GRAFT_REGISTRY", Path("reg")}};
    InitTinyRegistry(temp_.path(), env_);
    Write("train.jsonl", Lines("the cat sat on the mat", 16));
    const std::string site = Lines("the cat sat on the mat", 16);
    Write("site.jsonl", site);
    Write("site.yaml", TextSuiteYaml("site", "site.jsonl", site));
    Expect({"suite", "register", Path("site.yaml")});
    Write("bot.yaml",
          "policy: bot\npromotion:\n"
          "  regressions: [{suite: site, metric: bits_per_byte, margin: 100.0}]\n");
    Expect({"policy", "register", Path("bot.yaml")});
    Write("train.yaml",
          "lora: {r: 2, lora_alpha: 4, target_modules: [c_attn]}\nbatch_size: 4\n"
          "max_seq_len: 16\nmax_steps: 2\nthreads: 1\nseed: 1\n");
  }
  std::string Path(const std::string& name) const { return (temp_.path() / name).string(); }
  void Write(const std::string& name, const std::string& text) {
    ASSERT_TRUE(WriteFileAtomic(temp_.path() / name, text).ok());
  }
  CliResult Run(const std::vector<std::string>& args) { return RunGraft(args, env_); }
  void Expect(const std::vector<std::string>& args) {
    CliResult r = Run(args);
    ASSERT_EQ(r.exit_code, 0) << args[0] << "\n" << r.out << r.err;
  }
  CliResult Train(const std::string& out, std::vector<std::string> extra = {},
                  const std::string& key = "trainer.pem", const std::string& policy = "bot") {
    std::vector<std::string> args = {
        "train",    "--base",           Path("base"), "--data",  Path("train.jsonl"),
        "--config", Path("train.yaml"), "--out",      Path(out), "--key",
        Path(key),  "--policy",         policy};
    args.insert(args.end(), extra.begin(), extra.end());
    return Run(args);
  }
  // The SLSA predicate of OUT/provenance.intoto.jsonl.
  Json Predicate(const std::string& out) {
    std::string text = ReadFile(Path(out) / fs::path("provenance.intoto.jsonl")).value();
    DsseEnvelope envelope = DsseEnvelope::Parse(text.substr(0, text.find('\n')), "p").value();
    return ParseJson(envelope.payload, "payload").value()["predicate"];
  }
  // The gate's JSON report (its criteria with their reasons).
  std::string GateReport(const std::string& adapter) {
    CliResult gate = Run({"gate", adapter, "--policy", "bot", "--key", Path("evaluator.pem"),
                          "--json", Path(adapter + ".json")});
    // The verdict is not what is tested here (a tiny model on tiny data).
    EXPECT_TRUE(gate.exit_code == 0 || gate.exit_code == 10) << gate.out << gate.err;
    Result<std::string> read = ReadFile(Path(adapter + ".json"));
    std::string report = read.ok() ? *read : std::string();
    EXPECT_TRUE(Has(report, "pre-declared policy")) << report;
    return report;
  }

  TempDir temp_{"graft-train-announce"};
  std::map<std::string, std::string> env_;
};

TEST_F(TrainAnnounceCli, TrainAnnouncesItsRunAndTheGateUsesTheAnnouncementItsProvenanceNames) {
  CliResult trained = Train("bot");
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  EXPECT_TRUE(Has(trained.err, "announced run ")) << trained.err;

  const Json predicate = Predicate("bot");
  const Json named = predicate["buildDefinition"]["externalParameters"]["announcement"];
  ASSERT_TRUE(named.is_object()) << predicate.dump(2);
  const uint64_t seq = named["seq"].get<uint64_t>();
  EXPECT_EQ(named["run_id"], predicate["runDetails"]["metadata"]["invocationId"]);

  // The event is the run's announcement, and the proof places it under the signed checkpoint.
  {
    registry::Registry reg = registry::Registry::Open(Path("reg")).value();
    Result<registry::Checkpoint> checkpoint =
        reg.VerifyCheckpoint(named["checkpoint"].get<std::string>());
    ASSERT_TRUE(checkpoint.ok()) << checkpoint.status().ToString();
    EXPECT_EQ(checkpoint->size, seq + 1);  // taken right after the announcement
    registry::Event event = reg.GetEvent(seq).value();
    EXPECT_EQ(event.json["action"], "run.announce");
    EXPECT_EQ(event.json["details"]["run_id"], named["run_id"]);
    EXPECT_EQ(event.json["details"]["policy"], reg.Resolve("policy", "bot").value().digest);
    std::vector<Digest> proof;
    for (const Json& hash : named["inclusion_proof"]) {
      proof.push_back(ParseDigestHex(hash.get<std::string>()).value());
    }
    EXPECT_TRUE(registry::VerifyInclusion(registry::MerkleLeafHash(event.body), seq,
                                          checkpoint->size, proof, checkpoint->root));
  }
  // The checkpoint it carries is one the registry's log still extends.
  Write("announced.checkpoint", named["checkpoint"].get<std::string>());
  CliResult audit = Run({"audit", "verify", "--checkpoint", Path("announced.checkpoint")});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  CliResult listed = Run({"run", "list", "--policy", "bot", "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(ParseJson(listed.out, "l").value()["count"], 1);

  Expect({"adapter", "register", Path("bot"), "--name", "bot", "--base", "tiny"});
  const std::string reason = GateReport("bot@1");
  EXPECT_TRUE(Has(reason, "before the training run was announced at event " + std::to_string(seq) +
                              " (the announcement its signed provenance names"))
      << reason;
}

// Data-parallel: rank 0 announces, once, and its provenance names the announcement.
TEST_F(TrainAnnounceCli, OnlyRankZeroOfADataParallelRunAnnounces) {
  CliResult trained = Train("pair", {"--nproc", "2"});
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  CliResult listed = Run({"run", "list", "--json"});
  const Json runs = ParseJson(listed.out, "l").value();
  ASSERT_EQ(runs["count"], 1) << listed.out;
  const Json named = Predicate("pair")["buildDefinition"]["externalParameters"]["announcement"];
  ASSERT_TRUE(named.is_object());
  EXPECT_EQ(named["seq"], runs["runs"][0]["seq"]);
  EXPECT_EQ(named["run_id"], runs["runs"][0]["run_id"]);
}

TEST_F(TrainAnnounceCli, WithoutAnAnnouncementTheRunIsReportedAsNotAnnounced) {
  CliResult trained = Train("quiet", {"--no-announce"});
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  EXPECT_FALSE(
      Predicate("quiet")["buildDefinition"]["externalParameters"].contains("announcement"));
  CliResult listed = Run({"run", "list", "--json"});
  EXPECT_EQ(ParseJson(listed.out, "l").value()["count"], 0);
  Expect({"adapter", "register", Path("quiet"), "--name", "quiet", "--base", "tiny"});
  const std::string reason = GateReport("quiet@1");
  EXPECT_TRUE(Has(reason, "(the run was not announced)")) << reason;
}

// A key the registry does not trust as a trainer key cannot announce: the run goes on, says so,
// and its provenance names no announcement.
TEST_F(TrainAnnounceCli, AKeyThatMayNotAnnounceTrainsUnannouncedAndSaysSo) {
  auto log_size = [&] { return registry::Registry::Open(Path("reg")).value().LogSize().value(); };
  const uint64_t events = log_size();
  CliResult trained = Train("unannounced", {}, "approver.pem");
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  EXPECT_TRUE(Has(trained.err, "graft: not announcing the run in " + Path("reg") + ": key "))
      << trained.err;
  EXPECT_TRUE(Has(trained.err, "is not a trusted trainer key")) << trained.err;
  EXPECT_FALSE(
      Predicate("unannounced")["buildDefinition"]["externalParameters"].contains("announcement"));
  EXPECT_EQ(log_size(), events);  // nothing announced
  // A policy the registry does not hold (a digest given as is) cannot be announced either.
  CliResult unregistered = Train("unregistered", {}, "trainer.pem", std::string(64, 'a'));
  ASSERT_EQ(unregistered.exit_code, 0) << unregistered.err;
  EXPECT_TRUE(Has(unregistered.err, "graft: not announcing the run")) << unregistered.err;
  EXPECT_EQ(log_size(), events);
}

}  // namespace
}  // namespace graft::testing
