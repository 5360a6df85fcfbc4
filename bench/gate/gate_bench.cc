// Monte Carlo study of the gate: simulated suites with a true improvement exactly at each
// criterion's threshold go through the real ComparePaired and Decide; prints the false-PASS rate
// with its standard error per cell, the power at the reported minimum detectable effect, and the
// time of the statistics for 10,000 items x 3 metrics. See bench/README.md ("gate").
//   graft_gate_bench [--experiments N] [--sizes 5,10,...] [--seed S] [--speed-only]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <numbers>
#include <string>
#include <vector>

#include "core/xoshiro.h"
#include "evaluator/stats/paired.h"
#include "policies/decision_engine.h"

namespace graft {
namespace {

enum class Model { kIndependent, kAgreement, kRatio };

struct Scenario {
  const char* name;
  Model model;
  double agreement = 0;  // kAgreement: P(base == adapter) per item
  double sigma = 0;      // kRatio: lognormal sigma of the per-item bytes
  double threshold = 0;  // the non-zero threshold used for this metric
  double strong = 0;     // a clearly passing improvement (other slices, other Holm members)
};

const Scenario kScenarios[] = {
    {"acc, p=0.6, independent", Model::kIndependent, 0, 0, 0.05, 0.3},
    {"acc, 90% agreement", Model::kAgreement, 0.90, 0, 0.025, 0.1},
    {"acc, 98% agreement", Model::kAgreement, 0.98, 0, 0.005, 0.02},
    {"bits_per_byte, lognormal w sigma=1", Model::kRatio, 0, 1, 0.02, 0.3},
    {"bits_per_byte, lognormal w sigma=2", Model::kRatio, 0, 2, 0.02, 0.3},
};

const char* MetricOf(const Scenario& s) {
  return s.model == Model::kRatio ? "bits_per_byte" : "acc";
}

double Normal(Xoshiro256StarStar& rng) {
  const double u1 = 1.0 - rng.UniformDouble();
  const double u2 = rng.UniformDouble();
  return std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
}

// Appends n items with true improvement `improvement` (adapter better by that much; for
// bits_per_byte the base-minus-adapter ratio of sums, in expectation).
void Generate(const Scenario& s, size_t n, double improvement, Xoshiro256StarStar& rng,
              stats::MetricScores& out) {
  for (size_t i = 0; i < n; ++i) {
    const double u = rng.UniformDouble();
    switch (s.model) {
      case Model::kIndependent: {
        out.base.push_back(u < 0.6 ? 1 : 0);
        out.adapter.push_back(rng.UniformDouble() < 0.6 + improvement ? 1 : 0);
        break;
      }
      case Model::kAgreement: {
        const double psi = 1 - s.agreement;
        improvement = std::clamp(improvement, -psi, psi);
        const double win = (psi + improvement) / 2, loss = (psi - improvement) / 2;
        const double both = 0.6 - loss;  // base accuracy 0.6
        if (u < win) {
          out.base.push_back(0), out.adapter.push_back(1);
        } else if (u < win + loss) {
          out.base.push_back(1), out.adapter.push_back(0);
        } else if (u < win + loss + both) {
          out.base.push_back(1), out.adapter.push_back(1);
        } else {
          out.base.push_back(0), out.adapter.push_back(0);
        }
        break;
      }
      case Model::kRatio: {
        const double bytes = 200 * std::exp(s.sigma * Normal(rng));
        const double base = bytes * (1.0 + 0.2 * Normal(rng));
        out.denominator.push_back(bytes);
        out.base.push_back(base);
        out.adapter.push_back(base - improvement * bytes + 0.1 * bytes * Normal(rng));
        break;
      }
    }
  }
}

enum class Criterion { kKpi, kRegression, kPerSlice, kHolm, kLooks };
const char* CriterionName(Criterion c) {
  switch (c) {
    case Criterion::kKpi:
      return "KPI";
    case Criterion::kRegression:
      return "regression";
    case Criterion::kPerSlice:
      return "regression per slice (2 slices, one at the margin)";
    case Criterion::kHolm:
      return "Holm family of 3 KPIs (one at the threshold, two clearly better)";
    case Criterion::kLooks:
      return "repeated looks: max_looks 5, O'Brien-Fleming, suite n, 2n, .., 5n until PASS";
  }
  return "";
}

constexpr int64_t kResamples = 1;  // the bootstrap is descriptive: the verdict never reads it

policies::Policy MakePolicy() {
  policies::Policy policy;
  policy.name = "bench";
  policy.digest = "sha256:" + std::string(64, '0');
  return policy;
}

policies::RequirementFacts Facts() {
  policies::RequirementFacts facts;
  facts.policy_pre_declared = true;
  return facts;
}

stats::MetricScores Empty(const Scenario& s) {
  stats::MetricScores m;
  m.info = *stats::LookupMetric(MetricOf(s));
  return m;
}

struct Outcome {
  bool pass = false;
  // Of the first criterion's comparison; +inf when undetectable or short of the evidence rule
  // (then no effect could PASS).
  double mde = 0;
};

Outcome Decided(const policies::Policy& policy, std::vector<policies::SuiteComparisons> suites,
                const policies::RequirementFacts& facts) {
  policies::Decision d = policies::Decide(policy, suites, facts, policies::DecisionMode::kGate);
  const bool short_of_evidence = d.criteria[0].reason.starts_with("not enough evidence");
  return {d.verdict == policies::Verdict::kPass,
          short_of_evidence ? INFINITY : suites[0].metrics[0].minimum_detectable_effect};
}

policies::SuiteComparisons Compare(const std::string& suite, const stats::MetricScores& scores,
                                   const std::vector<std::string>& slices = {}) {
  auto m = stats::CompareMetric(scores, slices, {.resamples = kResamples});
  if (!m.ok()) {
    std::fprintf(stderr, "%s\n", m.status().ToString().c_str());
    std::exit(1);
  }
  return {suite, {std::move(*m)}};
}

// One simulated gate with the criterion at `threshold` and the true improvement `truth`.
Outcome Experiment(const Scenario& s, Criterion criterion, size_t n, double threshold, double truth,
                   Xoshiro256StarStar& rng) {
  policies::Policy policy = MakePolicy();
  const std::string metric = MetricOf(s);
  switch (criterion) {
    case Criterion::kKpi: {
      policy.promotion.kpis = {{"s", metric, threshold}};
      stats::MetricScores scores = Empty(s);
      Generate(s, n, truth, rng, scores);
      return Decided(policy, {Compare("s", scores)}, Facts());
    }
    case Criterion::kRegression: {
      policy.promotion.regressions = {{"s", metric, threshold, false, false}};
      stats::MetricScores scores = Empty(s);
      Generate(s, n, -threshold + (truth - threshold), rng, scores);
      return Decided(policy, {Compare("s", scores)}, Facts());
    }
    case Criterion::kPerSlice: {
      policy.promotion.regressions = {{"s", metric, threshold, false, true}};
      stats::MetricScores scores = Empty(s);
      const size_t half = (n + 1) / 2;
      Generate(s, half, -threshold + (truth - threshold), rng, scores);
      Generate(s, n - half, s.strong, rng, scores);
      std::vector<std::string> slices(half, "at-margin");
      slices.resize(n, "better");
      return Decided(policy, {Compare("s", scores, slices)}, Facts());
    }
    case Criterion::kHolm: {
      policy.promotion.kpis = {
          {"s", metric, threshold}, {"t", metric, threshold}, {"u", metric, threshold}};
      stats::MetricScores at = Empty(s), good1 = Empty(s), good2 = Empty(s);
      Generate(s, n, truth, rng, at);
      Generate(s, n, threshold + s.strong, rng, good1);
      Generate(s, n, threshold + s.strong, rng, good2);
      return Decided(policy, {Compare("s", at), Compare("t", good1), Compare("u", good2)}, Facts());
    }
    case Criterion::kLooks: {
      policy.promotion.kpis = {{"s", metric, threshold}};
      policy.promotion.max_looks = 5;
      policy.promotion.alpha_spending = policies::AlphaSpending::kObrienFleming;
      stats::MetricScores all = Empty(s);
      Generate(s, 5 * n, truth, rng, all);
      policies::RequirementFacts facts = Facts();
      for (int64_t look = 1; look <= 5; ++look) {
        const size_t size = n * static_cast<size_t>(look);
        stats::MetricScores grown = Empty(s);
        grown.base.assign(all.base.begin(), all.base.begin() + size);
        grown.adapter.assign(all.adapter.begin(), all.adapter.begin() + size);
        if (!all.denominator.empty()) {
          grown.denominator.assign(all.denominator.begin(), all.denominator.begin() + size);
        }
        facts.look = look;
        if (Decided(policy, {Compare("s", grown)}, facts).pass) return {true, 0};
      }
      return {false, 0};
    }
  }
  return {};
}

struct Cell {
  double rate = 0, se = 0, mean_mde = 0, finite_mde = 0;
};

Cell Run(const Scenario& s, Criterion c, size_t n, double threshold, double truth,
         int64_t experiments, uint64_t seed) {
  Xoshiro256StarStar rng(seed);
  int64_t passes = 0, finite = 0;
  double mde_sum = 0;
  for (int64_t e = 0; e < experiments; ++e) {
    Outcome o = Experiment(s, c, n, threshold, truth, rng);
    passes += o.pass;
    if (std::isfinite(o.mde)) {
      mde_sum += o.mde;
      ++finite;
    }
  }
  Cell cell;
  const auto b = static_cast<double>(experiments);
  cell.rate = static_cast<double>(passes) / b;
  cell.se = std::sqrt(cell.rate * (1 - cell.rate) / b);
  cell.finite_mde = static_cast<double>(finite) / b;
  cell.mean_mde = finite > 0 ? mde_sum / static_cast<double>(finite) : INFINITY;
  return cell;
}

std::string Percent(const Cell& c) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.2f%% ± %.2f", 100 * c.rate, 100 * c.se);
  return buffer;
}

// "### title" and a Markdown table header with one column per suite size.
void TableHeader(const std::string& title, const std::vector<size_t>& sizes) {
  std::printf("\n### %s\n\n| scenario | threshold |", title.c_str());
  for (size_t n : sizes) std::printf(" n=%zu |", n);
  std::printf("\n|---|---|");
  for (size_t i = 0; i < sizes.size(); ++i) std::printf("---|");
  std::printf("\n");
}

void Speed() {
  // 10,000 items x 3 metrics (acc, exact_match, bits_per_byte), one KPI and two regressions.
  Xoshiro256StarStar rng(42);
  stats::ItemScores items;
  const size_t n = 10000;
  for (size_t i = 0; i < n; ++i) items.item_ids.push_back("item-" + std::to_string(i));
  for (const Scenario* s : {&kScenarios[0], &kScenarios[1], &kScenarios[3]}) {
    stats::MetricScores m = Empty(*s);
    Generate(*s, n, 0.01, rng, m);
    if (s == &kScenarios[1]) m.info = *stats::LookupMetric("exact_match");
    items.metrics.push_back(std::move(m));
  }
  policies::Policy policy = MakePolicy();
  policy.promotion.kpis = {{"s", "acc", 0.0}};
  policy.promotion.regressions = {{"s", "exact_match", 0.01, false, false},
                                  {"s", "bits_per_byte", 0.02, false, false}};
  for (int64_t resamples : {int64_t{10000}, int64_t{1}}) {
    double best = INFINITY, best_cpu = INFINITY;
    for (int round = 0; round < 3; ++round) {
      const auto start = std::chrono::steady_clock::now();
      const std::clock_t cpu_start = std::clock();
      auto compared = stats::ComparePaired(items, {.resamples = resamples, .seed = 1});
      std::vector<policies::SuiteComparisons> suites = {{"s", std::move(*compared)}};
      policies::Decision d =
          policies::Decide(policy, suites, Facts(), policies::DecisionMode::kGate);
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      best = std::min(best, seconds);
      best_cpu = std::min(best_cpu, static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC);
      if (d.criteria.empty()) std::exit(1);
    }
    std::printf(
        "speed: 10,000 items x 3 metrics, ComparePaired (%lld bootstrap resamples) + "
        "Decide, one thread: %.3f s CPU, %.3f s wall (best of 3)\n",
        static_cast<long long>(resamples), best_cpu, best);
  }
}

}  // namespace
}  // namespace graft

