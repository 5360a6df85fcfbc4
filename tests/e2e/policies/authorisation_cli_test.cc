// Signed changes, the audit's replay of every channel change, and witnesses, through the built
// CLI on a registry initialised with an admin key (docs/registry.md, "Signed changes").
#include <gtest/gtest.h>

#include "core/file_util.h"
#include "core/json.h"
#include "core/keys.h"
#include "core/sha256.h"
#include "policies/lifecycle.h"
#include "registry/authorisation.h"
#include "registry/checkpoint.h"
#include "registry/event_log.h"
#include "registry/projection.h"
#include "registry/registry_key.h"
#include "registry/transaction.h"
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
    "  require: {approvals: 1, separate_duties: true}\n";

class AuthorisationCli : public ::testing::Test {
 protected:
  void SetUp() override {
    reg_ = Path("reg");
    admin_ = Path("admin.pem");
    CliResult init = RunGraft({"init", reg_, "--new-admin-key", admin_});
    ASSERT_EQ(init.exit_code, 0) << init.err;
    ASSERT_TRUE(Has(init.out, "admin key:")) << init.out;
    trainer_ = Key("trainer", "trainer");
    evaluator_ = Key("evaluator", "evaluator");
    approver_ = Key("approver", "approver");
    release_ = Key("release", "release");
    curator_ = Key("curator", "curator");
    ASSERT_TRUE(WriteTinyGpt2Base(Path("tiny")).ok());
    base_ = Digest(
        Run({"base", "register", Path("tiny"), "--name", "tiny", "--json", "--key", curator_}));
    ASSERT_TRUE(WriteFileAtomic(Path("policy.yaml"), kPolicyYaml).ok());
    policy_ = Digest(
        Run({"policy", "register", Path("policy.yaml"), "--json"}, {{"GRAFT_KEY", curator_}}));
  }
  std::string Path(const std::string& name) { return (temp_.path() / name).string(); }
  CliResult Run(std::vector<std::string> args, const std::map<std::string, std::string>& env = {}) {
    args.insert(args.end(), {"--registry", reg_});
    return RunGraft(args, env);
  }
  // key generate + key trust (signed by the admin key) with `role`; returns the private key.
  std::string Key(const std::string& name, const std::string& role) {
    std::string file = Path(name + ".pem");
    EXPECT_EQ(RunGraft({"key", "generate", "--out", file}).exit_code, 0);
    CliResult trust =
        Run({"key", "trust", file + ".pub", "--role", role, "--name", name, "--key", admin_});
    EXPECT_EQ(trust.exit_code, 0) << trust.err;
    return file;
  }
  std::string Digest(const CliResult& r) {
    EXPECT_EQ(r.exit_code, 0) << r.err;
    Result<Json> json = ParseJson(r.out, "out");
    return json.ok() ? (*json)["digest"].get<std::string>().substr(7) : "";
  }
  // A signed adapter "bot" trained under `policy` (default: the registered one).
  std::string Adapter(int seed, std::string policy = "") {
    std::string dir = Path("adapter-" + std::to_string(seed));
    LoraShape shape;
    shape.seed = seed;
    PrivateKey key = PrivateKey::LoadPem(trainer_).value();
    EXPECT_TRUE(WriteLoraAdapter(dir, shape).ok());
    ProvenanceInputs inputs;
    inputs.base_digest = base_;
    inputs.policy_digest = policy.empty() ? policy_ : policy;
    EXPECT_TRUE(WriteProvenance(dir, key, inputs).ok());
    EXPECT_TRUE(SignAdapter(dir, key).ok());
    return Digest(Run({"adapter", "register", dir, "--name", "bot", "--json"}));
  }
  void Gate(const std::string& adapter, const std::string& policy, double delta) {
    Result<Decision> decision = StoreGateDecision(reg_, adapter, policy, evaluator_, delta);
    ASSERT_TRUE(decision.ok()) << decision.status().ToString();
  }
  // The registry's checkpoint key, wherever init put it (an insider may hold it too).
  PrivateKey RegistryKey() {
    const std::string key_id = registry::Registry::Open(reg_).value().registry_key().key_id();
    return registry::LoadRegistryKey(reg_, key_id).value();
  }
  // What an insider with write access to the directory can do: append an event straight into
  // the database (applied to the tables) and sign a checkpoint with the registry key.
  void Forge(const std::string& action, const Json& details, const PrivateKey* signer = nullptr) {
    registry::Database db =
        registry::Database::Open(fs::path(reg_) / registry::kDatabaseFile).value();
    registry::Transaction transaction = registry::Transaction::Begin(db).value();
    registry::EventLog log(db);
    Result<registry::Event> event = log.Append(action, "intruder@host", details, {}, signer);
    ASSERT_TRUE(event.ok()) << event.status().ToString();
    ASSERT_TRUE(registry::Projection(db).Apply(*event).ok());
    PrivateKey key = RegistryKey();
    std::string origin = registry::Registry::Open(reg_).value().origin();
    uint64_t size = log.Size().value();
    std::string note =
        registry::Checkpoint{origin, size, log.RootHash(size).value()}.Sign(origin, key).value();
    ASSERT_TRUE(db.Run("INSERT INTO checkpoints(size, note) VALUES(?, ?)", size, note).ok());
    ASSERT_TRUE(transaction.Commit().ok());
  }
  uint64_t LogSize() { return registry::Registry::Open(reg_).value().LogSize().value(); }

