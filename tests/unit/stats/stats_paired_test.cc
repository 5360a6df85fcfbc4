// Paired bootstrap comparisons: identical models, normal theory, ratios, determinism, slices.
#include "evaluator/stats/paired.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "core/xoshiro.h"
#include "evaluator/stats/json.h"
#include "evaluator/stats/paired_binary.h"

namespace graft::stats {
namespace {

MetricScores Scores(const std::string& name, std::vector<double> base, std::vector<double> adapter,
                    std::vector<double> denominator = {}) {
  MetricScores scores;
  scores.info = *LookupMetric(name);
  scores.base = std::move(base);
  scores.adapter = std::move(adapter);
  scores.denominator = std::move(denominator);
  return scores;
}

// N(mean, sd) by Box-Muller over the seeded generator: the same numbers on every platform.
std::vector<double> Normal(size_t n, double mean, double sd, uint64_t seed) {
  Xoshiro256StarStar rng(seed);
  std::vector<double> out;
  while (out.size() < n) {
    const double u1 = 1.0 - rng.UniformDouble();  // (0, 1]
    const double u2 = rng.UniformDouble();
    const double r = std::sqrt(-2 * std::log(u1));
    out.push_back(mean + sd * r * std::cos(2 * std::numbers::pi * u2));
    if (out.size() < n) out.push_back(mean + sd * r * std::sin(2 * std::numbers::pi * u2));
  }
  return out;
}

TEST(PairedBootstrap, IdenticalModelsGiveZeroDeltaAndZeroInterval) {
  std::vector<double> values = {1, 0, 1, 1, 0, 1, 0, 0, 1, 1};
  auto acc = CompareMetric(Scores("acc", values, values), {}, {.resamples = 500});
  ASSERT_TRUE(acc.ok()) << acc.status().ToString();
  EXPECT_EQ(acc->delta, 0.0);
  EXPECT_EQ(acc->bootstrap_interval.low, 0.0);
  EXPECT_EQ(acc->bootstrap_interval.high, 0.0);
  // Tango's interval with no discordant pair is symmetric around 0, not a point (uncorrected it
  // is +-z^2 / (n + z^2)).
  const double z2 = 1.959963984540054 * 1.959963984540054;
  EXPECT_NEAR(TangoInterval({0, 0, 10}, 0.95).high, z2 / (10 + z2), 1e-9);
  EXPECT_NEAR(acc->interval.low, -acc->interval.high, 1e-9);
  EXPECT_GT(acc->interval.high, z2 / (10 + z2));
  EXPECT_EQ(acc->interval_method, "Tango score");
  EXPECT_DOUBLE_EQ(acc->base, 0.6);
  ASSERT_TRUE(acc->mcnemar.has_value());
  EXPECT_EQ(acc->mcnemar->b + acc->mcnemar->c, 0);
  EXPECT_EQ(acc->mcnemar->p_value, 1.0);
  EXPECT_TRUE(std::isinf(acc->minimum_detectable_effect));  // no discordant pair to detect with

  std::vector<double> bits = {10, 20, 5, 7}, bytes = {4, 9, 3, 2};
  auto bpb = CompareMetric(Scores("bits_per_byte", bits, bits, bytes), {}, {.resamples = 500});
  ASSERT_TRUE(bpb.ok());
  EXPECT_EQ(bpb->delta, 0.0);
  EXPECT_EQ(bpb->interval.low, 0.0);
  EXPECT_EQ(bpb->interval.high, 0.0);
  EXPECT_FALSE(bpb->mcnemar.has_value());
}

TEST(PairedBootstrap, MeanIntervalMatchesNormalTheoryOnLargeSample) {
  // d ~ N(0.1, 1), n = 20000: interval ~ mean(d) +- 1.96 sd(d) / sqrt(n) = +- 0.01386.
  const size_t n = 20000;
  std::vector<double> base(n, 0.0);
  std::vector<double> adapter = Normal(n, 0.1, 1.0, 7);
  // The "exact_match"-like mean metric is not binary here: use a non-binary mean metric.
  MetricScores scores = Scores("acc", base, adapter);
  scores.info.binary = false;
  auto result = CompareMetric(scores, {}, {.resamples = 10000, .seed = 3});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  double mean = 0;
  for (double x : adapter) mean += x;
  mean /= n;
  double squares = 0;
  for (double x : adapter) squares += (x - mean) * (x - mean);
  const double se = std::sqrt(squares / (n - 1) / n);
  EXPECT_NEAR(result->delta, mean, 1e-12);
  EXPECT_NEAR(result->standard_error, se, 1e-12);
  const double half = 1.959963984540054 * se;
  // Monte Carlo error of a 2.5% quantile from 10k resamples is about 2.5% of the half-width.
  EXPECT_NEAR(result->bootstrap_interval.low, mean - half, 0.05 * half);
  EXPECT_NEAR(result->bootstrap_interval.high, mean + half, 0.05 * half);
  // The decision interval is the t interval on n - 1 degrees of freedom: almost normal here.
  EXPECT_EQ(result->interval_method, "t");
  EXPECT_DOUBLE_EQ(result->degrees_of_freedom, n - 1.0);
  EXPECT_NEAR(result->interval.low, mean - half, 1e-4 * half);
  EXPECT_NEAR(result->interval.high, mean + half, 1e-4 * half);
  EXPECT_NEAR(result->distribution.StandardDeviation(), se, 0.03 * se);
  EXPECT_NEAR(result->minimum_detectable_effect, (1.959963984540054 + 0.8416212335729144) * se,
              3e-4 * se);
  EXPECT_EQ(result->distribution.size(), 10000u);
}

TEST(PairedBootstrap, RatioOfSumsIsTheFullSampleRatioAtTheCenter) {
  // Items of very different sizes: the ratio of sums differs from the mean of ratios.
  std::vector<double> bytes, base_bits, adapter_bits;
  Xoshiro256StarStar rng(11);
  for (int i = 0; i < 2000; ++i) {
    const double b = 10 + static_cast<double>(rng.UniformBelow(1000));
    bytes.push_back(b);
    base_bits.push_back(b * (1.2 + 0.2 * rng.UniformDouble()));
    adapter_bits.push_back(b * (1.1 + 0.2 * rng.UniformDouble()));
  }
  double sb = 0, sa = 0, sd = 0;
  for (int i = 0; i < 2000; ++i) sb += base_bits[i], sa += adapter_bits[i], sd += bytes[i];
  auto result = CompareMetric(Scores("bits_per_byte", base_bits, adapter_bits, bytes), {},
                              {.resamples = 4000, .seed = 5});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_DOUBLE_EQ(result->base, sb / sd);
  EXPECT_DOUBLE_EQ(result->adapter, sa / sd);
  EXPECT_DOUBLE_EQ(result->delta, sa / sd - sb / sd);
  EXPECT_NEAR(result->distribution.Median(), result->delta, 0.1 * result->standard_error);
  EXPECT_LT(result->interval.low, result->delta);
  EXPECT_GT(result->interval.high, result->delta);
  EXPECT_LT(result->interval.high, 0.0);  // clearly better: fewer bits per byte
  EXPECT_FALSE(result->higher_is_better);

  auto ppl =
      CompareMetric(Scores("perplexity", base_bits, adapter_bits, bytes), {}, {.resamples = 200});
  ASSERT_TRUE(ppl.ok());
  EXPECT_DOUBLE_EQ(ppl->base, std::exp(sb / sd));
  EXPECT_DOUBLE_EQ(ppl->delta, std::exp(sa / sd) - std::exp(sb / sd));
}

TEST(PairedBootstrap, DeterministicForASeedAndDifferentAcrossSeeds) {
  std::vector<double> base = Normal(500, 0, 1, 1), adapter = Normal(500, 0.05, 1, 2);
  MetricScores scores = Scores("acc", base, adapter);
  scores.info.binary = false;
  auto first = CompareMetric(scores, {}, {.resamples = 1000, .seed = 99});
  auto again = CompareMetric(scores, {}, {.resamples = 1000, .seed = 99});
  auto other = CompareMetric(scores, {}, {.resamples = 1000, .seed = 100});
  ASSERT_TRUE(first.ok() && again.ok() && other.ok());
  EXPECT_EQ(first->distribution.sorted(), again->distribution.sorted());
  EXPECT_EQ(first->bootstrap_interval.low, again->bootstrap_interval.low);
  EXPECT_NE(first->distribution.sorted(), other->distribution.sorted());
  EXPECT_EQ(first->seed, 99u);
  EXPECT_EQ(first->resamples, 1000);
}

TEST(PairedBootstrap, McNemarCountsDiscordantPairs) {
  // 1 item base-right/adapter-wrong, 9 base-wrong/adapter-right, 5 both right, 5 both wrong.
  std::vector<double> base, adapter;
  auto add = [&](double b, double a, int times) {
    for (int i = 0; i < times; ++i) base.push_back(b), adapter.push_back(a);
  };
  add(1, 0, 1);
  add(0, 1, 9);
  add(1, 1, 5);
  add(0, 0, 5);
  auto result = CompareMetric(Scores("exact_match", base, adapter), {}, {.resamples = 100});
  ASSERT_TRUE(result.ok());
  ASSERT_TRUE(result->mcnemar.has_value());
  EXPECT_EQ(result->mcnemar->b, 1);
  EXPECT_EQ(result->mcnemar->c, 9);
  EXPECT_NEAR(result->mcnemar->p_value, 0.021484375, 1e-14);
  EXPECT_DOUBLE_EQ(result->delta, 0.4);
}

TEST(PairedBootstrap, PerSliceSubResults) {
  ItemScores items;
  items.item_ids = {"a", "b", "c", "d", "e", "f"};
  items.slices = {"faq", "billing", "faq", "", "billing", "faq"};
  items.metrics.push_back(Scores("acc", {0, 1, 0, 1, 1, 1}, {1, 1, 1, 0, 0, 1}));
  auto results = ComparePaired(items, {.resamples = 300, .seed = 1});
  ASSERT_TRUE(results.ok()) << results.status().ToString();
  ASSERT_EQ(results->size(), 1u);
  const MetricComparison& all = (*results)[0];
  EXPECT_EQ(all.n, 6u);
  EXPECT_DOUBLE_EQ(all.delta, 4.0 / 6 - 4.0 / 6);
  ASSERT_EQ(all.slices.size(), 2u);  // sorted by name; "" is in no slice
  EXPECT_EQ(all.slices[0].slice, "billing");
  EXPECT_EQ(all.slices[0].n, 2u);
  EXPECT_DOUBLE_EQ(all.slices[0].delta, -0.5);
  EXPECT_EQ(all.slices[1].slice, "faq");
  EXPECT_EQ(all.slices[1].n, 3u);
  EXPECT_DOUBLE_EQ(all.slices[1].delta, 2.0 / 3);
  EXPECT_EQ(all.slices[1].mcnemar->c, 2);
  EXPECT_TRUE(all.slices[1].slices.empty());
}

TEST(PairedBootstrap, RejectsBadInput) {
  const BootstrapOptions options{.resamples = 10};
  EXPECT_FALSE(CompareMetric(Scores("acc", {}, {}), {}, options).ok());
  EXPECT_FALSE(CompareMetric(Scores("acc", {1, 0}, {1}), {}, options).ok());
  EXPECT_FALSE(CompareMetric(Scores("acc", {1, 0.5}, {1, 0}), {}, options).ok());
  EXPECT_FALSE(CompareMetric(Scores("acc", {1, NAN}, {1, 0}), {}, options).ok());
  EXPECT_FALSE(CompareMetric(Scores("acc", {1, 0}, {1, 0}, {1, 1}), {}, options).ok());
  EXPECT_FALSE(CompareMetric(Scores("bits_per_byte", {1, 2}, {1, 2}, {1}), {}, options).ok());
  EXPECT_FALSE(CompareMetric(Scores("bits_per_byte", {1, 2}, {1, 2}, {1, 0}), {}, options).ok());
  EXPECT_FALSE(CompareMetric(Scores("bits_per_byte", {1, 2}, {1, 2}, {1, -3}), {}, options).ok());
  const std::vector<std::string> one_slice = {"x"};
  EXPECT_FALSE(CompareMetric(Scores("acc", {1, 0}, {1, 0}), one_slice, options).ok());
  EXPECT_FALSE(CompareMetric(Scores("acc", {1}, {1}), {}, {.resamples = 0}).ok());
  EXPECT_FALSE(CompareMetric(Scores("acc", {1}, {1}), {}, {.confidence = 1.0}).ok());
  EXPECT_FALSE(CompareMetric(Scores("acc", {1}, {1}), {}, {.power = 0}).ok());

  ItemScores dup_ids{{"a", "a"}, {}, {Scores("acc", {1, 0}, {1, 0})}};
  EXPECT_FALSE(ComparePaired(dup_ids, options).ok());
  ItemScores dup_metric{{"a"}, {}, {Scores("acc", {1}, {1}), Scores("acc", {1}, {1})}};
  EXPECT_FALSE(ComparePaired(dup_metric, options).ok());
  ItemScores short_metric{{"a", "b"}, {}, {Scores("acc", {1}, {1})}};
  auto bad = ComparePaired(short_metric, options);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "metric acc: 1 values for 2 items");
}

TEST(PairedBootstrap, TenThousandResamplesOfTenThousandItemsIsFast) {
  const size_t n = 10000;
  MetricScores scores = Scores("acc", Normal(n, 0, 1, 1), Normal(n, 0, 1, 2));
  scores.info.binary = false;
  const auto start = std::chrono::steady_clock::now();
  auto result = CompareMetric(scores, {}, {});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->resamples, 10000);
  // Well under a second on one core; the bound is loose because CI machines are shared.
  EXPECT_LT(seconds, 3.0);
  std::printf("10k x 10k bootstrap: %.3f s\n", seconds);
}