int main(int argc, char** argv) {
  using namespace graft;
  int64_t experiments = 4000;
  uint64_t seed = 2026;
  std::vector<size_t> sizes = {5, 10, 20, 50, 200, 1000};
  bool speed_only = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--experiments") && i + 1 < argc) {
      experiments = std::atoll(argv[++i]);
    } else if (!std::strcmp(argv[i], "--seed") && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (!std::strcmp(argv[i], "--sizes") && i + 1 < argc) {
      sizes.clear();
      for (char* p = std::strtok(argv[++i], ","); p; p = std::strtok(nullptr, ",")) {
        sizes.push_back(std::strtoull(p, nullptr, 10));
      }
    } else if (!std::strcmp(argv[i], "--speed-only")) {
      speed_only = true;
    } else {
      std::fprintf(stderr,
                   "usage: graft_gate_bench [--experiments N] [--sizes 5,10,...] "
                   "[--seed S] [--speed-only]\n");
      return 2;
    }
  }
  Speed();
  if (speed_only) return 0;
  std::printf(
      "\n%lld experiments per cell, confidence 0.95 (goal: false PASS <= 2.5%% + 2 SE), "
      "default evidence rule (min_items 10, min_discordant 10, min_effective_n 10)\n",
      static_cast<long long>(experiments));
  uint64_t cell_seed = seed;
  for (Criterion c : {Criterion::kKpi, Criterion::kRegression, Criterion::kPerSlice,
                      Criterion::kHolm, Criterion::kLooks}) {
    TableHeader("False PASS: " + std::string(CriterionName(c)), sizes);
    for (const Scenario& s : kScenarios) {
      for (double threshold : {0.0, s.threshold}) {
        std::printf("| %s | %g |", s.name, threshold);
        for (size_t n : sizes) {
          Cell cell = Run(s, c, n, threshold, threshold, experiments, ++cell_seed);
          const bool over = cell.rate > 0.025 + 2 * cell.se;
          std::printf(" %s%s |", Percent(cell).c_str(), over ? " **over**" : "");
          std::fflush(stdout);
        }
        std::printf("\n");
      }
    }
  }
  TableHeader("Power of the KPI at threshold + the mean reported MDE", sizes);
  for (const Scenario& s : kScenarios) {
    for (double threshold : {0.0, s.threshold}) {
      std::printf("| %s | %g |", s.name, threshold);
      for (size_t n : sizes) {
        Cell null_cell =
            Run(s, Criterion::kKpi, n, threshold, threshold, experiments / 4, ++cell_seed);
        double limit = s.model == Model::kAgreement ? 1 - s.agreement : 0.4;
        if (null_cell.finite_mde < 0.5 || threshold + null_cell.mean_mde > limit) {
          std::printf(" n/a (%s) |", null_cell.finite_mde < 0.5 ? "min evidence / undetectable"
                                                                : "MDE beyond the model");
          continue;
        }
        Cell power = Run(s, Criterion::kKpi, n, threshold, threshold + null_cell.mean_mde,
                         experiments, ++cell_seed);
        std::printf(" %.1f%% at MDE %.3g |", 100 * power.rate, null_cell.mean_mde);
        std::fflush(stdout);
      }
      std::printf("\n");
    }
  }
  return 0;
}
