// The same numbers print the same way in every text format.
#include <gtest/gtest.h>

#include <string>

#include "reports/html_report.h"
#include "reports/junit_report.h"
#include "reports/markdown_report.h"
#include "reports/number_format.h"
#include "tests/unit/reports/report_fixtures.h"

namespace graft::reports {
namespace {

TEST(Consistency, CriterionNumbersAgreeAcrossFormats) {
  const GateReportData gate = testing::SampleGate();
  const AdapterReportData adapter = testing::SampleAdapter();
  const std::string junit = RenderJunitReport(gate);
  const std::string markdown = RenderGateMarkdown(gate);
  const std::string html = RenderAdapterHtml(adapter);
  for (const policies::CriterionResult& c : gate.decision.criteria) {
    if (!c.interval) continue;
    const std::string delta = FormatSigned(*c.delta);
    const std::string interval = FormatInterval(*c.interval);
    const std::string threshold = FormatValue(*c.threshold);
    EXPECT_NE(markdown.find("| " + delta + " |"), std::string::npos) << c.name;
    EXPECT_NE(html.find("<td class=\"num\">" + delta + "</td>"), std::string::npos) << c.name;
    if (c.status != policies::CriterionStatus::kPass) {  // passing criteria have no JUnit body
      EXPECT_NE(junit.find("delta: " + delta + "\n"), std::string::npos) << c.name;
      EXPECT_NE(junit.find("interval: " + interval + "\n"), std::string::npos) << c.name;
      EXPECT_NE(junit.find("threshold: " + threshold + "\n"), std::string::npos) << c.name;
    }
    const std::string markdown_interval = FormatCriterionInterval(c);
    std::string escaped = markdown_interval;  // Markdown escapes the brackets
    escaped.replace(escaped.find('['), 1, "\\[");
    escaped.replace(escaped.find(']'), 1, "\\]");
    EXPECT_NE(markdown.find("| " + escaped + " | " + threshold + " |"), std::string::npos)
        << c.name;
    EXPECT_NE(html.find("<td class=\"num\">" + markdown_interval + "</td>"), std::string::npos)
        << c.name;
  }
}

}  // namespace
}  // namespace graft::reports
