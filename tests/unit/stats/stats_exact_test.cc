// Known answers of the gate's tests: Student t, binomial tails, exact McNemar, Tango's interval,
// the exact MDE, and TestImprovement's choice of test and minimum-evidence rule.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "evaluator/stats/paired.h"
#include "evaluator/stats/paired_binary.h"
#include "evaluator/stats/power.h"
#include "evaluator/stats/student_t.h"
#include "evaluator/stats/threshold_test.h"

namespace graft::stats {
namespace {

TEST(StudentT, KnownValues) {
  EXPECT_NEAR(IncompleteBeta(2, 3, 0.5), 11.0 / 16, 1e-14);
  EXPECT_NEAR(IncompleteBeta(0.5, 0.5, 0.25), 1.0 / 3, 1e-13);  // (2/pi) asin(sqrt(x))
  EXPECT_NEAR(StudentTCdf(2, 5), 0.9490302605850709, 1e-12);
  EXPECT_NEAR(StudentTCdf(-2, 5), 1 - 0.9490302605850709, 1e-12);
  EXPECT_NEAR(StudentTCdf(1, 1), 0.75, 1e-13);  // Cauchy
  EXPECT_NEAR(*StudentTQuantile(0.975, 10), 2.228138851986274, 1e-9);
  EXPECT_NEAR(*StudentTQuantile(0.975, 1), 12.70620473617471, 1e-8);
  EXPECT_NEAR(*StudentTQuantile(0.975, 99), 1.984216951508681, 1e-9);
  EXPECT_NEAR(*StudentTQuantile(0.025, 99), -1.984216951508681, 1e-9);
  EXPECT_NEAR(*StudentTQuantile(0.975, 1e7), 1.959963984540054, 1e-6);
  EXPECT_FALSE(StudentTQuantile(1.0, 5).ok());
  EXPECT_FALSE(StudentTQuantile(0.5, 0).ok());
}

TEST(BinomialUpperTail, KnownValues) {
  EXPECT_NEAR(BinomialUpperTail(12, 14, 0.5), 106.0 / 16384, 1e-16);
  EXPECT_DOUBLE_EQ(BinomialUpperTail(0, 14, 0.5), 1.0);
  EXPECT_DOUBLE_EQ(BinomialUpperTail(15, 14, 0.5), 0.0);
  EXPECT_NEAR(BinomialUpperTail(2, 3, 0.3), 3 * 0.09 * 0.7 + 0.027, 1e-15);
  // Symmetry at n = 10000: P(X >= 5000) + P(X >= 5001) = 1.
  EXPECT_NEAR(BinomialUpperTail(5000, 10000, 0.5) + BinomialUpperTail(5001, 10000, 0.5), 1.0,
              1e-10);
}

TEST(ExactMcNemar, OneSidedPValues) {
  EXPECT_NEAR(McNemarOneSidedP({9, 1, 20}), 11.0 / 1024, 1e-16);  // half the two-sided 0.021484375
  EXPECT_DOUBLE_EQ(McNemarOneSidedP({1, 0, 200}), 0.5);
  EXPECT_DOUBLE_EQ(McNemarOneSidedP({3, 0, 3}), 0.125);
  EXPECT_DOUBLE_EQ(McNemarOneSidedP({0, 0, 50}), 1.0);
  EXPECT_DOUBLE_EQ(McNemarOneSidedP({6, 0, 6}), 1.0 / 64);
}

TEST(Tango, IntervalsMatchPublishedExamples) {
  // Fagerland, Lydersen & Laake (2014), airway hyper-responsiveness: x12 = 1, x21 = 7, n = 21;
  // Tango's interval (-0.517, -0.026). Reference digits from the closed-form quartic of Yang, Sun
  // & Hardin (2012), solved independently.
  Interval ahr = TangoInterval({1, 7, 21}, 0.95);
  EXPECT_NEAR(ahr.low, -0.5172322764213768, 1e-9);
  EXPECT_NEAR(ahr.high, -0.026003032480868646, 1e-9);
  // Agresti (2002), presidential approval: n12 = 150, n21 = 86, n = 1600: (0.0214, 0.0590).
  Interval approval = TangoInterval({150, 86, 1600}, 0.95);
  EXPECT_NEAR(approval.low, 0.021361564754787253, 1e-9);
  EXPECT_NEAR(approval.high, 0.05899803330569926, 1e-9);
  Interval small = TangoInterval({1, 0, 44}, 0.95);
  EXPECT_NEAR(small.low, -0.05939323111662792, 1e-9);
  EXPECT_NEAR(small.high, 0.11807709698213281, 1e-9);
  // The score at an interval end is the normal quantile; the one-sided p there is alpha/2.
  EXPECT_NEAR(TangoScore({150, 86, 1600}, approval.low), 1.959963984540054, 1e-6);
  EXPECT_NEAR(TangoOneSidedP({150, 86, 1600}, approval.low), 0.025, 1e-7);
  // No discordant pair: the statistic at delta0 = 0 is 0 (p = 1/2), never significant.
  EXPECT_DOUBLE_EQ(TangoScore({0, 0, 30}, 0), 0.0);
}

TEST(ExactMcNemarMde, PowerAtTheMdeIsTheRequestedPower) {
  // 40 discordant pairs in 200 items: critical count 27 (P(X >= 27 | 40) = 0.0192 <= 0.025).
  const double mde = ExactMcNemarMde({20, 20, 200}, 0.95, 0.8);
  const double pi = (mde * 200 / 40 + 1) / 2;
  EXPECT_NEAR(BinomialUpperTail(27, 40, pi), 0.8, 1e-9);
  EXPECT_GT(BinomialUpperTail(26, 40, 0.5), 0.025);
  EXPECT_LE(BinomialUpperTail(27, 40, 0.5), 0.025);
  // Five discordant pairs can never reach p <= 0.025 (1/32 > 0.025): nothing is detectable.
  EXPECT_TRUE(std::isinf(ExactMcNemarMde({5, 0, 100}, 0.95, 0.8)));
}

TEST(MinimumDetectableEffect, StudentizedFormula) {
  EXPECT_NEAR(*MinimumDetectableEffect(0.1, 10, 0.95, 0.8),
              (2.228138851986274 + *StudentTQuantile(0.8, 10)) * 0.1, 1e-9);
  EXPECT_NEAR(*MinimumDetectableEffect(0.1, INFINITY, 0.95, 0.8),
              (1.959963984540054 + 0.8416212335729144) * 0.1, 1e-12);
  EXPECT_TRUE(std::isinf(*MinimumDetectableEffect(0.1, 0, 0.95)));
  EXPECT_FALSE(MinimumDetectableEffect(-1, 10, 0.95).ok());
  EXPECT_FALSE(MinimumDetectableEffect(0.1, 10, 1.0).ok());
}

MetricScores Ratio(std::vector<double> base, std::vector<double> adapter,
                   std::vector<double> bytes) {
  MetricScores scores;
  scores.info = *LookupMetric("bits_per_byte");
  scores.base = std::move(base);
  scores.adapter = std::move(adapter);
  scores.denominator = std::move(bytes);
  return scores;
}

TEST(DeltaMethod, StandardErrorDegreesOfFreedomAndEffectiveN) {
  // Per item d_i = adapter - base bits, R = sum d / sum w, influence (d_i - R w_i) / W.
  const std::vector<double> w = {10, 20, 30, 40}, base = {20, 40, 60, 80};
  const std::vector<double> adapter = {19, 37, 59, 75};
  auto m = CompareMetric(Ratio(base, adapter, w), {}, {.resamples = 100});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  // HC2: psi_i^2 / (1 - w_i^2 / sum w^2); df = Satterthwaite, at most effective n - 1 and n - 1.
  const double r = -10.0 / 100;
  double squares = 0, fourths = 0;
  for (size_t i = 0; i < 4; ++i) {
    const double psi = ((adapter[i] - base[i]) - r * w[i]) / 100;
    const double square = psi * psi / (1 - w[i] * w[i] / 3000);
    squares += square;
    fourths += square * square;
  }
  const double effective_n = 100.0 * 100 / 3000;
  EXPECT_NEAR(m->delta, r, 1e-15);
  EXPECT_NEAR(m->standard_error, std::sqrt(squares), 1e-15);
  EXPECT_NEAR(m->degrees_of_freedom,
              std::clamp(std::min(3 * squares * squares / fourths, effective_n - 1), 1.0, 3.0),
              1e-12);
  EXPECT_DOUBLE_EQ(m->effective_n, effective_n);
  EXPECT_EQ(m->interval_method, "delta-method t");
  const double q = *StudentTQuantile(0.975, m->degrees_of_freedom);
  EXPECT_NEAR(m->interval.low, r - q * m->standard_error, 1e-12);
}

TEST(TestImprovement, ChoosesTheTestAndAppliesTheEvidenceRule) {
  MetricComparison m;
  m.metric = "acc";
  m.n = 100;
  m.mcnemar = McNemarExact(2, 12);
  m.delta = 0.1;
  EXPECT_EQ(TestImprovement(m, 0, {}).kind, ThresholdTestKind::kExactMcNemar);
  EXPECT_EQ(TestImprovement(m, 0.02, {}).kind, ThresholdTestKind::kTangoScore);
  EXPECT_EQ(TestImprovement(m, 0, {}).shortfall, "");
  EXPECT_EQ(TestImprovement(m, 0, {10, 20, 10}).shortfall,
            "14 discordant pairs < min_discordant 20");
  EXPECT_EQ(TestImprovement(m, 0, {101, 1, 1}).shortfall, "100 items < min_items 101");
  // Lower is better: the roles of b and c swap.
  m.higher_is_better = false;
  EXPECT_DOUBLE_EQ(TestImprovement(m, 0, {}).p_value, McNemarOneSidedP({2, 12, 100}));
}

}  // namespace
}  // namespace graft::stats
