// The lifecycle through the built CLI: policy, approve, promote, rollback and retire.
#include <gtest/gtest.h>

#include "core/file_util.h"
#include "core/json.h"
#include "core/keys.h"
#include "policies/lifecycle.h"
#include "tests/e2e/policies/policy_cli_helpers.h"
#include "tests/support/cli_runner.h"
#include "tests/support/peft_fixture.h"

namespace graft::testing {
namespace {
namespace fs = std::filesystem;

constexpr std::string_view kPolicyYaml =
    "policy: bot\n"
    "promotion:\n"
    "  kpis: [{suite: kpi, metric: acc, min_delta: 0.05}]\n"
    "  require: {signed_by: trainer, approvals: 1, separate_duties: true}\n";

class LifecycleCli : public ::testing::Test {
 protected:
  void SetUp() override {
    reg_ = Path("reg");
    ASSERT_EQ(RunGraft({"init", reg_}).exit_code, 0);
  }
  std::string Path(const std::string& name) { return (temp_.path() / name).string(); }
  CliResult Run(std::vector<std::string> args) {
    args.insert(args.end(), {"--registry", reg_});
    return RunGraft(args);
  }
  // key generate + key trust with `role`; returns the private key file.
  std::string Key(const std::string& name, const std::string& role) {
    std::string file = Path(name + ".pem");
    EXPECT_EQ(RunGraft({"key", "generate", "--out", file}).exit_code, 0);
    CliResult trust = Run({"key", "trust", file + ".pub", "--role", role, "--name", name});
    EXPECT_EQ(trust.exit_code, 0) << trust.err;
    return file;
  }
  std::string Digest(const CliResult& r) {
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return ParseJson(r.out, "out").value()["digest"].get<std::string>().substr(7);
  }
  std::string RegisterPolicy() {
    EXPECT_TRUE(WriteFileAtomic(Path("policy.yaml"), kPolicyYaml).ok());
    return Digest(Run({"policy", "register", Path("policy.yaml"), "--json"}));
  }
  // Trainer, evaluator and approver keys, a base, the policy, and a signed adapter "bot" trained
  // under it. Returns the adapter digest.
  std::string Scenario(int seed = 0) {
    if (trainer_.empty()) {
      trainer_ = Key("trainer", "trainer");
      evaluator_ = Key("evaluator", "evaluator");
      approver_ = Key("approver", "approver");
      EXPECT_TRUE(WriteTinyGpt2Base(Path("tiny")).ok());
      base_ = Digest(Run({"base", "register", Path("tiny"), "--name", "tiny", "--json"}));
      policy_ = RegisterPolicy();
    }
    std::string dir = Path("adapter-" + std::to_string(seed));
    LoraShape shape;
    shape.seed = seed;
    PrivateKey key = PrivateKey::LoadPem(trainer_).value();
    EXPECT_TRUE(WriteLoraAdapter(dir, shape).ok());
    ProvenanceInputs inputs;
    inputs.base_digest = base_;
    inputs.policy_digest = policy_;
    if (!dataset_.empty()) inputs.dataset_digests = {dataset_};
    EXPECT_TRUE(WriteProvenance(dir, key, inputs).ok());
    EXPECT_TRUE(SignAdapter(dir, key).ok());
    return Digest(Run({"adapter", "register", dir, "--name", "bot", "--json"}));
  }
  // What `graft gate` does after evaluating: a passing comparison, decided and stored.
  void Gate(const std::string& adapter) {
    Result<policies::Decision> decision =
        StoreGateDecision(reg_, adapter, policy_, evaluator_, 0.1);
    ASSERT_TRUE(decision.ok()) << decision.status().ToString();
    ASSERT_EQ(decision->exit_code, 0);
  }

