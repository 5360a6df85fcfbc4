// RenderLineageDot: a lineage graph as Graphviz DOT, nodes typed by shape and colour.
#pragma once

#include <string>
#include <string_view>

#include "reports/report_model.h"

namespace graft::reports {

// How a kind of lineage node is drawn, in DOT and in the HTML report's inline SVG.
struct LineageNodeStyle {
  std::string_view shape;  // a Graphviz shape
  std::string_view fill;   // "#rrggbb"
  std::string_view stroke;
};
LineageNodeStyle StyleOf(LineageNodeKind kind);

// `digraph lineage` laid out left to right by LineageColumn: an edge that points leftwards (the
// adapter -> its base) is written reversed with dir=back, so inputs rank left of the adapter and
// the arrow still points as recorded. Every ID and label is a quoted, escaped DOT string.
std::string RenderLineageDot(const LineageGraph& graph);

}  // namespace graft::reports
