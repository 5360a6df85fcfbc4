// Markdown reports: the gate summary (for $GITHUB_STEP_SUMMARY), adapter and audit reports.
#pragma once

#include <string>

#include "reports/report_model.h"

namespace graft::reports {

// A verdict line ("## ✅ PASS: support-bot@3"), the policy, and a table of criteria with base,
// adapter, delta, interval, threshold, status and reason. Every cell is escaped (| and line
// breaks included), so hostile names cannot break the table.
std::string RenderGateMarkdown(const GateReportData& gate);
std::string RenderAdapterMarkdown(const AdapterReportData& report);
std::string RenderAuditMarkdown(const AuditReportData& audit);

// "✅ PASS", "❌ FAIL", "⚠️ INCONCLUSIVE", "⏳ PENDING".
std::string StatusBadge(policies::CriterionStatus status);

}  // namespace graft::reports
