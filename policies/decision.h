// Decision: the outcome of applying a policy, criterion by criterion, ready to sign and render.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "evaluator/stats/distribution.h"

namespace graft::policies {

enum class CriterionKind { kKpi, kRegression, kRequirement };
// kPending: only for `approvals` in a gate decision, where approvals may still come (promote
// turns a shortfall into kFail). Pending never changes a gate's verdict.
enum class CriterionStatus { kPass, kFail, kInconclusive, kPending };
enum class Verdict { kPass, kFail, kInconclusive };
enum class DecisionMode { kGate, kPromote };

std::string_view CriterionKindName(CriterionKind kind);
std::string_view CriterionStatusName(CriterionStatus status);
std::string_view VerdictName(Verdict verdict);
std::string_view DecisionModeName(DecisionMode mode);
// How reasons print numbers: printf "%.6g".
std::string FormatNumber(double value);

// The names of the requirement criteria (docs/policies.md), spelled once. The statistical ones
// are named after their suite and metric ("kpi support-kpi/acc").
inline constexpr char kPreDeclaredCriterion[] = "pre-declared policy";
inline constexpr char kAnnouncedCriterion[] = "announced";
inline constexpr char kBaseCriterion[] = "base";
inline constexpr char kNotRevokedCriterion[] = "not revoked";
inline constexpr char kSignedByCriterion[] = "signed_by";  // as the policy's require.signed_by
inline constexpr char kSeparateDutiesCriterion[] = "separate duties";
inline constexpr char kApprovalsCriterion[] = "approvals";
inline constexpr char kMaxRankCriterion[] = "max_rank";
inline constexpr char kMaxSizeBytesCriterion[] = "max_size_bytes";
inline constexpr char kMaxCandidatesCriterion[] = "max_candidates";
inline constexpr char kMaxLooksCriterion[] = "max_looks";
inline constexpr char kGateDecisionCriterion[] = "gate decision";  // promotion: the stored gate's

// One criterion. Statistical criteria (kKpi, kRegression) fill the measurement fields;
// requirements fill `observed` and `threshold` where they are numbers.
struct CriterionResult {
  std::string name;  // "kpi support-kpi/acc", "regression general/bits_per_byte[faq]", "max_rank"
  CriterionKind kind = CriterionKind::kRequirement;
  std::string suite;
  std::string metric;
  std::string slice;  // "" for all items
  std::optional<bool> higher_is_better;
  std::optional<int64_t> n;
  std::optional<double> base;
  std::optional<double> adapter;
  std::optional<double> delta;                   // adapter - base, as measured
  std::optional<double> confidence;              // of the intervals: Holm-adjusted, two-sided
  std::optional<stats::Interval> interval;       // of delta
  std::optional<stats::Interval>
      improvement_interval;  // of improvement (delta in the better direction)
  std::optional<double>
      threshold;                  // improvement needed (min_delta, -margin) or a requirement limit
  std::optional<double> p_value;  // one-sided p of H0 "improvement <= threshold" by `test`
  std::string test;               // "exact McNemar", "Tango score", "paired t", "delta-method t"
  std::optional<double> minimum_detectable_effect;
  std::optional<double> observed;  // requirement value (rank, bytes, approvals)
  CriterionStatus status = CriterionStatus::kFail;
  std::string reason;
};

struct Decision {
  std::string policy;
  std::string policy_digest;
  DecisionMode mode = DecisionMode::kGate;
  double confidence = 0.95;           // the policy's, before Holm
  std::string inconclusive = "fail";  // the policy's action: fail or hold
  // Repeated looks and candidates (gate mode): this gate is look `look` on the adapter under the
  // policy, `candidates` distinct adapters have been gated under it (this one included), and the
  // statistical criteria were tested at one-sided family level `alpha` (alpha/2 of the
  // confidence, spent over looks and split over candidates as the policy declares).
  int64_t look = 1;
  std::optional<int64_t> max_looks;
  std::string alpha_spending;  // "obrien-fleming" or "pocock" with max_looks, else ""
  int64_t candidates = 1;
  std::optional<int64_t> max_candidates;
  double alpha = 0.025;
  std::vector<CriterionResult> criteria;
  Verdict verdict = Verdict::kFail;
  int exit_code = 10;  // 0 pass, 10 fail, 11 inconclusive (hold)

  // Everything above as JSON with fixed key names; absent optionals are omitted. Pass it to
  // CanonicalJson to hash or sign it.
  Json ToJson() const;
};

}  // namespace graft::policies
