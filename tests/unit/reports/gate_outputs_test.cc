// WriteGateOutputs: the three gate files, skipped paths, the GitHub job summary, GitHub Actions
// annotations and step outputs (exact strings), bad paths.
#include "reports/gate_outputs.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

#include "core/file_util.h"
#include "reports/json_report.h"
#include "reports/junit_report.h"
#include "reports/markdown_report.h"
#include "tests/unit/reports/report_fixtures.h"

namespace graft::reports {
namespace {
namespace fs = std::filesystem;

class GateOutputs : public ::testing::Test {
 protected:
  void SetUp() override { Clear(); }
  void TearDown() override { Clear(); }
  static void Clear() {
    for (const char* v : {"GITHUB_STEP_SUMMARY", "GITHUB_ACTIONS", "GITHUB_OUTPUT"}) unsetenv(v);
  }
  fs::path Path(const std::string& name) const { return temp_.path() / name; }
  TempDir temp_{"graft-gate-outputs"};
};

policies::CriterionResult Criterion(std::string name, policies::CriterionStatus status,
                                    std::string reason) {
  policies::CriterionResult c;
  c.name = std::move(name);
  c.status = status;
  c.reason = std::move(reason);
  return c;
}

// A decision with one criterion of each status and names/reasons that need escaping.
GateReportData AnnotatedGate() {
  GateReportData gate;
  gate.adapter = {"bot@2", std::string(64, 'a')};
  gate.decision.verdict = policies::Verdict::kFail;
  gate.decision.exit_code = 10;
  gate.decision.criteria = {
      Criterion("max_rank", policies::CriterionStatus::kPass, "rank 8 <= 64"),
      Criterion("kpi kpi/acc", policies::CriterionStatus::kFail, "delta 1% < 2%,\nneeds: more"),
      Criterion("regression general/bpb[a,b:c]", policies::CriterionStatus::kInconclusive,
                "CI \r spans 0"),
      Criterion("approvals", policies::CriterionStatus::kPending, "0 of 1 approvals"),
  };
  return gate;
}

TEST_F(GateOutputs, WritesWhatTheRenderersRender) {
  const GateReportData gate = testing::SampleGate();
  std::ostringstream annotations;
  ASSERT_TRUE(
      WriteGateOutputs(gate, {Path("g.xml"), Path("g.md"), Path("g.json"), ""}, annotations).ok());
  EXPECT_EQ(ReadFile(Path("g.xml")).value(), RenderJunitReport(gate));
  EXPECT_EQ(ReadFile(Path("g.md")).value(), RenderGateMarkdown(gate));
  EXPECT_EQ(ReadFile(Path("g.json")).value(), RenderJson(GateReportJson(gate)));
  EXPECT_EQ(annotations.str(), "");  // not on GitHub Actions
}

TEST_F(GateOutputs, EmptyPathsAreSkippedAndTheSummaryIsAppended) {
  const GateReportData gate = testing::SampleGate();
  ASSERT_TRUE(WriteFileAtomic(Path("summary.md"), "earlier step\n").ok());
  setenv("GITHUB_STEP_SUMMARY", Path("summary.md").c_str(), 1);
  std::ostringstream annotations;
  ASSERT_TRUE(WriteGateOutputs(gate, {}, annotations).ok());
  ASSERT_TRUE(WriteGateOutputs(gate, {}, annotations).ok());
  const std::string markdown = RenderGateMarkdown(gate);
  EXPECT_EQ(ReadFile(Path("summary.md")).value(),
            "earlier step\n" + markdown + "\n" + markdown + "\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(temp_.path()), fs::directory_iterator()), 1);
}

TEST_F(GateOutputs, UnwritablePathsAreErrors) {
  const GateReportData gate = testing::SampleGate();
  std::ostringstream annotations;
  EXPECT_FALSE(WriteGateOutputs(gate, {Path("missing/dir/g.xml"), "", "", ""}, annotations).ok());
  setenv("GITHUB_STEP_SUMMARY", Path("missing/summary.md").c_str(), 1);
  Status status = WriteGateOutputs(gate, {}, annotations);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("GITHUB_STEP_SUMMARY"), std::string::npos);
  unsetenv("GITHUB_STEP_SUMMARY");
  setenv("GITHUB_ACTIONS", "true", 1);
  setenv("GITHUB_OUTPUT", Path("missing/output").c_str(), 1);
  status = WriteGateOutputs(gate, {}, annotations);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("GITHUB_OUTPUT"), std::string::npos);
}

TEST_F(GateOutputs, EscapesAsGithubDoes) {
  EXPECT_EQ(EscapeGithubData("50% a:b,c\r\nd"), "50%25 a:b,c%0D%0Ad");
  EXPECT_EQ(EscapeGithubProperty("50% a:b,c\r\nd"), "50%25 a%3Ab%2Cc%0D%0Ad");
  EXPECT_EQ(EscapeGithubData("%0A"), "%250A");  // an escape sequence in the text stays text
}

TEST_F(GateOutputs, AnnotatesEveryCriterionThatDidNotPass) {
  EXPECT_EQ(RenderGithubAnnotations(AnnotatedGate()),
            "::error title=kpi kpi/acc::delta 1%25 < 2%25,%0Aneeds: more\n"
            "::warning title=regression general/bpb[a%2Cb%3Ac]::CI %0D spans 0\n"
            "::notice title=approvals::0 of 1 approvals\n");
  EXPECT_EQ(RenderGithubAnnotations(testing::SampleGate()).find("max_rank"), std::string::npos);
}

TEST_F(GateOutputs, RendersStepOutputs) {
  const GateReportData gate = AnnotatedGate();
  const std::string a(64, 'a'), d(64, 'd');
  EXPECT_EQ(RenderGithubOutputs(gate, {"out/gate.xml", "", "out/gate.json", d}),
            "verdict=fail\nexit-code=10\nadapter-digest=" + a + "\ndecision-digest=" + d +
                "\njunit=out/gate.xml\njson=out/gate.json\n");
  // A value with a line break uses the delimiter form; the delimiter is not in the value.
  const std::string outputs = RenderGithubOutputs(gate, {"", "odd\nname.md", "", d});
  const std::string tail = outputs.substr(outputs.find("markdown<<"));
  const std::string delimiter = tail.substr(10, tail.find('\n') - 10);
  EXPECT_EQ(delimiter.rfind("ghadelimiter_", 0), 0u) << delimiter;
  EXPECT_EQ(tail, "markdown<<" + delimiter + "\nodd\nname.md\n" + delimiter + "\n");
}

TEST_F(GateOutputs, OnGithubActionsPrintsAnnotationsAndAppendsOutputs) {
  const GateReportData gate = AnnotatedGate();
  const std::string d(64, 'd');
  ASSERT_TRUE(WriteFileAtomic(Path("output"), "earlier=1\n").ok());
  setenv("GITHUB_OUTPUT", Path("output").c_str(), 1);
  std::ostringstream off;
  ASSERT_TRUE(WriteGateOutputs(gate, {"", "", "", d}, off).ok());
  EXPECT_EQ(off.str(), "");  // GITHUB_ACTIONS unset: nothing for GitHub
  EXPECT_EQ(ReadFile(Path("output")).value(), "earlier=1\n");

  setenv("GITHUB_ACTIONS", "true", 1);
  std::ostringstream on;
  ASSERT_TRUE(WriteGateOutputs(gate, {Path("g.xml"), "", "", d}, on).ok());
  EXPECT_EQ(on.str(), RenderGithubAnnotations(gate));
  EXPECT_EQ(ReadFile(Path("output")).value(),
            "earlier=1\n" + RenderGithubOutputs(gate, {Path("g.xml"), "", "", d}));
}

}  // namespace
}  // namespace graft::reports
