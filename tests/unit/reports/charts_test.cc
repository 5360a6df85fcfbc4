// The inline SVG charts: lineage graph, loss curve and forest plot.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "reports/forest_plot.h"
#include "reports/lineage_svg.h"
#include "reports/loss_chart.h"
#include "tests/unit/reports/report_fixtures.h"

namespace graft::reports {
namespace {

size_t Count(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

TEST(LineageSvg, NodesEdgesAndUnknownEnds) {
  LineageGraph graph = testing::SampleAdapter().lineage;
  graph.edges.push_back({"adapter", "nowhere", "dangling"});
  graph.edges.push_back({"adapter", "base", "a very long edge label indeed"});
  const std::string svg = RenderLineageSvg(graph);
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"lineage-graph\"", 0), 0u);
  EXPECT_EQ(Count(svg, "<rect "), graph.nodes.size());
  EXPECT_EQ(Count(svg, "class=\"node subject\""), 1u);
  EXPECT_EQ(Count(svg, "class=\"edge\""), graph.edges.size() - 1);  // not the dangling one
  EXPECT_EQ(svg.find("dangling"), std::string::npos);
  EXPECT_NE(svg.find("<title>a very long edge label indeed</title>a very long edg…</text>"),
            std::string::npos);
  // Inputs are left of the adapter, evidence right of it.
  const auto x_of = [&](const std::string& label) {
    const size_t text = svg.find(">" + label + "</text>");
    const size_t x = svg.rfind("<text x=\"", text);
    return std::stod(svg.substr(x + 9));
  };
  EXPECT_LT(x_of("tiny-gpt2"), x_of("support-bot@3"));
  EXPECT_LT(x_of("support-bot@3"), x_of("evaluation 2026-11-21"));
  EXPECT_LT(x_of("evaluation 2026-11-21"), x_of("gate decision"));
}

TEST(LossChart, SeriesAndNonFinitePoints) {
  std::vector<LossPoint> loss = testing::SampleAdapter().training->loss;
  loss[1].train_loss = NAN;
  const std::string svg = RenderLossChart(loss);
  EXPECT_EQ(Count(svg, "class=\"loss-chart\""), 1u);
  EXPECT_EQ(Count(svg, "<polyline"), 2u);
  EXPECT_EQ(Count(svg, "class=\"point-valid\""), 4u);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(RenderLossChart({}).find("nan"), std::string::npos);
}

TEST(ForestPlot, RowsThresholdsAndZeroLine) {
  const AdapterReportData report = testing::SampleAdapter();
  const std::vector<EvaluationRow> rows = EvaluationRows(report.evaluations[0], report.decisions);
  const std::string svg = RenderForestPlot(rows, "plot <1>");
  EXPECT_EQ(Count(svg, "class=\"forest-plot\""), 1u);
  EXPECT_EQ(Count(svg, "<circle"), rows.size());
  EXPECT_EQ(Count(svg, "class=\"zero\""), 1u);
  EXPECT_EQ(Count(svg, "class=\"threshold "), 4u);        // the billing slice has no criterion
  EXPECT_EQ(Count(svg, "class=\"ci status-fail\""), 3u);  // bar and two caps
  EXPECT_NE(svg.find("<title>plot &lt;1&gt;</title>"), std::string::npos);
  EXPECT_NE(svg.find(">+0.026 [+0.004, +0.047] at 95%</text>"), std::string::npos);
  EXPECT_EQ(StatusClass(nullptr), "status-none");
  EXPECT_EQ(StatusClass(rows[3].criterion), "status-inconclusive");
}

}  // namespace
}  // namespace graft::reports
