// Plain structs for paired evaluation statistics: per-item scores in, per-metric comparisons out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "evaluator/stats/distribution.h"
#include "evaluator/stats/mcnemar.h"
#include "evaluator/stats/metric_info.h"

namespace graft::stats {

// Per-item scores of one metric for the base and the adapter, on the same items in the same order.
struct MetricScores {
  MetricInfo info;
  // kMean: the per-item value. Ratio kinds: the per-item numerator in the metric's unit: bits for
  // bits_per_byte (nats / ln 2), nats for perplexity.
  std::vector<double> base;
  std::vector<double> adapter;
  // Ratio kinds only: the per-item denominator (bytes, tokens), > 0. Shared by both models: they
  // score the same text with the same tokenizer (LoRA does not change it).
  std::vector<double> denominator;
};

// Everything one evaluation of a suite produced, per item.
struct ItemScores {
  std::vector<std::string> item_ids;
  // Empty (no slices) or one entry per item; "" puts the item in no slice.
  std::vector<std::string> slices;
  std::vector<MetricScores> metrics;
};

struct BootstrapOptions {
  int64_t resamples = 10000;
  uint64_t seed = 0;
  double confidence = 0.95;  // of the reported two-sided interval
  double power = 0.8;        // of the minimum detectable effect
};

// Base against adapter on one metric, over all items or over one slice.
struct MetricComparison {
  std::string metric;
  MetricKind kind = MetricKind::kMean;
  bool higher_is_better = true;
  std::string slice;  // "" for all items
  size_t n = 0;       // items
  double base = 0;
  double adapter = 0;
  double delta = 0;  // adapter - base, as measured
  double confidence = 0.95;
  // Two-sided interval of delta at `confidence` by `interval_method`: Tango's score interval for
  // 0/1 metrics, delta +- t_{df} * standard_error otherwise (see docs/statistics.md).
  Interval interval;
  std::string interval_method;
  Interval bootstrap_interval;  // percentile bootstrap interval of delta (descriptive)
  int64_t resamples = 0;
  uint64_t seed = 0;
  // Of delta, from per-item influence values (delta method for ratios; sd(d) / sqrt(n) for
  // means), with `degrees_of_freedom` (Satterthwaite) for the t quantiles.
  double standard_error = 0;
  double degrees_of_freedom = 0;
  double effective_n = 0;  // (sum w)^2 / sum w^2 over the items' weights; n for mean metrics
  double power = 0.8;
  // At `confidence` and `power`: the smallest true improvement the (one-sided, alpha/2) test of
  // "no improvement" detects with probability `power`; +infinity when no effect can be detected.
  double minimum_detectable_effect = 0;
  std::optional<McNemarResult> mcnemar;  // 0/1 metrics only: decided on the discordant pairs
  BootstrapDistribution distribution;    // resampled deltas, queryable at other levels
  std::vector<MetricComparison> slices;  // per-slice sub-results, sorted by slice name
};

}  // namespace graft::stats
