#include "evaluator/stats_paired.h"

#include <cmath>
#include <map>
#include <set>
#include <string>

#include "evaluator/stats_power.h"
#include "evaluator/stats_random.h"

namespace graft {
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
  result.interval = result.distribution.DeltaInterval(options.confidence);

  if (kind == MetricKind::kMean) {
    // sd of the per-item differences / sqrt(n).
    const double mean_d = (sum_adapter - sum_base) / static_cast<double>(n);
    double squares = 0;
    for (const PackedItem& item : items) {
      const double d = item.adapter - item.base - mean_d;
      squares += d * d;
    }
    result.standard_error =
        n < 2 ? 0 : std::sqrt(squares / static_cast<double>(n - 1) / static_cast<double>(n));
  } else {
    result.standard_error = result.distribution.StandardDeviation();
  }
  GRAFT_ASSIGN_OR_RETURN(
      result.minimum_detectable_effect,
      MinimumDetectableEffect(result.standard_error, options.confidence, options.power));
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

}  // namespace graft
