// RenderForestPlot: one evaluation's deltas and intervals as an inline SVG forest plot.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "reports/evaluation_rows.h"

namespace graft::reports {

// An <svg class="forest-plot"> with one row per EvaluationRow: the delta (adapter - base) as a
// dot, its interval as a bar, the criterion's threshold on the delta axis as a dashed tick, all
// coloured by the criterion's status (grey when no criterion judged the row), and a vertical
// line at zero. Rows share one delta axis.
std::string RenderForestPlot(const std::vector<EvaluationRow>& rows, std::string_view title);

// "status-pass", "status-fail", "status-inconclusive", "status-pending", or "status-none".
std::string StatusClass(const policies::CriterionResult* criterion);

}  // namespace graft::reports
