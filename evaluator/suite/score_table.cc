#include "evaluator/suite/score_table.h"

#include <cmath>
#include <numbers>

#include "evaluator/stats/metric_info.h"

namespace graft::suite {

std::pair<double, double> MetricParts(const std::string& metric, const ItemScore& score) {
  if (metric == "bits_per_byte") {
    return {score.nll / std::numbers::ln2, static_cast<double>(score.bytes)};
  }
  if (metric == "perplexity" || metric == "nll") {
    return {score.nll, static_cast<double>(score.tokens)};
  }
  if (metric == "acc") return {score.correct, 1.0};
  if (metric == "acc_norm") return {score.correct_norm, 1.0};
  return {score.exact, 1.0};  // exact_match
}

Result<stats::ItemScores> BuildPairedScores(const SuiteTask& task,
                                            const std::vector<ItemScore>& base,
                                            const std::vector<ItemScore>& adapter) {
  if (base.size() != task.items.size() || adapter.size() != task.items.size()) {
    return InvalidInput("task " + task.name + ": " + std::to_string(task.items.size()) +
                        " items but " + std::to_string(base.size()) + " base and " +
                        std::to_string(adapter.size()) + " adapter scores");
  }
  stats::ItemScores table;
  bool any_slice = false;
  for (const SuiteItem& item : task.items) {
    table.item_ids.push_back(item.id);
    table.slices.push_back(item.slice);
    any_slice = any_slice || !item.slice.empty();
  }
  if (!any_slice) table.slices.clear();
  for (const std::string& metric : task.metrics) {
    GRAFT_ASSIGN_OR_RETURN(stats::MetricInfo info, stats::LookupMetric(metric));
    stats::MetricScores scores;
    scores.info = info;
    for (size_t i = 0; i < task.items.size(); ++i) {
      auto [base_value, denominator] = MetricParts(metric, base[i]);
      auto [adapter_value, adapter_denominator] = MetricParts(metric, adapter[i]);
      if (denominator != adapter_denominator) {
        return InvalidInput("task " + task.name + ", item " + task.items[i].id +
                            ": base and adapter scored different amounts of text for " + metric);
      }
      scores.base.push_back(base_value);
      scores.adapter.push_back(adapter_value);
      if (info.kind != stats::MetricKind::kMean) scores.denominator.push_back(denominator);
    }
    table.metrics.push_back(std::move(scores));
  }
  return table;
}

bool AdapterChangedAnything(const std::vector<ItemScore>& base,
                            const std::vector<ItemScore>& adapter) {
  if (base.size() != adapter.size()) return true;
  for (size_t i = 0; i < base.size(); ++i) {
    if (!base[i].IdenticalTo(adapter[i])) return true;
  }
  return false;
}

}  // namespace graft::suite
