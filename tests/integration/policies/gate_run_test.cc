// GateRun on a real registry: one resolution of adapter and policy, the policy's suites and
// bootstrap handed to the evaluation, the revocation screen, the stored decision.
#include "policies/gate_run.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "policies/revocation_screen.h"
#include "tests/integration/policies/lifecycle_fixture.h"

namespace graft::policies {
namespace {
using registry::ObjectRecord;
using testing::Find;
using testing::LifecycleTest;

// kPolicyYaml with a second and third suite and a fixed bootstrap, so the gate resolves no suite.
constexpr std::string_view kSeededPolicyYaml =
    "policy: seeded\n"
    "promotion:\n"
    "  confidence: 0.9\n"
    "  kpis: [{suite: kpi, metric: acc, min_delta: 0.05}, {suite: extra, metric: acc, "
    "min_delta: 0}]\n"
    "  regressions: [{suite: kpi, metric: bits_per_byte, margin: 0.02, relative: true}, {suite: "
    "general, metric: acc, "
    "margin: 0.01}]\n"
    "  bootstrap: {resamples: 500, seed: 7}\n"
    "  require: {signed_by: trainer, max_rank: 64}\n";

class GateRunTest : public LifecycleTest {
 protected:
  void SetUp() override {
    LifecycleTest::SetUp();
    seeded_ = RegisterPolicy("seeded.yaml", kSeededPolicyYaml).value();
  }

  // An evaluation that records what it was asked and gives "kpi" an improvement of 0.1.
  GateEvaluator Recording() {
    return [this](const ObjectRecord& adapter, const std::vector<std::string>& suites,
                  const stats::BootstrapOptions& bootstrap) -> Result<GateEvaluation> {
      evaluated_.push_back(adapter.digest);
      suites_ = suites;
      bootstrap_ = bootstrap;
      GateEvaluation evaluation;
      evaluation.attestation_digest = std::string(64, 'e');
      for (const std::string& suite : suites) {
        evaluation.suites.push_back({suite, Evaluations(0.1)[0].metrics});
      }
      return evaluation;
    };
  }

