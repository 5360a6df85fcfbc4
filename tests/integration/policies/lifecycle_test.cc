// Lifecycle on a real registry: policies, pre-declaration, gate decisions, approvals, promotion,
// rollback, retirement and exit criteria.
#include "policies/lifecycle.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>

#include "core/file_util.h"
#include "core/sha256.h"
#include "tests/integration/policies/lifecycle_fixture.h"
#include "tests/support/peft_fixture.h"
#include "tests/support/registry_test_access.h"

namespace graft::policies {
namespace {
namespace fs = std::filesystem;
using registry::ObjectRecord;

using testing::Find;
using testing::kPolicyYaml;
using testing::LifecycleTest;
using testing::NewKey;

TEST_F(LifecycleTest, PolicyIsVersionedByNameAndIdentifiedByCanonicalBytes) {
  EXPECT_EQ("sha256:" + policy_.digest, PolicyDigest(kPolicyYaml));
  EXPECT_EQ(policy_.kind, "policy");
  EXPECT_EQ(policy_.labels, std::vector<std::string>{"bot@1"});
  // CRLF line endings: the same canonical bytes, the same object.
  std::string crlf;
  for (char c : kPolicyYaml) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  EXPECT_EQ(RegisterPolicy("crlf.yaml", crlf).value().digest, policy_.digest);
  // A change is a new version.
  ObjectRecord v2 =
      RegisterPolicy("v2.yaml", std::string(kPolicyYaml) + "# stricter soon\n").value();
  EXPECT_NE(v2.digest, policy_.digest);
  EXPECT_EQ(v2.labels, std::vector<std::string>{"bot@2"});
  EXPECT_EQ(lifecycle_->LoadPolicy("bot@1").value().digest, "sha256:" + policy_.digest);
  EXPECT_EQ(lifecycle_->LoadPolicy("bot").value().digest, "sha256:" + v2.digest);
}

TEST_F(LifecycleTest, InvalidPolicyLeavesTheRegistryByteForByteUnchanged) {
  auto before = testing::HashTree(Dir("registry"));
  Result<ObjectRecord> bad =
      RegisterPolicy("bad.yaml", "policy: bot\npromotion: {confidence: 1.5}\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(bad.status().message().find("promotion.confidence"), std::string::npos);
  EXPECT_EQ(testing::HashTree(Dir("registry")), before);
}

TEST_F(LifecycleTest, PreDeclaredPolicyGatePassesAndIsSignedAndStored) {
  ObjectRecord adapter = Train(1, policy_.digest);
  Decision decision = Gate(adapter);
  EXPECT_EQ(decision.verdict, Verdict::kPass);
  EXPECT_EQ(decision.exit_code, 0);
  EXPECT_EQ(Find(decision, "pre-declared policy")->status, CriterionStatus::kPass);
  EXPECT_EQ(Find(decision, "signed_by")->status, CriterionStatus::kPass);
  EXPECT_EQ(Find(decision, "approvals")->status, CriterionStatus::kPending);
  EXPECT_EQ(Find(decision, "max_rank")->observed, 2);
  auto stored = registry_->Attestations(adapter.digest, "decision").value();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].key_ids, std::vector<std::string>{evaluator_.key_id()});
  std::map<std::string, std::string> edges;
  std::vector<registry::Edge> from_decision = registry_->EdgesFrom(stored[0].digest).value();
  for (const registry::Edge& e : from_decision) {
    edges[e.relation] = e.dst;
  }
  EXPECT_EQ(edges["policy"], policy_.digest);
  EXPECT_EQ(edges["evaluation"], std::string(64, 'e'));
  Json described = lifecycle_->Describe(adapter).value();
  EXPECT_EQ(described["stage"], "candidate");
  ASSERT_EQ(described["decisions"].size(), 1u);
  EXPECT_EQ(described["decisions"][0]["verdict"], "pass");
}

TEST_F(LifecycleTest, FailingKpiFailsTheGate) {
  ObjectRecord adapter = Train(1, policy_.digest);
  Decision decision = Gate(adapter, 0.01);
  EXPECT_EQ(decision.verdict, Verdict::kFail);
  EXPECT_EQ(decision.exit_code, 10);
}

TEST_F(LifecycleTest, PolicyRegisteredAfterTheAdapterIsPostHocAndLogged) {
  std::string later_yaml = std::string(kPolicyYaml) + "# registered late\n";
  // The provenance names the later policy's digest, but the policy enters the log afterwards.
  ObjectRecord adapter = Train(1, PolicyDigest(later_yaml).substr(7));
  ObjectRecord later = RegisterPolicy("later.yaml", later_yaml).value();
  Result<GateDecision> decision = lifecycle_->Gate(adapter, later, Evaluations(0.1), evaluator_);
  ASSERT_TRUE(decision.ok()) << decision.status().ToString();
  const CriterionResult* pre = Find(decision->decision, "pre-declared policy");
  EXPECT_EQ(pre->status, CriterionStatus::kFail);
  EXPECT_EQ(pre->reason, "post-hoc policy: the policy entered the log at event " +
                             std::to_string(later.created_seq) +
                             ", after the adapter was registered at event " +
                             std::to_string(adapter.created_seq) + " (the run was not announced)");
  EXPECT_EQ(decision->decision.exit_code, 10);
  // policy.post-hoc, then the decision attestation.
  Json post_hoc = EventFromEnd(1);
  EXPECT_EQ(post_hoc["action"], "policy.post-hoc");
  EXPECT_EQ(post_hoc["details"]["policy"], later.digest);
  EXPECT_EQ(post_hoc["details"]["adapter"], adapter.digest);
  EXPECT_EQ(EventFromEnd()["action"], "attestation.add");
}

TEST_F(LifecycleTest, EarlierPolicyTheProvenanceDoesNotNameDoesNotCount) {
  ObjectRecord adapter = Train(1, "");
  EXPECT_FALSE(lifecycle_->PreDeclared(adapter, policy_).value());
  EXPECT_EQ(Find(Gate(adapter), "pre-declared policy")->reason,
            "post-hoc policy: the adapter's provenance does not name it");
}

TEST_F(LifecycleTest, ApprovalNeedsATrustedApproverKey) {
  ObjectRecord adapter = Train(1, policy_.digest);
  Result<registry::AttestationRecord> ok = lifecycle_->Approve(adapter.digest, approver_, "lgtm");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->kind, "approval");
  EXPECT_EQ(ok->key_ids, std::vector<std::string>{approver_.key_id()});

