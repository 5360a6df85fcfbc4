#include "tests/integration/report_builder/report_registry_helpers.h"

#include <cmath>

#include "core/dsse.h"
#include "core/intoto.h"
#include "evaluator/stats/json.h"
#include "tests/support/peft_fixture.h"

namespace graft::testing {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPolicyYaml =
    "policy: bot\n"
    "promotion:\n"
    "  kpis: [{suite: kpi, metric: acc, min_delta: 0.05}]\n"
    "  require: {signed_by: trainer, approvals: 1, separate_duties: true}\n";

stats::MetricComparison Acc(double delta, const std::string& slice) {
  stats::MetricComparison m;
  m.metric = "acc";
  m.slice = slice;
  m.n = slice.empty() ? 200 : 80;
  m.base = 0.5;
  m.adapter = 0.5 + delta;
  m.delta = delta;
  m.confidence = 0.95;
  m.interval = {delta - 0.02, delta + 0.02};
  m.resamples = 1000;
  m.seed = 7;
  m.minimum_detectable_effect = 0.03;
  // Discordant pairs consistent with the delta: c - b = delta * n.
  m.mcnemar = stats::McNemarResult{3, 3 + std::llround(delta * static_cast<double>(m.n)), 0.0001};
  m.distribution = stats::BootstrapDistribution(std::vector<double>(1000, delta));
  return m;
}

stats::MetricComparison Comparison(double delta) {
  stats::MetricComparison overall = Acc(delta, "");
  overall.slices = {Acc(delta, "faq")};
  return overall;
}

}  // namespace

void ReportRegistryTest::SetUp() {
  registry_.emplace(registry::Registry::Init(Dir("registry")).value());
  registry_->SetActor("tester@host");
  lifecycle_ = std::make_unique<policies::Lifecycle>(*registry_);
  ASSERT_TRUE(registry_->TrustKey(trainer_.public_key(), "trainer", "trainer-ci").ok());
  ASSERT_TRUE(registry_->TrustKey(evaluator_.public_key(), "evaluator", "ci").ok());
  ASSERT_TRUE(registry_->TrustKey(approver_.public_key(), "approver", "carol").ok());
  ASSERT_TRUE(WriteTinyGpt2Base(Dir("tiny")).ok());
  base_ = registry_->RegisterBase(Dir("tiny"), "tiny").value();
  ASSERT_TRUE(WriteFileAtomic(Dir("train.jsonl"), "{\"text\": \"hi\"}\n").ok());
  dataset_ = registry_->RegisterDataset(Dir("train.jsonl"), "train").value();
  ASSERT_TRUE(WriteFileAtomic(Dir("policy.yaml"), kPolicyYaml).ok());
  policy_ = lifecycle_->RegisterPolicy(Dir("policy.yaml")).value();
}

registry::ObjectRecord ReportRegistryTest::Train(int seed, const std::string& policy_digest) {
  fs::path dir = Dir("adapter-" + std::to_string(seed));
  LoraShape shape;
  shape.seed = seed;
  EXPECT_TRUE(WriteLoraAdapter(dir, shape).ok());
  ProvenanceInputs inputs;
  inputs.base_digest = base_.digest;
  inputs.dataset_digests = {dataset_.digest};
  inputs.policy_digest = policy_digest;
  inputs.run_id = "run-" + std::to_string(seed);
  EXPECT_TRUE(WriteProvenance(dir, trainer_, inputs).ok());
  EXPECT_TRUE(SignAdapter(dir, trainer_).ok());
  Result<registry::ObjectRecord> adapter = registry_->RegisterAdapter(dir, {.name = "bot"});
  EXPECT_TRUE(adapter.ok()) << adapter.status().ToString();
  return adapter.ok() ? *adapter : registry::ObjectRecord{};
}

std::string ReportRegistryTest::Evaluate(const registry::ObjectRecord& adapter, double delta) {
  const std::string suite_digest(64, '5');
  Json predicate = {
      {"result", "PASSED"},
      {"graft",
       {{"adapter", adapter.digest},
        {"base", base_.digest},
        {"suites",
         {{{"name", "kpi"},
           {"digest", suite_digest},
           {"tasks",
            {{{"name", "topic"}, {"metrics", {stats::ComparisonToJson(Comparison(delta))}}}}}}}}}}};
  InTotoStatement statement;
  statement.subjects.push_back({adapter.labels.front(), {{"sha256", adapter.digest}}});
  statement.predicate_type = "https://in-toto.io/attestation/test-result/v0.1";
  statement.predicate = predicate;
  DsseEnvelope envelope =
      DsseSign(kInTotoPayloadType, CanonicalJson(statement.ToJson()).value(), {&evaluator_})
          .value();
  Result<registry::AttestationRecord> record =
      registry_->AddAttestation("evaluation", envelope, adapter.digest, "evaluator",
                                {{"", "adapter", adapter.digest}, {"", "suite", suite_digest}});
  EXPECT_TRUE(record.ok()) << record.status().ToString();
  return record.ok() ? record->digest : "";
}

policies::Decision ReportRegistryTest::Gate(const registry::ObjectRecord& adapter,
                                            const registry::ObjectRecord& policy,
                                            const std::string& evaluation, double delta) {
  std::vector<policies::SuiteComparisons> comparisons = {
      policies::SuiteComparisons{"kpi", {Comparison(delta)}}};
  Result<policies::GateDecision> decision =
      lifecycle_->Gate(adapter, policy, comparisons, evaluator_, {evaluation});
  EXPECT_TRUE(decision.ok()) << decision.status().ToString();
  return decision.ok() ? decision->decision : policies::Decision{};
}

std::map<std::string, std::string> ReportRegistryTest::RegistryFiles() const {
  std::map<std::string, std::string> files = HashTree(Dir("registry"));
  files.erase("registry.db-shm");
  return files;
}

registry::ObjectRecord ReportRegistryTest::Promoted(int seed, const std::string& channel) {
  registry::ObjectRecord adapter = Train(seed, policy_.digest);
  EXPECT_EQ(Gate(adapter, policy_, Evaluate(adapter, 0.1), 0.1).verdict, policies::Verdict::kPass);
  EXPECT_TRUE(lifecycle_->Approve(adapter.digest, approver_, "lgtm").ok());
  Result<policies::PromoteOutcome> promoted = lifecycle_->Promote(adapter.digest, channel);
  EXPECT_TRUE(promoted.ok() && promoted->promoted);
  return registry_->Get(adapter.digest).value();
}

}  // namespace graft::testing
