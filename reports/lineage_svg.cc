#include "reports/lineage_svg.h"

#include <algorithm>
#include <map>
#include <vector>

#include "reports/dot_graph.h"
#include "reports/escape.h"
#include "reports/svg_chart.h"

namespace graft {
namespace {

constexpr double kNodeWidth = 170;
constexpr double kNodeHeight = 44;
constexpr double kColumnGap = 70;
constexpr double kRowGap = 18;
constexpr double kMargin = 12;
constexpr size_t kLabelChars = 24;

struct Placed {
  double x = 0;
  double y = 0;
};

constexpr std::string_view kArrowDefs =
    "<defs><marker id=\"lineage-arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
    "markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">"
    "<path d=\"M0,0 L10,5 L0,10 z\" class=\"arrow-head\"/></marker></defs>\n";

}  // namespace

std::string RenderLineageSvg(const LineageGraph& graph) {
  // Columns in use, left to right, and each node's row within its column.
  std::map<int, std::vector<const LineageNode*>> columns;
  for (const LineageNode& n : graph.nodes) columns[LineageColumn(n.kind)].push_back(&n);
  size_t tallest = 0;
  for (const auto& [column, nodes] : columns) tallest = std::max(tallest, nodes.size());
  const double height = kMargin * 2 + static_cast<double>(tallest) * (kNodeHeight + kRowGap);
  const double width =
      kMargin * 2 + static_cast<double>(columns.size()) * (kNodeWidth + kColumnGap) - kColumnGap;

  std::map<std::string, Placed> placed;
  SvgChart chart(std::max(width, 200.0), std::max(height, 60.0), "lineage-graph", "Lineage");
  chart.Raw(kArrowDefs);
  double x = kMargin;
  for (const auto& [column, nodes] : columns) {
    // Centre each column vertically.
    double y = (height - static_cast<double>(nodes.size()) * (kNodeHeight + kRowGap) + kRowGap) / 2;
    for (const LineageNode* n : nodes) {
      placed.emplace(n->id, Placed{x, y});
      y += kNodeHeight + kRowGap;
    }
    x += kNodeWidth + kColumnGap;
  }
  for (const LineageEdge& e : graph.edges) {
    const auto from = placed.find(e.from);
    const auto to = placed.find(e.to);
    if (from == placed.end() || to == placed.end()) continue;
    const Placed& a = from->second;
    const Placed& b = to->second;
    double x1 = a.x + kNodeWidth / 2, y1 = a.y + kNodeHeight / 2;
    double x2 = b.x + kNodeWidth / 2, y2 = b.y + kNodeHeight / 2;
    if (a.x < b.x) {
      x1 = a.x + kNodeWidth, x2 = b.x;
    } else if (a.x > b.x) {
      x1 = a.x, x2 = b.x + kNodeWidth;
    } else {
      y1 = a.y < b.y ? a.y + kNodeHeight : a.y;
      y2 = a.y < b.y ? b.y : b.y + kNodeHeight;
    }
    chart.Line(x1, y1, x2, y2, "edge");
    chart.Text((x1 + x2) / 2, (y1 + y2) / 2 - 4, e.label, "edge-label", "middle");
  }
  for (const LineageNode& n : graph.nodes) {
    const Placed& p = placed.at(n.id);
    const LineageNodeStyle style = StyleOf(n.kind);
    chart.Rect(p.x, p.y, kNodeWidth, kNodeHeight,
               n.kind == LineageNodeKind::kAdapter ? "node subject" : "node", style.fill,
               style.stroke);
    const std::string tooltip = std::string(LineageNodeKindName(n.kind)) + ": " + n.label +
                                (n.digest.empty() ? "" : "\n" + n.digest);
    chart.Text(p.x + 8, p.y + 18, Ellipsize(n.label, kLabelChars), "node-label", "start", tooltip);
    chart.Text(p.x + 8, p.y + 34,
               Ellipsize(std::string(LineageNodeKindName(n.kind)) +
                             (n.digest.empty() ? "" : " " + n.digest.substr(0, 15)),
                         kLabelChars + 4),
               "node-kind", "start", tooltip);
  }
  return chart.Finish();
}

}  // namespace graft
