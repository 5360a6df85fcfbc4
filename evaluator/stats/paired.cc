#include "evaluator/stats/paired.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>

#include "core/xoshiro.h"
#include "evaluator/stats/paired_binary.h"
#include "evaluator/stats/power.h"
#include "evaluator/stats/threshold_test.h"

namespace graft::stats {
namespace {

// One item as the resampling loop reads it. For mean metrics weight = 1, so the same ratio
// arithmetic gives the mean.
struct PackedItem {
  double adapter;
  double base;
  double weight;
};

double Transform(MetricKind kind, double ratio) {
  return kind == MetricKind::kExpRatioOfSums ? std::exp(ratio) : ratio;
}

Status CheckOptions(const BootstrapOptions& options) {
  if (options.resamples < 1 || options.resamples > 10'000'000) {
    return InvalidInput("bootstrap resamples must be in [1, 10000000], got " +
                        std::to_string(options.resamples));
  }
  if (!(options.confidence > 0 && options.confidence < 1)) {
    return InvalidInput("confidence must be in (0, 1)");
  }
  if (!(options.power > 0 && options.power < 1)) return InvalidInput("power must be in (0, 1)");
  return Status::Ok();
}

Status CheckScores(const MetricScores& scores, size_t n) {
  const std::string& name = scores.info.name;
  if (scores.base.size() != n || scores.adapter.size() != n) {
    return InvalidInput("metric " + name + ": base and adapter need one value per item (" +
                        std::to_string(n) + ")");
  }
  const bool ratio = scores.info.kind != MetricKind::kMean;
  if (ratio ? scores.denominator.size() != n : !scores.denominator.empty()) {
    return InvalidInput(
        "metric " + name +
        (ratio ? ": needs one denominator per item" : ": a mean has no denominator"));
  }
  for (size_t i = 0; i < n; ++i) {
    for (double v : {scores.base[i], scores.adapter[i]}) {
      if (!std::isfinite(v)) {
        return InvalidInput("metric " + name + ": item " + std::to_string(i) + " is not finite");
      }
      if (scores.info.binary && v != 0.0 && v != 1.0) {
        return InvalidInput("metric " + name + ": item " + std::to_string(i) +
                            " is not 0 or 1 in a binary metric");
      }
    }
    if (ratio && !(std::isfinite(scores.denominator[i]) && scores.denominator[i] > 0)) {
      return InvalidInput("metric " + name + ": item " + std::to_string(i) +
                          " has a denominator that is not a positive number");
    }
  }
  return Status::Ok();
}

// The standard error of delta from per-item influence values (the delta method; for a mean it
// is sd(d) / sqrt(n)), the Satterthwaite degrees of freedom for ratios (n - 1 for means) and the
// effective number of items (sum w)^2 / sum w^2.
void Studentize(const std::vector<PackedItem>& items, MetricKind kind, MetricComparison& result) {
  const size_t n = items.size();
  double sum_adapter = 0, sum_base = 0, sum_weight = 0, sum_weight2 = 0;
  for (const PackedItem& item : items) {
    sum_adapter += item.adapter;
    sum_base += item.base;
    sum_weight += item.weight;
    sum_weight2 += item.weight * item.weight;
  }
  const double ratio_adapter = sum_adapter / sum_weight, ratio_base = sum_base / sum_weight;
  // d f(R) / d R at each ratio: 1, or exp(R) for perplexity.
  const double slope_adapter = kind == MetricKind::kExpRatioOfSums ? std::exp(ratio_adapter) : 1;
  const double slope_base = kind == MetricKind::kExpRatioOfSums ? std::exp(ratio_base) : 1;
  // HC2: each squared influence over 1 - leverage, leverage w_i^2 / sum w^2 (1/n for a mean, so
  // that the mean's SE is exactly sd(d) / sqrt(n)); long items are not trusted to speak for
  // themselves.
  double squares = 0, fourths = 0;
  for (const PackedItem& item : items) {
    const double influence = (slope_adapter * (item.adapter - ratio_adapter * item.weight) -
                              slope_base * (item.base - ratio_base * item.weight)) /
                             sum_weight;
    const double leverage = item.weight * item.weight / sum_weight2;
    const double square = leverage < 1 ? influence * influence / (1 - leverage) : 0;
    squares += square;
    fourths += square * square;
  }
  const auto nd = static_cast<double>(n);
  result.effective_n = sum_weight * sum_weight / sum_weight2;
  if (n < 2) {
    result.standard_error = 0;
    result.degrees_of_freedom = 0;
    return;
  }
  result.standard_error = std::sqrt(squares);
  if (kind == MetricKind::kMean || fourths == 0) {
    result.degrees_of_freedom = nd - 1;
  } else {
    // Satterthwaite: sum of squares ~ sum_i c_i chi2_1, df = (sum c)^2 / sum c^2, with c_i
    // estimated by influence_i^2 and c_i^2 by influence_i^4 / 3 (the normal fourth moment).
    result.degrees_of_freedom =
        std::clamp(std::min(3 * squares * squares / fourths, result.effective_n - 1), 1.0, nd - 1);
  }
}

// The comparison over the items `indices` of `scores` (already checked).
Result<MetricComparison> CompareItems(const MetricScores& scores,
                                      const std::vector<size_t>& indices, std::string slice,
                                      const BootstrapOptions& options) {
  const MetricKind kind = scores.info.kind;
  const size_t n = indices.size();
  std::vector<PackedItem> items;
  items.reserve(n);
  double sum_adapter = 0, sum_base = 0, sum_weight = 0;
  int64_t b = 0, c = 0;
  for (size_t i : indices) {
    const double weight = kind == MetricKind::kMean ? 1.0 : scores.denominator[i];
    items.push_back({scores.adapter[i], scores.base[i], weight});
    sum_adapter += scores.adapter[i];
    sum_base += scores.base[i];
    sum_weight += weight;
    b += scores.base[i] == 1.0 && scores.adapter[i] == 0.0;
    c += scores.base[i] == 0.0 && scores.adapter[i] == 1.0;
  }

  MetricComparison result;
  result.metric = scores.info.name;
  result.kind = kind;
  result.higher_is_better = scores.info.higher_is_better;
  result.slice = std::move(slice);
  result.n = n;
  result.base = Transform(kind, sum_base / sum_weight);
  result.adapter = Transform(kind, sum_adapter / sum_weight);
  result.delta = result.adapter - result.base;
  result.confidence = options.confidence;
  result.resamples = options.resamples;
  result.seed = options.seed;
  result.power = options.power;
  if (scores.info.binary) result.mcnemar = McNemarExact(b, c);

  const auto n32 = static_cast<uint32_t>(n);  // CompareMetric keeps n below 2^32
  Xoshiro256StarStar rng(options.seed);
  std::vector<double> deltas(static_cast<size_t>(options.resamples));
  for (double& delta : deltas) {
    double a = 0, s = 0, w = 0;
    for (size_t draw = 0; draw < n; ++draw) {
      const PackedItem& item = items[rng.UniformBelow32(n32)];
      a += item.adapter;
      s += item.base;
      w += item.weight;
    }
    delta = Transform(kind, a / w) - Transform(kind, s / w);
  }
  result.distribution = BootstrapDistribution(std::move(deltas));
  result.bootstrap_interval = result.distribution.DeltaInterval(options.confidence);
  Studentize(items, kind, result);

  if (result.mcnemar) {
    result.interval_method = "Tango score";
    const auto items_n = static_cast<int64_t>(n);
    result.minimum_detectable_effect = ExactMcNemarMde(
        result.higher_is_better ? DiscordantCounts{c, b, items_n} : DiscordantCounts{b, c, items_n},
        options.confidence, options.power);
  } else {
    result.interval_method = kind == MetricKind::kMean ? "t" : "delta-method t";
    GRAFT_ASSIGN_OR_RETURN(result.minimum_detectable_effect,
                           MinimumDetectableEffect(result.standard_error, result.degrees_of_freedom,
                                                   options.confidence, options.power));
  }
  const Interval improvement = ImprovementIntervalAt(result, options.confidence);
  result.interval =
      result.higher_is_better ? improvement : Interval{-improvement.high, -improvement.low};
  return result;
}

}  // namespace

Result<MetricComparison> CompareMetric(const MetricScores& scores,
                                       std::span<const std::string> slices,
                                       const BootstrapOptions& options) {
  GRAFT_RETURN_IF_ERROR(CheckOptions(options));
  const size_t n = scores.base.size();
  if (n == 0) return InvalidInput("metric " + scores.info.name + ": no items");
  if (n >= (uint64_t{1} << 32))
    return InvalidInput("metric " + scores.info.name + ": too many items");
  GRAFT_RETURN_IF_ERROR(CheckScores(scores, n));
  if (!slices.empty() && slices.size() != n) {
    return InvalidInput("metric " + scores.info.name + ": slices need one entry per item");
  }
  std::vector<size_t> all(n);
  std::map<std::string, std::vector<size_t>> by_slice;
  for (size_t i = 0; i < n; ++i) {
    all[i] = i;
    if (!slices.empty() && !slices[i].empty()) by_slice[slices[i]].push_back(i);
  }
  GRAFT_ASSIGN_OR_RETURN(MetricComparison result, CompareItems(scores, all, "", options));
  for (const auto& [name, indices] : by_slice) {
    GRAFT_ASSIGN_OR_RETURN(MetricComparison sub, CompareItems(scores, indices, name, options));
    result.slices.push_back(std::move(sub));
  }
  return result;
}

Result<std::vector<MetricComparison>> ComparePaired(const ItemScores& scores,
                                                    const BootstrapOptions& options) {
  std::set<std::string_view> ids(scores.item_ids.begin(), scores.item_ids.end());
  if (ids.size() != scores.item_ids.size()) return InvalidInput("duplicate item ids");
  std::set<std::string_view> names;
  std::vector<MetricComparison> results;
  for (const MetricScores& metric : scores.metrics) {
    if (!names.insert(metric.info.name).second) {
      return InvalidInput("metric " + metric.info.name + " appears twice");
    }
    if (metric.base.size() != scores.item_ids.size()) {
      return InvalidInput("metric " + metric.info.name + ": " + std::to_string(metric.base.size()) +
                          " values for " + std::to_string(scores.item_ids.size()) + " items");
    }
    GRAFT_ASSIGN_OR_RETURN(MetricComparison result, CompareMetric(metric, scores.slices, options));
    results.push_back(std::move(result));
  }
  return results;
}

}  // namespace graft::stats
