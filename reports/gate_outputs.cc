#include "reports/gate_outputs.h"

#include <cstdlib>
#include <fstream>

#include "core/file_util.h"
#include "reports/json_report.h"
#include "reports/junit_report.h"
#include "reports/markdown_report.h"

namespace graft {

Status WriteGateOutputs(const GateReportData& gate, const std::filesystem::path& junit_path,
                        const std::filesystem::path& markdown_path,
                        const std::filesystem::path& json_path) {
  if (!junit_path.empty()) {
    GRAFT_RETURN_IF_ERROR(WriteFileAtomic(junit_path, RenderJunitReport(gate)));
  }
  const std::string markdown = RenderGateMarkdown(gate);
  if (!markdown_path.empty()) GRAFT_RETURN_IF_ERROR(WriteFileAtomic(markdown_path, markdown));
  if (!json_path.empty()) {
    GRAFT_RETURN_IF_ERROR(WriteFileAtomic(json_path, RenderJson(GateReportJson(gate))));
  }
  if (const char* summary = std::getenv("GITHUB_STEP_SUMMARY"); summary && *summary) {
    std::ofstream out(summary, std::ios::app | std::ios::binary);
    out << markdown << '\n';
    out.flush();
    if (!out) return IoError(std::string("cannot append to $GITHUB_STEP_SUMMARY ") + summary);
  }
  return Status::Ok();
}

}  // namespace graft
