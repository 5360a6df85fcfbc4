// Markdown reports: golden output, verdict lines, table integrity under hostile input.
#include "reports/markdown_report.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "tests/unit/reports/report_fixtures.h"

namespace graft::reports {
namespace {

// Cell separators in a table row: pipes not escaped by a backslash.
size_t Separators(const std::string& row) {
  size_t count = 0;
  for (size_t i = 0; i < row.size(); ++i) {
    if (row[i] == '\\') {
      ++i;
    } else if (row[i] == '|') {
      ++count;
    }
  }
  return count;
}

// Every table keeps the column count of its header row on every line.
void ExpectIntactTables(const std::string& markdown) {
  std::istringstream lines(markdown);
  std::string line;
  size_t columns = 0;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] != '|') {
      columns = 0;
      continue;
    }
    if (columns == 0) columns = Separators(line);
    EXPECT_EQ(Separators(line), columns) << line;
  }
}

// The text outside fenced code blocks (which Markdown shows literally).
std::string OutsideCodeBlocks(const std::string& markdown) {
  std::istringstream lines(markdown);
  std::string line;
  std::string out;
  std::string fence;
  while (std::getline(lines, line)) {
    if (line.rfind("```", 0) == 0) {
      const std::string ticks = line.substr(0, line.find_first_not_of('`'));
      if (fence.empty()) {
        fence = ticks;
      } else if (line == fence) {
        fence.clear();
      }
      continue;
    }
    if (fence.empty()) out += line + "\n";
  }
  return out;
}

void ExpectNoRawMarkup(const std::string& markdown) {
  EXPECT_EQ(OutsideCodeBlocks(markdown).find("<script"), std::string::npos);
  EXPECT_EQ(markdown.find('\x01'), std::string::npos);
  EXPECT_EQ(markdown.find('\x7f'), std::string::npos);
  EXPECT_EQ(markdown.find('\r'), std::string::npos);
}

TEST(MarkdownReport, GateMatchesGolden) {
  testing::ExpectGolden("gate.md", RenderGateMarkdown(testing::SampleGate()));
}

TEST(MarkdownReport, AdapterMatchesGolden) {
  testing::ExpectGolden("adapter.md", RenderAdapterMarkdown(testing::SampleAdapter()));
}

TEST(MarkdownReport, AuditMatchesGolden) {
  testing::ExpectGolden("audit.md", RenderAuditMarkdown(testing::SampleAudit()));
}

TEST(MarkdownReport, VerdictLineNamesTheAdapter) {
  GateReportData gate = testing::SampleGate();
  EXPECT_EQ(RenderGateMarkdown(gate).rfind("## ❌ FAIL: support-bot@3\n", 0), 0u);
  gate.decision.verdict = policies::Verdict::kPass;
  EXPECT_EQ(RenderGateMarkdown(gate).rfind("## ✅ PASS: support-bot@3\n", 0), 0u);
  gate.decision.verdict = policies::Verdict::kInconclusive;
  EXPECT_EQ(RenderGateMarkdown(gate).rfind("## ⚠️ INCONCLUSIVE: support-bot@3\n", 0), 0u);
}

TEST(MarkdownReport, CriteriaRowsCarryTheNumbers) {
  const std::string md = RenderGateMarkdown(testing::SampleGate());
  EXPECT_NE(md.find("| regression general/acc | 0.55 | 0.51 | -0.04 | \\[-0.07, -0.015\\] at 95% | "
                    "-0.01 | Tango score | ❌ FAIL | improvement upper bound -0.015 &lt; -0.01 |"),
            std::string::npos);
  EXPECT_NE(md.find("| approvals |  |  |  |  | 1 |  | ⏳ PENDING | 0 of 1 approvals |"),
            std::string::npos);
  ExpectIntactTables(md);
}

TEST(MarkdownReport, HostileStringsKeepTablesIntact) {
  for (const std::string& md : {RenderGateMarkdown(testing::HostileGate()),
                                RenderAdapterMarkdown(testing::HostileAdapter()),
                                RenderAuditMarkdown(testing::HostileAudit())}) {
    ExpectIntactTables(md);
    ExpectNoRawMarkup(md);
    EXPECT_NE(md.find("&lt;script&gt;alert(\"x\")&lt;/script&gt; &amp; 'q' \\]\\]&gt; "
                      "a\\|b<br>c<br>"),
              std::string::npos);
  }
}

TEST(MarkdownReport, CodeFenceOutgrowsBackticksInTheConfig) {
  AdapterReportData report = testing::SampleAdapter();
  report.training->config["note"] = "```\n# not a heading";
  const std::string md = RenderAdapterMarkdown(report);
  EXPECT_NE(md.find("\n````json\n"), std::string::npos);
  EXPECT_NE(md.find("\n````\n"), std::string::npos);
}

}  // namespace
}  // namespace graft::reports
