// JUnit XML for gate decisions: golden output, outcome mapping, XSD validation, hostile input.
#include "reports/junit_report.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/reports/report_fixtures.h"

namespace graft::reports {
namespace {

using testing::HaveProgram;
using testing::RunOnFile;
using testing::SourcePath;

size_t Count(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

void ExpectValidJunit(const std::string& xml) {
  if (!HaveProgram("xmllint")) GTEST_SKIP() << "xmllint not installed (Debian: libxml2-utils)";
  const testing::ToolResult result =
      RunOnFile("xmllint --noout --schema '" + SourcePath("tests/data/junit.xsd").string() + "'",
                "gate.junit.xml", xml);
  EXPECT_EQ(result.exit_code, 0) << result.output << "\n" << xml;
}

TEST(JunitReport, MatchesGolden) {
  testing::ExpectGolden("gate.junit.xml", RenderJunitReport(testing::SampleGate()));
}

TEST(JunitReport, OneSuitePerSuiteAndRequirements) {
  const std::string xml = RenderJunitReport(testing::SampleGate());
  EXPECT_NE(xml.find("<testsuites name=\"graft gate support-bot@3\" tests=\"8\" failures=\"1\" "
                     "errors=\"0\" skipped=\"2\">"),
            std::string::npos);
  EXPECT_NE(xml.find("<testsuite name=\"support-kpi\" tests=\"1\" failures=\"0\""),
            std::string::npos);
  EXPECT_NE(xml.find("<testsuite name=\"general\" tests=\"3\" failures=\"1\" errors=\"0\" "
                     "skipped=\"1\">"),
            std::string::npos);
  EXPECT_NE(xml.find("<testsuite name=\"requirements\" tests=\"4\" failures=\"0\" errors=\"0\" "
                     "skipped=\"1\">"),
            std::string::npos);
  EXPECT_NE(xml.find("<testcase classname=\"general\" name=\"regression general/acc\" "
                     "status=\"FAIL\">\n      <failure message=\"improvement upper bound -0.015 "
                     "&lt; -0.01\" type=\"FAIL\">"),
            std::string::npos);
  EXPECT_NE(xml.find("interval: [-0.07, -0.015]\n"), std::string::npos);
  EXPECT_NE(xml.find("<property name=\"policy.digest\" value=\"sha256:dddd"), std::string::npos);
  EXPECT_EQ(Count(xml, "<properties>"), 3u);
}

TEST(JunitReport, InconclusiveFollowsThePolicy) {
  GateReportData gate = testing::SampleGate();
  gate.decision.inconclusive = "hold";
  std::string xml = RenderJunitReport(gate);
  EXPECT_NE(xml.find("<skipped message=\"the Holm step-down stopped at regression general/acc\">"),
            std::string::npos);
  EXPECT_EQ(Count(xml, "<failure "), 1u);
  gate.decision.inconclusive = "fail";
  xml = RenderJunitReport(gate);
  EXPECT_NE(xml.find("<failure message=\"the Holm step-down stopped at regression general/acc\" "
                     "type=\"INCONCLUSIVE\">"),
            std::string::npos);
  EXPECT_EQ(Count(xml, "<failure "), 2u);
  EXPECT_EQ(Count(xml, "<skipped "), 1u);  // the pending approval
  EXPECT_NE(xml.find("<skipped message=\"0 of 1 approvals\">status: PENDING"), std::string::npos);
}

TEST(JunitReport, EmptyDecisionIsValid) {
  GateReportData gate = testing::SampleGate();
  gate.decision.criteria.clear();
  const std::string xml = RenderJunitReport(gate);
  EXPECT_NE(xml.find("tests=\"0\" failures=\"0\""), std::string::npos);
  ExpectValidJunit(xml);
}

TEST(JunitReport, ValidatesAgainstSchema) {
  ExpectValidJunit(RenderJunitReport(testing::SampleGate()));
}

TEST(JunitReport, HostileStringsAreEscapedAndValid) {
  const std::string xml = RenderJunitReport(testing::HostileGate());
  EXPECT_EQ(xml.find("<script"), std::string::npos);
  EXPECT_EQ(xml.find("]]>"), std::string::npos);
  EXPECT_EQ(xml.find('\x01'), std::string::npos);
  EXPECT_EQ(xml.find('\x1b'), std::string::npos);
  EXPECT_EQ(xml.find('\x7f'), std::string::npos);
  EXPECT_NE(xml.find("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39; ]]&gt; "
                     "a|b&#10;c&#13;&#10;"),
            std::string::npos);
  ExpectValidJunit(xml);
}

}  // namespace
}  // namespace graft::reports
