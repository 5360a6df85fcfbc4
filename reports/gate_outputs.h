// WriteGateOutputs: the files a CI gate leaves behind (JUnit XML, Markdown, JSON, job summary).
#pragma once

#include <filesystem>

#include "core/status.h"
#include "reports/report_model.h"

namespace graft {

// Writes the gate's JUnit XML, Markdown and JSON (an empty path skips that file) with the
// reports renderers, and appends the Markdown to $GITHUB_STEP_SUMMARY when that variable is set.
Status WriteGateOutputs(const GateReportData& gate, const std::filesystem::path& junit_path,
                        const std::filesystem::path& markdown_path,
                        const std::filesystem::path& json_path);

}  // namespace graft
