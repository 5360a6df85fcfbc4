#include "evaluator/stats/json.h"

#include <cmath>

namespace graft::stats {

Json FiniteOrNull(double value) { return std::isfinite(value) ? Json(value) : Json(nullptr); }

Json ComparisonToJson(const MetricComparison& c) {
  Json out = {{"metric", c.metric},
              {"kind", MetricKindName(c.kind)},
              {"higher_is_better", c.higher_is_better},
              {"n", c.n},
              {"base", c.base},
              {"adapter", c.adapter},
              {"delta", c.delta},
              {"confidence", c.confidence},
              {"interval",
               {{"low", FiniteOrNull(c.interval.low)}, {"high", FiniteOrNull(c.interval.high)}}},
              {"interval_method", c.interval_method},
              {"bootstrap_interval",
               {{"low", c.bootstrap_interval.low}, {"high", c.bootstrap_interval.high}}},
              {"resamples", c.resamples},
              {"seed", c.seed},
              {"standard_error", c.standard_error},
              {"degrees_of_freedom", c.degrees_of_freedom},
              {"effective_n", c.effective_n},
              {"power", c.power},
              {"minimum_detectable_effect", FiniteOrNull(c.minimum_detectable_effect)}};
  if (!c.slice.empty()) out["slice"] = c.slice;
  if (c.mcnemar) {
    out["mcnemar"] = {{"b", c.mcnemar->b}, {"c", c.mcnemar->c}, {"p_value", c.mcnemar->p_value}};
  }
  if (!c.slices.empty()) {
    Json slices = Json::array();
    for (const MetricComparison& slice : c.slices) slices.push_back(ComparisonToJson(slice));
    out["slices"] = std::move(slices);
  }
  return out;
}

}  // namespace graft::stats