  PrivateKey stranger = NewKey();
  Result<registry::AttestationRecord> untrusted = lifecycle_->Approve(adapter.digest, stranger, "");
  ASSERT_FALSE(untrusted.ok());
  EXPECT_EQ(untrusted.status().kind(), ErrorKind::kVerification);
  EXPECT_NE(untrusted.status().message().find("not a trusted approver key"), std::string::npos);

  ASSERT_TRUE(registry_->RevokeKey(approver_.key_id(), "left").ok());
  Result<registry::AttestationRecord> revoked = lifecycle_->Approve(adapter.digest, approver_, "");
  ASSERT_FALSE(revoked.ok());
  EXPECT_EQ(revoked.status().kind(), ErrorKind::kVerification);
  EXPECT_NE(revoked.status().message().find("was revoked"), std::string::npos);
  // The earlier approval no longer counts either.
  EXPECT_TRUE(lifecycle_->Facts(adapter, policy_).value().approver_key_ids.empty());
}

TEST_F(LifecycleTest, PromotionWithoutAGateDecisionIsBlocked) {
  ObjectRecord adapter = Train(1, policy_.digest);
  ASSERT_TRUE(lifecycle_->Approve(adapter.digest, approver_, "").ok());
  PromoteOutcome outcome = lifecycle_->Promote(adapter.digest, "production").value();
  EXPECT_FALSE(outcome.promoted);
  EXPECT_EQ(outcome.decision.exit_code, 10);
  EXPECT_EQ(Find(outcome.decision, "gate decision")->reason,
            "no stored gate decision under its governing policy sha256:" + policy_.digest +
                " (the one its provenance names)");
  EXPECT_TRUE(registry_->ChannelHistory("bot@production").value().empty());
  EXPECT_EQ(EventFromEnd()["action"], "adapter.promote-blocked");
}

