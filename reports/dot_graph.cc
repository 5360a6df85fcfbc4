#include "reports/dot_graph.h"

#include <map>

#include "reports/escape.h"

namespace graft::reports {

LineageNodeStyle StyleOf(LineageNodeKind kind) {
  switch (kind) {
    case LineageNodeKind::kBase:
      return {"box3d", "#e2e8f0", "#475569"};
    case LineageNodeKind::kDataset:
      return {"cylinder", "#dbeafe", "#1d4ed8"};
    case LineageNodeKind::kParentAdapter:
      return {"component", "#ede9fe", "#6d28d9"};
    case LineageNodeKind::kTrainingRun:
      return {"ellipse", "#fef3c7", "#b45309"};
    case LineageNodeKind::kPolicy:
      return {"note", "#fce7f3", "#be185d"};
    case LineageNodeKind::kAdapter:
      return {"doubleoctagon", "#dcfce7", "#15803d"};
    case LineageNodeKind::kSuite:
      return {"folder", "#e0f2fe", "#0369a1"};
    case LineageNodeKind::kEvaluation:
      return {"box", "#f1f5f9", "#334155"};
    case LineageNodeKind::kDecision:
      return {"diamond", "#fff7ed", "#c2410c"};
    case LineageNodeKind::kApproval:
      return {"hexagon", "#ecfccb", "#4d7c0f"};
  }
  return {"box", "#ffffff", "#000000"};
}

std::string RenderLineageDot(const LineageGraph& graph) {
  std::string out =
      "digraph lineage {\n"
      "  graph [rankdir=LR, fontname=\"Helvetica\"];\n"
      "  node [fontname=\"Helvetica\", fontsize=10, style=filled];\n"
      "  edge [fontname=\"Helvetica\", fontsize=9];\n";
  std::map<std::string, int> column;
  for (const LineageNode& n : graph.nodes) {
    column[n.id] = LineageColumn(n.kind);
    const LineageNodeStyle style = StyleOf(n.kind);
    std::string label = n.label;
    if (!n.digest.empty()) label += "\n" + n.digest.substr(0, 19);
    out += "  " + DotQuote(n.id) + " [label=" + DotQuote(label) +
           ", shape=" + std::string(style.shape) + ", fillcolor=\"" + std::string(style.fill) +
           "\", color=\"" + std::string(style.stroke) + "\", tooltip=" + DotQuote(n.digest) +
           (n.kind == LineageNodeKind::kAdapter ? ", penwidth=2" : "") + "];\n";
  }
  for (const LineageEdge& e : graph.edges) {
    const auto from = column.find(e.from);
    const auto to = column.find(e.to);
    const bool leftwards = from != column.end() && to != column.end() && to->second < from->second;
    out += "  " + DotQuote(leftwards ? e.to : e.from) + " -> " +
           DotQuote(leftwards ? e.from : e.to) + " [label=" + DotQuote(e.label) +
           (leftwards ? ", dir=back" : "") + "];\n";
  }
  return out + "}\n";
}

}  // namespace graft::reports
