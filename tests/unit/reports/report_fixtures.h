// Fixed report data for the renderer tests, hostile variants, golden files and external tools.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "reports/report_model.h"

namespace graft::testing {

// A string with everything a renderer must escape: markup, quotes, CDATA end, a pipe, line
// breaks, control characters, DEL, a C1 control and an invalid UTF-8 byte.
extern const std::string kHostile;

// A gate decision over two suites and requirements: PASS, FAIL, INCONCLUSIVE and PENDING.
reports::GateReportData SampleGate();
// A full adapter report: two evaluations (one with slices), two decisions, approvals, log.
reports::AdapterReportData SampleAdapter();
reports::AuditReportData SampleAudit();

// The same data with kHostile appended to every string (names, digests, ids, reasons, ...).
reports::GateReportData HostileGate();
reports::AdapterReportData HostileAdapter();
reports::AuditReportData HostileAudit();

// Compares `actual` with tests/data/golden/<name>; with GRAFT_UPDATE_GOLDEN=1 in the environment
// it rewrites the file instead.
void ExpectGolden(const std::string& name, const std::string& actual);

struct ToolResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};
// Whether `program` is on PATH.
bool HaveProgram(std::string_view program);
// Writes `content` to a temporary file named `file_name` and runs `command` with the file's path
// appended (shell syntax; the path is quoted).
ToolResult RunOnFile(const std::string& command, const std::string& file_name,
                     const std::string& content);
std::filesystem::path SourcePath(const std::string& relative);

}  // namespace graft::testing
