// The decision engine: criterion boundaries, relative margins, slices, Holm, requirements,
// verdicts.
#include "policies/decision_engine.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/json.h"

namespace graft {
namespace {

// A comparison whose bootstrap distribution is exactly `deltas`.
MetricComparison Comparison(const std::string& metric, std::vector<double> deltas,
                            double base = 0.5) {
  MetricComparison m;
  m.metric = metric;
  m.higher_is_better = LookupMetric(metric)->higher_is_better;
  m.n = 100;
  m.base = base;
  m.distribution = BootstrapDistribution(std::move(deltas));
  m.delta = m.distribution.Median();
  m.adapter = base + m.delta;
  m.minimum_detectable_effect = 0.03;
  return m;
}

// 1000 resamples: `low_count` copies of `low` then the rest `high`. At 95% the interval is
// [sorted[25], sorted[974]].
std::vector<double> TwoPoint(int low_count, double low, double high) {
  std::vector<double> deltas(1000, high);
  for (int i = 0; i < low_count; ++i) deltas[i] = low;
  return deltas;
}

Policy BasePolicy() {
  Policy policy;
  policy.name = "support-bot";
  policy.digest = "sha256:" + std::string(64, 'd');
  return policy;
}

RequirementFacts GoodFacts() {
  RequirementFacts facts;
  facts.signature_verified = true;
  facts.signer_key_id = "trainer-key";
  facts.signer_roles = {"trainer"};
  facts.approver_key_ids = {"alice"};
  facts.adapter_rank = 8;
  facts.adapter_size_bytes = 4096;
  facts.base_digest = "sha256:" + std::string(64, 'b');
  facts.policy_pre_declared = true;
  return facts;
}

const CriterionResult& Find(const Decision& d, const std::string& name) {
  for (const CriterionResult& c : d.criteria) {
    if (c.name == name) return c;
  }
  ADD_FAILURE() << "no criterion " << name;
  static CriterionResult none;
  return none;
}

Decision DecideKpi(double min_delta, std::vector<double> deltas,
                   const std::string& metric = "acc") {
  Policy policy = BasePolicy();
  policy.promotion.kpis = {{"kpi-suite", metric, min_delta}};
  std::vector<SuiteComparisons> evidence = {{"kpi-suite", {Comparison(metric, std::move(deltas))}}};
  return Decide(policy, evidence, GoodFacts(), DecisionMode::kGate);
}

TEST(DecisionEngine, KpiBoundaries) {
  // Lower bound exactly at min_delta passes (>=).
  Decision at = DecideKpi(0.05, TwoPoint(25, 0.0, 0.05));
  const CriterionResult& kpi = Find(at, "kpi kpi-suite/acc");
  EXPECT_EQ(kpi.status, CriterionStatus::kPass) << kpi.reason;
  EXPECT_DOUBLE_EQ(kpi.interval->low, 0.05);
  EXPECT_DOUBLE_EQ(*kpi.confidence, 0.95);
  EXPECT_DOUBLE_EQ(*kpi.threshold, 0.05);
  EXPECT_DOUBLE_EQ(*kpi.p_value, 0.025);  // 25 of 1000 resamples below min_delta
  EXPECT_EQ(at.verdict, Verdict::kPass);
  EXPECT_EQ(at.exit_code, 0);
  // One more resample below: the lower bound drops under min_delta; the upper bound is above.
  Decision below = DecideKpi(0.05, TwoPoint(26, 0.0, 0.05));
  EXPECT_EQ(Find(below, "kpi kpi-suite/acc").status, CriterionStatus::kInconclusive);
  EXPECT_NE(Find(below, "kpi kpi-suite/acc").reason.find("minimum detectable effect 0.03"),
            std::string::npos);
  // Upper bound below min_delta: FAIL.
  Decision fail = DecideKpi(0.05, TwoPoint(980, 0.0, 0.049));
  EXPECT_EQ(Find(fail, "kpi kpi-suite/acc").status, CriterionStatus::kFail);
  EXPECT_EQ(fail.verdict, Verdict::kFail);
  EXPECT_EQ(fail.exit_code, 10);
  // Upper bound exactly at min_delta is not a FAIL.
  EXPECT_EQ(Find(DecideKpi(0.05, TwoPoint(974, 0.0, 0.05)), "kpi kpi-suite/acc").status,
            CriterionStatus::kInconclusive);
}

TEST(DecisionEngine, LowerIsBetterMetricsUseBaseMinusAdapter) {
  // bits_per_byte fell by 0.1 (delta -0.1): improvement 0.1 >= 0.05.
  Decision better = DecideKpi(0.05, std::vector<double>(1000, -0.1), "bits_per_byte");
  const CriterionResult& c = Find(better, "kpi kpi-suite/bits_per_byte");
  EXPECT_EQ(c.status, CriterionStatus::kPass);
  EXPECT_DOUBLE_EQ(*c.delta, -0.1);
  EXPECT_DOUBLE_EQ(c.interval->high, -0.1);
  EXPECT_DOUBLE_EQ(c.improvement_interval->low, 0.1);
  EXPECT_FALSE(*c.higher_is_better);
  // It rose by 0.1: improvement -0.1 < 0.05.
  EXPECT_EQ(Find(DecideKpi(0.05, std::vector<double>(1000, 0.1), "bits_per_byte"),
                 "kpi kpi-suite/bits_per_byte")
                .status,
            CriterionStatus::kFail);
}

Decision DecideRegression(RegressionCriterion regression, MetricComparison comparison,
                          InconclusiveAction action = InconclusiveAction::kFail) {
  Policy policy = BasePolicy();
  policy.promotion.regressions = {std::move(regression)};
  policy.promotion.inconclusive = action;
  std::vector<SuiteComparisons> evidence = {{"general", {std::move(comparison)}}};
  return Decide(policy, evidence, GoodFacts(), DecisionMode::kGate);
}

TEST(DecisionEngine, RegressionBoundaries) {
  const RegressionCriterion reg{"general", "acc", 0.02, false, false};
  // Lower bound exactly at -margin is not enough (strict >): INCONCLUSIVE.
  Decision at = DecideRegression(reg, Comparison("acc", TwoPoint(26, -0.02, 0.01)));
  const CriterionResult& c = Find(at, "regression general/acc");
  EXPECT_EQ(c.status, CriterionStatus::kInconclusive) << c.reason;
  EXPECT_DOUBLE_EQ(*c.threshold, -0.02);
  EXPECT_DOUBLE_EQ(*c.p_value, 0.026);    // resamples at or below -margin
  EXPECT_EQ(at.verdict, Verdict::kFail);  // inconclusive: fail
  EXPECT_EQ(at.exit_code, 10);
  // Just above: PASS.
  EXPECT_EQ(Find(DecideRegression(reg, Comparison("acc", TwoPoint(25, -0.02, -0.0199))),
                 "regression general/acc")
                .status,
            CriterionStatus::kPass);
  // Upper bound below -margin: FAIL.
  EXPECT_EQ(Find(DecideRegression(reg, Comparison("acc", std::vector<double>(1000, -0.03))),
                 "regression general/acc")
                .status,
            CriterionStatus::kFail);
}

TEST(DecisionEngine, RelativeMarginScalesWithTheBaseValue) {
  // bits_per_byte rose by 0.03; a 2% relative margin allows 0.04 on base 2.0 but 0.02 on base 1.0.
  const RegressionCriterion reg{"general", "bits_per_byte", 0.02, true, false};
  Decision wide =
      DecideRegression(reg, Comparison("bits_per_byte", std::vector<double>(1000, 0.03), 2.0));
  const CriterionResult& pass = Find(wide, "regression general/bits_per_byte");
  EXPECT_EQ(pass.status, CriterionStatus::kPass) << pass.reason;
  EXPECT_DOUBLE_EQ(*pass.threshold, -0.04);
  Decision narrow =
      DecideRegression(reg, Comparison("bits_per_byte", std::vector<double>(1000, 0.03), 1.0));
  const CriterionResult& fail = Find(narrow, "regression general/bits_per_byte");
  EXPECT_EQ(fail.status, CriterionStatus::kFail) << fail.reason;
  EXPECT_DOUBLE_EQ(*fail.threshold, -0.02);
}

TEST(DecisionEngine, PerSliceExpandsIntoOneCriterionPerSlice) {
  MetricComparison all = Comparison("acc", std::vector<double>(1000, 0.0));
  MetricComparison faq = Comparison("acc", std::vector<double>(1000, 0.01));
  faq.slice = "faq";
  MetricComparison billing = Comparison("acc", std::vector<double>(1000, -0.05));
  billing.slice = "billing";
  all.slices = {billing, faq};
  Decision d = DecideRegression({"general", "acc", 0.02, false, true}, all);
  size_t statistical = 0;
  for (const CriterionResult& c : d.criteria) statistical += c.kind == CriterionKind::kRegression;
  EXPECT_EQ(statistical, 2u);
  EXPECT_EQ(Find(d, "regression general/acc[faq]").status, CriterionStatus::kPass);
  EXPECT_EQ(Find(d, "regression general/acc[faq]").slice, "faq");
  EXPECT_EQ(Find(d, "regression general/acc[billing]").status, CriterionStatus::kFail);
  EXPECT_EQ(d.verdict, Verdict::kFail);
  // Per-slice on an evaluation without slices is a FAIL, not a silent pass.
  Decision none = DecideRegression({"general", "acc", 0.02, false, true},
                                   Comparison("acc", std::vector<double>(1000, 0.0)));
  const CriterionResult& missing = Find(none, "regression general/acc");
  EXPECT_EQ(missing.status, CriterionStatus::kFail);
  EXPECT_EQ(missing.reason, "per_slice is set but the evaluation has no slices");
}

TEST(DecisionEngine, MissingEvidenceFails) {
  Policy policy = BasePolicy();
  policy.promotion.kpis = {{"kpi-suite", "acc", 0.0}};
  Decision d = Decide(policy, {}, GoodFacts(), DecisionMode::kGate);
  const CriterionResult& c = Find(d, "kpi kpi-suite/acc");
  EXPECT_EQ(c.status, CriterionStatus::kFail);
  EXPECT_EQ(c.reason, "no evaluation of kpi-suite/acc");
  std::vector<SuiteComparisons> empty = {{"kpi-suite", {Comparison("acc", {})}}};
  EXPECT_EQ(
      Find(Decide(policy, empty, GoodFacts(), DecisionMode::kGate), "kpi kpi-suite/acc").reason,
      "the comparison has no bootstrap distribution");
}

TEST(DecisionEngine, HolmTurnsABorderlinePassIntoInconclusive) {
  // 20 of 1000 resamples below 0: lower bound 0.1 at 95% (k = 25) but -1 at 97.5% (k = 12).
  const std::vector<double> borderline = TwoPoint(20, -1.0, 0.1);
  Policy one = BasePolicy();
  one.promotion.kpis = {{"a", "acc", 0.0}};
  std::vector<SuiteComparisons> evidence = {{"a", {Comparison("acc", borderline)}},
                                            {"b", {Comparison("acc", borderline)}}};
  Decision alone = Decide(one, evidence, GoodFacts(), DecisionMode::kGate);
  EXPECT_EQ(Find(alone, "kpi a/acc").status, CriterionStatus::kPass);

  Policy two = one;
  two.promotion.kpis.push_back({"b", "acc", 0.0});
  Decision both = Decide(two, evidence, GoodFacts(), DecisionMode::kGate);
  const CriterionResult& first = Find(both, "kpi a/acc");
  const CriterionResult& second = Find(both, "kpi b/acc");
  // Ties keep policy order: a is tested at 97.5%, b at 95% but after a failed to pass.
  EXPECT_EQ(first.status, CriterionStatus::kInconclusive);
  EXPECT_DOUBLE_EQ(*first.confidence, 0.975);
  EXPECT_DOUBLE_EQ(first.interval->low, -1.0);
  EXPECT_EQ(second.status, CriterionStatus::kInconclusive);
  EXPECT_DOUBLE_EQ(*second.confidence, 0.95);
  EXPECT_NE(second.reason.find("Holm step-down stopped at kpi a/acc"), std::string::npos)
      << second.reason;
  EXPECT_EQ(both.verdict, Verdict::kFail);

  // With a strong first criterion the borderline one is tested at the full level and passes.
  std::vector<SuiteComparisons> strong = {
      {"a", {Comparison("acc", std::vector<double>(1000, 0.2))}},
      {"b", {Comparison("acc", borderline)}}};
  Decision step = Decide(two, strong, GoodFacts(), DecisionMode::kGate);
  EXPECT_EQ(Find(step, "kpi a/acc").status, CriterionStatus::kPass);
  EXPECT_DOUBLE_EQ(*Find(step, "kpi a/acc").confidence, 0.975);
  EXPECT_EQ(Find(step, "kpi b/acc").status, CriterionStatus::kPass);
  EXPECT_DOUBLE_EQ(*Find(step, "kpi b/acc").confidence, 0.95);
  EXPECT_EQ(step.verdict, Verdict::kPass);
}

TEST(DecisionEngine, InconclusiveHoldGivesExitEleven) {
  const RegressionCriterion reg{"general", "acc", 0.02, false, false};
  Decision hold =
      DecideRegression(reg, Comparison("acc", TwoPoint(500, -0.1, 0.1)), InconclusiveAction::kHold);
  EXPECT_EQ(hold.verdict, Verdict::kInconclusive);
  EXPECT_EQ(hold.exit_code, 11);
  EXPECT_EQ(hold.inconclusive, "hold");
  // A FAIL wins over hold.
  Policy policy = BasePolicy();
  policy.promotion.inconclusive = InconclusiveAction::kHold;
  policy.promotion.regressions = {reg};
  std::vector<SuiteComparisons> evidence = {
      {"general", {Comparison("acc", TwoPoint(500, -0.1, 0.1))}}};
  RequirementFacts facts = GoodFacts();
  facts.policy_pre_declared = false;
  Decision fail = Decide(policy, evidence, facts, DecisionMode::kGate);
  EXPECT_EQ(fail.verdict, Verdict::kFail);
  EXPECT_EQ(fail.exit_code, 10);
}

TEST(DecisionEngine, PostHocPolicyFails) {
  RequirementFacts facts = GoodFacts();
  facts.policy_pre_declared = false;
  Decision d = Decide(BasePolicy(), {}, facts, DecisionMode::kGate);
  const CriterionResult& c = Find(d, "pre-declared policy");
  EXPECT_EQ(c.status, CriterionStatus::kFail);
  EXPECT_TRUE(c.reason.starts_with("post-hoc policy: ")) << c.reason;
  EXPECT_EQ(c.kind, CriterionKind::kRequirement);
  EXPECT_EQ(d.exit_code, 10);
  EXPECT_EQ(Find(Decide(BasePolicy(), {}, GoodFacts(), DecisionMode::kGate), "pre-declared policy")
                .status,
            CriterionStatus::kPass);
}

Policy ApprovalPolicy(int64_t approvals, bool separate) {
  Policy policy = BasePolicy();
  policy.promotion.require.approvals = approvals;
  policy.promotion.require.separate_duties = separate;
  return policy;
}

TEST(DecisionEngine, ApprovalsArePendingAtTheGateAndRequiredForPromotion) {
  RequirementFacts facts = GoodFacts();
  facts.approver_key_ids = {};
  Decision gate = Decide(ApprovalPolicy(1, true), {}, facts, DecisionMode::kGate);
  EXPECT_EQ(Find(gate, "approvals").status, CriterionStatus::kPending);
  EXPECT_EQ(gate.verdict, Verdict::kPass);  // pending does not block the gate
  EXPECT_EQ(gate.exit_code, 0);
  Decision promote = Decide(ApprovalPolicy(1, true), {}, facts, DecisionMode::kPromote);
  EXPECT_EQ(Find(promote, "approvals").status, CriterionStatus::kFail);
  EXPECT_EQ(promote.verdict, Verdict::kFail);
  facts.approver_key_ids = {"alice"};
  Decision approved = Decide(ApprovalPolicy(1, true), {}, facts, DecisionMode::kPromote);
  EXPECT_EQ(Find(approved, "approvals").status, CriterionStatus::kPass);
  EXPECT_DOUBLE_EQ(*Find(approved, "approvals").observed, 1);
  EXPECT_EQ(approved.verdict, Verdict::kPass);
}

TEST(DecisionEngine, SeparationOfDutiesIgnoresSelfAndRepeatedApprovals) {
  RequirementFacts facts = GoodFacts();
  facts.approver_key_ids = {"trainer-key", "alice", "alice"};
  Decision d = Decide(ApprovalPolicy(2, true), {}, facts, DecisionMode::kPromote);
  const CriterionResult& c = Find(d, "approvals");
  EXPECT_EQ(c.status, CriterionStatus::kFail);
  EXPECT_EQ(c.reason,
            "1 of 2 distinct approvals; ignored trainer-key (the trainer's key; separate_duties); "
            "ignored alice (approved twice)");
  // Without separate_duties the trainer's own approval counts.
  EXPECT_EQ(
      Find(Decide(ApprovalPolicy(2, false), {}, facts, DecisionMode::kPromote), "approvals").status,
      CriterionStatus::kPass);
  facts.approver_key_ids = {"alice", "bob"};
  EXPECT_EQ(
      Find(Decide(ApprovalPolicy(2, true), {}, facts, DecisionMode::kPromote), "approvals").status,
      CriterionStatus::kPass);
}

TEST(DecisionEngine, SignatureRankSizeBaseAndRevocation) {
  Policy policy = BasePolicy();
  policy.base = "sha256:" + std::string(64, 'b');
  policy.promotion.require.signed_by = "trainer";
  policy.promotion.require.max_rank = 8;
  policy.promotion.require.max_size_bytes = 4096;
  Decision good = Decide(policy, {}, GoodFacts(), DecisionMode::kGate);
  for (const char* name : {"base", "not revoked", "signed_by", "max_rank", "max_size_bytes"}) {
    EXPECT_EQ(Find(good, name).status, CriterionStatus::kPass) << name;
  }
  EXPECT_EQ(good.verdict, Verdict::kPass);

  RequirementFacts bad = GoodFacts();
  bad.signer_roles = {"evaluator"};
  bad.adapter_rank = 16;
  bad.adapter_size_bytes.reset();
  bad.base_digest = "sha256:" + std::string(64, 'c');
  bad.revoked.dataset = true;
  bad.revoked.base = true;
  Decision d = Decide(policy, {}, bad, DecisionMode::kGate);
  EXPECT_EQ(Find(d, "signed_by").reason, "signing key trainer-key does not have role trainer");
  EXPECT_EQ(Find(d, "max_rank").reason, "rank 16 > 8");
  EXPECT_DOUBLE_EQ(*Find(d, "max_rank").observed, 16);
  EXPECT_EQ(Find(d, "max_size_bytes").reason, "size in bytes unknown");
  EXPECT_EQ(Find(d, "not revoked").reason, "revoked: dataset, base");
  EXPECT_EQ(Find(d, "base").status, CriterionStatus::kFail);
  for (const char* name : {"base", "not revoked", "signed_by", "max_rank", "max_size_bytes"}) {
    EXPECT_EQ(Find(d, name).status, CriterionStatus::kFail) << name;
  }
  bad = GoodFacts();
  bad.signature_verified = false;
  EXPECT_EQ(Find(Decide(policy, {}, bad, DecisionMode::kGate), "signed_by").reason,
            "the adapter signature did not verify");
}

TEST(DecisionEngine, DecisionJsonIsCompleteAndCanonical) {
  Decision d = DecideKpi(0.05, TwoPoint(25, 0.0, 0.05));
  Json json = d.ToJson();
  EXPECT_EQ(json["policy"], "support-bot");
  EXPECT_EQ(json["policy_digest"], "sha256:" + std::string(64, 'd'));
  EXPECT_EQ(json["mode"], "gate");
  EXPECT_EQ(json["verdict"], "pass");
  EXPECT_EQ(json["exit_code"], 0);
  EXPECT_EQ(json["inconclusive"], "fail");
  const Json& kpi = json["criteria"][0];
  EXPECT_EQ(kpi["name"], "kpi kpi-suite/acc");
  EXPECT_EQ(kpi["kind"], "kpi");
  EXPECT_EQ(kpi["status"], "PASS");
  EXPECT_EQ(kpi["suite"], "kpi-suite");
  EXPECT_EQ(kpi["metric"], "acc");
  EXPECT_DOUBLE_EQ(kpi["interval"]["low"].get<double>(), 0.05);
  EXPECT_DOUBLE_EQ(kpi["threshold"].get<double>(), 0.05);
  EXPECT_EQ(kpi["n"], 100);
  EXPECT_FALSE(kpi.contains("slice"));
  EXPECT_FALSE(kpi.contains("observed"));
  const Json& predeclared = json["criteria"][1];
  EXPECT_EQ(predeclared["name"], "pre-declared policy");
  EXPECT_EQ(predeclared["kind"], "requirement");
  EXPECT_FALSE(predeclared.contains("interval"));
  auto first = CanonicalJson(json);
  auto second = CanonicalJson(DecideKpi(0.05, TwoPoint(25, 0.0, 0.05)).ToJson());
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, *second);
}

}  // namespace
}  // namespace graft
