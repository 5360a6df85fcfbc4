#include "reports/lineage_svg.h"

#include <algorithm>
#include <map>
#include <vector>

#include "reports/dot_graph.h"
#include "reports/escape.h"
#include "reports/svg_chart.h"

namespace graft::reports {
namespace {

constexpr double kNodeWidth = 184;
constexpr double kNodeHeight = 44;
constexpr double kColumnGap = 120;
constexpr double kRowGap = 18;
constexpr double kMargin = 12;
constexpr size_t kLabelChars = 24;
constexpr size_t kEdgeLabelChars = 16;

struct Placed {
  double x = 0;
  double y = 0;
};

enum class Side { kLeft, kRight, kTop, kBottom };

Side Opposite(Side side) {
  switch (side) {
    case Side::kLeft:
      return Side::kRight;
    case Side::kRight:
      return Side::kLeft;
    case Side::kTop:
      return Side::kBottom;
    case Side::kBottom:
      break;
  }
  return Side::kTop;
}

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
  // Each edge leaves and enters a node on the side facing the other node; the edges on one side
  // spread evenly along it, ordered by where their other end is, so they neither meet nor cross
  // there.
  struct Route {
    const LineageEdge* edge;
    Placed from, to;
    Side from_side, to_side;
    double x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  };
  std::vector<Route> routes;
  for (const LineageEdge& e : graph.edges) {
    const auto from = placed.find(e.from);
    const auto to = placed.find(e.to);
    if (from == placed.end() || to == placed.end()) continue;
    const Placed& a = from->second;
    const Placed& b = to->second;
    const Side from_side = a.x < b.x   ? Side::kRight
                           : a.x > b.x ? Side::kLeft
                           : a.y < b.y ? Side::kBottom
                                       : Side::kTop;
    routes.push_back({&e, a, b, from_side, Opposite(from_side)});
  }
  struct Attachment {
    Route* route;
    bool at_from;
    double order;  // the other end's position along this side
  };
  std::map<std::pair<std::string, Side>, std::vector<Attachment>> sides;
  for (Route& r : routes) {
    const bool vertical_side = r.from_side == Side::kLeft || r.from_side == Side::kRight;
    sides[{r.edge->from, r.from_side}].push_back({&r, true, vertical_side ? r.to.y : r.to.x});
    sides[{r.edge->to, r.to_side}].push_back({&r, false, vertical_side ? r.from.y : r.from.x});
  }
  for (auto& [key, attachments] : sides) {
    std::stable_sort(attachments.begin(), attachments.end(),
                     [](const Attachment& l, const Attachment& r) { return l.order < r.order; });
    const double count = static_cast<double>(attachments.size());
    for (size_t k = 0; k < attachments.size(); ++k) {
      const Attachment& at = attachments[k];
      const Placed& node = at.at_from ? at.route->from : at.route->to;
      const double share = (static_cast<double>(k) + 1) / (count + 1);
      double px = node.x + kNodeWidth * share;
      double py = node.y + kNodeHeight * share;
      switch (key.second) {
        case Side::kLeft:
          px = node.x;
          break;
        case Side::kRight:
          px = node.x + kNodeWidth;
          break;
        case Side::kTop:
          py = node.y;
          break;
        case Side::kBottom:
          py = node.y + kNodeHeight;
          break;
      }
      (at.at_from ? at.route->x1 : at.route->x2) = px;
      (at.at_from ? at.route->y1 : at.route->y2) = py;
    }
  }
  for (const Route& r : routes) {
    chart.Line(r.x1, r.y1, r.x2, r.y2, "edge");
    chart.Text((r.x1 + r.x2) / 2, (r.y1 + r.y2) / 2 - 3, Ellipsize(r.edge->label, kEdgeLabelChars),
               "edge-label", "middle", r.edge->label);
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
    // "dataset 1f2e3d4c": the kind and the first hex digits of the digest.
    const std::string hex = n.digest.substr(std::min(n.digest.find(':') + 1, n.digest.size()), 8);
    chart.Text(p.x + 8, p.y + 34,
               Ellipsize(std::string(LineageNodeKindName(n.kind)) + (hex.empty() ? "" : " " + hex),
                         kLabelChars),
               "node-kind", "start", tooltip);
  }
  return chart.Finish();
}

}  // namespace graft::reports
