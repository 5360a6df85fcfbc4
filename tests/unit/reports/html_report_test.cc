// HTML reports: parse as HTML and as XML, one forest plot per evaluation, self-contained, escaped.
#include "reports/html_report.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/unit/reports/report_fixtures.h"

namespace graft::reports {
namespace {

using testing::HaveProgram;
using testing::RunOnFile;

size_t Count(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

// libxml2's HTML parser predates HTML5 and SVG: it reports their tags as invalid ("Tag svg
// invalid") but recovers. Any other complaint (bad entities, stray '<', unclosed tags) fails.
void ExpectParsesAsHtml(const std::string& html) {
  if (!HaveProgram("xmllint")) GTEST_SKIP() << "xmllint not installed (Debian: libxml2-utils)";
  const testing::ToolResult result = RunOnFile("xmllint --html --noout", "report.html", html);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  std::istringstream lines(result.output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find("parser error") == std::string::npos) continue;
    EXPECT_NE(line.find(" invalid"), std::string::npos) << line;
    EXPECT_NE(line.find(": Tag "), std::string::npos) << line;
  }
}

// The page is also well-formed XML: every element closed, every & and < escaped.
void ExpectWellFormedXml(const std::string& html) {
  if (!HaveProgram("xmllint")) GTEST_SKIP() << "xmllint not installed (Debian: libxml2-utils)";
  const testing::ToolResult result = RunOnFile("xmllint --noout", "report.xhtml", html);
  EXPECT_EQ(result.exit_code, 0) << result.output;
}

void ExpectSelfContained(const std::string& html) {
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_EQ(html.find("url(http"), std::string::npos);
  EXPECT_EQ(html.find("href="), std::string::npos);
}

TEST(HtmlReport, AdapterPageParsesAndIsSelfContained) {
  const std::string html = RenderAdapterHtml(testing::SampleAdapter());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>\n<html lang=\"en\">", 0), 0u);
  ExpectSelfContained(html);
  EXPECT_NE(html.find("@media print"), std::string::npos);
  ExpectParsesAsHtml(html);
  ExpectWellFormedXml(html);
}

TEST(HtmlReport, OneForestPlotPerEvaluation) {
  AdapterReportData report = testing::SampleAdapter();
  EXPECT_EQ(Count(RenderAdapterHtml(report),
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" "
                  "class=\"forest-plot\""),
            2u);
  report.evaluations.pop_back();
  EXPECT_EQ(Count(RenderAdapterHtml(report), "class=\"forest-plot\""), 1u);
  report.evaluations.clear();
  EXPECT_EQ(Count(RenderAdapterHtml(report), "class=\"forest-plot\""), 0u);
}

TEST(HtmlReport, ChartsAndSections) {
  const std::string html = RenderAdapterHtml(testing::SampleAdapter());
  EXPECT_EQ(Count(html, "class=\"lineage-graph\""), 1u);
  EXPECT_EQ(Count(html, "class=\"loss-chart\""), 1u);
  // Forest plot rows: 1 + (1 + 2 slices) + 1 in the first evaluation, 1 in the second.
  EXPECT_EQ(Count(html, "<circle") - Count(html, "class=\"point-valid\""), 6u);
  // Statuses come from the decision: the faq slice is inconclusive, general/acc failed, and the
  // billing slice has no criterion.
  EXPECT_EQ(Count(html, "class=\"point status-inconclusive\""), 1u);
  EXPECT_EQ(Count(html, "class=\"point status-fail\""), 1u);
  EXPECT_EQ(Count(html, "class=\"point status-none\""), 2u);
  EXPECT_EQ(Count(html, "class=\"point status-pass\""), 2u);
  EXPECT_EQ(Count(html, "class=\"zero\""), 2u);
  EXPECT_NE(html.find("<td class=\"num\">[+0.004, +0.047] at 95%</td>"), std::string::npos);
  EXPECT_NE(html.find("<span class=\"badge status-fail\">FAIL</span>"), std::string::npos);
  EXPECT_NE(html.find("✗ not verified"), std::string::npos);
  for (const char* section : {"Identity", "Verification", "Lineage", "Training", "Evaluations",
                              "Decisions", "Approvals", "Log entries"}) {
    EXPECT_NE(html.find("<h2>" + std::string(section) + "</h2>"), std::string::npos) << section;
  }
}

TEST(HtmlReport, WithoutTrainingOrEvidence) {
  AdapterReportData report;
  report.identity.name = "bare";
  const std::string html = RenderAdapterHtml(report);
  EXPECT_EQ(html.find("<h2>Training</h2>"), std::string::npos);
  ExpectWellFormedXml(html);
}

TEST(HtmlReport, HostileStringsAreEscaped) {
  for (const std::string& html :
       {RenderAdapterHtml(testing::HostileAdapter()), RenderAuditHtml(testing::HostileAudit())}) {
    ExpectSelfContained(html);
    EXPECT_EQ(html.find("\"x\")"), std::string::npos);
    EXPECT_EQ(html.find('\x01'), std::string::npos);
    EXPECT_EQ(html.find('\x7f'), std::string::npos);
    EXPECT_EQ(html.find("\xc2\x85"), std::string::npos);
    EXPECT_NE(html.find("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39; "
                        "]]&gt;"),
              std::string::npos);
    ExpectParsesAsHtml(html);
    ExpectWellFormedXml(html);
  }
}

TEST(HtmlReport, AuditPage) {
  const std::string html = RenderAuditHtml(testing::SampleAudit());
  ExpectSelfContained(html);
  EXPECT_NE(html.find("<h2 id=\"retirements\">Retirements (0)</h2>\n<p class=\"meta\">None.</p>"),
            std::string::npos);
  EXPECT_NE(html.find("<h2 id=\"post_hoc_policy_attempts\">Post-hoc policy attempts (1)</h2>"),
            std::string::npos);
  EXPECT_NE(html.find("<td class=\"num\">214</td>"), std::string::npos);
  ExpectParsesAsHtml(html);
  ExpectWellFormedXml(html);
}

// Writes the sample pages to $GRAFT_REPORTS_SAMPLE_DIR, to look at them (docs/reports.md).
TEST(HtmlReport, WriteSamples) {
  const char* dir = std::getenv("GRAFT_REPORTS_SAMPLE_DIR");
  if (dir == nullptr) GTEST_SKIP() << "set GRAFT_REPORTS_SAMPLE_DIR to write sample reports";
  const std::filesystem::path out(dir);
  std::filesystem::create_directories(out);
  std::ofstream(out / "adapter.html") << RenderAdapterHtml(testing::SampleAdapter());
  std::ofstream(out / "audit.html") << RenderAuditHtml(testing::SampleAudit());
  std::ofstream(out / "hostile-adapter.html") << RenderAdapterHtml(testing::HostileAdapter());
  EXPECT_TRUE(std::filesystem::exists(out / "adapter.html"));
}

}  // namespace
}  // namespace graft::reports