  TempDir temp_{"graft-lifecycle-e2e"};
  std::string reg_, trainer_, evaluator_, approver_, base_, policy_;
  std::string dataset_;  // the training dataset Scenario's adapters name, when set
};

TEST_F(LifecycleCli, PolicyRegisterListShow) {
  std::string digest = RegisterPolicy();
  EXPECT_EQ("sha256:" + digest, policies::PolicyDigest(kPolicyYaml));
  CliResult list = Run({"policy", "list"});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(Has(list.out, "bot@1")) << list.out;
  CliResult show = Run({"policy", "show", "bot@1", "--json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_TRUE(Has(show.out, digest)) << show.out;
  EXPECT_EQ(Run({"policy", "show", "nope"}).exit_code, 2);
}

TEST_F(LifecycleCli, InvalidPolicyExits2AndChangesNothing) {
  auto before = HashTree(reg_);
  ASSERT_TRUE(WriteFileAtomic(Path("bad.yaml"), "policy: bot\npromotion: {kpis: 3}\n").ok());
  CliResult bad = Run({"policy", "register", Path("bad.yaml")});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(Has(bad.err, "bad.yaml")) << bad.err;
  EXPECT_EQ(HashTree(reg_), before);
}

TEST_F(LifecycleCli, ApproveWithAnUntrustedKeyExits12) {
  std::string adapter = Scenario();
  std::string stranger = Path("stranger.pem");
  ASSERT_EQ(RunGraft({"key", "generate", "--out", stranger}).exit_code, 0);
  CliResult r = Run({"approve", adapter, "--key", stranger});
  EXPECT_EQ(r.exit_code, 12);
  EXPECT_TRUE(Has(r.err, "not a trusted approver key")) << r.err;
}

TEST_F(LifecycleCli, PromoteNeedsAGateDecisionAndAnApprovalThenRollbackAndRetire) {
  std::string first = Scenario(1);
  CliResult blocked = Run({"promote", first, "--channel", "production"});
  EXPECT_EQ(blocked.exit_code, 10);
  EXPECT_TRUE(Has(blocked.out, "no stored gate decision")) << blocked.out;
  Gate(first);
  CliResult unapproved = Run({"promote", first, "--channel", "production"});
  EXPECT_EQ(unapproved.exit_code, 10);
  EXPECT_TRUE(Has(unapproved.out, "0 of 1 distinct approvals")) << unapproved.out;
  CliResult approve = Run({"approve", first, "--key", approver_, "--comment", "ok"});
  ASSERT_EQ(approve.exit_code, 0) << approve.err;
  CliResult promoted = Run({"promote", first, "--channel", "production", "--json"});
  ASSERT_EQ(promoted.exit_code, 0) << promoted.err << promoted.out;
  Json json = ParseJson(promoted.out, "promote").value();
  EXPECT_EQ(json["channel"], "bot@production");
  EXPECT_TRUE(json["previous"].is_null());

  std::string second = Scenario(2);
  Gate(second);
  ASSERT_EQ(Run({"approve", second, "--key", approver_}).exit_code, 0);
  CliResult again = Run({"promote", "bot@2", "--channel", "production"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(Has(again.out, "was sha256:" + first.substr(0, 12))) << again.out;

  CliResult rollback = Run({"rollback", "bot", "--channel", "production", "--json"});
  ASSERT_EQ(rollback.exit_code, 0) << rollback.err;
  EXPECT_EQ(ParseJson(rollback.out, "rollback").value()["to"], "sha256:" + first);
  CliResult nothing = Run({"rollback", "bot", "--channel", "production"});
  EXPECT_EQ(nothing.exit_code, 2);
  EXPECT_TRUE(Has(nothing.err, "no previous version")) << nothing.err;

  CliResult retire = Run({"retire", second, "--reason", "superseded"});
  EXPECT_EQ(retire.exit_code, 0) << retire.err;
  CliResult list = Run({"adapter", "list", "--stage", "retired", "--json"});
  EXPECT_TRUE(Has(list.out, second)) << list.out;
  EXPECT_EQ(Run({"promote", second, "--channel", "production"}).exit_code, 2);
  EXPECT_EQ(Run({"retire", first}).exit_code, 2);  // --reason is required
}

TEST_F(LifecycleCli, RevokingADatasetBlocksExportOfItsAdaptersAndAuditReportsTheChannel) {
  ASSERT_TRUE(WriteFileAtomic(Path("train.jsonl"), "{\"text\": \"hello\"}\n").ok());
  dataset_ = Digest(Run({"dataset", "register", Path("train.jsonl"), "--name", "train", "--json"}));
  std::string adapter = Scenario(1);
  Gate(adapter);
  ASSERT_EQ(Run({"approve", adapter, "--key", approver_}).exit_code, 0);
  ASSERT_EQ(Run({"promote", adapter, "--channel", "production"}).exit_code, 0);
  CliResult exported = Run({"adapter", "export", "bot@1", "--out", Path("out")});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;

  CliResult revoke = Run({"dataset", "revoke", "train@1", "--reason", "licence withdrawn"});
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  auto before = HashTree(reg_);
  CliResult refused = Run({"adapter", "export", "bot@production", "--out", Path("again")});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_TRUE(Has(refused.err, "dataset sha256:" + dataset_ + " revoked at event")) << refused.err;
  EXPECT_TRUE(Has(refused.err, "licence withdrawn")) << refused.err;
  EXPECT_FALSE(fs::exists(Path("again")));
  EXPECT_EQ(HashTree(reg_), before);

  // The registry is intact, so the audit passes, and it reports the channel serving the adapter.
  CliResult audit = Run({"audit", "verify"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  EXPECT_TRUE(Has(audit.out, "FINDING: channel bot@production serves bot@1")) << audit.out;
  EXPECT_TRUE(Has(audit.out, "whose dataset sha256:" + dataset_)) << audit.out;
  CliResult json = Run({"audit", "verify", "--json"});
  EXPECT_EQ(ParseJson(json.out, "audit").value()["findings"].size(), 1u) << json.out;
  // And a revoked adapter cannot be promoted elsewhere.
  CliResult promote = Run({"promote", adapter, "--channel", "canary"});
  EXPECT_EQ(promote.exit_code, 10) << promote.out << promote.err;
  EXPECT_TRUE(Has(promote.out, "revoked: dataset")) << promote.out;
}

}  // namespace
}  // namespace graft::testing
