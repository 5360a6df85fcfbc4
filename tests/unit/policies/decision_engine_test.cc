// The decision engine: ties against the adapter, minimum evidence, exact/score/t tests, relative
// margins, slices, Holm, looks and candidates, requirements, verdicts.
#include "policies/decision_engine.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "evaluator/stats/normal.h"
#include "evaluator/stats/paired.h"
#include "evaluator/stats/paired_binary.h"

namespace graft::policies {
namespace {

// A studentized comparison (mean or ratio metric) with the given delta and standard error.
stats::MetricComparison Studentized(const std::string& metric, double delta, double standard_error,
                                    double base = 0.5, size_t n = 100) {
  stats::MetricComparison m;
  m.metric = metric;
  m.kind = stats::LookupMetric(metric)->kind;
  m.higher_is_better = stats::LookupMetric(metric)->higher_is_better;
  m.n = n;
  m.base = base;
  m.delta = delta;
  m.adapter = base + delta;
  m.standard_error = standard_error;
  m.degrees_of_freedom = static_cast<double>(n) - 1;
  m.effective_n = static_cast<double>(n);
  m.minimum_detectable_effect = 0.03;
  return m;
}

// A 0/1 comparison: `b` items only the base got right, `c` only the adapter, `n` in all.
stats::MetricComparison Binary(int64_t b, int64_t c, size_t n, const std::string& metric = "acc") {
  stats::MetricComparison m =
      Studentized(metric, static_cast<double>(c - b) / static_cast<double>(n), 0, 0.5, n);
  m.mcnemar = stats::McNemarExact(b, c);
  return m;
}

// The real comparison of per-item 0/1 scores.
stats::MetricComparison Compared(std::vector<double> base, std::vector<double> adapter) {
  stats::MetricScores scores;
  scores.info = *stats::LookupMetric("acc");
  scores.base = std::move(base);
  scores.adapter = std::move(adapter);
  auto m = stats::CompareMetric(scores, {}, {.resamples = 200});
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return *m;
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

Decision DecideKpi(double min_delta, stats::MetricComparison comparison,
                   stats::EvidenceRule evidence = {}) {
  Policy policy = BasePolicy();
  policy.promotion.kpis = {{"kpi-suite", comparison.metric, min_delta}};
  policy.promotion.evidence = evidence;
  std::vector<SuiteComparisons> evidence_list = {{"kpi-suite", {std::move(comparison)}}};
  return Decide(policy, evidence_list, GoodFacts(), DecisionMode::kGate);
}

const CriterionResult& Kpi(const Decision& d, const std::string& metric = "acc") {
  return Find(d, "kpi kpi-suite/" + metric);
}

TEST(DecisionEngine, KpiBoundariesWithTheDeltaMethodT) {
  // Improvement 0.1 (bits_per_byte fell by 0.1), SE 0.02, df 99: t = 2.5 against min_delta 0.05.
  Decision pass = DecideKpi(0.05, Studentized("bits_per_byte", -0.1, 0.02));
  const CriterionResult& kpi = Kpi(pass, "bits_per_byte");
  EXPECT_EQ(kpi.status, CriterionStatus::kPass) << kpi.reason;
  EXPECT_EQ(kpi.test, "delta-method t");
  EXPECT_NEAR(*kpi.p_value, 0.0070, 0.0002);  // 1 - T_99(2.5)
  EXPECT_DOUBLE_EQ(*kpi.confidence, 0.95);
  EXPECT_NEAR(kpi.improvement_interval->low, 0.1 - 1.9842169515086827 * 0.02, 1e-9);
  EXPECT_NEAR(kpi.interval->high, -kpi.improvement_interval->low, 1e-15);
  EXPECT_EQ(pass.verdict, Verdict::kPass);
  EXPECT_EQ(pass.exit_code, 0);
  // Exactly at the threshold: p = 1/2, never a PASS (ties count against the adapter).
  const CriterionResult& tie =
      Kpi(DecideKpi(0.05, Studentized("bits_per_byte", -0.05, 0.02)), "bits_per_byte");
  EXPECT_EQ(tie.status, CriterionStatus::kInconclusive) << tie.reason;
  EXPECT_DOUBLE_EQ(*tie.p_value, 0.5);
  EXPECT_NE(tie.reason.find("minimum detectable effect 0.03"), std::string::npos) << tie.reason;
  // Upper bound below min_delta: FAIL.
  Decision fail = DecideKpi(0.05, Studentized("bits_per_byte", 0.0, 0.01));
  EXPECT_EQ(Kpi(fail, "bits_per_byte").status, CriterionStatus::kFail);
  EXPECT_EQ(fail.exit_code, 10);
  // Zero spread and an improvement exactly at the threshold is still no PASS.
  EXPECT_EQ(Kpi(DecideKpi(0.05, Studentized("bits_per_byte", -0.05, 0.0)), "bits_per_byte").status,
            CriterionStatus::kInconclusive);
}

TEST(DecisionEngine, IdenticalModelsNeverPass) {
  const std::vector<double> values = {1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 1, 1, 0, 1, 0, 0, 1, 1};
  Decision kpi = DecideKpi(0, Compared(values, values));
  EXPECT_EQ(Kpi(kpi).status, CriterionStatus::kInconclusive) << Kpi(kpi).reason;
  EXPECT_NE(Kpi(kpi).reason.find("0 discordant pairs < min_discordant 10"), std::string::npos);
  EXPECT_EQ(kpi.verdict, Verdict::kFail);
  // Even with no minimum evidence the exact test has p = 1.
  Decision bare = DecideKpi(0, Compared(values, values), {1, 1, 1});
  EXPECT_EQ(Kpi(bare).status, CriterionStatus::kInconclusive);
  EXPECT_DOUBLE_EQ(*Kpi(bare).p_value, 1.0);
  EXPECT_EQ(Kpi(bare).test, "exact McNemar");
  // A regression with margin 0 is no easier: "not worse" also needs evidence.
  Policy policy = BasePolicy();
  policy.promotion.regressions = {{"kpi-suite", "acc", 0.0, false, false}};
  std::vector<SuiteComparisons> same = {{"kpi-suite", {Compared(values, values)}}};
  Decision reg = Decide(policy, same, GoodFacts(), DecisionMode::kGate);
  EXPECT_EQ(Find(reg, "regression kpi-suite/acc").status, CriterionStatus::kInconclusive);
  // The same for a studentized metric with every per-item delta 0.
  EXPECT_EQ(Kpi(DecideKpi(0, Studentized("bits_per_byte", 0, 0)), "bits_per_byte").status,
            CriterionStatus::kInconclusive);
}

TEST(DecisionEngine, TinyAndLopsidedEvidenceNeverPasses) {
  const stats::EvidenceRule none{1, 1, 1};
  // n = 1, base 0, adapter 1: not a PASS at min_delta 0.5 (Tango p 1/2 with the continuity
  // correction, 0.28 without), nor at 0.
  Decision one = DecideKpi(0.5, Compared({0}, {1}));
  EXPECT_EQ(Kpi(one).status, CriterionStatus::kInconclusive);
  EXPECT_NE(Kpi(one).reason.find("1 items < min_items 10"), std::string::npos) << Kpi(one).reason;
  const CriterionResult& bare = Kpi(DecideKpi(0.5, Compared({0}, {1}), none));
  EXPECT_EQ(bare.status, CriterionStatus::kInconclusive) << bare.reason;
  EXPECT_EQ(bare.test, "Tango score");
  EXPECT_DOUBLE_EQ(*bare.p_value, 0.5);  // numerator 1 - 0.5 - continuity 0.5 = 0
  EXPECT_NEAR(stats::TangoOneSidedP({1, 0, 1}, 0.5), 1 - 0.7181485690,
              1e-6);  // Z = 0.5 / sqrt(0.75)
  EXPECT_EQ(Kpi(DecideKpi(0, Compared({0}, {1}), none)).status, CriterionStatus::kInconclusive);
  // n = 200 with one discordant pair in the adapter's favour: exact p = 1/2.
  const CriterionResult& lone = Kpi(DecideKpi(0, Binary(0, 1, 200), none));
  EXPECT_EQ(lone.status, CriterionStatus::kInconclusive);
  EXPECT_DOUBLE_EQ(*lone.p_value, 0.5);
  // 3 items, all improved: sign test p = 1/8 > 0.025.
  const CriterionResult& three = Kpi(DecideKpi(0, Compared({0, 0, 0}, {1, 1, 1}), none));
  EXPECT_EQ(three.status, CriterionStatus::kInconclusive);
  EXPECT_DOUBLE_EQ(*three.p_value, 0.125);
  // 6 of 6 discordant pairs improved: 1/64 <= 0.025 passes once the evidence rule allows it.
  EXPECT_EQ(Kpi(DecideKpi(0, Binary(0, 6, 50), {10, 6, 1})).status, CriterionStatus::kPass);
  EXPECT_EQ(Kpi(DecideKpi(0, Binary(0, 6, 50))).status, CriterionStatus::kInconclusive);
  // Ratio metrics need an effective n.
  stats::MetricComparison skewed = Studentized("bits_per_byte", -0.5, 0.01);
  skewed.effective_n = 3.2;
  const CriterionResult& few = Kpi(DecideKpi(0, skewed), "bits_per_byte");
  EXPECT_EQ(few.status, CriterionStatus::kInconclusive);
  EXPECT_NE(few.reason.find("effective n 3.2 < min_effective_n 10"), std::string::npos)
      << few.reason;
}

TEST(DecisionEngine, ZeroOneMetricsUseExactMcNemarAtZeroAndTangoOtherwise) {
  // b = 2, c = 12 of 100: exact one-sided p = P(X >= 12 | 14, 1/2) = 106 / 16384.
  const CriterionResult& exact = Kpi(DecideKpi(0, Binary(2, 12, 100)));
  EXPECT_EQ(exact.test, "exact McNemar");
  EXPECT_NEAR(*exact.p_value, 106.0 / 16384, 1e-16);
  EXPECT_EQ(exact.status, CriterionStatus::kPass) << exact.reason;
  // min_delta 0.05: Tango's score test at delta0 = 0.05.
  const CriterionResult& tango = Kpi(DecideKpi(0.05, Binary(2, 12, 100)));
  EXPECT_EQ(tango.test, "Tango score");
  EXPECT_NEAR(*tango.p_value,
              1 - stats::NormalCdf(stats::TangoScore({12, 2, 100}, 0.05, stats::kTangoContinuity)),
              1e-15);
  EXPECT_EQ(tango.status, CriterionStatus::kInconclusive) << tango.reason;
  // Regression with margin 0.02 on a tie-ish result: Tango at -0.02.
  Policy policy = BasePolicy();
  policy.promotion.regressions = {{"general", "acc", 0.02, false, false}};
  std::vector<SuiteComparisons> evidence = {{"general", {Binary(20, 20, 1000)}}};
  const CriterionResult& reg =
      Find(Decide(policy, evidence, GoodFacts(), DecisionMode::kGate), "regression general/acc");
  EXPECT_EQ(reg.test, "Tango score");
  EXPECT_DOUBLE_EQ(*reg.threshold, -0.02);
  EXPECT_EQ(reg.status, CriterionStatus::kPass) << reg.reason;  // Z = 20 / sqrt(1000 * ...) > 2
}

Decision DecideRegression(RegressionCriterion regression, stats::MetricComparison comparison,
                          InconclusiveAction action = InconclusiveAction::kFail) {
  Policy policy = BasePolicy();
  policy.promotion.regressions = {std::move(regression)};
  policy.promotion.inconclusive = action;
  std::vector<SuiteComparisons> evidence = {{"general", {std::move(comparison)}}};
  return Decide(policy, evidence, GoodFacts(), DecisionMode::kGate);
}

TEST(DecisionEngine, RegressionBoundaries) {
  const RegressionCriterion reg{"general", "bits_per_byte", 0.02, false, false};
  // bits_per_byte rose by exactly the margin: improvement -0.02 = -margin, p = 1/2.
  Decision at = DecideRegression(reg, Studentized("bits_per_byte", 0.02, 0.005));
  const CriterionResult& c = Find(at, "regression general/bits_per_byte");
  EXPECT_EQ(c.status, CriterionStatus::kInconclusive) << c.reason;
  EXPECT_DOUBLE_EQ(*c.threshold, -0.02);
  EXPECT_DOUBLE_EQ(*c.p_value, 0.5);
  EXPECT_EQ(at.verdict, Verdict::kFail);  // inconclusive: fail
  // Clearly inside the margin: PASS; clearly beyond: FAIL.
  EXPECT_EQ(Find(DecideRegression(reg, Studentized("bits_per_byte", 0.0, 0.005)),
                 "regression general/bits_per_byte")
                .status,
            CriterionStatus::kPass);
  EXPECT_EQ(Find(DecideRegression(reg, Studentized("bits_per_byte", 0.04, 0.005)),
                 "regression general/bits_per_byte")
                .status,
            CriterionStatus::kFail);
}

TEST(DecisionEngine, RelativeMarginScalesWithTheBaseValue) {
  // bits_per_byte rose by 0.03; a 2% relative margin allows 0.04 on base 2.0 but 0.02 on base 1.0.
  const RegressionCriterion reg{"general", "bits_per_byte", 0.02, true, false};
  Decision wide = DecideRegression(reg, Studentized("bits_per_byte", 0.03, 0.001, 2.0));
  const CriterionResult& pass = Find(wide, "regression general/bits_per_byte");
  EXPECT_EQ(pass.status, CriterionStatus::kPass) << pass.reason;
  EXPECT_DOUBLE_EQ(*pass.threshold, -0.04);
  Decision narrow = DecideRegression(reg, Studentized("bits_per_byte", 0.03, 0.001, 1.0));
  const CriterionResult& fail = Find(narrow, "regression general/bits_per_byte");
  EXPECT_EQ(fail.status, CriterionStatus::kFail) << fail.reason;
  EXPECT_DOUBLE_EQ(*fail.threshold, -0.02);
}

TEST(DecisionEngine, PerSliceExpandsIntoOneCriterionPerSlice) {
  stats::MetricComparison all = Studentized("bits_per_byte", 0.0, 0.001);
  stats::MetricComparison faq = Studentized("bits_per_byte", -0.01, 0.001);
  faq.slice = "faq";
  stats::MetricComparison billing = Studentized("bits_per_byte", 0.05, 0.001);
  billing.slice = "billing";
  all.slices = {billing, faq};
  Decision d = DecideRegression({"general", "bits_per_byte", 0.02, false, true}, all);
  size_t statistical = 0;
  for (const CriterionResult& c : d.criteria) statistical += c.kind == CriterionKind::kRegression;
  EXPECT_EQ(statistical, 2u);
  EXPECT_EQ(Find(d, "regression general/bits_per_byte[faq]").status, CriterionStatus::kPass);
  EXPECT_EQ(Find(d, "regression general/bits_per_byte[faq]").slice, "faq");
  EXPECT_EQ(Find(d, "regression general/bits_per_byte[billing]").status, CriterionStatus::kFail);
  EXPECT_EQ(d.verdict, Verdict::kFail);
  // Per-slice on an evaluation without slices is a FAIL, not a silent pass.
  Decision none = DecideRegression({"general", "bits_per_byte", 0.02, false, true},
                                   Studentized("bits_per_byte", 0.0, 0.001));
  const CriterionResult& missing = Find(none, "regression general/bits_per_byte");
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
  stats::MetricComparison empty = Binary(0, 0, 1);
  empty.n = 0;
  std::vector<SuiteComparisons> none = {{"kpi-suite", {empty}}};
  EXPECT_EQ(
      Find(Decide(policy, none, GoodFacts(), DecisionMode::kGate), "kpi kpi-suite/acc").reason,
      "the comparison has no items");
}

TEST(DecisionEngine, HolmTurnsABorderlinePassIntoInconclusive) {
  // 6 of 6 discordant pairs improved: exact p = 1/64 = 0.015625, <= 0.025 but > 0.0125.
  const stats::EvidenceRule relaxed{10, 6, 1};
  Policy one = BasePolicy();
  one.promotion.evidence = relaxed;
  one.promotion.kpis = {{"a", "acc", 0.0}};
  std::vector<SuiteComparisons> evidence = {{"a", {Binary(0, 6, 50)}}, {"b", {Binary(0, 6, 50)}}};
  Decision alone = Decide(one, evidence, GoodFacts(), DecisionMode::kGate);
  EXPECT_EQ(Find(alone, "kpi a/acc").status, CriterionStatus::kPass);

  Policy two = one;
  two.promotion.kpis.push_back({"b", "acc", 0.0});
  Decision both = Decide(two, evidence, GoodFacts(), DecisionMode::kGate);
  const CriterionResult& first = Find(both, "kpi a/acc");
  const CriterionResult& second = Find(both, "kpi b/acc");
  // Ties keep policy order: a is tested at 0.0125 (97.5% interval), b at 0.025 after a stopped.
  EXPECT_EQ(first.status, CriterionStatus::kInconclusive);
  EXPECT_DOUBLE_EQ(*first.confidence, 0.975);
  EXPECT_EQ(second.status, CriterionStatus::kInconclusive);
  EXPECT_DOUBLE_EQ(*second.confidence, 0.95);
  EXPECT_NE(second.reason.find("Holm step-down stopped at kpi a/acc"), std::string::npos)
      << second.reason;
  EXPECT_EQ(both.verdict, Verdict::kFail);

  // With a strong first criterion the borderline one is tested at the full level and passes.
  std::vector<SuiteComparisons> strong = {{"a", {Binary(0, 30, 50)}}, {"b", {Binary(0, 6, 50)}}};
  Decision step = Decide(two, strong, GoodFacts(), DecisionMode::kGate);
  EXPECT_EQ(Find(step, "kpi a/acc").status, CriterionStatus::kPass);
  EXPECT_DOUBLE_EQ(*Find(step, "kpi a/acc").confidence, 0.975);
  EXPECT_EQ(Find(step, "kpi b/acc").status, CriterionStatus::kPass);
  EXPECT_DOUBLE_EQ(*Find(step, "kpi b/acc").confidence, 0.95);
  EXPECT_EQ(step.verdict, Verdict::kPass);
}

TEST(DecisionEngine, InconclusiveHoldGivesExitEleven) {
  const RegressionCriterion reg{"general", "bits_per_byte", 0.02, false, false};
  Decision hold =
      DecideRegression(reg, Studentized("bits_per_byte", 0.0, 0.05), InconclusiveAction::kHold);
  EXPECT_EQ(hold.verdict, Verdict::kInconclusive);
  EXPECT_EQ(hold.exit_code, 11);
  EXPECT_EQ(hold.inconclusive, "hold");
  // A FAIL wins over hold.
  Policy policy = BasePolicy();
  policy.promotion.inconclusive = InconclusiveAction::kHold;
  policy.promotion.regressions = {reg};
  std::vector<SuiteComparisons> evidence = {{"general", {Studentized("bits_per_byte", 0.0, 0.05)}}};
  RequirementFacts facts = GoodFacts();
  facts.policy_pre_declared = false;
  Decision fail = Decide(policy, evidence, facts, DecisionMode::kGate);
  EXPECT_EQ(fail.verdict, Verdict::kFail);
  EXPECT_EQ(fail.exit_code, 10);
}

Decision DecideLook(AlphaSpending rule, int64_t look, int64_t candidates = 1,
                    std::optional<int64_t> max_candidates = std::nullopt) {
  Policy policy = BasePolicy();
  policy.promotion.max_looks = 3;
  policy.promotion.alpha_spending = rule;
  policy.promotion.max_candidates = max_candidates;
  policy.promotion.kpis = {{"kpi-suite", "bits_per_byte", 0.0}};
  RequirementFacts facts = GoodFacts();
  facts.look = look;
  facts.candidates = candidates;
  // t = 2.5 on 99 df: p = 0.0070, a PASS at 0.025 but not at the early O'Brien-Fleming levels.
  std::vector<SuiteComparisons> evidence = {
      {"kpi-suite", {Studentized("bits_per_byte", -0.05, 0.02)}}};
  return Decide(policy, evidence, facts, DecisionMode::kGate);
}

TEST(DecisionEngine, LooksSpendAlphaAndALookBeyondMaxLooksFails) {
  double spent = 0;
  for (int64_t look = 1; look <= 3; ++look)
    spent += DecideLook(AlphaSpending::kObrienFleming, look).alpha;
  EXPECT_NEAR(spent, 0.025, 1e-12);
  Decision first = DecideLook(AlphaSpending::kObrienFleming, 1);
  // 2 (1 - Phi(z_{0.9875} sqrt(3))): O'Brien-Fleming spends almost nothing at the first look.
  EXPECT_NEAR(first.alpha, 2 * (1 - stats::NormalCdf(2.241402727604947 * std::sqrt(3.0))), 1e-12);
  EXPECT_EQ(Kpi(first, "bits_per_byte").status, CriterionStatus::kInconclusive);
  EXPECT_EQ(Find(first, "max_looks").status, CriterionStatus::kPass);
  EXPECT_EQ(first.look, 1);
  EXPECT_EQ(first.ToJson()["look"], 1);
  EXPECT_EQ(first.ToJson()["alpha_spending"], "obrien-fleming");
  EXPECT_EQ(Kpi(DecideLook(AlphaSpending::kObrienFleming, 3), "bits_per_byte").status,
            CriterionStatus::kPass);
  // Pocock: 0.025 ln(1 + (e - 1) / 3) at the first look; the data pass there.
  Decision pocock = DecideLook(AlphaSpending::kPocock, 1);
  EXPECT_NEAR(pocock.alpha, 0.025 * std::log(1 + (std::exp(1.0) - 1) / 3), 1e-15);
  EXPECT_EQ(Kpi(pocock, "bits_per_byte").status, CriterionStatus::kPass);
  // Look 4 of 3: FAIL, whatever the data.
  Decision late = DecideLook(AlphaSpending::kPocock, 4);
  EXPECT_EQ(Find(late, "max_looks").status, CriterionStatus::kFail);
  EXPECT_EQ(Find(late, "max_looks").reason,
            "look (gate attempt on this adapter under the policy) 4 > 3");
  EXPECT_EQ(late.alpha, 0);
  EXPECT_EQ(late.verdict, Verdict::kFail);
}

TEST(DecisionEngine, CandidatesSplitAlphaAndAreCounted) {
  Decision d = DecideLook(AlphaSpending::kPocock, 1, 2, 4);
  EXPECT_NEAR(d.alpha, 0.025 / 4 * std::log(1 + (std::exp(1.0) - 1) / 3), 1e-15);
  EXPECT_EQ(d.candidates, 2);
  EXPECT_EQ(d.ToJson()["candidates"], 2);
  EXPECT_EQ(d.ToJson()["max_candidates"], 4);
  EXPECT_EQ(Find(d, "max_candidates").status, CriterionStatus::kPass);
  Decision fifth = DecideLook(AlphaSpending::kPocock, 1, 5, 4);
  EXPECT_EQ(Find(fifth, "max_candidates").status, CriterionStatus::kFail);
  EXPECT_EQ(fifth.verdict, Verdict::kFail);
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
  if (separate) policy.promotion.require.separate_duties = {"trainer", "approver"};
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

TEST(DecisionEngine, SeparateDutiesNamesRolesKeptApart) {
  RequirementFacts facts = GoodFacts();
  facts.evaluator_key_ids = {"gate-key"};
  facts.approver_key_ids = {"gate-key", "trainer-key", "alice"};
  Policy policy = ApprovalPolicy(2, false);
  // [evaluator, approver]: the gate's key may not approve; the trainer's may.
  policy.promotion.require.separate_duties = {"evaluator", "approver"};
  Decision d = Decide(policy, {}, facts, DecisionMode::kPromote);
  EXPECT_EQ(Find(d, "approvals").status, CriterionStatus::kPass);
  EXPECT_EQ(Find(d, "approvals").reason,
            "2 of 2 distinct approvals; ignored gate-key (an evaluator's key; separate_duties)");
  EXPECT_FALSE(std::any_of(d.criteria.begin(), d.criteria.end(),
                           [](const CriterionResult& c) { return c.name == "separate duties"; }));
  // All three: neither counts, and a trainer that signed a gate decision fails the requirement.
  policy.promotion.require.separate_duties = {"trainer", "evaluator", "approver"};
  EXPECT_EQ(Find(Decide(policy, {}, facts, DecisionMode::kPromote), "approvals").status,
            CriterionStatus::kFail);
  EXPECT_EQ(Find(Decide(policy, {}, facts, DecisionMode::kPromote), "separate duties").status,
            CriterionStatus::kPass);
  facts.evaluator_key_ids.push_back(facts.signer_key_id);
  const Decision gated = Decide(policy, {}, facts, DecisionMode::kGate);
  const CriterionResult& conflict = Find(gated, "separate duties");
  EXPECT_EQ(conflict.status, CriterionStatus::kFail);
  EXPECT_EQ(conflict.reason, "key " + facts.signer_key_id +
                                 " signed the adapter (trainer) and a gate decision (evaluator)");
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
  Decision d = DecideKpi(0, Binary(0, 30, 100));
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
  EXPECT_DOUBLE_EQ(kpi["interval"]["low"].get<double>(), d.criteria[0].interval->low);
  EXPECT_DOUBLE_EQ(kpi["threshold"].get<double>(), 0);
  EXPECT_EQ(kpi["test"], "exact McNemar");
  EXPECT_EQ(json["look"], 1);
  EXPECT_EQ(json["candidates"], 1);
  EXPECT_NEAR(json["alpha"].get<double>(), 0.025, 1e-15);
  EXPECT_FALSE(json.contains("max_looks"));
  EXPECT_EQ(kpi["n"], 100);
  EXPECT_FALSE(kpi.contains("slice"));
  EXPECT_FALSE(kpi.contains("observed"));
  const Json& predeclared = json["criteria"][1];
  EXPECT_EQ(predeclared["name"], "pre-declared policy");
  EXPECT_EQ(predeclared["kind"], "requirement");
  EXPECT_FALSE(predeclared.contains("interval"));
  auto first = CanonicalJson(json);
  auto second = CanonicalJson(DecideKpi(0, Binary(0, 30, 100)).ToJson());
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, *second);
}

}  // namespace
}  // namespace graft::policies
