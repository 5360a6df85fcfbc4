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
    Result<policies::Decision> decision =
        StoreGateDecision(reg_, adapter, policy, evaluator_, delta);
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

// `separate_duties` naming roles: a key that signed the adapter and its gate decision fails the
// gate's requirement, and a promotion forced past it is named by the audit's replay.
TEST_F(AuthorisationCli, SeparateDutiesByRoleIsCheckedByTheGateAndTheAuditReplay) {
  ASSERT_EQ(Run({"key", "trust", trainer_ + ".pub", "--role", "evaluator", "--name", "dual",
                 "--key", admin_})
                .exit_code,
            0);
  ASSERT_TRUE(WriteFileAtomic(Path("duties.yaml"),
                              "policy: duties\npromotion:\n"
                              "  kpis: [{suite: kpi, metric: acc, min_delta: 0.05}]\n"
                              "  require: {separate_duties: [trainer, evaluator, approver]}\n")
                  .ok());
  std::string duties =
      Digest(Run({"policy", "register", Path("duties.yaml"), "--json", "--key", curator_}));
  std::string adapter = Adapter(5, duties);
  Result<policies::Decision> decision = StoreGateDecision(reg_, adapter, duties, trainer_, 0.1);
  ASSERT_TRUE(decision.ok()) << decision.status().ToString();
  const PrivateKey trainer = PrivateKey::LoadPem(trainer_).value();
  bool saw = false;
  for (const policies::CriterionResult& c : decision->criteria) {
    if (c.name != "separate duties") continue;
    saw = true;
    EXPECT_EQ(c.status, policies::CriterionStatus::kFail);
    EXPECT_EQ(c.reason, "key " + trainer.key_id() +
                            " signed the adapter (trainer) and a gate decision (evaluator)");
  }
  EXPECT_TRUE(saw);
  EXPECT_EQ(decision->exit_code, 10);
  CliResult promoted = Run({"promote", adapter, "--channel", "production", "--key", release_});
  EXPECT_NE(promoted.exit_code, 0) << promoted.out;
  uint64_t seq = LogSize();
  PrivateKey release = PrivateKey::LoadPem(release_).value();
  Forge("channel.set", {{"channel", "bot@production"}, {"digest", adapter}, {"reason", "promote"}},
        &release);
  CliResult audit = Run({"audit", "verify"});
  EXPECT_EQ(audit.exit_code, 12) << audit.out;
  EXPECT_TRUE(Has(audit.out, "event " + std::to_string(seq) + " channel.set bot@production"))
      << audit.out;
  EXPECT_TRUE(Has(audit.out, "separate_duties: key " + trainer.key_id() +
                                 " signed the adapter (trainer) and a gate decision (evaluator)"))
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
  const Json announcement = ParseJson(announced.out, "a").value();
  const uint64_t seq = announcement["seq"].get<uint64_t>();
  EXPECT_EQ(announcement["reference"]["seq"], seq);
  EXPECT_EQ(announcement["reference"]["run_id"], "r1");

  // The adapter whose provenance names the announcement (and the announced base, data, policy).
  std::string dir = Path("announced");
  PrivateKey key = PrivateKey::LoadPem(trainer_).value();
  ASSERT_TRUE(WriteLoraAdapter(dir, {}).ok());
  ProvenanceInputs inputs;
  inputs.base_digest = base_;
  inputs.policy_digest = policy_;
  inputs.dataset_digests = {data_digest};
  inputs.announcement_json = announcement["reference"].dump();
  ASSERT_TRUE(WriteProvenance(dir, key, inputs).ok());
  ASSERT_TRUE(SignAdapter(dir, key).ok());
  std::string adapter = Digest(Run({"adapter", "register", dir, "--name", "bot", "--json"}));
  registry::Registry reg = registry::Registry::Open(reg_).value();
  registry::ObjectRecord record = reg.Get(adapter).value();
  Result<policies::RequirementFacts> facts =
      policies::Lifecycle(reg).Facts(record, reg.Resolve("policy", "bot").value());
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  ASSERT_TRUE(facts->announcement_seq.has_value());
  EXPECT_EQ(*facts->announcement_seq, seq);
  EXPECT_TRUE(facts->policy_pre_declared);
  policies::Policy policy = policies::Lifecycle(reg).LoadPolicy("bot").value();
  policy.promotion.require.announced = true;
  policies::Decision decision = policies::Decide(policy, {}, *facts, policies::DecisionMode::kGate);
  for (const policies::CriterionResult& c : decision.criteria) {
    if (c.name == "pre-declared policy") {
      EXPECT_TRUE(Has(c.reason, "before the training run was announced at event " +
                                    std::to_string(seq) +
                                    " (the announcement its signed provenance names"))
          << c.reason;
    }
    if (c.name == "announced") {
      EXPECT_EQ(c.status, policies::CriterionStatus::kPass) << c.reason;
    }
  }
  // A run that was not announced fails `require: {announced: true}`.
  std::string other = Adapter(7);
  Result<policies::RequirementFacts> unannounced =
      policies::Lifecycle(reg).Facts(reg.Get(other).value(), reg.Resolve("policy", "bot").value());
  ASSERT_TRUE(unannounced.ok());
  EXPECT_FALSE(unannounced->announcement_seq.has_value());
  policies::Decision refused =
      policies::Decide(policy, {}, *unannounced, policies::DecisionMode::kGate);
  bool saw = false;
  for (const policies::CriterionResult& c : refused.criteria) {
    if (c.name == "announced") {
      saw = true;
      EXPECT_EQ(c.status, policies::CriterionStatus::kFail);
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

// A provenance naming an announcement that is not one, or with a proof that does not hold, is
// not pre-declared, and the reason names the event and what failed.
TEST_F(AuthorisationCli, AProvenanceNamingAForgedAnnouncementIsNotPreDeclared) {
  ASSERT_TRUE(WriteFileAtomic(Path("train.jsonl"), "{\"text\": \"hello\"}\n").ok());
  const std::string data_digest = Sha256Hex(ReadFile(Path("train.jsonl")).value());
  CliResult announced = Run({"run", "announce", "--base", "tiny", "--data", Path("train.jsonl"),
                             "--policy", "bot", "--key", trainer_, "--run-id", "r2", "--json"});
  ASSERT_EQ(announced.exit_code, 0) << announced.err;
  const Json reference = ParseJson(announced.out, "a").value()["reference"];
  const uint64_t seq = reference["seq"].get<uint64_t>();
  Json other_event = reference;  // the policy's registration, with a valid proof of it
  other_event["seq"] = seq - 1;
  other_event["inclusion_proof"] = Json::array();
  {
    registry::Registry reg = registry::Registry::Open(reg_).value();
    const registry::InclusionProof proof = reg.ProveInclusion(seq - 1, seq + 1).value();
    for (const graft::Digest& d : proof.path)
      other_event["inclusion_proof"].push_back(DigestHex(d));
  }
  Json wrong_proof = reference;  // the announcement's proof for another event
  wrong_proof["seq"] = seq - 1;
  Json beyond = reference;  // an event the checkpoint does not hold
  beyond["seq"] = seq + 100;
  Json bad_proof = reference;
  bad_proof["inclusion_proof"][0] = std::string(64, '0');
  Json forged_note = reference;  // a checkpoint the registry key did not sign
  std::string note = reference["checkpoint"].get<std::string>();
  note[note.find('\n') + 1] = note[note.find('\n') + 1] == '9' ? '8' : '9';
  forged_note["checkpoint"] = note;
  const std::vector<std::pair<Json, std::string>> cases = {
      {other_event, "is a \"policy.register\" event, not run.announce"},
      {wrong_proof, "its inclusion proof does not place the logged event"},
      {beyond, "is not in the checkpoint it names"},
      {bad_proof, "its inclusion proof does not place the logged event"},
      {forged_note, "signature"},
  };
  PrivateKey key = PrivateKey::LoadPem(trainer_).value();
  int n = 0;
  for (const auto& [named, why] : cases) {
    std::string dir = Path("forged-" + std::to_string(++n));
    LoraShape shape;
    shape.seed = 20 + n;
    ASSERT_TRUE(WriteLoraAdapter(dir, shape).ok());
    ProvenanceInputs inputs;
    inputs.base_digest = base_;
    inputs.policy_digest = policy_;
    inputs.dataset_digests = {data_digest};
    inputs.announcement_json = named.dump();
    ASSERT_TRUE(WriteProvenance(dir, key, inputs).ok());
    ASSERT_TRUE(SignAdapter(dir, key).ok());
    std::string adapter = Digest(Run({"adapter", "register", dir, "--name", "bot", "--json"}));
    registry::Registry reg = registry::Registry::Open(reg_).value();
    Result<policies::RequirementFacts> facts = policies::Lifecycle(reg).Facts(
        reg.Get(adapter).value(), reg.Resolve("policy", "bot").value());
    ASSERT_TRUE(facts.ok()) << facts.status().ToString();
    EXPECT_FALSE(facts->announcement_seq.has_value()) << why;
    EXPECT_FALSE(facts->policy_pre_declared) << why;
    policies::Decision decision =
        policies::Decide(policies::Lifecycle(reg).LoadPolicy("bot").value(), {}, *facts,
                         policies::DecisionMode::kGate);
    bool saw = false;
    for (const policies::CriterionResult& c : decision.criteria) {
      if (c.name != "pre-declared policy") continue;
      saw = true;
      EXPECT_EQ(c.status, policies::CriterionStatus::kFail);
      const std::string named_seq = std::to_string(named["seq"].get<uint64_t>());
      EXPECT_TRUE(Has(c.reason,
                      "post-hoc policy: the announcement the adapter's signed "
                      "provenance names (event " +
                          named_seq + ") does not verify: "))
          << c.reason;
      EXPECT_TRUE(Has(c.reason, why)) << c.reason;
    }
    EXPECT_TRUE(saw);
  }
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
  // The registry keeps the cosignature too: the audit finds it there without the witness's
  // state, and `log checkpoint` shows it as a C2SP cosignature line.
  CliResult stored = Run({"audit", "verify", "--witness", witness + ".pub"});
  EXPECT_EQ(stored.exit_code, 0) << stored.out;
  EXPECT_TRUE(Has(stored.out, "the registry's cosignature by graft.local/witness/")) << stored.out;
  CliResult note = Run({"log", "checkpoint"});
  EXPECT_TRUE(Has(note.out, "\n\xE2\x80\x94 graft.local/witness/")) << note.out;
  EXPECT_TRUE(Has(Run({"log", "checkpoint", "--cosigned"}).out, "graft.local/witness/"));
  {
    registry::Database db =
        registry::Database::Open(fs::path(reg_) / registry::kDatabaseFile).value();
    ASSERT_TRUE(db.Exec("DELETE FROM cosignatures").ok());
  }
  CliResult none = Run({"audit", "verify", "--witness", witness + ".pub"});
  EXPECT_EQ(none.exit_code, 12) << none.out;
  EXPECT_EQ(Run({"log", "checkpoint", "--cosigned"}).exit_code, 2);

  // The registry rolled back to the older copy: every check of its own passes, the witness's
  // checkpoint does not.
  fs::remove_all(reg_);
  fs::copy(Path("old-copy"), reg_, fs::copy_options::recursive);
  EXPECT_EQ(Run({"audit", "verify"}).exit_code, 0);
  CliResult rolled_back =
      Run({"audit", "verify", "--witness", witness + ".pub", "--witness-state", state});
  EXPECT_EQ(rolled_back.exit_code, 12) << rolled_back.out;
  // The witness's own state catches it, whatever older cosignatures the copy kept.
  EXPECT_TRUE(Has(rolled_back.out, "FAILED:  checkpoint " + state)) << rolled_back.out;
  EXPECT_TRUE(Has(rolled_back.out, "but the log has only")) << rolled_back.out;
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

namespace graft::testing {
namespace {
namespace fs = std::filesystem;

// `graft registry copy`: the copy replays the log through the registry's own code, so its root,
// tables and checkpoints are the source's; it refuses a non-empty destination and a tampered
// source, leaving nothing behind.
class RegistryCopyCli : public AuthorisationCli {
 protected:
  // A registry like the demo's: keys by role, a base, a policy, adapters, gate decisions,
  // approvals, a promotion, a retirement. Returns a checkpoint kept from before the last changes.
  std::string Populate() {
    std::string first = Adapter(1);
    Gate(first, policy_, 0.1);
    EXPECT_EQ(Run({"approve", first, "--key", approver_}).exit_code, 0);
    std::string old = Run({"log", "checkpoint"}).out;
    EXPECT_EQ(Run({"promote", first, "--channel", "production", "--key", release_}).exit_code, 0);
    std::string second = Adapter(2);
    Gate(second, policy_, 0.1);
    EXPECT_EQ(Run({"approve", second, "--key", approver_}).exit_code, 0);
    EXPECT_EQ(Run({"promote", second, "--channel", "production", "--key", release_}).exit_code, 0);
    EXPECT_EQ(Run({"retire", first, "--reason", "superseded", "--key", release_}).exit_code, 0);
    return old;
  }
  struct Head {
    uint64_t size = 0;
    std::string root;
  };
  Head HeadOf(const std::string& dir) {
    registry::Registry reg = registry::Registry::Open(dir).value();
    registry::Checkpoint checkpoint = reg.VerifyCheckpoint(reg.LatestCheckpoint().value()).value();
    return {checkpoint.size, DigestHex(checkpoint.root)};
  }
  bool NothingBesides(const std::string& name) {
    for (const auto& entry : fs::directory_iterator(temp_.path())) {
      std::string file = entry.path().filename().string();
      if (file.find(name) != std::string::npos && file != name) return false;
    }
    return true;
  }
};

TEST_F(RegistryCopyCli, TheCopyHasTheSameRootPassesItsAuditAndVerifiesOldCheckpoints) {
  const std::string old = Populate();
  ASSERT_TRUE(Has(old, "graft.local/registry/")) << old;
  const std::string copy = Path("copy");
  CliResult copied = RunGraft({"registry", "copy", "--from", reg_, "--to", copy, "--json"});
  ASSERT_EQ(copied.exit_code, 0) << copied.out << copied.err;
  Json outcome = ParseJson(copied.out, "copy").value();
  EXPECT_EQ(outcome["events"], LogSize());
  EXPECT_GT(outcome["blobs"].get<int>(), 4);
  const Head source = HeadOf(reg_);
  const Head replica = HeadOf(copy);
  EXPECT_EQ(replica.size, source.size);
  EXPECT_EQ(replica.root, source.root);
  EXPECT_EQ(outcome["root"], source.root);

  // The audit passes on the copy, with the checkpoint kept from the source before the promotion.
  ASSERT_TRUE(WriteFileAtomic(Path("old.checkpoint"), old).ok());
  CliResult audit =
      RunGraft({"audit", "verify", "--registry", copy, "--checkpoint", Path("old.checkpoint")});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  EXPECT_TRUE(Has(audit.out, "old.checkpoint")) << audit.out;
  // The same tables: what is served, listed and who approved.
  for (const std::vector<std::string>& query :
       {std::vector<std::string>{"adapter", "list", "--json"},
        std::vector<std::string>{"key", "list", "--json"},
        std::vector<std::string>{"log", "show", "--json"}}) {
    std::vector<std::string> at_source = query, at_copy = query;
    at_source.insert(at_source.end(), {"--registry", reg_});
    at_copy.insert(at_copy.end(), {"--registry", copy});
    EXPECT_EQ(RunGraft(at_copy).out, RunGraft(at_source).out) << query[0];
  }
  // The copy signs new checkpoints with the source's registry key, found where the source's is.
  ASSERT_TRUE(WriteFileAtomic(Path("d.jsonl"), "{\"text\": \"x\"}\n").ok());
  CliResult changed = RunGraft({"dataset", "register", Path("d.jsonl"), "--name", "d", "--key",
                                curator_, "--registry", copy});
  EXPECT_EQ(changed.exit_code, 0) << changed.err;
  EXPECT_EQ(HeadOf(copy).size, source.size + 1);
  EXPECT_EQ(HeadOf(reg_).size, source.size);
  EXPECT_EQ(RunGraft({"audit", "verify", "--registry", copy}).exit_code, 0);
}

TEST_F(RegistryCopyCli, RefusesANonEmptyDestinationAndATamperedSource) {
  Populate();
  ASSERT_TRUE(fs::create_directories(Path("full")));
  ASSERT_TRUE(WriteFileAtomic(Path("full/keep.txt"), "mine").ok());
  CliResult full = RunGraft({"registry", "copy", "--from", reg_, "--to", Path("full")});
  EXPECT_EQ(full.exit_code, 2) << full.err;
  EXPECT_TRUE(Has(full.err, "not an empty directory")) << full.err;
  EXPECT_EQ(ReadFile(Path("full/keep.txt")).value(), "mine");
  CliResult onto_registry = RunGraft({"registry", "copy", "--from", reg_, "--to", reg_});
  EXPECT_EQ(onto_registry.exit_code, 2) << onto_registry.err;

  // An event edited in place: the copy refuses, naming the event, and leaves nothing.
  const uint64_t tampered = 5;
  {
    registry::Database db =
        registry::Database::Open(fs::path(reg_) / registry::kDatabaseFile).value();
    ASSERT_TRUE(db.Exec("UPDATE events SET body = replace(body, '\"action\"', '\"action\" ') "
                        "WHERE seq = " +
                        std::to_string(tampered))
                    .ok());
  }
  CliResult refused = RunGraft({"registry", "copy", "--from", reg_, "--to", Path("copy")});
  EXPECT_EQ(refused.exit_code, 12) << refused.out << refused.err;
  EXPECT_TRUE(Has(refused.err, "event " + std::to_string(tampered))) << refused.err;
  EXPECT_FALSE(fs::exists(Path("copy")));
  EXPECT_TRUE(NothingBesides("copy"));
}

}  // namespace
}  // namespace graft::testing
