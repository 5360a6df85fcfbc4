// Known answers for the building blocks: normal quantile, McNemar, Holm, MDE, metrics.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "evaluator/stats/distribution.h"
#include "evaluator/stats/holm.h"
#include "evaluator/stats/mcnemar.h"
#include "evaluator/stats/metric_info.h"
#include "evaluator/stats/normal.h"
#include "evaluator/stats/power.h"

namespace graft::stats {
namespace {

TEST(NormalQuantile, MatchesKnownValuesInBothTails) {
  const std::vector<std::pair<double, double>> known = {
      {0.975, 1.9599639845400536},    {0.8, 0.8416212335729144},   {0.5, 0.0},
      {0.001, -3.090232306167813},    {1e-10, -6.361340902404056}, {0.999999, 4.753424308817089},
      {0.02425, -1.9729610513118845}, {0.3, -0.5244005127080407}};
  for (const auto& [p, z] : known) {
    auto q = NormalQuantile(p);
    ASSERT_TRUE(q.ok());
    EXPECT_NEAR(*q, z, 1e-12 * std::max(1.0, std::abs(z))) << p;
    EXPECT_NEAR(NormalCdf(*q), p, 1e-14 + 1e-12 * p);
  }
  for (double bad : {0.0, 1.0, -0.1, 1.5, std::nan("")}) EXPECT_FALSE(NormalQuantile(bad).ok());
}

TEST(McNemar, TextbookExactValues) {
  // Hard-coded from exact binomial sums (python3 math.comb).
  EXPECT_NEAR(McNemarExact(1, 9).p_value, 0.021484375, 1e-14);
  EXPECT_NEAR(McNemarExact(10, 2).p_value, 0.03857421875, 1e-14);
  EXPECT_NEAR(McNemarExact(0, 7).p_value, 0.015625, 1e-14);
  EXPECT_DOUBLE_EQ(McNemarExact(5, 5).p_value, 1.0);
  EXPECT_DOUBLE_EQ(McNemarExact(0, 0).p_value, 1.0);
  EXPECT_EQ(McNemarExact(10, 2).b, 10);
  EXPECT_EQ(McNemarExact(10, 2).c, 2);
}

TEST(McNemar, LargeCountsStayAccurateInLogSpace) {
  EXPECT_NEAR(McNemarExact(200, 260).p_value, 0.005883922473103979, 1e-12);
  EXPECT_NEAR(McNemarExact(3000, 3150).p_value, 0.05742710853236387, 1e-11);
  EXPECT_EQ(McNemarExact(1'000'000, 1'000'000).p_value, 1.0);
  EXPECT_NEAR(McNemarExact(0, 1000).p_value / std::ldexp(1.0, -999), 1.0, 1e-11);
  EXPECT_EQ(McNemarExact(0, 5000).p_value, 0.0);  // 2^-4999 underflows to 0, not NaN
  EXPECT_FALSE(std::isnan(McNemarExact(100000, 200000).p_value));
}

TEST(Holm, TextbookExample) {
  // p = (0.01, 0.04, 0.03, 0.005), alpha 0.05: reject 0.005 (<= .0125) and 0.01 (<= .0167), stop at
  // 0.03 (> .025); adjusted p = 0.02, 0.03, 0.06, 0.06.
  const std::vector<double> p = {0.01, 0.04, 0.03, 0.005};
  const auto steps = HolmBonferroni(p, 0.05);
  ASSERT_EQ(steps.size(), 4u);
  const std::vector<size_t> order = {3, 0, 2, 1};
  const std::vector<double> levels = {0.0125, 0.05 / 3, 0.025, 0.05};
  const std::vector<double> adjusted = {0.02, 0.03, 0.06, 0.06};
  const std::vector<bool> rejected = {true, true, false, false};
  for (size_t r = 0; r < 4; ++r) {
    EXPECT_EQ(steps[r].index, order[r]);
    EXPECT_DOUBLE_EQ(steps[r].level, levels[r]);
    EXPECT_NEAR(steps[r].adjusted_p, adjusted[r], 1e-15);
    EXPECT_EQ(steps[r].rejected, rejected[r]);
  }
  EXPECT_TRUE(HolmBonferroni(std::vector<double>{}, 0.05).empty());
  const auto capped = HolmBonferroni(std::vector<double>{0.9, 0.8}, 0.05);
  EXPECT_DOUBLE_EQ(capped[0].adjusted_p, 1.0);
  EXPECT_DOUBLE_EQ(capped[1].adjusted_p, 1.0);
}

TEST(MinimumDetectableEffect, PairedFormula) {
  // (z_0.975 + z_0.8) * sd / sqrt(n) with sd = 1, n = 100, on infinitely many degrees of freedom.
  auto mde = MinimumDetectableEffect(0.1, INFINITY, 0.95, 0.8);
  ASSERT_TRUE(mde.ok());
  EXPECT_NEAR(*mde, 0.2801585218112968, 1e-12);
  EXPECT_DOUBLE_EQ(*MinimumDetectableEffect(0.0, 99, 0.95), 0.0);
  EXPECT_FALSE(MinimumDetectableEffect(-1, 99, 0.95).ok());
  EXPECT_FALSE(MinimumDetectableEffect(0.1, 99, 1.0).ok());
  EXPECT_FALSE(MinimumDetectableEffect(0.1, 99, 0.95, 0.0).ok());
  EXPECT_FALSE(MinimumDetectableEffect(INFINITY, 99, 0.95).ok());
}

TEST(BootstrapDistribution, OrderStatisticIntervalsAndPValuesAgree) {
  std::vector<double> deltas;
  for (int i = 0; i < 1000; ++i) deltas.push_back((999 - i) / 1000.0);  // 0.000 .. 0.999, unsorted
  BootstrapDistribution d(deltas);
  // k = floor(1000 * 0.05 / 2) = 25: [0.025, 0.974].
  Interval ci = d.DeltaInterval(0.95);
  EXPECT_DOUBLE_EQ(ci.low, 0.025);
  EXPECT_DOUBLE_EQ(ci.high, 0.974);
  Interval improvement = d.ImprovementInterval(0.95, /*higher_is_better=*/false);
  EXPECT_DOUBLE_EQ(improvement.low, -0.974);
  EXPECT_DOUBLE_EQ(improvement.high, -0.025);
  // 25 resamples below 0.025 (strict), 26 at or below.
  EXPECT_DOUBLE_EQ(d.FractionImprovementBelow(0.025, true, false), 0.025);
  EXPECT_DOUBLE_EQ(d.FractionImprovementBelow(0.025, true, true), 0.026);
  // Lower is better: improvement = -delta < -0.974 <=> delta > 0.974: 25 resamples.
  EXPECT_DOUBLE_EQ(d.FractionImprovementBelow(-0.974, false, false), 0.025);
  EXPECT_DOUBLE_EQ(d.FractionImprovementBelow(-0.974, false, true), 0.026);
  EXPECT_DOUBLE_EQ(d.Median(), 0.4995);
  // A tiny confidence collapses to the middle; a confidence near 1 widens to min/max.
  EXPECT_DOUBLE_EQ(d.DeltaInterval(1e-9).low, 0.499);
  EXPECT_DOUBLE_EQ(d.DeltaInterval(0.9999999).low, 0.0);
  EXPECT_DOUBLE_EQ(d.DeltaInterval(0.9999999).high, 0.999);
  BootstrapDistribution empty;
  EXPECT_DOUBLE_EQ(empty.FractionImprovementBelow(0, true, false), 1.0);
  EXPECT_DOUBLE_EQ(empty.StandardDeviation(), 0.0);
}

TEST(MetricInfo, KnownMetricsAndUnknownName) {
  auto bpb = LookupMetric("bits_per_byte");
  ASSERT_TRUE(bpb.ok());
  EXPECT_EQ(bpb->kind, MetricKind::kRatioOfSums);
  EXPECT_FALSE(bpb->higher_is_better);
  EXPECT_FALSE(bpb->binary);
  auto acc = LookupMetric("acc");
  ASSERT_TRUE(acc.ok());
  EXPECT_TRUE(acc->binary && acc->higher_is_better);
  EXPECT_EQ(LookupMetric("perplexity")->kind, MetricKind::kExpRatioOfSums);
  auto bad = LookupMetric("accuracy");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unknown metric \"accuracy\""), std::string::npos);
  EXPECT_EQ(MetricKindName(MetricKind::kRatioOfSums), "ratio_of_sums");
}

}  // namespace
}  // namespace graft::stats
