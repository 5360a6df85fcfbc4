#include "evaluator/stats/threshold_test.h"

#include <cmath>
#include <limits>

#include "evaluator/stats/paired_binary.h"
#include "evaluator/stats/student_t.h"

namespace graft::stats {
namespace {

std::string Count(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4g", value);
  return buffer;
}

DiscordantCounts Counts(const MetricComparison& m) {
  const McNemarResult& mc = *m.mcnemar;
  const auto n = static_cast<int64_t>(m.n);
  return m.higher_is_better ? DiscordantCounts{mc.c, mc.b, n} : DiscordantCounts{mc.b, mc.c, n};
}

double Improvement(const MetricComparison& m) { return m.higher_is_better ? m.delta : -m.delta; }

}  // namespace

std::string_view ThresholdTestName(ThresholdTestKind kind) {
  switch (kind) {
    case ThresholdTestKind::kExactMcNemar:
      return "exact McNemar";
    case ThresholdTestKind::kTangoScore:
      return "Tango score";
    case ThresholdTestKind::kPairedT:
      return "paired t";
    case ThresholdTestKind::kDeltaMethodT:
      return "delta-method t";
  }
  return "unknown";
}

ThresholdTest TestImprovement(const MetricComparison& m, double threshold,
                              const EvidenceRule& rule) {
  ThresholdTest test;
  const auto n = static_cast<int64_t>(m.n);
  if (m.mcnemar) {
    test.kind = threshold == 0 ? ThresholdTestKind::kExactMcNemar : ThresholdTestKind::kTangoScore;
  } else {
    test.kind = m.kind == MetricKind::kMean ? ThresholdTestKind::kPairedT
                                            : ThresholdTestKind::kDeltaMethodT;
  }
  if (n < rule.min_items) {
    test.shortfall = std::to_string(n) + " items < min_items " + std::to_string(rule.min_items);
  } else if (m.mcnemar && m.mcnemar->b + m.mcnemar->c < rule.min_discordant) {
    test.shortfall = std::to_string(m.mcnemar->b + m.mcnemar->c) +
                     " discordant pairs < min_discordant " + std::to_string(rule.min_discordant);
  } else if (!m.mcnemar && m.kind != MetricKind::kMean && m.effective_n < rule.min_effective_n) {
    test.shortfall =
        "effective n " + Count(m.effective_n) + " < min_effective_n " + Count(rule.min_effective_n);
  } else if (!m.mcnemar && !(m.degrees_of_freedom >= 1 && std::isfinite(m.standard_error))) {
    test.shortfall = "no standard error (fewer than 2 items)";
  }

  switch (test.kind) {
    case ThresholdTestKind::kExactMcNemar:
      test.p_value = McNemarOneSidedP(Counts(m));
      break;
    case ThresholdTestKind::kTangoScore:
      test.p_value = TangoOneSidedP(Counts(m), threshold, kTangoContinuity);
      break;
    case ThresholdTestKind::kPairedT:
    case ThresholdTestKind::kDeltaMethodT: {
      const double excess = Improvement(m) - threshold;
      if (!(m.degrees_of_freedom >= 1 && std::isfinite(m.standard_error))) {
        test.p_value = 1;
      } else if (m.standard_error == 0) {
        test.p_value = excess > 0 ? 0 : 1;
      } else {
        test.p_value = 1 - StudentTCdf(excess / m.standard_error, m.degrees_of_freedom);
      }
      break;
    }
  }
  return test;
}

Interval ImprovementIntervalAt(const MetricComparison& m, double confidence) {
  const double inf = std::numeric_limits<double>::infinity();
  // A level spent to (numerically) nothing, e.g. a look beyond max_looks: unbounded.
  if (!(confidence > 0 && confidence < 1)) return {-inf, inf};
  if (m.mcnemar) return TangoInterval(Counts(m), confidence, kTangoContinuity);
  const double estimate = Improvement(m);
  if (!(m.degrees_of_freedom >= 1 && std::isfinite(m.standard_error))) return {-inf, inf};
  const double q = *StudentTQuantile(0.5 + confidence / 2, m.degrees_of_freedom);
  return {estimate - q * m.standard_error, estimate + q * m.standard_error};
}

}  // namespace graft::stats