TEST_F(LifecycleTest, PromotionWithAFailedGateIsBlocked) {
  ObjectRecord adapter = Train(1, policy_.digest);
  Gate(adapter, 0.01);
  ASSERT_TRUE(lifecycle_->Approve(adapter.digest, approver_, "").ok());
  PromoteOutcome outcome = lifecycle_->Promote(adapter.digest, "production").value();
  EXPECT_FALSE(outcome.promoted);
  EXPECT_EQ(Find(outcome.decision, "gate decision")->status, CriterionStatus::kFail);
}

TEST_F(LifecycleTest, PromotionWithoutTheApprovalsIsBlocked) {
  ObjectRecord adapter = Train(1, policy_.digest);
  Gate(adapter);
  PromoteOutcome outcome = lifecycle_->Promote(adapter.digest, "production").value();
  EXPECT_FALSE(outcome.promoted);
  EXPECT_EQ(outcome.decision.mode, DecisionMode::kPromote);
  EXPECT_EQ(Find(outcome.decision, "gate decision")->status, CriterionStatus::kPass);
  EXPECT_EQ(Find(outcome.decision, "approvals")->status, CriterionStatus::kFail);
}

TEST_F(LifecycleTest, TheTrainersOwnApprovalDoesNotCountUnderSeparateDuties) {
  ASSERT_TRUE(registry_->TrustKey(trainer_.public_key(), "approver", "trainer").ok());
  ObjectRecord adapter = Train(1, policy_.digest);
  Gate(adapter);
  ASSERT_TRUE(lifecycle_->Approve(adapter.digest, trainer_, "mine").ok());
  PromoteOutcome outcome = lifecycle_->Promote(adapter.digest, "production").value();
  EXPECT_FALSE(outcome.promoted);
  const CriterionResult* approvals = Find(outcome.decision, "approvals");
  EXPECT_EQ(approvals->status, CriterionStatus::kFail);
  EXPECT_NE(approvals->reason.find("separate_duties"), std::string::npos);
}

TEST_F(LifecycleTest, PromotionMovesTheChannelSetsTheStageAndLogsThePreviousTarget) {
  ObjectRecord first = Train(1, policy_.digest);
  Gate(first);
  ASSERT_TRUE(lifecycle_->Approve(first.digest, approver_, "").ok());
  PromoteOutcome one = lifecycle_->Promote(first.digest, "production").value();
  EXPECT_TRUE(one.promoted);
  EXPECT_EQ(one.channel, "bot@production");
  EXPECT_EQ(one.previous, "");
  EXPECT_EQ(registry_->Get(first.digest).value().stage, "production");

  ObjectRecord second = Train(2, policy_.digest);
  Gate(second);
  ASSERT_TRUE(lifecycle_->Approve(second.digest, approver_, "").ok());
  PromoteOutcome two = lifecycle_->Promote("bot@2", "production").value();
  EXPECT_TRUE(two.promoted);
  EXPECT_EQ(two.previous, first.digest);
  Json promoted = EventFromEnd();
  EXPECT_EQ(promoted["action"], "adapter.promote");
  EXPECT_EQ(promoted["details"]["previous"], first.digest);
  EXPECT_EQ(promoted["details"]["channel"], "bot@production");
  std::vector<registry::ChannelEntry> history = registry_->ChannelHistory("bot@production").value();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1].digest, second.digest);
  EXPECT_NE(history[1].reason.find("previous sha256:" + first.digest), std::string::npos);
  EXPECT_EQ(lifecycle_->Describe(second).value()["channels"], Json::array({"bot@production"}));
  // A staging channel gives stage staging but never lowers production; promoting to where it
  // already is is refused.
  ObjectRecord third = Train(3, policy_.digest);
  Gate(third);
  ASSERT_TRUE(lifecycle_->Approve(third.digest, approver_, "").ok());
  EXPECT_TRUE(lifecycle_->Promote(third.digest, "canary").value().promoted);
  EXPECT_EQ(registry_->Get(third.digest).value().stage, "staging");
  EXPECT_TRUE(lifecycle_->Promote(second.digest, "canary").value().promoted);
  EXPECT_EQ(registry_->Get(second.digest).value().stage, "production");
  EXPECT_EQ(lifecycle_->Promote(second.digest, "production").status().kind(), ErrorKind::kConflict);

  // Rollback returns to the previous version, and a second rollback has nowhere to go.
  RollbackOutcome back = lifecycle_->Rollback("bot", "production", "bad latency").value();
  EXPECT_EQ(back.from, second.digest);
  EXPECT_EQ(back.to, first.digest);
  EXPECT_EQ(registry_->ChannelHistory("bot@production").value().back().digest, first.digest);
  EXPECT_EQ(lifecycle_->Rollback("bot", "production", "again").status().kind(),
            ErrorKind::kConflict);
}

