// RenderLossChart: a training run's loss curve as an inline SVG line chart.
#pragma once

#include <string>
#include <vector>

#include "reports/report_model.h"

namespace graft::reports {

// An <svg class="loss-chart">: training loss (solid) and validation loss (dashed, with points)
// against the step, with axes and a legend.
std::string RenderLossChart(const std::vector<LossPoint>& loss);

}  // namespace graft::reports
