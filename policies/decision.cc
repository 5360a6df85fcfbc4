#include "policies/decision.h"

#include <cstdio>

#include "evaluator/stats/json.h"

namespace graft::policies {

std::string_view CriterionKindName(CriterionKind kind) {
  switch (kind) {
    case CriterionKind::kKpi:
      return "kpi";
    case CriterionKind::kRegression:
      return "regression";
    case CriterionKind::kRequirement:
      return "requirement";
  }
  return "unknown";
}

std::string_view CriterionStatusName(CriterionStatus status) {
  switch (status) {
    case CriterionStatus::kPass:
      return "PASS";
    case CriterionStatus::kFail:
      return "FAIL";
    case CriterionStatus::kInconclusive:
      return "INCONCLUSIVE";
    case CriterionStatus::kPending:
      return "PENDING";
  }
  return "unknown";
}

std::string_view VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kPass:
      return "pass";
    case Verdict::kFail:
      return "fail";
    case Verdict::kInconclusive:
      return "inconclusive";
  }
  return "unknown";
}

std::string_view DecisionModeName(DecisionMode mode) {
  return mode == DecisionMode::kGate ? "gate" : "promote";
}

std::string FormatNumber(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", value);
  return buffer;
}

namespace {

template <typename T>
void PutIfSet(Json& object, const char* key, const std::optional<T>& value) {
  if (value) object[key] = *value;
}

// Canonical JSON has no infinities: a non-finite number (an undetectable effect) is null.
void PutIfSet(Json& object, const char* key, const std::optional<double>& value) {
  if (value) object[key] = stats::FiniteOrNull(*value);
}

// An unbounded end is null.
void PutIfSet(Json& object, const char* key, const std::optional<stats::Interval>& value) {
  if (value)
    object[key] =
        Json{{"low", stats::FiniteOrNull(value->low)}, {"high", stats::FiniteOrNull(value->high)}};
}

Json CriterionJson(const CriterionResult& c) {
  Json out = {{"name", c.name},
              {"kind", CriterionKindName(c.kind)},
              {"status", CriterionStatusName(c.status)},
              {"reason", c.reason}};
  if (!c.suite.empty()) out["suite"] = c.suite;
  if (!c.metric.empty()) out["metric"] = c.metric;
  if (!c.slice.empty()) out["slice"] = c.slice;
  PutIfSet(out, "higher_is_better", c.higher_is_better);
  PutIfSet(out, "n", c.n);
  PutIfSet(out, "base", c.base);
  PutIfSet(out, "adapter", c.adapter);
  PutIfSet(out, "delta", c.delta);
  PutIfSet(out, "confidence", c.confidence);
  PutIfSet(out, "interval", c.interval);
  PutIfSet(out, "improvement_interval", c.improvement_interval);
  PutIfSet(out, "threshold", c.threshold);
  PutIfSet(out, "p_value", c.p_value);
  if (!c.test.empty()) out["test"] = c.test;
  PutIfSet(out, "minimum_detectable_effect", c.minimum_detectable_effect);
  PutIfSet(out, "observed", c.observed);
  return out;
}

}  // namespace

Json Decision::ToJson() const {
  Json list = Json::array();
  for (const CriterionResult& c : criteria) list.push_back(CriterionJson(c));
  Json out = {{"policy", policy},
              {"policy_digest", policy_digest},
              {"mode", DecisionModeName(mode)},
              {"confidence", confidence},
              {"inconclusive", inconclusive},
              {"look", look},
              {"candidates", candidates},
              {"alpha", alpha},
              {"criteria", std::move(list)},
              {"verdict", VerdictName(verdict)},
              {"exit_code", exit_code}};
  if (max_looks) out["max_looks"] = *max_looks;
  if (!alpha_spending.empty()) out["alpha_spending"] = alpha_spending;
  if (max_candidates) out["max_candidates"] = *max_candidates;
  return out;
}

}  // namespace graft::policies
