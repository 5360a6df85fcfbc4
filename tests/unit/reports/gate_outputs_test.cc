// WriteGateOutputs: the three gate files, skipped paths, the GitHub job summary, bad paths.
#include "reports/gate_outputs.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "core/file_util.h"
#include "reports/json_report.h"
#include "reports/junit_report.h"
#include "reports/markdown_report.h"
#include "tests/unit/reports/report_fixtures.h"

namespace graft {
namespace {
namespace fs = std::filesystem;

class GateOutputs : public ::testing::Test {
 protected:
  void SetUp() override { unsetenv("GITHUB_STEP_SUMMARY"); }
  void TearDown() override { unsetenv("GITHUB_STEP_SUMMARY"); }
  fs::path Path(const std::string& name) const { return temp_.path() / name; }
  TempDir temp_{"graft-gate-outputs"};
};

TEST_F(GateOutputs, WritesWhatTheRenderersRender) {
  const GateReportData gate = testing::SampleGate();
  ASSERT_TRUE(WriteGateOutputs(gate, Path("g.xml"), Path("g.md"), Path("g.json")).ok());
  EXPECT_EQ(ReadFile(Path("g.xml")).value(), RenderJunitReport(gate));
  EXPECT_EQ(ReadFile(Path("g.md")).value(), RenderGateMarkdown(gate));
  EXPECT_EQ(ReadFile(Path("g.json")).value(), RenderJson(GateReportJson(gate)));
}

TEST_F(GateOutputs, EmptyPathsAreSkippedAndTheSummaryIsAppended) {
  const GateReportData gate = testing::SampleGate();
  ASSERT_TRUE(WriteFileAtomic(Path("summary.md"), "earlier step\n").ok());
  setenv("GITHUB_STEP_SUMMARY", Path("summary.md").c_str(), 1);
  ASSERT_TRUE(WriteGateOutputs(gate, "", "", "").ok());
  ASSERT_TRUE(WriteGateOutputs(gate, "", "", "").ok());
  const std::string markdown = RenderGateMarkdown(gate);
  EXPECT_EQ(ReadFile(Path("summary.md")).value(),
            "earlier step\n" + markdown + "\n" + markdown + "\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(temp_.path()), fs::directory_iterator()), 1);
}

TEST_F(GateOutputs, UnwritablePathsAreErrors) {
  const GateReportData gate = testing::SampleGate();
  EXPECT_FALSE(WriteGateOutputs(gate, Path("missing/dir/g.xml"), "", "").ok());
  setenv("GITHUB_STEP_SUMMARY", Path("missing/summary.md").c_str(), 1);
  Status status = WriteGateOutputs(gate, "", "", "");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("GITHUB_STEP_SUMMARY"), std::string::npos);
}

}  // namespace
}  // namespace graft
