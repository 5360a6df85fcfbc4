// LifecycleTest: a real registry with trusted trainer, evaluator and approver keys, a tiny base, a
// dataset and a registered policy, for the lifecycle and gate tests.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/file_util.h"
#include "policies/lifecycle.h"
#include "tests/support/peft_fixture.h"

namespace graft::testing {
using registry::ObjectRecord;

inline constexpr std::string_view kPolicyYaml =
    "policy: bot\n"
    "promotion:\n"
    "  kpis: [{suite: kpi, metric: acc, min_delta: 0.05}]\n"
    "  require: {signed_by: trainer, approvals: 1, separate_duties: true, max_rank: 64}\n"
    "exit:\n"
    "  - {on_revoked: [key, dataset, base]}\n";

inline const policies::CriterionResult* Find(const policies::Decision& d, const std::string& name) {
  for (const policies::CriterionResult& c : d.criteria) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

inline PrivateKey NewKey() { return PrivateKey::Generate(KeyAlgorithm::kEd25519).value(); }

class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_.emplace(registry::Registry::Init(Dir("registry")).value());
    lifecycle_ = std::make_unique<policies::Lifecycle>(*registry_);
    ASSERT_TRUE(registry_->TrustKey(trainer_.public_key(), "trainer", "trainer").ok());
    ASSERT_TRUE(registry_->TrustKey(evaluator_.public_key(), "evaluator", "ci").ok());
    ASSERT_TRUE(registry_->TrustKey(approver_.public_key(), "approver", "carol").ok());
    ASSERT_TRUE(WriteTinyGpt2Base(Dir("tiny")).ok());
    base_ = registry_->RegisterBase(Dir("tiny"), "tiny").value();
    ASSERT_TRUE(WriteFileAtomic(Dir("train.jsonl"), "{\"text\": \"hi\"}\n").ok());
    dataset_ = registry_->RegisterDataset(Dir("train.jsonl"), "train").value();
    policy_ = RegisterPolicy("policy.yaml", kPolicyYaml).value();
  }

  std::filesystem::path Dir(const std::string& name) const { return temp_.path() / name; }

  Result<ObjectRecord> RegisterPolicy(const std::string& file, std::string_view text) {
    EXPECT_TRUE(WriteFileAtomic(Dir(file), text).ok());
    return lifecycle_->RegisterPolicy(Dir(file));
  }

  // A signed adapter whose provenance names `policy_digest`, registered as "bot".
  ObjectRecord Train(int seed, const std::string& policy_digest) {
    std::filesystem::path dir = Dir("adapter-" + std::to_string(seed));
    LoraShape shape;
    shape.seed = seed;
    EXPECT_TRUE(WriteLoraAdapter(dir, shape).ok());
    ProvenanceInputs inputs;
    inputs.base_digest = base_.digest;
    inputs.dataset_digests = {dataset_.digest};
    inputs.policy_digest = policy_digest;
    EXPECT_TRUE(WriteProvenance(dir, trainer_, inputs).ok());
    EXPECT_TRUE(SignAdapter(dir, trainer_).ok());
    Result<ObjectRecord> adapter = registry_->RegisterAdapter(dir, {.name = "bot"});
    EXPECT_TRUE(adapter.ok()) << adapter.status().ToString();
    return adapter.ok() ? *adapter : ObjectRecord{};
  }

  // Comparisons on suite "kpi": acc (as a mean metric) improved by `delta`, standard error 0.01.
  static std::vector<policies::SuiteComparisons> Evaluations(double delta) {
    stats::MetricComparison m;
    m.metric = "acc";
    m.n = 200;
    m.standard_error = 0.01;
    m.degrees_of_freedom = 199;
    m.base = 0.5;
    m.adapter = 0.5 + delta;
    m.delta = delta;
    m.minimum_detectable_effect = 0.03;
    m.distribution = stats::BootstrapDistribution(std::vector<double>(1000, delta));
    return {policies::SuiteComparisons{"kpi", {m}}};
  }

  // Gates `adapter` under policy_ on comparisons from a (stand-in) evaluation attestation.
  policies::Decision Gate(const ObjectRecord& adapter, double delta = 0.1) {
    std::vector<policies::SuiteComparisons> evaluations = Evaluations(delta);
    Result<policies::GateDecision> decision =
        lifecycle_->Gate(adapter, policy_, evaluations, evaluator_, {std::string(64, 'e')});
    EXPECT_TRUE(decision.ok()) << decision.status().ToString();
    return decision.ok() ? decision->decision : policies::Decision{};
  }

  // The event `back` places before the end of the log (0: the last one).
  Json EventFromEnd(uint64_t back = 0) {
    return registry_->GetEvent(registry_->LogSize().value() - 1 - back).value().json;
  }

  TempDir temp_{"graft-lifecycle-test"};
  std::optional<registry::Registry> registry_;
  std::unique_ptr<policies::Lifecycle> lifecycle_;
  PrivateKey trainer_ = NewKey();
  PrivateKey evaluator_ = NewKey();
  PrivateKey approver_ = NewKey();
  ObjectRecord base_, dataset_, policy_;
};

}  // namespace graft::testing