  TempDir temp_{"graft-authz-e2e"};
  std::string reg_, admin_, trainer_, evaluator_, approver_, release_, curator_, base_, policy_;
};

TEST_F(AuthorisationCli, ChangesNeedAKeyWhoseRoleAllowsThemAndTheAuditPasses) {
  // Key trust needs the admin key; registration a curator's.
  std::string stranger = Path("stranger.pem");
  ASSERT_EQ(RunGraft({"key", "generate", "--out", stranger}).exit_code, 0);
  CliResult unsigned_trust = Run({"key", "trust", stranger + ".pub", "--role", "approver"});
  EXPECT_EQ(unsigned_trust.exit_code, 2);
  EXPECT_TRUE(Has(unsigned_trust.err, "key.trust must be signed by a key with role admin"))
      << unsigned_trust.err;
  CliResult self_trust =
      Run({"key", "trust", stranger + ".pub", "--role", "approver", "--key", stranger});
  EXPECT_EQ(self_trust.exit_code, 12);
  EXPECT_TRUE(Has(self_trust.err, "is not trusted here")) << self_trust.err;
  ASSERT_TRUE(WriteFileAtomic(Path("d.jsonl"), "{\"text\": \"x\"}\n").ok());
  CliResult by_trainer =
      Run({"dataset", "register", Path("d.jsonl"), "--name", "d", "--key", trainer_});
  EXPECT_EQ(by_trainer.exit_code, 12);
  EXPECT_TRUE(Has(by_trainer.err, "has role trainer")) << by_trainer.err;

  std::string adapter = Adapter(1);
  Gate(adapter, policy_, 0.1);
  ASSERT_EQ(Run({"approve", adapter, "--key", approver_}).exit_code, 0);
  auto before = HashTree(reg_);
  CliResult no_key = Run({"promote", adapter, "--channel", "production"});
  EXPECT_EQ(no_key.exit_code, 2);
  EXPECT_TRUE(Has(no_key.err, "channel.set must be signed by a key with role release"))
      << no_key.err;
  CliResult wrong_key = Run({"promote", adapter, "--channel", "production", "--key", approver_});
  EXPECT_EQ(wrong_key.exit_code, 12);
  EXPECT_TRUE(Has(wrong_key.err, "has role approver")) << wrong_key.err;
  EXPECT_EQ(HashTree(reg_), before);  // refused changes write nothing
  CliResult promoted =
      Run({"promote", adapter, "--channel", "production"}, {{"GRAFT_KEY", release_}});
  ASSERT_EQ(promoted.exit_code, 0) << promoted.err << promoted.out;

  CliResult audit = Run({"audit", "verify"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  EXPECT_TRUE(Has(audit.out, "replayed from event 0")) << audit.out;
  EXPECT_TRUE(Has(audit.out, "1 channel changes replayed")) << audit.out;

  // A revoked release key can sign nothing more.
  std::string release_id = PrivateKey::LoadPem(release_).value().key_id();
  ASSERT_EQ(Run({"key", "revoke", release_id, "--reason", "left", "--key", admin_}).exit_code, 0);
  auto unchanged = HashTree(reg_);
  CliResult revoked = Run({"retire", adapter, "--reason", "done", "--key", release_});
  EXPECT_EQ(revoked.exit_code, 12);
  EXPECT_TRUE(Has(revoked.err, "revoked at event")) << revoked.err;
  EXPECT_EQ(HashTree(reg_), unchanged);
  EXPECT_EQ(Run({"audit", "verify"}).exit_code, 0);
}

TEST_F(AuthorisationCli, AForgedPromotionFailsTheAuditNamingTheEventAndTheMissingDecision) {
  std::string adapter = Adapter(1);  // registered, never gated or approved
  uint64_t seq = LogSize();
  Forge("channel.set", {{"channel", "bot@production"}, {"digest", adapter}, {"reason", "promote"}});
  CliResult audit = Run({"audit", "verify"});
  EXPECT_EQ(audit.exit_code, 12) << audit.out;
  const std::string event = "event " + std::to_string(seq) + " channel.set";
  EXPECT_TRUE(Has(audit.out, event + ": not signed (needs a key with role release)")) << audit.out;
  EXPECT_TRUE(Has(audit.out, event + " bot@production -> sha256:" + adapter.substr(0, 16) +
                                 ": no passing decision under policy bot"))
      << audit.out;
  EXPECT_TRUE(Has(audit.out, "0 of 1 distinct approvals") || Has(audit.out, "no passing decision"))
      << audit.out;
}

TEST_F(AuthorisationCli, APromotionSignedByTheRegistryKeyOrWithAFailedGateIsCaught) {
  std::string adapter = Adapter(1);
  Gate(adapter, policy_, -0.1);  // the gate fails
  ASSERT_EQ(Run({"approve", adapter, "--key", approver_}).exit_code, 0);
  CliResult blocked = Run({"promote", adapter, "--channel", "production", "--key", release_});
  EXPECT_EQ(blocked.exit_code, 10) << blocked.out << blocked.err;
  // Forced into the database anyway, signed with the registry key (an insider may hold it).
  PrivateKey registry_key = RegistryKey();
  uint64_t seq = LogSize();
  Forge("channel.set", {{"channel", "bot@production"}, {"digest", adapter}, {"reason", "promote"}},
        &registry_key);
  CliResult audit = Run({"audit", "verify", "--json"});
  EXPECT_EQ(audit.exit_code, 12) << audit.out;
  Json report = ParseJson(audit.out, "audit").value();
  std::string problems = report["problems"].dump();
  const std::string event = "event " + std::to_string(seq) + " channel.set";
  EXPECT_TRUE(Has(problems, event + ": key " + registry_key.key_id() +
                                " does not have role release (it has role registry)"))
      << problems;
  EXPECT_TRUE(Has(problems, "no passing decision under policy bot")) << problems;
  EXPECT_TRUE(Has(problems, "says fail")) << problems;
}

TEST_F(AuthorisationCli, AForgedKeyTrustOrAnEditedSignedEventIsCaught) {
  PrivateKey mallory = PrivateKey::Generate(KeyAlgorithm::kEd25519).value();
  uint64_t seq = LogSize();
  Forge("key.trust",
        {{"key_id", mallory.key_id()},
         {"role", "release"},
         {"algorithm", "ed25519"},
         {"name", "mallory"},
         {"pem", mallory.public_key().ToPem()}},
        &mallory);
  CliResult audit = Run({"audit", "verify"});
  EXPECT_EQ(audit.exit_code, 12) << audit.out;
  EXPECT_TRUE(Has(audit.out, "event " + std::to_string(seq) + " key.trust: signed by key " +
                                 mallory.key_id() + ", which the log had not trusted"))
      << audit.out;
}

TEST_F(AuthorisationCli, ALaterGateUnderAnotherPolicyDoesNotBlockPromotion) {
  std::string adapter = Adapter(1);
  Gate(adapter, policy_, 0.1);
  ASSERT_EQ(Run({"approve", adapter, "--key", approver_}).exit_code, 0);
  // A post-hoc gate under another policy, failing: informational only.
  ASSERT_TRUE(WriteFileAtomic(Path("other.yaml"),
                              "policy: other\npromotion:\n"
                              "  kpis: [{suite: kpi, metric: acc, min_delta: 0.5}]\n")
                  .ok());
  std::string other =
      Digest(Run({"policy", "register", Path("other.yaml"), "--json", "--key", curator_}));
  Gate(adapter, other, 0.1);
  CliResult promoted = Run({"promote", adapter, "--channel", "production", "--key", release_});
  EXPECT_EQ(promoted.exit_code, 0) << promoted.out << promoted.err;
  EXPECT_TRUE(Has(promoted.out, "under policy bot")) << promoted.out;
  EXPECT_EQ(Run({"audit", "verify"}).exit_code, 0);
}

TEST_F(AuthorisationCli, AnAnnouncedRunIsPreDeclaredFromItsAnnouncementAndCounted) {
  ASSERT_TRUE(WriteFileAtomic(Path("train.jsonl"), "{\"text\": \"hello\"}\n").ok());
  std::string data_digest = Sha256Hex(ReadFile(Path("train.jsonl")).value());
  // Only a trusted trainer key may announce.
  CliResult by_approver = Run({"run", "announce", "--base", "tiny", "--data", Path("train.jsonl"),
                               "--policy", "bot", "--key", approver_});
  EXPECT_EQ(by_approver.exit_code, 12) << by_approver.err;
  CliResult announced = Run({"run", "announce", "--base", "tiny", "--data", Path("train.jsonl"),
                             "--policy", "bot", "--key", trainer_, "--run-id", "r1", "--json"});
  ASSERT_EQ(announced.exit_code, 0) << announced.err;
  const uint64_t seq = ParseJson(announced.out, "a").value()["seq"].get<uint64_t>();

  // The adapter whose provenance names the announced base, data and policy.
  std::string dir = Path("announced");
  PrivateKey key = PrivateKey::LoadPem(trainer_).value();
  ASSERT_TRUE(WriteLoraAdapter(dir, {}).ok());
  ProvenanceInputs inputs;
  inputs.base_digest = base_;
  inputs.policy_digest = policy_;
  inputs.dataset_digests = {data_digest};
  ASSERT_TRUE(WriteProvenance(dir, key, inputs).ok());
  ASSERT_TRUE(SignAdapter(dir, key).ok());
  std::string adapter = Digest(Run({"adapter", "register", dir, "--name", "bot", "--json"}));
  registry::Registry reg = registry::Registry::Open(reg_).value();
  registry::ObjectRecord record = reg.Get(adapter).value();
  Result<RequirementFacts> facts =
      Lifecycle(reg).Facts(record, reg.Resolve("policy", "bot").value());
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  ASSERT_TRUE(facts->announcement_seq.has_value());
  EXPECT_EQ(*facts->announcement_seq, seq);
  EXPECT_TRUE(facts->policy_pre_declared);
  Policy policy = Lifecycle(reg).LoadPolicy("bot").value();
  policy.promotion.require.announced = true;
  Decision decision = Decide(policy, {}, *facts, DecisionMode::kGate);
  for (const CriterionResult& c : decision.criteria) {
    if (c.name == "pre-declared policy") {
      EXPECT_TRUE(
          Has(c.reason, "before the training run was announced at event " + std::to_string(seq)))
          << c.reason;
    }
    if (c.name == "announced") {
      EXPECT_EQ(c.status, CriterionStatus::kPass) << c.reason;
    }
  }
  // A run that was not announced fails `require: {announced: true}`.
  std::string other = Adapter(7);
  Result<RequirementFacts> unannounced =
      Lifecycle(reg).Facts(reg.Get(other).value(), reg.Resolve("policy", "bot").value());
  ASSERT_TRUE(unannounced.ok());
  EXPECT_FALSE(unannounced->announcement_seq.has_value());
  Decision refused = Decide(policy, {}, *unannounced, DecisionMode::kGate);
  bool saw = false;
  for (const CriterionResult& c : refused.criteria) {
    if (c.name == "announced") {
      saw = true;
      EXPECT_EQ(c.status, CriterionStatus::kFail);
    }
  }
  EXPECT_TRUE(saw);

  CliResult list = Run({"run", "list", "--policy", "bot", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  Json runs = ParseJson(list.out, "runs").value();
  EXPECT_EQ(runs["count"], 1);
  EXPECT_EQ(runs["runs"][0]["run_id"], "r1");
  EXPECT_EQ(Run({"audit", "verify"}).exit_code, 0);
}

TEST_F(AuthorisationCli, AWitnessCatchesARollbackToAnOlderCopyAndARewrittenTail) {
  std::string witness = Path("witness.pem");
  ASSERT_EQ(RunGraft({"key", "generate", "--out", witness}).exit_code, 0);
  const std::string state = Path("witness-state");
  CliResult first = Run({"log", "witness", "--key", witness, "--state", state});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_TRUE(Has(first.out, "first checkpoint this witness has seen")) << first.out;
  fs::copy(reg_, Path("old-copy"), fs::copy_options::recursive);

  std::string adapter = Adapter(1);
  CliResult second = Run({"log", "witness", "--key", witness, "--state", state, "--json"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(ParseJson(second.out, "w").value()["size"], LogSize());
  CliResult audit =
      Run({"audit", "verify", "--witness", witness + ".pub", "--witness-state", state});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  EXPECT_TRUE(Has(audit.out, "cosigned by witness graft.local/witness/")) << audit.out;
  // Without the witness's checkpoint the requirement fails.
  CliResult none = Run({"audit", "verify", "--witness", witness + ".pub"});
  EXPECT_EQ(none.exit_code, 12) << none.out;

  // The registry rolled back to the older copy: every check of its own passes, the witness's
  // checkpoint does not.
  fs::remove_all(reg_);
  fs::copy(Path("old-copy"), reg_, fs::copy_options::recursive);
  EXPECT_EQ(Run({"audit", "verify"}).exit_code, 0);
  CliResult rolled_back =
      Run({"audit", "verify", "--witness", witness + ".pub", "--witness-state", state});
  EXPECT_EQ(rolled_back.exit_code, 12) << rolled_back.out;
  EXPECT_TRUE(Has(rolled_back.out, "but the log has only")) << rolled_back.out;
  EXPECT_TRUE(Has(rolled_back.out, "does not match the log")) << rolled_back.out;
  EXPECT_FALSE(Has(rolled_back.out, "and consistent with the log")) << rolled_back.out;
  // A state directory without this log's checkpoint is bad input.
  CliResult missing =
      Run({"audit", "verify", "--witness", witness + ".pub", "--witness-state", Path("nowhere")});
  EXPECT_EQ(missing.exit_code, 2) << missing.out << missing.err;

  // A rewritten tail: the old copy grows a different history of the same length.
  ASSERT_TRUE(WriteFileAtomic(Path("other.jsonl"), "{\"text\": \"y\"}\n").ok());
  while (LogSize() < ParseJson(second.out, "w").value()["size"].get<uint64_t>()) {
    ASSERT_EQ(Run({"dataset", "register", Path("other.jsonl"), "--name",
                   "d" + std::to_string(LogSize()), "--key", curator_})
                  .exit_code,
              0);
  }
  CliResult rewritten =
      Run({"audit", "verify", "--witness", witness + ".pub", "--witness-state", state});
  EXPECT_EQ(rewritten.exit_code, 12) << rewritten.out;
  EXPECT_TRUE(Has(rewritten.out, "history was rewritten")) << rewritten.out;
  // And the witness refuses to cosign the forked log.
  CliResult refused = Run({"log", "witness", "--key", witness, "--state", state});
  EXPECT_EQ(refused.exit_code, 12) << refused.out << refused.err;
  EXPECT_TRUE(Has(refused.err, "forked") || Has(refused.err, "shrank")) << refused.err;
}

}  // namespace
}  // namespace graft::testing
