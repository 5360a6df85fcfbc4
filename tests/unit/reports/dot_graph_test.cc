// Graphviz DOT for lineage: golden output, edge direction, quoting, acceptance by dot.
#include "reports/dot_graph.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/reports/report_fixtures.h"

namespace graft::reports {
namespace {

void ExpectDotAccepts(const std::string& dot) {
  if (!testing::HaveProgram("dot")) GTEST_SKIP() << "graphviz not installed";
  const testing::ToolResult result =
      testing::RunOnFile("dot -Tsvg -o /dev/null", "lineage.dot", dot);
  EXPECT_EQ(result.exit_code, 0) << result.output << "\n" << dot;
  EXPECT_EQ(result.output.find("Warning"), std::string::npos) << result.output;
}

TEST(DotGraph, MatchesGolden) {
  testing::ExpectGolden("lineage.dot", RenderLineageDot(testing::SampleAdapter().lineage));
}

TEST(DotGraph, InputsRankLeftOfTheAdapter) {
  const std::string dot = RenderLineageDot(testing::SampleAdapter().lineage);
  // adapter -> base is recorded pointing left: written reversed, arrow kept by dir=back.
  EXPECT_NE(dot.find("  \"base\" -> \"adapter\" [label=\"base\", dir=back];"), std::string::npos);
  EXPECT_NE(dot.find("  \"eval-1\" -> \"suite-kpi\" [label=\"suite\"];"), std::string::npos);
  EXPECT_NE(dot.find("  \"adapter\" [label=\"support-bot@3\\nsha256:aaaaaaaaaaaa\", "
                     "shape=doubleoctagon"),
            std::string::npos);
}

TEST(DotGraph, Accepted) { ExpectDotAccepts(RenderLineageDot(testing::SampleAdapter().lineage)); }

TEST(DotGraph, HostileIdsAndLabelsAreQuoted) {
  const std::string dot = RenderLineageDot(testing::HostileAdapter().lineage);
  EXPECT_NE(dot.find("<script>alert(\\\"x\\\")</script> & 'q' ]]> a|b\\nc\\n"), std::string::npos);
  EXPECT_EQ(dot.find('\x01'), std::string::npos);
  ExpectDotAccepts(dot);
  LineageGraph tricky;
  tricky.nodes = {{"a\\", LineageNodeKind::kAdapter, "ends in a backslash \\", ""},
                  {"}\"; digraph x {", LineageNodeKind::kBase, "-> b", ""}};
  tricky.edges = {{"a\\", "}\"; digraph x {", "\\N \\G"}};
  ExpectDotAccepts(RenderLineageDot(tricky));
}

}  // namespace
}  // namespace graft::reports