  ObjectRecord seeded_;
  std::vector<std::string> evaluated_;
  std::vector<std::string> suites_;
  stats::BootstrapOptions bootstrap_;
};

TEST_F(GateRunTest, ResolvesOnceSoAChannelMovingMidwayCannotChangeWhatIsGated) {
  ObjectRecord first = Train(1, seeded_.digest);
  ObjectRecord second = Train(2, seeded_.digest);
  ASSERT_TRUE(registry_->SetChannel("bot@staging", first.digest, "test").ok());
  Result<GateRun> gate = GateRun::Resolve(*registry_, "bot@staging", "seeded");
  ASSERT_TRUE(gate.ok()) << gate.status().ToString();
  EXPECT_EQ(gate->adapter().digest, first.digest);
  EXPECT_EQ(gate->policy_record().digest, seeded_.digest);

  // The channel moves (and a newer policy version appears) after the references were resolved.
  ASSERT_TRUE(registry_->SetChannel("bot@staging", second.digest, "moved").ok());
  ObjectRecord newer =
      RegisterPolicy("seeded-2.yaml", std::string(kSeededPolicyYaml) + "# v2\n").value();
  ASSERT_EQ(registry_->Resolve("adapter", "bot@staging").value().digest, second.digest);
  ASSERT_EQ(registry_->Resolve("policy", "seeded").value().digest, newer.digest);

  Result<GateOutcome> outcome = gate->Run({}, Recording(), evaluator_);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  // Evaluated, decided about and reported: the adapter the channel named when resolved.
  EXPECT_EQ(evaluated_, std::vector<std::string>{first.digest});
  EXPECT_EQ(outcome->adapter.digest, first.digest);
  ASSERT_TRUE(outcome->decision.has_value());
  EXPECT_EQ(outcome->decision->decision.policy_digest, "sha256:" + seeded_.digest);
  auto first_decisions = registry_->Attestations(first.digest, "decision").value();
  ASSERT_EQ(first_decisions.size(), 1u);
  EXPECT_EQ(first_decisions[0].digest, outcome->decision->digest);
  EXPECT_TRUE(registry_->Attestations(second.digest, "decision").value().empty());
  ASSERT_TRUE(outcome->base.has_value());
  EXPECT_EQ(outcome->base->digest, base_.digest);
}

TEST_F(GateRunTest, EvaluatesThePolicySuitesInFirstMentionOrderWithItsBootstrap) {
  ObjectRecord adapter = Train(1, seeded_.digest);
  GateRun gate = GateRun::Resolve(*registry_, adapter.digest, seeded_.digest).value();
  EXPECT_EQ(gate.Suites(), (std::vector<std::string>{"kpi", "extra", "general"}));
  stats::BootstrapOptions options;
  options.power = 0.9;  // kept: the policy sets confidence, resamples and seed only
  Result<GateOutcome> outcome = gate.Run(options, Recording(), evaluator_);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(suites_, (std::vector<std::string>{"kpi", "extra", "general"}));
  EXPECT_EQ(bootstrap_.seed, 7u);
  EXPECT_EQ(bootstrap_.resamples, 500);
  EXPECT_DOUBLE_EQ(bootstrap_.confidence, 0.9);
  EXPECT_DOUBLE_EQ(bootstrap_.power, 0.9);
}

TEST_F(GateRunTest, ARevokedDependencyStopsTheEvaluationAndFailsNotRevoked) {
  ObjectRecord adapter = Train(1, seeded_.digest);
  ASSERT_TRUE(registry_->RevokeObject("dataset", dataset_.digest, "licence withdrawn").ok());
  GateRun gate = GateRun::Resolve(*registry_, adapter.digest, "seeded").value();
  Result<GateOutcome> outcome = gate.Run({}, Recording(), evaluator_);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_TRUE(evaluated_.empty());
  ASSERT_EQ(outcome->not_evaluated.size(), 1u);
  EXPECT_EQ(outcome->not_evaluated[0].rfind("dataset sha256:" + dataset_.digest, 0), 0u)
      << outcome->not_evaluated[0];
  ASSERT_TRUE(outcome->decision.has_value());
  EXPECT_EQ(Find(outcome->decision->decision, "not revoked")->status, CriterionStatus::kFail);
  EXPECT_NE(outcome->decision->decision.exit_code, 0);
}

TEST_F(GateRunTest, ARankThatDoesNotDecideEvaluatesAndStoresNothing) {
  ObjectRecord adapter = Train(1, seeded_.digest);
  GateRun gate = GateRun::Resolve(*registry_, adapter.digest, "seeded").value();
  const uint64_t log_size = registry_->LogSize().value();
  Result<GateOutcome> outcome = gate.Run({}, Recording(), evaluator_, /*decide=*/false);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(evaluated_, std::vector<std::string>{adapter.digest});
  EXPECT_FALSE(outcome->decision.has_value());
  EXPECT_EQ(registry_->LogSize().value(), log_size);
}

TEST_F(GateRunTest, AnUnknownReferenceIsNotFound) {
  Train(1, seeded_.digest);
  EXPECT_EQ(GateRun::Resolve(*registry_, "bot", "nope").status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(GateRun::Resolve(*registry_, "nope", "seeded").status().kind(), ErrorKind::kNotFound);
}

TEST_F(GateRunTest, TheScreenCountsDependenciesForTheRequirementAndEverythingForExport) {
  ObjectRecord trained = Train(1, seeded_.digest);
  ASSERT_TRUE(registry_->RevokeObject("adapter", trained.digest, "withdrawn").ok());
  ObjectRecord adapter = registry_->Get(trained.digest).value();  // as revoked
  RevocationScreen self = RevocationScreen::Of(*registry_, adapter).value();
  ASSERT_EQ(self.all.size(), 1u);
  EXPECT_EQ(self.all[0].relation, "self");
  EXPECT_FALSE(self.requirement.key || self.requirement.dataset || self.requirement.base);
  EXPECT_TRUE(self.requirement_reasons.empty());

  ASSERT_TRUE(registry_->RevokeObject("base", base_.digest, "bad weights").ok());
  RevocationScreen both = RevocationScreen::Of(*registry_, adapter).value();
  EXPECT_EQ(both.all.size(), 2u);
  EXPECT_TRUE(both.requirement.base);
  EXPECT_FALSE(both.requirement.dataset);
  ASSERT_EQ(both.requirement_reasons.size(), 1u);
  EXPECT_EQ(both.requirement_reasons[0].rfind("base sha256:" + base_.digest, 0), 0u);
}

}  // namespace
}  // namespace graft::policies