TEST(PairedBootstrap, ComparisonJsonHasEveryFieldAndNestedSlices) {
  ItemScores items;
  items.item_ids = {"a", "b", "c", "d"};
  items.slices = {"faq", "faq", "billing", "billing"};
  items.metrics.push_back(Scores("acc", {0, 1, 0, 1}, {1, 1, 0, 1}));
  auto results = ComparePaired(items, {.resamples = 50, .seed = 4});
  ASSERT_TRUE(results.ok());
  Json json = ComparisonToJson((*results)[0]);
  EXPECT_EQ(json["metric"], "acc");
  EXPECT_EQ(json["kind"], "mean");
  EXPECT_EQ(json["higher_is_better"], true);
  EXPECT_EQ(json["n"], 4);
  EXPECT_DOUBLE_EQ(json["delta"].get<double>(), 0.25);
  EXPECT_EQ(json["resamples"], 50);
  EXPECT_EQ(json["seed"], 4);
  EXPECT_EQ(json["mcnemar"]["b"], 0);
  EXPECT_EQ(json["mcnemar"]["c"], 1);
  EXPECT_DOUBLE_EQ(json["mcnemar"]["p_value"].get<double>(), 1.0);
  EXPECT_TRUE(json["interval"].contains("low"));
  EXPECT_FALSE(json.contains("slice"));
  ASSERT_EQ(json["slices"].size(), 2u);
  EXPECT_EQ(json["slices"][0]["slice"], "billing");
  EXPECT_EQ(json["slices"][1]["slice"], "faq");
  EXPECT_FALSE(json["slices"][1].contains("slices"));
  EXPECT_TRUE(CanonicalJson(json).ok());
}

}  // namespace
}  // namespace graft::stats
