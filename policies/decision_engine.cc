#include "policies/decision_engine.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/sha256.h"
#include "evaluator/stats/holm.h"
#include "evaluator/stats/normal.h"
#include "evaluator/stats/threshold_test.h"
#include "policies/separate_duties.h"
#include "registry/vocabulary.h"

namespace graft::policies {
namespace {

std::string Percent(double confidence) { return FormatNumber(confidence * 100) + "%"; }

// A statistical criterion before Holm: what to compare and against which threshold.
struct StatCriterion {
  CriterionResult result;
  const stats::MetricComparison* comparison = nullptr;  // null: no evidence, already FAIL
  std::string shortfall{};  // the minimum-evidence rule is not met: INCONCLUSIVE
};

const stats::MetricComparison* FindComparison(std::span<const SuiteComparisons> comparisons,
                                              const std::string& suite, const std::string& metric) {
  for (const SuiteComparisons& s : comparisons) {
    if (s.suite != suite) continue;
    for (const stats::MetricComparison& m : s.metrics) {
      if (m.metric == metric) return &m;
    }
  }
  return nullptr;
}

std::string CriterionName(CriterionKind kind, const std::string& suite, const std::string& metric,
                          const std::string& slice) {
  return std::string(CriterionKindName(kind)) + " " + suite + "/" + metric +
         (slice.empty() ? "" : "[" + slice + "]");
}

CriterionResult Missing(CriterionKind kind, const std::string& suite, const std::string& metric,
                        std::string reason) {
  CriterionResult r;
  r.name = CriterionName(kind, suite, metric, "");
  r.kind = kind;
  r.suite = suite;
  r.metric = metric;
  r.status = CriterionStatus::kFail;
  r.reason = std::move(reason);
  return r;
}

StatCriterion Measured(CriterionKind kind, const std::string& suite,
                       const stats::MetricComparison& m, double threshold,
                       const stats::EvidenceRule& evidence) {
  StatCriterion p;
  CriterionResult& r = p.result;
  r.name = CriterionName(kind, suite, m.metric, m.slice);
  r.kind = kind;
  r.suite = suite;
  r.metric = m.metric;
  r.slice = m.slice;
  r.higher_is_better = m.higher_is_better;
  r.n = static_cast<int64_t>(m.n);
  r.base = m.base;
  r.adapter = m.adapter;
  r.delta = m.delta;
  r.threshold = threshold;
  r.minimum_detectable_effect = m.minimum_detectable_effect;
  if (m.n == 0) {
    r.status = CriterionStatus::kFail;
    r.reason = "the comparison has no items";
    return p;
  }
  const stats::ThresholdTest test = stats::TestImprovement(m, threshold, evidence);
  r.test = stats::ThresholdTestName(test.kind);
  r.p_value = test.p_value;
  p.comparison = &m;
  p.shortfall = test.shortfall;
  return p;
}

std::vector<StatCriterion> StatisticalCriteria(const PromotionCriteria& promotion,
                                               std::span<const SuiteComparisons> comparisons) {
  const stats::EvidenceRule& evidence = promotion.evidence;
  std::vector<StatCriterion> out;
  for (const KpiCriterion& kpi : promotion.kpis) {
    const stats::MetricComparison* m = FindComparison(comparisons, kpi.suite, kpi.metric);
    if (m == nullptr) {
      out.push_back({Missing(CriterionKind::kKpi, kpi.suite, kpi.metric,
                             "no evaluation of " + kpi.suite + "/" + kpi.metric)});
      continue;
    }
    out.push_back(Measured(CriterionKind::kKpi, kpi.suite, *m, kpi.min_delta, evidence));
  }
  for (const RegressionCriterion& reg : promotion.regressions) {
    const stats::MetricComparison* m = FindComparison(comparisons, reg.suite, reg.metric);
    if (m == nullptr) {
      out.push_back({Missing(CriterionKind::kRegression, reg.suite, reg.metric,
                             "no evaluation of " + reg.suite + "/" + reg.metric)});
      continue;
    }
    if (reg.per_slice && m->slices.empty()) {
      out.push_back({Missing(CriterionKind::kRegression, reg.suite, reg.metric,
                             "per_slice is set but the evaluation has no slices")});
      continue;
    }
    std::vector<const stats::MetricComparison*> targets;
    if (reg.per_slice) {
      for (const stats::MetricComparison& slice : m->slices) targets.push_back(&slice);
    } else {
      targets.push_back(m);
    }
    for (const stats::MetricComparison* target : targets) {
      const double margin = reg.relative ? reg.margin * std::abs(target->base) : reg.margin;
      out.push_back(Measured(CriterionKind::kRegression, reg.suite, *target, -margin, evidence));
    }
  }
  return out;
}

// Holm step-down on the one-sided p-values at family level `alpha`: the k-th smallest (0-based) of
// m is tested at alpha / (m - k) and can PASS only if every criterion before it passed. Ties are
// against the adapter (an improvement exactly at the threshold has p >= 1/2). The interval shown
// is two-sided at 1 - 2 alpha / (m - k), by the same method as the test.
void ApplyHolm(std::vector<StatCriterion>& criteria, double alpha) {
  std::vector<size_t> family;
  std::vector<double> p_values;
  for (size_t i = 0; i < criteria.size(); ++i) {
    if (criteria[i].comparison == nullptr) continue;
    family.push_back(i);
    p_values.push_back(*criteria[i].result.p_value);
  }
  const std::string* stopped_at = nullptr;
  for (const stats::HolmStep& step : stats::HolmBonferroni(p_values, alpha)) {
    StatCriterion& p = criteria[family[step.index]];
    CriterionResult& r = p.result;
    const stats::MetricComparison& m = *p.comparison;
    const double level = 1 - 2 * step.level;
    const double t = *r.threshold;
    r.confidence = level;
    const stats::Interval imp = stats::ImprovementIntervalAt(m, level);
    r.improvement_interval = imp;
    r.interval = m.higher_is_better ? imp : stats::Interval{-imp.high, -imp.low};
    const std::string what = r.kind == CriterionKind::kKpi ? "min_delta " + FormatNumber(t)
                                                           : "-margin = " + FormatNumber(t);
    const std::string test = r.test + " p = " + FormatNumber(*r.p_value) +
                             " (one-sided, H0: " + "improvement <= " + FormatNumber(t) + ")";
    const std::string bounds = "improvement interval [" + FormatNumber(imp.low) + ", " +
                               FormatNumber(imp.high) + "] at " + Percent(level);
    const bool significant = *r.p_value <= step.level;
    if (!p.shortfall.empty()) {
      r.status = CriterionStatus::kInconclusive;
      r.reason = "not enough evidence: " + p.shortfall + "; " + test;
    } else if (significant && stopped_at == nullptr) {
      r.status = CriterionStatus::kPass;
      r.reason = test + " <= " + FormatNumber(step.level) + "; " + bounds + " lies above " + what;
    } else if (imp.high < t) {
      r.status = CriterionStatus::kFail;
      r.reason = bounds + " lies below " + what + "; " + test;
    } else {
      r.status = CriterionStatus::kInconclusive;
      r.reason = significant ? test + " clears " + what + ", but the Holm step-down stopped at " +
                                   *stopped_at
                             : test + " > " + FormatNumber(step.level) + "; " + bounds +
                                   " (minimum detectable effect " +
                                   FormatNumber(m.minimum_detectable_effect) + ")";
    }
    if (r.status != CriterionStatus::kPass && stopped_at == nullptr) stopped_at = &r.name;
  }
}

// The one-sided level spent at look `look` of `max_looks` out of a total `alpha`: the increment
// of the Lan-DeMets spending function at information fraction look / max_looks.
double SpentAlpha(AlphaSpending rule, int64_t look, int64_t max_looks, double alpha) {
  auto spent = [&](double fraction) {
    if (fraction <= 0) return 0.0;
    if (rule == AlphaSpending::kPocock) return alpha * std::log1p((std::exp(1.0) - 1) * fraction);
    const double z = *stats::NormalQuantile(1 - alpha / 2);
    return 2 * (1 - stats::NormalCdf(z / std::sqrt(fraction)));
  };
  const auto k = static_cast<double>(look), m = static_cast<double>(max_looks);
  return std::max(0.0, spent(k / m) - spent((k - 1) / m));
}

CriterionResult Requirement(std::string name, bool pass, std::string reason) {
  CriterionResult r;
  r.name = std::move(name);
  r.kind = CriterionKind::kRequirement;
  r.status = pass ? CriterionStatus::kPass : CriterionStatus::kFail;
  r.reason = std::move(reason);
  return r;
}

// Who performed which duty for the adapter, as the facts know it.
SeparateDuties DutiesOf(const Requirements& require, const RequirementFacts& facts) {
  SeparateDuties duties(require.separate_duties);
  duties.Acted(registry::kTrainerRole, facts.signer_key_id);
  for (const std::string& key : facts.evaluator_key_ids)
    duties.Acted(registry::kEvaluatorRole, key);
  for (const std::string& key : facts.approver_key_ids) duties.Acted(registry::kApproverRole, key);
  return duties;
}

CriterionResult Approvals(const Requirements& require, const RequirementFacts& facts,
                          DecisionMode mode) {
  const SeparateDuties duties = DutiesOf(require, facts);
  std::set<std::string> counted;
  std::vector<std::string> ignored;
  for (const std::string& key : facts.approver_key_ids) {
    if (const std::string excluded = duties.ApprovalExcluded(key); !excluded.empty()) {
      ignored.push_back(key + " (" + excluded + ")");
    } else if (!counted.insert(key).second) {
      ignored.push_back(key + " (approved twice)");
    }
  }
  const auto have = static_cast<int64_t>(counted.size());
  std::string reason =
      std::to_string(have) + " of " + std::to_string(require.approvals) + " distinct approvals";
  for (const std::string& why : ignored) reason += "; ignored " + why;
  CriterionResult r = Requirement(kApprovalsCriterion, have >= require.approvals, reason);
  r.observed = static_cast<double>(have);
  r.threshold = static_cast<double>(require.approvals);
  if (r.status == CriterionStatus::kFail && mode == DecisionMode::kGate) {
    r.status = CriterionStatus::kPending;
    r.reason += "; promotion waits for them";
  }
  return r;
}

CriterionResult AtMost(std::string name, const std::optional<int64_t>& value, int64_t limit,
                       const std::string& what) {
  if (!value) return Requirement(std::move(name), false, what + " unknown");
  CriterionResult r = Requirement(std::move(name), *value <= limit,
                                  what + " " + std::to_string(*value) +
                                      (*value <= limit ? " <= " : " > ") + std::to_string(limit));
  r.observed = static_cast<double>(*value);
  r.threshold = static_cast<double>(limit);
  return r;
}

std::vector<CriterionResult> RequirementCriteria(const Policy& policy,
                                                 const RequirementFacts& facts, DecisionMode mode) {
  const Requirements& require = policy.promotion.require;
  std::vector<CriterionResult> out;
  // The run starts at its announcement; a run not announced, at the adapter's registration.
  const uint64_t start = facts.announcement_seq.value_or(facts.adapter_seq);
  const std::string run = facts.announcement_seq
                              ? "the training run was announced at event " + std::to_string(start) +
                                    " (the announcement its signed provenance names, included "
                                    "in the log under the checkpoint it carries)"
                              : "the adapter was registered at event " + std::to_string(start) +
                                    " (the run was not announced)";
  const std::string entered =
      "the policy entered the log at event " + std::to_string(facts.policy_seq);
  std::string pre_declared = entered + ", before " + run;
  if (!facts.announcement_problem.empty()) {
    pre_declared = "post-hoc policy: " + facts.announcement_problem;
  } else if (!facts.policy_pre_declared) {
    pre_declared = facts.policy_seq < start
                       ? "post-hoc policy: the adapter's provenance does not name it"
                       : "post-hoc policy: " + entered + ", after " + run;
  }
  out.push_back(Requirement(kPreDeclaredCriterion, facts.policy_pre_declared, pre_declared));
  if (require.announced) {
    std::string announced =
        facts.announcement_seq
            ? "the run was announced at event " + std::to_string(*facts.announcement_seq)
            : "the training run was not announced in the log before it started (its provenance "
              "names no announcement)";
    if (!facts.announcement_problem.empty()) announced = facts.announcement_problem;
    out.push_back(Requirement(kAnnouncedCriterion, facts.announcement_seq.has_value(), announced));
  }
  if (policy.base) {
    Result<Digest> digest = ParseDigestHex(facts.base_digest);
    const bool same = digest.ok() && "sha256:" + DigestHex(*digest) == *policy.base;
    out.push_back(Requirement(kBaseCriterion, same,
                              same ? "trained on " + *policy.base
                                   : "the policy applies only to base " + *policy.base +
                                         ", the adapter's base is " + facts.base_digest));
  }
  std::string revoked;
  for (RevocationKind kind :
       {RevocationKind::kKey, RevocationKind::kDataset, RevocationKind::kBase}) {
    if (facts.revoked.Is(kind)) {
      revoked += (revoked.empty() ? "" : ", ") + std::string(RevocationKindName(kind));
    }
  }
  out.push_back(Requirement(kNotRevokedCriterion, revoked.empty(),
                            revoked.empty() ? "no dependency is revoked" : "revoked: " + revoked));
  if (require.signed_by) {
    const bool role = std::find(facts.signer_roles.begin(), facts.signer_roles.end(),
                                *require.signed_by) != facts.signer_roles.end();
    std::string reason =
        !facts.signature_verified ? "the adapter signature did not verify"
        : role ? "signed by " + *require.signed_by + " key " + facts.signer_key_id
               : "signing key " + facts.signer_key_id + " does not have role " + *require.signed_by;
    out.push_back(Requirement(kSignedByCriterion, facts.signature_verified && role, reason));
  }
  if (const SeparateDuties duties = DutiesOf(require, facts); duties.ChecksConflicts()) {
    const std::vector<std::string> conflicts = duties.Conflicts();
    std::string reason = "no key signed the adapter and a gate decision about it";
    if (!conflicts.empty()) {
      reason.clear();
      for (const std::string& c : conflicts) reason += (reason.empty() ? "" : "; ") + c;
    }
    out.push_back(Requirement(kSeparateDutiesCriterion, conflicts.empty(), reason));
  }
  if (require.approvals > 0) out.push_back(Approvals(require, facts, mode));
  if (require.max_rank) {
    out.push_back(AtMost(kMaxRankCriterion, facts.adapter_rank, *require.max_rank, "rank"));
  }
  if (require.max_size_bytes) {
    out.push_back(AtMost(kMaxSizeBytesCriterion, facts.adapter_size_bytes, *require.max_size_bytes,
                         "size in bytes"));
  }
  return out;
}

}  // namespace

Decision Decide(const Policy& policy, std::span<const SuiteComparisons> comparisons,
                const RequirementFacts& facts, DecisionMode mode) {
  const PromotionCriteria& promotion = policy.promotion;
  Decision decision;
  decision.policy = policy.name;
  decision.policy_digest = policy.digest;
  decision.mode = mode;
  decision.confidence = promotion.confidence;
  decision.inconclusive = promotion.inconclusive == InconclusiveAction::kHold ? "hold" : "fail";

  // The family's one-sided level: alpha/2, split over candidates and spent over looks.
  double alpha = (1 - promotion.confidence) / 2;
  std::vector<CriterionResult> sequential;
  if (mode == DecisionMode::kGate) {
    decision.look = facts.look;
    decision.candidates = facts.candidates;
    decision.max_looks = promotion.max_looks;
    decision.max_candidates = promotion.max_candidates;
    if (promotion.max_candidates) {
      alpha /= static_cast<double>(*promotion.max_candidates);
      sequential.push_back(AtMost(kMaxCandidatesCriterion, facts.candidates,
                                  *promotion.max_candidates, "candidates gated under the policy"));
    }
    if (promotion.max_looks) {
      decision.alpha_spending = AlphaSpendingName(promotion.alpha_spending);
      alpha = facts.look > *promotion.max_looks
                  ? 0
                  : SpentAlpha(promotion.alpha_spending, facts.look, *promotion.max_looks, alpha);
      sequential.push_back(AtMost(kMaxLooksCriterion, facts.look, *promotion.max_looks,
                                  "look (gate attempt on this adapter under the policy)"));
    }
  }
  decision.alpha = alpha;
  std::vector<StatCriterion> statistical = StatisticalCriteria(promotion, comparisons);
  ApplyHolm(statistical, alpha);
  for (StatCriterion& p : statistical) decision.criteria.push_back(std::move(p.result));
  for (CriterionResult& r : RequirementCriteria(policy, facts, mode)) {
    decision.criteria.push_back(std::move(r));
  }
  for (CriterionResult& r : sequential) decision.criteria.push_back(std::move(r));

  auto any = [&](CriterionStatus status) {
    return std::any_of(decision.criteria.begin(), decision.criteria.end(),
                       [&](const CriterionResult& c) { return c.status == status; });
  };
  if (any(CriterionStatus::kFail)) {
    decision.verdict = Verdict::kFail;
  } else if (any(CriterionStatus::kInconclusive)) {
    decision.verdict = promotion.inconclusive == InconclusiveAction::kHold ? Verdict::kInconclusive
                                                                           : Verdict::kFail;
  } else {
    decision.verdict = Verdict::kPass;
  }
  decision.exit_code = decision.verdict == Verdict::kPass           ? kExitOk
                       : decision.verdict == Verdict::kInconclusive ? kExitGateInconclusive
                                                                    : kExitGateFailed;
  return decision;
}

}  // namespace graft::policies