TEST_F(LifecycleTest, PromotionIsOneTransactionAndAFailureMidwayChangesNothing) {
  ObjectRecord adapter = Train(1, policy_.digest);
  Gate(adapter);
  ASSERT_TRUE(lifecycle_->Approve(adapter.digest, approver_, "").ok());
  // An injected failure at the last step: the adapter.promote event is refused after the channel
  // and the stage were changed in the same transaction.
  ASSERT_TRUE(registry::RegistryTestAccess::db(*registry_)
                  .Exec("CREATE TRIGGER fail_promote BEFORE INSERT ON events WHEN NEW.body LIKE "
                        "'%\"action\":\"adapter.promote\"%' BEGIN "
                        "SELECT RAISE(ABORT, 'injected failure'); END")
                  .ok());
  const uint64_t size = registry_->LogSize().value();
  auto before = testing::HashTree(Dir("registry"));
  Result<PromoteOutcome> failed = lifecycle_->Promote(adapter.digest, "production");
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("injected failure"), std::string::npos)
      << failed.status().ToString();
  EXPECT_EQ(testing::HashTree(Dir("registry")), before);
  EXPECT_TRUE(registry_->ChannelHistory("bot@production")->empty());
  EXPECT_EQ(registry_->Get(adapter.digest)->stage, "candidate");

  ASSERT_TRUE(registry::RegistryTestAccess::db(*registry_).Exec("DROP TRIGGER fail_promote").ok());
  ASSERT_TRUE(lifecycle_->Promote(adapter.digest, "production").value().promoted);
  // channel.set, stage.set and adapter.promote: consecutive, under one new checkpoint.
  EXPECT_EQ(registry_->LogSize().value(), size + 3);
  EXPECT_EQ(EventFromEnd(2)["action"], "channel.set");
  EXPECT_EQ(EventFromEnd(1)["action"], "stage.set");
  EXPECT_EQ(EventFromEnd(0)["action"], "adapter.promote");
  registry::Statement checkpoints = registry::RegistryTestAccess::db(*registry_)
                                        .Prepare("SELECT COUNT(*) FROM checkpoints WHERE size > ?")
                                        .value();
  ASSERT_TRUE(checkpoints.Bind(1, size).ok());
  ASSERT_TRUE(checkpoints.Step().value());
  EXPECT_EQ(checkpoints.Int(0), 1);
}

TEST_F(LifecycleTest, RetiringAServedAdapterRollsItsChannelBack) {
  ObjectRecord first = Train(1, policy_.digest);
  ObjectRecord second = Train(2, policy_.digest);
  for (const ObjectRecord& a : {first, second}) {
    Gate(a);
    ASSERT_TRUE(lifecycle_->Approve(a.digest, approver_, "").ok());
    ASSERT_TRUE(lifecycle_->Promote(a.digest, "production").value().promoted);
  }
  std::vector<RollbackOutcome> rolled = lifecycle_->Retire(second.digest, "drift").value();
  ASSERT_EQ(rolled.size(), 1u);
  EXPECT_EQ(rolled[0].to, first.digest);
  EXPECT_EQ(registry_->Get(second.digest).value().stage, "retired");
  EXPECT_EQ(lifecycle_->Promote(second.digest, "production").status().kind(), ErrorKind::kConflict);
  EXPECT_EQ(lifecycle_->Retire(first.digest, "").status().kind(), ErrorKind::kInvalidInput);
}

