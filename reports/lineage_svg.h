// RenderLineageSvg: a lineage graph as an inline SVG, laid out in columns left to right.
#pragma once

#include <string>

#include "reports/report_model.h"

namespace graft::reports {

// An <svg class="lineage-graph">: one column per LineageColumn in use (inputs, adapter,
// evaluations, suites and decisions, approvals), nodes in input order within a column, coloured
// by kind (StyleOf), with the digest as a tooltip; edges as arrows in their recorded direction,
// labelled (long labels cut, in full as a tooltip). Edges naming unknown nodes are left out.
std::string RenderLineageSvg(const LineageGraph& graph);

}  // namespace graft::reports
