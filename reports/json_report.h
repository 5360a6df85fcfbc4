// JSON reports with versioned schemas (reports/schema/*.v1.json), stable enough to diff.
#pragma once

#include <string>
#include <string_view>

#include "core/json.h"
#include "reports/report_model.h"

namespace graft::reports {

// The "schema" value of each report; the JSON Schema file with this $id is in reports/schema/.
inline constexpr std::string_view kGateDecisionSchema =
    "https://graft.dev/schemas/gate-decision/v1";
inline constexpr std::string_view kAdapterReportSchema =
    "https://graft.dev/schemas/adapter-report/v1";
inline constexpr std::string_view kAuditReportSchema = "https://graft.dev/schemas/audit-report/v1";

Json GateReportJson(const GateReportData& gate);
Json AdapterReportJson(const AdapterReportData& report);
Json AuditReportJson(const AuditReportData& audit);

// Pretty-printed JSON for files and diffs: two-space indent, keys sorted, arrays in the order the
// report data lists them, numbers in shortest round-trip form (non-finite numbers as null),
// invalid UTF-8 replaced by U+FFFD, and a final newline.
std::string RenderJson(const Json& report);

}  // namespace graft::reports