TEST_F(LifecycleTest, ARevokedDatasetBlocksPromotion) {
  ObjectRecord adapter = Train(1, policy_.digest);
  Gate(adapter);
  ASSERT_TRUE(lifecycle_->Approve(adapter.digest, approver_, "").ok());
  ASSERT_TRUE(registry_->RevokeObject("dataset", dataset_.digest, "licence").ok());
  PromoteOutcome outcome = lifecycle_->Promote(adapter.digest, "production").value();
  EXPECT_FALSE(outcome.promoted);
  const CriterionResult* revoked = Find(outcome.decision, "not revoked");
  EXPECT_EQ(revoked->status, CriterionStatus::kFail);
  EXPECT_EQ(revoked->reason, "revoked: dataset");
}

TEST_F(LifecycleTest, PromotionReverifiesFilesDecisionsAndRevocationsNow) {
  ObjectRecord adapter = Train(1, policy_.digest);
  Gate(adapter);
  ASSERT_TRUE(lifecycle_->Approve(adapter.digest, approver_, "").ok());

  // A tampered weights blob: the root digest no longer matches.
  std::string weights = ReadFile(Dir("adapter-1/adapter_model.safetensors")).value();
  fs::path blob =
      registry::RegistryTestAccess::blobs(*registry_).PathFor(Sha256Hex(weights)).value();
  fs::permissions(blob, fs::perms::owner_write, fs::perm_options::add);
  weights[weights.size() - 1] ^= 1;
  ASSERT_TRUE(WriteFileAtomic(blob, weights).ok());
  Result<PromoteOutcome> tampered = lifecycle_->Promote(adapter.digest, "production");
  ASSERT_FALSE(tampered.ok());
  EXPECT_EQ(tampered.status().kind(), ErrorKind::kVerification);
  weights[weights.size() - 1] ^= 1;
  ASSERT_TRUE(WriteFileAtomic(blob, weights).ok());

  // The trainer key revoked since the gate: the "not revoked" requirement fails now.
  ASSERT_TRUE(registry_->RevokeKey(trainer_.key_id(), "leaked").ok());
  PromoteOutcome outcome = lifecycle_->Promote(adapter.digest, "production").value();
  EXPECT_FALSE(outcome.promoted);
  EXPECT_EQ(Find(outcome.decision, "not revoked")->reason, "revoked: key");
  EXPECT_EQ(Find(outcome.decision, "signed_by")->status, CriterionStatus::kFail);

  // The evaluator key revoked: the stored decision no longer verifies.
  ASSERT_TRUE(registry_->RevokeKey(evaluator_.key_id(), "rotated").ok());
  EXPECT_EQ(lifecycle_->Promote(adapter.digest, "production").status().kind(),
            ErrorKind::kVerification);

  // A revoked adapter is refused outright.
  ASSERT_TRUE(registry_->RevokeObject("adapter", adapter.digest, "bad").ok());
  EXPECT_EQ(lifecycle_->Promote(adapter.digest, "production").status().kind(),
            ErrorKind::kConflict);
  EXPECT_TRUE(registry_->ChannelHistory("bot@production").value().empty());
}

TEST_F(LifecycleTest, ExitCriteriaRetireWithTheirReasons) {
  ObjectRecord adapter = Train(1, policy_.digest);
  Gate(adapter);
  EXPECT_TRUE(lifecycle_->ApplyExit(adapter.digest, {}).value().empty());
  EXPECT_EQ(registry_->Get(adapter.digest).value().stage, "candidate");
  ExitFacts facts;
  facts.revoked.dataset = true;
  std::vector<std::string> reasons = lifecycle_->ApplyExit(adapter.digest, facts).value();
  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_EQ(registry_->Get(adapter.digest).value().stage, "retired");
  ObjectRecord ungated = Train(2, policy_.digest);
  EXPECT_EQ(lifecycle_->ApplyExit(ungated.digest, facts).status().kind(), ErrorKind::kNotFound);
}

}  // namespace
}  // namespace graft::policies
